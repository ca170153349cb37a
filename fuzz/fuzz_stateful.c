/*
 * fuzz_stateful: libFuzzer harness that checks evring against a model.
 *
 * Each input is decoded into a sequence of operations on NSLOT descriptor
 * slots: kqueue(), epoll_create1(), pipe2(), socketpair(), eventfd();
 * kevent() EV_ADD, EV_DELETE, EV_ENABLE and EV_DISABLE of EVFILT_READ and
 * EVFILT_WRITE on the slots and of EVFILT_USER (with NOTE_TRIGGER);
 * epoll_ctl() ADD, MOD and DEL; write() and read() that change readiness;
 * kevent(), epoll_wait() and poll() with a zero timeout; close(); dup2();
 * and fork(), whose child checks what it inherited and exits with a status
 * the parent checks.  A model keeps what is open (each slot's number and
 * the open object behind it, with its other numbers), what is registered
 * where, how many bytes each pipe and socket holds and whether its peer is
 * open, and every call's result is checked against it: the return value
 * and errno of each call, and that each zero-timeout wait reports exactly
 * the registrations that are ready, with their udata or data, their flags
 * (EV_EOF) and epoll and poll bits.  A difference is a message and
 * abort().
 *
 * The semantics modelled are FreeBSD's for kqueue and Linux's for epoll,
 * poll and the descriptors, except where evring documents otherwise
 * (kqueue(2), evring_epoll(3)): a fork() child has no queues (kevent() and
 * epoll_wait() on an inherited number fail EBADF), and an epoll
 * registration whose number is closed while a duplicate of it is open
 * moves to the duplicate (and goes if that already has one).  To keep the
 * model simple the harness stays where the systems agree and the
 * semantics are plain: only level-triggered registrations (EV_CLEAR only
 * on EVFILT_USER), no queue watched by a queue, EVFILT_READ only on
 * descriptors that read and EVFILT_WRITE only on ones that write, at most
 * two numbers per open object (dup2() of a queue is not made), pipes never
 * filled, and a socket's unread bytes drained before its last number is
 * closed (else Linux gives its peer ECONNRESET).  Every input closes all it
 * opened, and the kernel's knote, queue and host registration counts must
 * come back to where they were.  FUZZ_TRACE=1 in the environment prints
 * each result as it is checked (to follow a crash-* input).
 */
#define	_GNU_SOURCE
#include <sys/types.h>
#include <sys/event.h>
#include <sys/eventfd.h>
#include <sys/evring.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_input.h"

#define	EVRING_NO_RENAME
#include <evring/epoll.h>
#include <evring/poll.h>

#define	NSLOT	8
#define	NOBJ	(NSLOT + 2)
#define	NUSER	3
#define	NKN	(NSLOT * 2)	/* fd knotes per queue: each number, 2 filters */
#define	MAXOPS	256
#define	MAXFORK	1
#define	PIPEMAX	4096		/* bytes a pipe or socket is let hold */
#define	RESERVED_FD(s) (900 + (s))	/* closed unless slot s holds it */

enum otype { O_NONE, O_KQ, O_EP, O_PIPE_R, O_PIPE_W, O_SOCK, O_EVFD };

static const char *const otname[] = {
	"none", "kqueue", "epoll", "pipe-r", "pipe-w", "socket", "eventfd",
};

struct mknote {			/* an fd knote in a kqueue */
	int		used;
	int		fd;
	short		filter;
	int		enabled;
	uintptr_t	udata;
};

struct muser {			/* an EVFILT_USER knote */
	int		used;
	int		enabled;
	int		triggered;
	int		clear;		/* EV_CLEAR */
};

struct mepreg {			/* an epoll registration */
	int		used;
	int		fd;
	uint32_t	events;
	uint64_t	data;
};

struct mobj {
	enum otype	type;
	int		refs;		/* numbers naming it */
	int		peer;		/* pipe, socket: the other end, or -1 */
	unsigned	nbytes;		/* PIPE_R, SOCK: unread; EVFD: count */
	struct mknote	kn[NKN];	/* O_KQ */
	struct muser	user[NUSER];	/* O_KQ */
	struct mepreg	reg[NSLOT];	/* O_EP */
};

struct mslot {
	int		fd;		/* -1: empty */
	int		obj;
};

static struct mobj objs[NOBJ];
static struct mslot slots[NSLOT];
static uint64_t serial;		/* udata and epoll data: unique values */
static int opno;		/* the operation being checked */
static int trace;		/* FUZZ_TRACE set: each result to stderr */

static void __attribute__((__format__(__printf__, 1, 2), __noreturn__))
mismatch(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_stateful: model mismatch at operation %d: ",
	    opno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* A call's result: want >= 0 is a return value, < 0 is -errno. */
static void
expect(const char *what, int got, int want)
{
	int err = errno;

	if (trace)
		fprintf(stderr, "  %d: %s: %d%s%s (model %d)\n", opno, what,
		    got, got < 0 ? " " : "", got < 0 ? strerror(err) : "",
		    want);
	if (want >= 0 && got != want)
		mismatch("%s returned %d (%s), model says %d", what, got,
		    got < 0 ? strerror(err) : "ok", want);
	if (want < 0 && (got != -1 || err != -want))
		mismatch("%s returned %d (%s), model says -1 (%s)", what, got,
		    got < 0 ? strerror(err) : "ok", strerror(-want));
}

static int
peer_open(int o)
{

	return (objs[o].peer >= 0 && objs[objs[o].peer].refs > 0);
}

static int
obj_new(enum otype type)
{
	int o;

	for (o = 0; o < NOBJ; o++)
		if (objs[o].type == O_NONE) {
			memset(&objs[o], 0, sizeof(objs[o]));
			objs[o].type = type;
			objs[o].peer = -1;
			return (o);
		}
	abort();	/* NOBJ is more than the slots can hold */
}

static int
slot_free(int skip)
{
	int s;

	for (s = 0; s < NSLOT; s++)
		if (slots[s].fd < 0 && s != skip)
			return (s);
	return (-1);
}

/* The number an operation on slot s uses: closed when the slot is empty. */
static int
slot_fd(int s)
{

	return (slots[s].fd >= 0 ? slots[s].fd : RESERVED_FD(s));
}

static int
slot_type(int s)
{

	return (slots[s].fd >= 0 ? objs[slots[s].obj].type : O_NONE);
}

/* For messages: what number fd is open as. */
static const char *
fd_typename(int fd)
{
	int s;

	for (s = 0; s < NSLOT; s++)
		if (slots[s].fd == fd)
			return (otname[slot_type(s)]);
	return (otname[O_NONE]);
}

static void
slot_set(int s, int fd, int o)
{

	if (fd < 0)
		mismatch("creating a %s failed: %s", otname[objs[o].type],
		    strerror(errno));
	if (fd >= RESERVED_FD(0))
		abort();	/* the reserved numbers must stay free */
	slots[s].fd = fd;
	slots[s].obj = o;
	objs[o].refs++;
}

/* ---------------------------------------------------------------- model */

/* Linux's poll mask of an open object (ERR from ECONNRESET kept out). */
static uint32_t obj_ready_queue(int o);

static uint32_t
obj_pollmask(int o)
{
	const struct mobj *ob = &objs[o];
	int peer = peer_open(o);

	switch (ob->type) {
	case O_PIPE_R:
		return ((ob->nbytes > 0 ? EPOLLIN : 0) |
		    (peer ? 0 : EPOLLHUP));
	case O_PIPE_W:
		return (EPOLLOUT | (peer ? 0 : EPOLLERR));
	case O_SOCK:
		return ((ob->nbytes > 0 || !peer ? EPOLLIN : 0) | EPOLLOUT |
		    (peer ? 0 : EPOLLHUP | EPOLLRDHUP));
	case O_EVFD:
		return ((ob->nbytes > 0 ? EPOLLIN : 0) | EPOLLOUT);
	case O_KQ:
	case O_EP:
		return (obj_ready_queue(o) ? EPOLLIN : 0);
	default:
		abort();
	}
}

/* Whether fd knote kn of a queue reports, and its EV_EOF and data. */
static int
knote_ready(const struct mknote *kn, int *eofp, long *datap)
{
	int o, s;

	for (s = 0; s < NSLOT; s++)
		if (slots[s].fd == kn->fd)
			break;
	if (s == NSLOT)
		abort();	/* a knote outlived its number */
	o = slots[s].obj;
	*eofp = !peer_open(o) && objs[o].type != O_EVFD;
	*datap = -1;
	if (kn->filter == EVFILT_WRITE)
		return (kn->enabled);
	if (objs[o].type != O_EVFD)
		*datap = (long)objs[o].nbytes;
	return (kn->enabled && (objs[o].nbytes > 0 || *eofp));
}

static uint32_t
epreg_revents(const struct mepreg *r)
{
	int s;

	for (s = 0; s < NSLOT; s++)
		if (slots[s].fd == r->fd)
			break;
	if (s == NSLOT)
		abort();
	return (obj_pollmask(slots[s].obj) &
	    (r->events | EPOLLERR | EPOLLHUP));
}

static uint32_t
obj_ready_queue(int o)
{
	const struct mobj *ob = &objs[o];
	long data;
	int i, eof;

	if (ob->type == O_KQ) {
		for (i = 0; i < NKN; i++)
			if (ob->kn[i].used && knote_ready(&ob->kn[i], &eof,
			    &data))
				return (1);
		for (i = 0; i < NUSER; i++)
			if (ob->user[i].used && ob->user[i].enabled &&
			    ob->user[i].triggered)
				return (1);
		return (0);
	}
	for (i = 0; i < NSLOT; i++)
		if (ob->reg[i].used && epreg_revents(&ob->reg[i]) != 0)
			return (1);
	return (0);
}

static struct mknote *
kn_find(int q, int fd, short filter)
{
	int i;

	for (i = 0; i < NKN; i++)
		if (objs[q].kn[i].used && objs[q].kn[i].fd == fd &&
		    objs[q].kn[i].filter == filter)
			return (&objs[q].kn[i]);
	return (NULL);
}

static struct mepreg *
reg_find(int q, int fd)
{
	int i;

	for (i = 0; i < NSLOT; i++)
		if (objs[q].reg[i].used && objs[q].reg[i].fd == fd)
			return (&objs[q].reg[i]);
	return (NULL);
}

/*
 * Number fd of slot s is closed (or replaced by dup2()): knotes on it go
 * (BSD); an epoll registration on it moves to the object's other number
 * if it has one and that has no registration in the instance (evring's
 * documented behaviour, evring_epoll(3) BUGS; Linux keeps it under the old
 * number), and otherwise goes with the object (Linux).
 */
static void
model_close(int s)
{
	int fd = slots[s].fd, o = slots[s].obj, q, i, other = -1;
	struct mepreg *r;

	for (i = 0; i < NSLOT; i++)
		if (i != s && slots[i].fd >= 0 && slots[i].obj == o)
			other = slots[i].fd;
	for (q = 0; q < NOBJ; q++) {
		if (objs[q].type == O_KQ) {
			for (i = 0; i < NKN; i++)
				if (objs[q].kn[i].used &&
				    objs[q].kn[i].fd == fd)
					objs[q].kn[i].used = 0;
		} else if (objs[q].type == O_EP &&
		    (r = reg_find(q, fd)) != NULL) {
			if (other >= 0 && reg_find(q, other) == NULL)
				r->fd = other;
			else
				r->used = 0;
		}
	}
	slots[s].fd = -1;
	if (--objs[o].refs == 0) {
		if (objs[o].peer >= 0)
			objs[objs[o].peer].peer = -1;
		objs[o].type = O_NONE;
	}
}

/* Read everything a socket holds before its last number goes. */
static void
drain_before_close(int s)
{
	char buf[PIPEMAX];
	int o = slots[s].obj;
	ssize_t n;

	if (objs[o].type != O_SOCK || objs[o].refs > 1 || objs[o].nbytes == 0)
		return;
	n = read(slots[s].fd, buf, sizeof(buf));
	expect("read (drain)", (int)n, (int)objs[o].nbytes);
	objs[o].nbytes = 0;
}

/* ---------------------------------------------------------------- ops */

static void
op_create(struct input *in, int what)
{
	int s = slot_free(-1), t, fds[2], o, p;

	if (s < 0)
		return;
	switch (what) {
	case 0:
		o = obj_new(O_KQ);
		slot_set(s, kqueue(), o);
		break;
	case 1:
		o = obj_new(O_EP);
		slot_set(s, evring_epoll_create1(in8(in) & 1 ? EPOLL_CLOEXEC :
		    0), o);
		break;
	case 2:
	case 3:
		if ((t = slot_free(s)) < 0)
			return;
		if (what == 2) {
			if (pipe2(fds, O_NONBLOCK) != 0)
				mismatch("pipe2: %s", strerror(errno));
			o = obj_new(O_PIPE_R);
			slot_set(s, fds[0], o);
			p = obj_new(O_PIPE_W);
			slot_set(t, fds[1], p);
		} else {
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
			    0, fds) != 0)
				mismatch("socketpair: %s", strerror(errno));
			o = obj_new(O_SOCK);
			slot_set(s, fds[0], o);
			p = obj_new(O_SOCK);
			slot_set(t, fds[1], p);
		}
		objs[o].peer = p;
		objs[p].peer = o;
		break;
	default:
		o = obj_new(O_EVFD);
		slot_set(s, eventfd(0, EFD_NONBLOCK), o);
		break;
	}
}

static int
kev_change(int kqfd, uintptr_t ident, short filter, unsigned short flags,
    unsigned int fflags, uintptr_t udata)
{
	struct kevent kev;

	EV_SET(&kev, ident, filter, flags, fflags, 0, (void *)udata);
	return (kevent(kqfd, &kev, 1, NULL, 0, NULL));
}

/* The error kevent() on slot k gives before looking at changes, or 0. */
static int
kq_error(int k)
{

	/* Not a queue, or an epoll instance (evring_epoll(3)). */
	return (slot_type(k) == O_KQ ? 0 : -EBADF);
}

static void
op_kevent_fd(struct input *in)
{
	static const unsigned short actions[] = {
		EV_ADD, EV_ADD | EV_DISABLE, EV_DELETE, EV_ENABLE, EV_DISABLE,
	};
	int k = in8(in) % NSLOT, t = in8(in) % NSLOT, want, q;
	short filter = in8(in) & 1 ? EVFILT_WRITE : EVFILT_READ;
	unsigned short fl = actions[in8(in) % 5];
	int type = slot_type(t);
	uintptr_t udata = (uintptr_t)++serial;
	struct mknote *kn;

	if (type == O_KQ || type == O_EP ||
	    (filter == EVFILT_READ && type == O_PIPE_W) ||
	    (filter == EVFILT_WRITE && type == O_PIPE_R))
		return;
	if ((want = kq_error(k)) == 0) {
		q = slots[k].obj;
		kn = type == O_NONE ? NULL : kn_find(q, slots[t].fd, filter);
		if (type == O_NONE)
			want = -EBADF;
		else if (fl & EV_ADD) {
			if (kn == NULL) {
				for (kn = objs[q].kn; kn->used; kn++)
					;
				kn->used = 1;
				kn->fd = slots[t].fd;
				kn->filter = filter;
				kn->enabled = 1;
			}
			kn->udata = udata;
			if (fl & EV_DISABLE)
				kn->enabled = 0;
		} else if (kn == NULL)
			want = -ENOENT;
		else if (fl & EV_DELETE)
			kn->used = 0;
		else {
			/* Any change but a delete sets udata (no EV_KEEPUDATA). */
			kn->udata = udata;
			kn->enabled = (fl & EV_ENABLE) != 0;
		}
	}
	expect("kevent (fd change)", kev_change(slot_fd(k), (uintptr_t)
	    slot_fd(t), filter, fl, 0, udata), want);
}

static void
op_kevent_user(struct input *in)
{
	int k = in8(in) % NSLOT, u = in8(in) % NUSER, a = in8(in) % 7, want;
	unsigned short fl = 0;
	unsigned int ffl = 0;
	struct muser *mu = NULL;

	if ((want = kq_error(k)) == 0)
		mu = &objs[slots[k].obj].user[u];
	switch (a) {
	case 0:
	case 1:
		/* A new one gets EV_CLEAR or not; an existing one keeps it. */
		fl = EV_ADD | (mu != NULL && mu->used ? (mu->clear ?
		    EV_CLEAR : 0) : (a == 1 ? EV_CLEAR : 0));
		if (mu != NULL && !mu->used) {
			mu->used = mu->enabled = 1;
			mu->triggered = 0;
			mu->clear = a == 1;
		}
		break;
	case 2:
		fl = EV_DELETE;
		break;
	case 3:
		fl = EV_ENABLE;
		break;
	case 4:
		fl = EV_DISABLE;
		break;
	default:
		ffl = NOTE_TRIGGER;
		break;
	}
	if (mu != NULL && a >= 2) {
		if (!mu->used)
			want = -ENOENT;
		else if (fl == EV_DELETE)
			mu->used = 0;
		else if (fl == EV_ENABLE)
			mu->enabled = 1;
		else if (fl == EV_DISABLE)
			mu->enabled = 0;
		else
			mu->triggered = 1;
	}
	expect("kevent (user change)", kev_change(slot_fd(k), (uintptr_t)u,
	    EVFILT_USER, fl, ffl, (uintptr_t)(0x1000 + u)), want);
}

static void
op_epoll_ctl(struct input *in)
{
	static const uint32_t evsets[] = {
		EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLOUT, EPOLLIN | EPOLLRDHUP, 0,
	};
	static const int ops[] = { EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL };
	int e = in8(in) % NSLOT, t = in8(in) % NSLOT, op = ops[in8(in) % 3];
	struct epoll_event ev;
	struct mepreg *r;
	int type = slot_type(t), want = 0, q;

	memset(&ev, 0, sizeof(ev));
	ev.events = evsets[in8(in) % 5];
	ev.data.u64 = ++serial;
	if ((type == O_KQ || type == O_EP) && t != e)
		return;		/* no queue watched by a queue */
	if (slot_type(e) == O_NONE || type == O_NONE)
		want = -EBADF;
	else if (slot_type(e) != O_EP || t == e)
		want = -EINVAL;
	else {
		q = slots[e].obj;
		r = reg_find(q, slots[t].fd);
		if (op == EPOLL_CTL_ADD && r != NULL)
			want = -EEXIST;
		else if (op != EPOLL_CTL_ADD && r == NULL)
			want = -ENOENT;
		else if (op == EPOLL_CTL_DEL)
			r->used = 0;
		else {
			if (r == NULL) {
				for (r = objs[q].reg; r->used; r++)
					;
				r->used = 1;
				r->fd = slots[t].fd;
			}
			r->events = ev.events;
			r->data = ev.data.u64;
		}
	}
	expect("epoll_ctl", evring_epoll_ctl(slot_fd(e), op, slot_fd(t),
	    &ev), want);
}

static void
op_write(struct input *in)
{
	static const char bytes[16] = "0123456789abcdef";
	int s = in8(in) % NSLOT, type = slot_type(s), o, want;
	size_t n = 1 + in8(in) % sizeof(bytes);
	uint64_t v = 1 + in8(in) % 100;

	if (type == O_KQ || type == O_EP)
		return;		/* a queue's number is not for write() */
	o = slots[s].obj;
	if (type == O_EVFD) {
		objs[o].nbytes += (unsigned)v;
		expect("write (eventfd)", (int)write(slots[s].fd, &v,
		    sizeof(v)), (int)sizeof(v));
		return;
	}
	if (type == O_NONE || type == O_PIPE_R)
		want = -EBADF;
	else if (!peer_open(o))
		want = -EPIPE;
	else if (objs[objs[o].peer].nbytes + n > PIPEMAX)
		return;		/* never fills */
	else {
		objs[objs[o].peer].nbytes += (unsigned)n;
		want = (int)n;
	}
	expect("write", (int)write(slot_fd(s), bytes, n), want);
}

static void
op_read(struct input *in)
{
	char buf[16];
	int s = in8(in) % NSLOT, type = slot_type(s), o, want;
	size_t n = 1 + in8(in) % sizeof(buf);

	if (type == O_KQ || type == O_EP)
		return;
	o = slots[s].obj;
	if (type == O_EVFD) {
		want = objs[o].nbytes > 0 ? 8 : -EAGAIN;
		objs[o].nbytes = 0;
		n = 8;
	} else if (type == O_NONE || type == O_PIPE_W)
		want = -EBADF;
	else if (objs[o].nbytes > 0) {
		want = objs[o].nbytes < n ? (int)objs[o].nbytes : (int)n;
		objs[o].nbytes -= (unsigned)want;
	} else
		want = peer_open(o) ? -EAGAIN : 0;
	expect("read", (int)read(slot_fd(s), buf, n), want);
}

/* kevent() with no changes and a zero timeout reports what is ready. */
static void
op_kevent_wait(struct input *in)
{
	struct timespec zero = { 0, 0 };
	struct kevent evs[NKN + NUSER + 4];
	int k = in8(in) % NSLOT, want, n, i, j, eof, matched[NKN + NUSER];
	struct mobj *q;
	long data;

	if ((want = kq_error(k)) != 0) {
		expect("kevent (wait)", kevent(slot_fd(k), NULL, 0, evs, 4,
		    &zero), want);
		return;
	}
	q = &objs[slots[k].obj];
	n = kevent(slots[k].fd, NULL, 0, evs, NKN + NUSER + 4, &zero);
	if (n < 0)
		mismatch("kevent (wait) failed: %s", strerror(errno));
	for (i = 0; trace && i < n; i++)
		fprintf(stderr, "  %d: kevent: ident %lu filter %d flags %#x "
		    "data %ld\n", opno, (unsigned long)evs[i].ident,
		    evs[i].filter, evs[i].flags, (long)evs[i].data);
	memset(matched, 0, sizeof(matched));
	for (i = 0; i < n; i++) {
		if (evs[i].flags & EV_ERROR)
			mismatch("kevent (wait) reported EV_ERROR %ld on %lu",
			    (long)evs[i].data, (unsigned long)evs[i].ident);
		if (evs[i].filter == EVFILT_USER) {
			j = (int)evs[i].ident;
			if (j < 0 || j >= NUSER || !q->user[j].used ||
			    !q->user[j].enabled || !q->user[j].triggered ||
			    matched[NKN + j]++ ||
			    evs[i].udata != (void *)(uintptr_t)(0x1000 + j))
				mismatch("kevent reported user %lu, model "
				    "says it is not ready",
				    (unsigned long)evs[i].ident);
			continue;
		}
		for (j = 0; j < NKN; j++)
			if (q->kn[j].used && q->kn[j].fd ==
			    (int)evs[i].ident && q->kn[j].filter ==
			    evs[i].filter)
				break;
		if (j == NKN || !knote_ready(&q->kn[j], &eof, &data) ||
		    matched[j]++)
			mismatch("kevent reported fd %lu filter %d, model "
			    "says it is not ready", (unsigned long)evs[i].ident,
			    evs[i].filter);
		if ((uintptr_t)evs[i].udata != q->kn[j].udata)
			mismatch("kevent fd %lu filter %d: udata %p, model "
			    "says %#lx", (unsigned long)evs[i].ident,
			    evs[i].filter, evs[i].udata,
			    (unsigned long)q->kn[j].udata);
		if (((evs[i].flags & EV_EOF) != 0) != eof)
			mismatch("kevent fd %lu (%s) filter %d: EV_EOF %d, "
			    "model says %d", (unsigned long)evs[i].ident,
			    fd_typename((int)evs[i].ident), evs[i].filter,
			    (evs[i].flags & EV_EOF) != 0, eof);
		if (data >= 0 && evs[i].data != data)
			mismatch("kevent fd %lu (%s) filter %d: data %ld, "
			    "model says %ld", (unsigned long)evs[i].ident,
			    fd_typename((int)evs[i].ident), evs[i].filter, (long)evs[i].data, data);
	}
	for (j = 0; j < NKN; j++)
		if (q->kn[j].used && !matched[j] &&
		    knote_ready(&q->kn[j], &eof, &data))
			mismatch("kevent did not report fd %d (%s) filter "
			    "%d, which the model says is ready", q->kn[j].fd,
			    fd_typename(q->kn[j].fd), q->kn[j].filter);
	for (j = 0; j < NUSER; j++) {
		if (q->user[j].used && q->user[j].enabled &&
		    q->user[j].triggered && !matched[NKN + j])
			mismatch("kevent did not report user %d", j);
		if (matched[NKN + j] && q->user[j].clear)
			q->user[j].triggered = 0;
	}
}

static void
op_epoll_wait(struct input *in)
{
	struct epoll_event evs[NSLOT + 4];
	int e = in8(in) % NSLOT, n, i, j, matched[NSLOT];
	struct mobj *q;
	uint32_t want;

	if (slot_type(e) != O_EP) {
		expect("epoll_wait", evring_epoll_wait(slot_fd(e), evs, 4, 0),
		    slot_type(e) == O_NONE ? -EBADF : -EINVAL);
		return;
	}
	q = &objs[slots[e].obj];
	n = evring_epoll_wait(slots[e].fd, evs, NSLOT + 4, 0);
	if (n < 0)
		mismatch("epoll_wait failed: %s", strerror(errno));
	for (i = 0; trace && i < n; i++)
		fprintf(stderr, "  %d: epoll_wait: data %llu events %#x\n",
		    opno, (unsigned long long)evs[i].data.u64, evs[i].events);
	memset(matched, 0, sizeof(matched));
	for (i = 0; i < n; i++) {
		for (j = 0; j < NSLOT; j++)
			if (q->reg[j].used && q->reg[j].data ==
			    evs[i].data.u64)
				break;
		if (j == NSLOT || matched[j]++)
			mismatch("epoll_wait reported data %llu, which the "
			    "model does not have (or twice)",
			    (unsigned long long)evs[i].data.u64);
		want = epreg_revents(&q->reg[j]);
		if (evs[i].events != want)
			mismatch("epoll_wait: fd %d (%s, events %#x) "
			    "reported %#x, model says %#x", q->reg[j].fd,
			    fd_typename(q->reg[j].fd), q->reg[j].events,
			    evs[i].events, want);
	}
	for (j = 0; j < NSLOT; j++)
		if (q->reg[j].used && !matched[j] &&
		    (want = epreg_revents(&q->reg[j])) != 0)
			mismatch("epoll_wait did not report fd %d (%s, "
			    "events %#x), model says %#x", q->reg[j].fd,
			    fd_typename(q->reg[j].fd), q->reg[j].events, want);
}

static void
op_poll(struct input *in)
{
	struct pollfd pfd[NSLOT];
	unsigned mask = in8(in), rdhup = in8(in);
	int s, n = 0, i, got, nready = 0, which[NSLOT];
	short want[NSLOT];

	for (s = 0; s < NSLOT; s++) {
		if ((mask & (1u << s)) == 0)
			continue;
		pfd[n].fd = slot_fd(s);
		pfd[n].events = POLLIN | POLLOUT |
		    ((rdhup & (1u << s)) ? POLLRDHUP : 0);
		pfd[n].revents = 0;
		if (slots[s].fd < 0)
			want[n] = POLLNVAL;
		else
			want[n] = (short)(obj_pollmask(slots[s].obj) &
			    ((uint32_t)pfd[n].events | POLLERR | POLLHUP));
		nready += want[n] != 0;
		which[n++] = s;
	}
	got = evring_poll(pfd, (nfds_t)n, 0);
	for (i = 0; trace && i < n; i++)
		fprintf(stderr, "  %d: poll: fd %d revents %#x\n", opno,
		    pfd[i].fd, pfd[i].revents);
	for (i = 0; i < n; i++)
		if (pfd[i].revents != want[i])
			mismatch("poll: slot %d fd %d (%s) revents %#x, model "
			    "says %#x", which[i], pfd[i].fd,
			    otname[slot_type(which[i])], pfd[i].revents,
			    want[i]);
	expect("poll", got, nready);
}

static void
op_close(struct input *in)
{
	int s = in8(in) % NSLOT;

	if (slots[s].fd < 0) {
		expect("close (closed)", close(RESERVED_FD(s)), -EBADF);
		return;
	}
	drain_before_close(s);
	expect("close", close(slots[s].fd), 0);
	model_close(s);
}

static void
op_dup2(struct input *in)
{
	int s = in8(in) % NSLOT, d = in8(in) % NSLOT, type = slot_type(s);
	int newfd, o;

	if (type == O_KQ || type == O_EP)
		return;		/* dup2() of a queue is not modelled */
	if (type == O_NONE) {
		expect("dup2 (closed)", dup2(RESERVED_FD(s), slot_fd(d)),
		    -EBADF);
		return;
	}
	o = slots[s].obj;
	if (s == d) {
		expect("dup2 (same)", dup2(slots[s].fd, slots[s].fd),
		    slots[s].fd);
		return;
	}
	if (objs[o].refs >= 2 || (slots[d].fd >= 0 && slots[d].obj == o))
		return;
	newfd = slot_fd(d);
	if (slots[d].fd >= 0) {
		drain_before_close(d);
		model_close(d);
	}
	expect("dup2", dup2(slots[s].fd, newfd), newfd);
	slots[d].fd = newfd;
	slots[d].obj = o;
	objs[o].refs++;
}

/*
 * The child has no queues: kevent() and epoll_wait() on the numbers it
 * inherited fail EBADF.  It can use the other descriptors: a queue of its
 * own sees a readable one as the model says, and its closes and exit do
 * not reach the parent, whose next checks would see it.
 */
static int
fork_child(void)
{
	struct timespec zero = { 0, 0 };
	struct epoll_event eev;
	struct kevent kev;
	int s, kq, n, eof;

	for (s = 0; s < NSLOT; s++) {
		if (slot_type(s) == O_KQ && (kevent(slots[s].fd, NULL, 0,
		    &kev, 1, &zero) != -1 || errno != EBADF))
			return (10 + s);
		if (slot_type(s) == O_EP && (evring_epoll_wait(slots[s].fd,
		    &eev, 1, 0) != -1 || errno != EBADF))
			return (20 + s);
	}
	if ((kq = kqueue()) < 0)
		return (30);
	for (s = 0; s < NSLOT; s++) {
		if (slot_type(s) != O_PIPE_R && slot_type(s) != O_SOCK)
			continue;
		if (kev_change(kq, (uintptr_t)slots[s].fd, EVFILT_READ,
		    EV_ADD, 0, 0) != 0)
			return (40 + s);
		eof = !peer_open(slots[s].obj);
		n = kevent(kq, NULL, 0, &kev, 1, &zero);
		if (n != (objs[slots[s].obj].nbytes > 0 || eof))
			return (50 + s);
		if (n == 1 && (kev.data != (long)objs[slots[s].obj].nbytes ||
		    ((kev.flags & EV_EOF) != 0) != eof))
			return (60 + s);
		break;
	}
	if (close(kq) != 0)
		return (31);
	for (s = 0; s < NSLOT; s++)
		if (slots[s].fd >= 0 && slot_type(s) != O_KQ &&
		    slot_type(s) != O_EP && close(slots[s].fd) != 0)
			return (70 + s);
	return (0);
}

static void
op_fork(void)
{
	pid_t pid, r;
	int st;

	pid = fork();
	if (pid < 0)
		mismatch("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fork_child());
	/* libFuzzer's timer signal interrupts the wait. */
	while ((r = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
		;
	if (r != pid)
		mismatch("waitpid: %s", strerror(errno));
	if (trace)
		fprintf(stderr, "  %d: fork: child status %#x\n", opno, st);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		mismatch("fork child: %s %d (see fork_child())",
		    WIFEXITED(st) ? "exit status" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/*
 * A poll() of a pipe alone.  poll() keeps its queue and registrations for
 * later calls and purges those a call does not name; a registration on a
 * queue that was closed stays until collected (kevent(2): reported once
 * with EV_EOF).  So this makes the queue before counting, and lets it drop
 * what the input left before counting again.
 */
static void
poll_settle(void)
{
	struct pollfd pfd;
	int p[2];

	if (pipe(p) != 0)
		abort();
	pfd.fd = p[0];
	pfd.events = POLLIN;
	(void)evring_poll(&pfd, 1, 0);
	close(p[0]);
	close(p[1]);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc;
	(void)argv;
	/* Writes into pipes and sockets whose reader is closed: EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	trace = getenv("FUZZ_TRACE") != NULL;
	poll_settle();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	long long knotes, kqueues, hostreg;
	int s, forks = 0, fds[NSLOT], nfds = 0;

	knotes = evring_stat(EVRING_STAT_KNOTES);
	kqueues = evring_stat(EVRING_STAT_KQUEUES);
	hostreg = evring_stat(EVRING_STAT_HOSTREG);
	memset(objs, 0, sizeof(objs));
	for (s = 0; s < NSLOT; s++)
		slots[s].fd = -1;
	serial = 0;
	for (opno = 0; in.left > 0 && opno < MAXOPS; opno++) {
		switch (in8(&in) % 20) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
			op_create(&in, in8(&in) % 5);
			break;
		case 5:
		case 6:
			op_kevent_fd(&in);
			break;
		case 7:
			op_kevent_user(&in);
			break;
		case 8:
		case 9:
			op_epoll_ctl(&in);
			break;
		case 10:
			op_write(&in);
			break;
		case 11:
			op_read(&in);
			break;
		case 12:
			op_kevent_wait(&in);
			break;
		case 13:
			op_epoll_wait(&in);
			break;
		case 14:
		case 15:
			op_poll(&in);
			break;
		case 16:
			op_close(&in);
			break;
		case 17:
			op_dup2(&in);
			break;
		case 18:
			/* Rare: a fork() of a sanitized fuzzer costs ~40 ms. */
			if (in8(&in) % 8 == 0 && forks++ < MAXFORK)
				op_fork();
			break;
		default:	/* every queue looked at: the model's full view */
			for (s = 0; s < NSLOT; s++) {
				uint8_t b = (uint8_t)s;
				struct input one = { &b, 1 };

				if (slot_type(s) == O_KQ)
					op_kevent_wait(&one);
				else if (slot_type(s) == O_EP)
					op_epoll_wait(&one);
			}
			break;
		}
	}
	/* Close everything, sockets drained so that no peer gets an error. */
	for (s = 0; s < NSLOT; s++) {
		if (slots[s].fd < 0)
			continue;
		fds[nfds++] = slots[s].fd;
		drain_before_close(s);
		expect("close (end)", close(slots[s].fd), 0);
		model_close(s);
	}
	for (s = 0; s < nfds; s++)
		if (fcntl(fds[s], F_GETFD) != -1 || errno != EBADF)
			mismatch("fd %d still open after the end", fds[s]);
	poll_settle();
	if (evring_stat(EVRING_STAT_KNOTES) != knotes ||
	    evring_stat(EVRING_STAT_KQUEUES) != kqueues ||
	    evring_stat(EVRING_STAT_HOSTREG) != hostreg)
		mismatch("kernel objects left: knotes %lld (was %lld), queues "
		    "%lld (was %lld), host registrations %lld (was %lld)",
		    evring_stat(EVRING_STAT_KNOTES), knotes,
		    evring_stat(EVRING_STAT_KQUEUES), kqueues,
		    evring_stat(EVRING_STAT_HOSTREG), hostreg);
	return (0);
}
