/*
 * soak: a long mixed workload over every part of evring, with every event
 * accounted for and the process's memory and descriptors watched for leaks.
 *
 * "make soak SOAK_SECONDS=N" builds and runs it; bench/README.md says what
 * it checks and how to read its output.  tests/kern/t_soak.c includes this
 * file with SOAK_NO_MAIN defined and runs soak_main() for a few seconds, so
 * the program cannot rot.
 *
 * Structure.  Each workload runs in one persistent worker thread (plus
 * helper threads it starts and joins inside each cycle).  A cycle ends when
 * the main thread raises g_pausing: every worker finishes its round, checks
 * the cycle's invariants, closes everything it opened in the cycle and
 * parks.  With all workers parked the main thread samples VmRSS and the
 * descriptor count, so descriptors must be exactly equal at every boundary
 * after the warm-up.  Any broken invariant prints "soak: FAIL" and exits 1.
 *
 * No wait is unbounded: waits time out (100 ms) and loop, and a wait that
 * makes no progress for WATCHDOG_S seconds fails the run as a lost event.
 * A timeout never makes a consumer read a descriptor it was not told about,
 * so a lost edge-triggered event shows as a stall, not as a slow round.
 */
#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/event.h>
#include <sys/evring.h>
#include <evring/epoll.h>
#include <evring/poll.h>
#define	EVRING_DEVPOLL_NO_MACROS
#include <sys/devpoll.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define	SOAK_SANITIZED	1
#else
#define	SOAK_SANITIZED	0
#endif
#if defined(__SANITIZE_THREAD__)
#define	SOAK_TSAN	1
#else
#define	SOAK_TSAN	0
#endif

#define	WATCHDOG_S	60		/* no progress this long: lost event */
#define	WAIT_MS		100		/* every wait's timeout */
#define	RSS_SLACK_KIB	2048		/* allowed RSS growth after warm-up */
#define	MAX_CYCLES	4096

/* ---------------------------------------------------------------- state */

static double g_seconds = 600;		/* run length */
static double g_cycle_s = 5;		/* sampling period, one cycle */
static double g_rate = 50;		/* rounds per second per worker */
static int g_quiet;

static atomic_int g_pausing;		/* main: finish the round and park */
static pthread_mutex_t g_park_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_park_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_parked_cv = PTHREAD_COND_INITIALIZER;
static int g_parked, g_gen, g_done;

static int g_sig;			/* the storm's signal: SIGRTMIN + 2 */
static atomic_ullong g_handled;		/* calls of our handler */

/* Counters: what a source caused and what a consumer received. */
enum ctr {
	C_EVENTS,		/* events received, all front ends */
	C_EINTR,		/* waits a signal interrupted */
	C_BYTES_W, C_BYTES_R,	/* pipe and socket bytes */
	C_EFD_W, C_EFD_R,	/* eventfd values */
	C_WRARM, C_WRSEEN,	/* EVFILT_WRITE one-shots armed, delivered */
	C_ACK_T, C_ACK_D,	/* EVFILT_USER ping-pong triggers, deliveries */
	C_SWAPS,		/* descriptors closed and reopened while
				   registered (and waited on) */
	C_USR_T, C_USR_D,	/* EV_CLEAR user bursts: triggers, deliveries */
	C_ONE_A, C_ONE_D,	/* one-shot timers armed, delivered */
	C_PER_EXP,		/* periodic timer expirations (sum of data) */
	C_FORK, C_EXIT_D, C_REAP,	/* children forked, NOTE_EXIT, reaped */
	C_VN_OP, C_VN_D,	/* vnode operations, matching events */
	C_VN_REOPEN,		/* vnode close/reopen checks */
	C_RING_T, C_RING_D,	/* ring: one-shot user events, records */
	C_RING_EFD_W, C_RING_EFD_R,	/* ring: eventfd values */
	C_RING_CLOSE,		/* queue closed under kevent_wait() sleepers */
	C_SIG_SENT, C_SIG_HANDLED, C_SIG_KQ,	/* storm */
	C_NCTR
};

static const char *ctr_name[C_NCTR] = {
	"events", "eintr", "bytes_w", "bytes_r", "efd_w", "efd_r",
	"wr_armed", "wr_seen", "ack_trig", "ack_deliv", "swaps",
	"user_trig", "user_deliv", "oneshot_armed", "oneshot_deliv",
	"periodic_exp", "forked", "exit_deliv", "reaped", "vnode_ops",
	"vnode_deliv", "vnode_reopen", "ring_trig", "ring_recs",
	"ring_efd_w", "ring_efd_r", "ring_closes", "sig_sent", "sig_handled",
	"sig_kq",
};

/* Pairs that must be equal at every cycle boundary and at the end. */
static const int exact_pairs[][2] = {
	{ C_BYTES_W, C_BYTES_R }, { C_EFD_W, C_EFD_R },
	{ C_WRARM, C_WRSEEN }, { C_ACK_T, C_ACK_D },
	{ C_ONE_A, C_ONE_D }, { C_FORK, C_EXIT_D }, { C_FORK, C_REAP },
	{ C_VN_OP, C_VN_D }, { C_RING_T, C_RING_D },
	{ C_RING_EFD_W, C_RING_EFD_R }, { C_SIG_SENT, C_SIG_KQ },
#if !SOAK_TSAN
	/*
	 * ThreadSanitizer wraps the program's handler: it defers a signal
	 * that arrives outside a blocking call and keeps one pending flag
	 * per signal number, so it merges queued real-time signals and
	 * handled <= sent there.  evring's own handler is installed under
	 * the wrapper and still counts every delivery.
	 */
	{ C_SIG_SENT, C_SIG_HANDLED },
#endif
};

static atomic_ullong g_ctr[C_NCTR];

static void
add(enum ctr c, unsigned long long n)
{

	atomic_fetch_add_explicit(&g_ctr[c], n, memory_order_relaxed);
}

static unsigned long long
get(enum ctr c)
{

	return (atomic_load(&g_ctr[c]));
}

static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "soak: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	/*
	 * Straight out: ThreadSanitizer's _exit() finalization can wait on
	 * the threads left running.
	 */
	syscall(SYS_exit_group, 1);
	_exit(1);
}

#define	CHECK(cond, ...) do {						\
	if (!(cond))							\
		fail(__VA_ARGS__);					\
} while (0)
#define	SYS(expr) do {							\
	if ((expr) < 0)							\
		fail("%s:%d: %s: %s", __FILE__, __LINE__, #expr,	\
		    strerror(errno));					\
} while (0)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* Sleep d seconds; a signal does not cut it short. */
static void
sleep_s(double d)
{
	struct timespec ts;
	long long t = now_ns() + (long long)(d * 1e9);

	ts.tv_sec = t / 1000000000LL;
	ts.tv_nsec = t % 1000000000LL;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

/* The pause between rounds that keeps a default run near half a core. */
static void
pace(void)
{

	sleep_s(1.0 / g_rate);
}

/* A progress deadline: fails when WATCHDOG_S pass without progress. */
struct watchdog {
	double		deadline;
	const char	*what;
};

static void
wd_start(struct watchdog *w, const char *what)
{

	w->deadline = now() + WATCHDOG_S;
	w->what = what;
}

static void
wd_check(struct watchdog *w)
{

	if (now() > w->deadline)
		fail("%s: no progress for %d s (a lost event)", w->what,
		    WATCHDOG_S);
}

/* A deterministic size for round r, source s, both sides can compute. */
static unsigned
rsize(unsigned r, unsigned s, unsigned mod)
{
	uint32_t h = r * 2654435761u ^ (s + 1) * 40503u;

	h ^= h >> 13;
	h *= 0x5bd1e995u;
	h ^= h >> 15;
	return (1 + h % mod);
}

static struct timespec
ms_ts(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	return (ts);
}

/* kevent() that retries on EINTR (counted); fails on any other error. */
static int
kev(int kq, const struct kevent *ch, int nch, struct kevent *ev, int nev,
    int ms)
{
	struct timespec ts = ms_ts(ms);
	int n;

	while ((n = kevent(kq, ch, nch, ev, nev, &ts)) < 0) {
		if (errno != EINTR)
			fail("kevent(%d): %s", kq, strerror(errno));
		add(C_EINTR, 1);
		/* The changes were applied before the wait was cut. */
		nch = 0;
	}
	add(C_EVENTS, n);
	return (n);
}

static void
kchange(int kq, uintptr_t ident, short filter, unsigned short flags,
    unsigned fflags, intptr_t data, void *udata)
{
	struct kevent ch;

	EV_SET(&ch, ident, filter, flags, fflags, data, udata);
	kev(kq, &ch, 1, NULL, 0, 0);
}

/*
 * evring gives each thread that sleeps in it an eventfd, closed when the
 * thread exits.  A persistent thread that first sleeps late in the run
 * (the storm sleeps only when it must wait for a signal's count) would
 * add one descriptor after the warm-up and fail the exact descriptor
 * check, so every persistent thread sleeps once when it starts.
 */
static void
prime_sleeper(void)
{
	struct kevent ev;
	int kq;

	SYS(kq = kqueue());
	kev(kq, NULL, 0, &ev, 1, 1);
	SYS(close(kq));
}

/* Cycle boundary: park until the main thread releases; 1 when done. */
static int
park(void)
{
	int gen, done;

	pthread_mutex_lock(&g_park_mtx);
	g_parked++;
	pthread_cond_signal(&g_parked_cv);
	gen = g_gen;
	while (g_gen == gen)
		pthread_cond_wait(&g_park_cv, &g_park_mtx);
	done = g_done;
	pthread_mutex_unlock(&g_park_mtx);
	return (done);
}

static int
pausing(void)
{

	return (atomic_load(&g_pausing));
}

/* ------------------------------------------------ streams on front ends */

/*
 * One producer helper writes a round of bytes into a pipe and a socketpair
 * and a value into an eventfd (sizes from rsize(), so the consumer knows
 * them), then waits for the consumer's EVFILT_USER ack on its own queue.
 * The consumer, the worker thread, waits through one front end and reads
 * only what it was told is ready, checking every byte's value.  Every
 * fourth round the producer closes the three sources while they are
 * registered and the consumer may be waiting on them, and opens new ones.
 */
enum fe { FE_KEVENT, FE_EPOLL, FE_POLL, FE_SELECT, FE_DEVPOLL, FE_N };
static const char *fe_name[FE_N] = { "kevent", "epoll", "poll", "select",
    "devpoll" };

#define	NSRC	3	/* pipe, socketpair, eventfd */

struct stream {
	enum fe		fe;
	int		wfd;		/* kqueue, epoll or /dev/poll; -1 */
	int		pkq;		/* the producer's queue (acks) */
	_Atomic int	rfd[NSRC];	/* current read ends */
	_Atomic int	wrfd[NSRC];	/* current write ends */
	pthread_mutex_t	io;		/* held while reading or swapping */
	atomic_int	stop;		/* consumer: no more rounds */
	unsigned	round;		/* producer's round (under the ack) */
	unsigned	rcv_round;	/* consumer's round */
	unsigned long long got[NSRC];	/* this round, per source */
	unsigned char	next_byte[NSRC];
	unsigned char	wr_byte[NSRC];
	int		wr_seen;	/* this round's EVFILT_WRITE */
};

static unsigned
src_expect(unsigned r, int s)
{

	return (s == 2 ? rsize(r, s, 5) : rsize(r, s, 512));
}

static void
src_open(int s, int *r, int *w)
{
	int p[2];

	switch (s) {
	case 0:
		SYS(pipe2(p, O_NONBLOCK | O_CLOEXEC));
		break;
	case 1:
		SYS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, p));
		break;
	default:
		SYS(p[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
		SYS(p[1] = dup(p[0]));
		break;
	}
	*r = p[0];
	*w = p[1];
}

/* Watch read end fd of source s through the stream's front end. */
static void
fe_add(struct stream *st, int s, int fd)
{
	struct epoll_event ee;
	struct pollfd pfd;

	switch (st->fe) {
	case FE_KEVENT:
		kchange(st->wfd, fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0,
		    (void *)(intptr_t)s);
		break;
	case FE_EPOLL:
		/* The socket edge-triggered, the others level-triggered. */
		ee.events = EPOLLIN | (s == 1 ? EPOLLET : 0);
		ee.data.u64 = s;
		SYS(epoll_ctl(st->wfd, EPOLL_CTL_ADD, fd, &ee));
		break;
	case FE_DEVPOLL:
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		CHECK(evring_devpoll_write(st->wfd, &pfd, sizeof(pfd)) ==
		    sizeof(pfd), "/dev/poll write: %s", strerror(errno));
		break;
	default:
		break;
	}
}

static void
fe_remove(struct stream *st, int fd)
{
	struct pollfd pfd;

	/*
	 * Only /dev/poll needs a removal before close (porting-devpoll.md);
	 * kevent and epoll registrations go with the close, which is what
	 * this exercises.
	 */
	if (st->fe == FE_DEVPOLL) {
		pfd.fd = fd;
		pfd.events = POLLREMOVE;
		pfd.revents = 0;
		CHECK(evring_devpoll_write(st->wfd, &pfd, sizeof(pfd)) ==
		    sizeof(pfd), "/dev/poll remove: %s", strerror(errno));
	}
}

/* Close source s's descriptors, registered, and open new ones. */
static void
stream_swap(struct stream *st, int s)
{
	int r, w, or, ow;

	src_open(s, &r, &w);
	fe_add(st, s, r);
	pthread_mutex_lock(&st->io);
	or = atomic_exchange(&st->rfd[s], r);
	ow = atomic_exchange(&st->wrfd[s], w);
	fe_remove(st, or);
	SYS(close(or));
	SYS(close(ow));
	pthread_mutex_unlock(&st->io);
	add(C_SWAPS, 1);
}

static void *
stream_producer(void *arg)
{
	struct stream *st = arg;
	struct kevent ev[4];
	struct watchdog wd;
	unsigned char buf[512];
	unsigned r, n, k;
	uint64_t v;
	int s, acked;

	for (r = 0;; r++) {
		if (r > 0 && r % 4 == 0 && !SOAK_TSAN)
			for (s = 0; s < NSRC; s++)
				stream_swap(st, s);
		if (st->fe == FE_KEVENT) {
			add(C_WRARM, 1);
			kchange(st->wfd, atomic_load(&st->wrfd[0]),
			    EVFILT_WRITE, EV_ADD | EV_ONESHOT, 0, 0,
			    (void *)(intptr_t)NSRC);
		}
		for (s = 0; s < 2; s++) {
			n = src_expect(r, s);
			for (k = 0; k < n; k++)
				buf[k] = st->wr_byte[s]++;
			CHECK(write(atomic_load(&st->wrfd[s]), buf, n) ==
			    (ssize_t)n, "%s producer write: %s",
			    fe_name[st->fe], strerror(errno));
			add(C_BYTES_W, n);
		}
		v = src_expect(r, 2);
		CHECK(write(atomic_load(&st->wrfd[2]), &v, 8) == 8,
		    "eventfd write: %s", strerror(errno));
		add(C_EFD_W, v);
		/* The ack: one EVFILT_USER delivery per trigger. */
		wd_start(&wd, st->fe == FE_KEVENT ? "kevent producer ack" :
		    st->fe == FE_EPOLL ? "epoll producer ack" :
		    st->fe == FE_POLL ? "poll producer ack" :
		    st->fe == FE_SELECT ? "select producer ack" :
		    "devpoll producer ack");
		for (acked = 0; !acked;) {
			n = kev(st->pkq, NULL, 0, ev, 4, WAIT_MS);
			for (k = 0; k < n; k++) {
				CHECK(ev[k].filter == EVFILT_USER &&
				    ev[k].ident == 1 && !acked,
				    "producer queue: unexpected event "
				    "filter %d ident %lu", ev[k].filter,
				    (unsigned long)ev[k].ident);
				acked = 1;
				add(C_ACK_D, 1);
			}
			wd_check(&wd);
		}
		if (atomic_load(&st->stop))
			break;
		pace();
	}
	return (NULL);
}

/* Read what source s holds; check each byte's value. */
static void
stream_drain(struct stream *st, int s)
{
	unsigned char buf[1024];
	uint64_t v;
	ssize_t n, i;
	int fd;

	pthread_mutex_lock(&st->io);
	fd = atomic_load(&st->rfd[s]);
	for (;;) {
		if (s == 2) {
			n = read(fd, &v, 8);
			if (n == 8) {
				st->got[s] += v;
				add(C_EFD_R, v);
				continue;
			}
		} else {
			n = read(fd, buf, sizeof(buf));
			if (n > 0) {
				for (i = 0; i < n; i++)
					CHECK(buf[i] == st->next_byte[s]++,
					    "%s source %d: byte out of order",
					    fe_name[st->fe], s);
				st->got[s] += n;
				add(C_BYTES_R, n);
				continue;
			}
		}
		CHECK(n < 0 && errno == EAGAIN, "%s source %d read: %zd %s",
		    fe_name[st->fe], s, n, n < 0 ? strerror(errno) : "");
		break;
	}
	pthread_mutex_unlock(&st->io);
	CHECK(st->got[s] <= src_expect(st->rcv_round, s),
	    "%s source %d: %llu units in round %u, expected %u (duplicate "
	    "data)", fe_name[st->fe], s, st->got[s], st->rcv_round,
	    src_expect(st->rcv_round, s));
}

/*
 * The result n of a front end's wait: counts it, and returns 0 if a signal
 * cut it short (counted too; the caller waits again).  Fails on an error.
 */
static int
waited(int n)
{

	if (n < 0 && errno == EINTR) {
		add(C_EINTR, 1);
		return (0);
	}
	SYS(n);
	add(C_EVENTS, n);
	return (1);
}

/* One wait through the front end; drains what it reports. */
static void
stream_wait(struct stream *st)
{
	struct kevent kv[8];
	struct epoll_event ee[8];
	struct pollfd pf[NSRC];
	struct dvpoll dp;
	struct timeval tv;
	fd_set rs;
	int i, n, s, maxfd;

	switch (st->fe) {
	case FE_KEVENT:
		n = kev(st->wfd, NULL, 0, kv, 8, WAIT_MS);
		for (i = 0; i < n; i++) {
			s = (int)(intptr_t)kv[i].udata;
			if (kv[i].filter == EVFILT_WRITE) {
				CHECK(s == NSRC && !st->wr_seen,
				    "EVFILT_WRITE one-shot delivered twice");
				st->wr_seen = 1;
				add(C_WRSEEN, 1);
			} else {
				CHECK(kv[i].filter == EVFILT_READ &&
				    s >= 0 && s < NSRC, "kevent: filter %d",
				    kv[i].filter);
				stream_drain(st, s);
			}
		}
		return;
	case FE_EPOLL:
		n = epoll_wait(st->wfd, ee, 8, WAIT_MS);
		if (!waited(n))
			return;
		for (i = 0; i < n; i++) {
			CHECK(ee[i].data.u64 < NSRC, "epoll: bad data");
			stream_drain(st, (int)ee[i].data.u64);
		}
		return;
	case FE_POLL:
		for (s = 0; s < NSRC; s++) {
			pf[s].fd = atomic_load(&st->rfd[s]);
			pf[s].events = POLLIN;
		}
		n = poll(pf, NSRC, WAIT_MS);
		if (!waited(n))
			return;
		/*
		 * A number the producer closed while we waited reports
		 * POLLNVAL; draining the slot's current descriptor then
		 * finds nothing, or what the new one already holds.
		 */
		for (s = 0; s < NSRC; s++)
			if (pf[s].revents != 0)
				stream_drain(st, s);
		return;
	case FE_SELECT:
		/*
		 * Unlike the other front ends, select() builds its set and
		 * waits with the producer's swaps held off: a number closed
		 * under it makes it fail EBADF, and evring then throws its
		 * pooled poll queue away, so the number of pooled queues
		 * (descriptors) at a cycle boundary would depend on timing.
		 */
		pthread_mutex_lock(&st->io);
		FD_ZERO(&rs);
		maxfd = -1;
		for (s = 0; s < NSRC; s++) {
			pf[s].fd = atomic_load(&st->rfd[s]);
			CHECK(pf[s].fd < FD_SETSIZE, "descriptor over "
			    "FD_SETSIZE");
			FD_SET(pf[s].fd, &rs);
			if (pf[s].fd > maxfd)
				maxfd = pf[s].fd;
		}
		tv.tv_sec = 0;
		tv.tv_usec = WAIT_MS * 1000;
		n = select(maxfd + 1, &rs, NULL, NULL, &tv);
		pthread_mutex_unlock(&st->io);
		if (!waited(n))
			return;
		for (s = 0; s < NSRC; s++)
			if (FD_ISSET(pf[s].fd, &rs))
				stream_drain(st, s);
		return;
	case FE_DEVPOLL:
		dp.dp_fds = pf;
		dp.dp_nfds = NSRC;
		dp.dp_timeout = WAIT_MS;
		n = evring_devpoll_ioctl(st->wfd, DP_POLL, &dp);
		if (!waited(n))
			return;
		for (i = 0; i < n; i++)
			for (s = 0; s < NSRC; s++)
				if (pf[i].fd == atomic_load(&st->rfd[s]))
					stream_drain(st, s);
		return;
	default:
		fail("bad front end");
	}
}

/*
 * The consumer's watchdog: what each source holds by the host's own
 * account (a raw ppoll() system call), what the front end says now, then
 * fail.
 */
static void __attribute__((noreturn))
stream_stuck(struct stream *st)
{
	struct pollfd raw[NSRC], fe[NSRC];
	struct timespec zero = { 0, 0 };
	char msg[512];
	size_t len = 0;
	int s, n;

	for (s = 0; s < NSRC; s++) {
		raw[s].fd = fe[s].fd = atomic_load(&st->rfd[s]);
		raw[s].events = fe[s].events = POLLIN;
		raw[s].revents = fe[s].revents = 0;
	}
	n = (int)syscall(SYS_ppoll, raw, NSRC, &zero, NULL, 0);
	(void)evring_poll(fe, NSRC, 0);
	for (s = 0; s < NSRC; s++)
		len += snprintf(msg + len, sizeof(msg) - len, " [source %d: "
		    "fd %d wfd %d, got %llu of %u, host revents %#x, "
		    "evring_poll revents %#x]", s, raw[s].fd,
		    atomic_load(&st->wrfd[s]), st->got[s],
		    src_expect(st->rcv_round, s), raw[s].revents,
		    fe[s].revents);
	fail("%s: no progress for %d s in round %u (a lost event): host "
	    "ppoll %d;%s", fe_name[st->fe], WATCHDOG_S, st->rcv_round, n, msg);
}

static void
stream_worker(enum fe fe)
{
	struct stream st;
	struct watchdog wd;
	pthread_t t;
	int s, r, w, done;

	prime_sleeper();
	do {
		memset(&st, 0, sizeof(st));
		st.fe = fe;
		pthread_mutex_init(&st.io, NULL);
		switch (fe) {
		case FE_KEVENT:
			SYS(st.wfd = kqueue());
			break;
		case FE_EPOLL:
			SYS(st.wfd = epoll_create1(EPOLL_CLOEXEC));
			break;
		case FE_DEVPOLL:
			SYS(st.wfd = evring_devpoll_open_path("/dev/poll",
			    O_RDWR));
			break;
		default:
			st.wfd = -1;
			break;
		}
		SYS(st.pkq = kqueue());
		kchange(st.pkq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
		for (s = 0; s < NSRC; s++) {
			src_open(s, &r, &w);
			atomic_store(&st.rfd[s], r);
			atomic_store(&st.wrfd[s], w);
			fe_add(&st, s, r);
		}
		SYS(-pthread_create(&t, NULL, stream_producer, &st));
		for (st.rcv_round = 0;; st.rcv_round++) {
			wd_start(&wd, fe_name[fe]);
			for (;;) {
				for (s = 0; s < NSRC; s++)
					if (st.got[s] !=
					    src_expect(st.rcv_round, s))
						break;
				if (s == NSRC && (fe != FE_KEVENT ||
				    st.wr_seen))
					break;
				stream_wait(&st);
				if (now() > wd.deadline)
					stream_stuck(&st);
			}
			memset(st.got, 0, sizeof(st.got));
			st.wr_seen = 0;
			if (pausing())
				atomic_store(&st.stop, 1);
			add(C_ACK_T, 1);
			kchange(st.pkq, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0,
			    NULL);
			if (atomic_load(&st.stop))
				break;
		}
		SYS(-pthread_join(t, NULL));
		for (s = 0; s < NSRC; s++) {
			SYS(close(atomic_load(&st.rfd[s])));
			SYS(close(atomic_load(&st.wrfd[s])));
		}
		if (st.wfd >= 0)
			SYS(close(st.wfd));
		SYS(close(st.pkq));
		pthread_mutex_destroy(&st.io);
		done = park();
	} while (!done);
}

static void *kevent_worker(void *a) { (void)a; stream_worker(FE_KEVENT); return (NULL); }
static void *epoll_worker(void *a) { (void)a; stream_worker(FE_EPOLL); return (NULL); }
static void *poll_worker(void *a) { (void)a; stream_worker(FE_POLL); return (NULL); }
static void *select_worker(void *a) { (void)a; stream_worker(FE_SELECT); return (NULL); }
static void *devpoll_worker(void *a) { (void)a; stream_worker(FE_DEVPOLL); return (NULL); }

/* ----------------------------------------------------- timers and user */

/*
 * One queue: a periodic timer, one-shot timers armed each round, and an
 * EV_CLEAR user event that a helper triggers in bursts, each trigger
 * storing data = its sequence number.  Invariants:
 *  - each one-shot timer is delivered exactly once, with data 1;
 *  - user deliveries carry strictly increasing data (a delivery clears the
 *    event; the next needs a later trigger), the last delivery carries the
 *    last trigger's number, and deliveries <= triggers;
 *  - the periodic timer's expirations (the sum of data) lie between
 *    floor((tb - ra) / P) and floor((ta - rb) / P), where [rb, ra]
 *    brackets the registering call and [tb, ta] the final collection:
 *    kevent.2 says intervals count from the registering call's clock read
 *    and the collecting call runs due timers from its own.
 */
#define	PERIOD_MS	7
#define	ONESHOTS	4

struct timerw {
	int		kq;
	atomic_int	stop;
	long long	last_seq;	/* helper's last trigger */
};

static void *
user_burster(void *arg)
{
	struct timerw *tw = arg;
	long long seq = 0;
	int i, n;

	while (!atomic_load(&tw->stop)) {
		n = (int)rsize((unsigned)seq, 9, 20);
		for (i = 0; i < n; i++) {
			seq++;
			add(C_USR_T, 1);
			kchange(tw->kq, 7, EVFILT_USER, 0,
			    NOTE_TRIGGER | NOTE_FFCOPY | (seq & 0xffffff), seq,
			    NULL);
		}
		pace();
	}
	tw->last_seq = seq;
	return (NULL);
}

static void *
timer_worker(void *arg)
{
	struct timerw tw;
	struct kevent ev[32], ch;
	struct timespec zero = { 0, 0 };
	struct watchdog wd;
	pthread_t t;
	long long rb, ra, tb, ta, per, lo, hi, last_user;
	unsigned char seen[4096];
	unsigned next_id, want, got, k;
	int i, n, done;

	(void)arg;
	prime_sleeper();
	do {
		memset(&tw, 0, sizeof(tw));
		memset(seen, 0, sizeof(seen));
		SYS(tw.kq = kqueue());
		kchange(tw.kq, 7, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
		rb = now_ns();
		kchange(tw.kq, 1, EVFILT_TIMER, EV_ADD, 0, PERIOD_MS, NULL);
		ra = now_ns();
		per = 0;
		last_user = 0;
		next_id = 0;
		SYS(-pthread_create(&t, NULL, user_burster, &tw));
#define	HANDLE_TIMER_EVENTS(ev, n) do {					\
	for (i = 0; i < (n); i++) {					\
		if ((ev)[i].filter == EVFILT_USER) {			\
			CHECK((ev)[i].ident == 7 &&			\
			    (ev)[i].data > last_user,			\
			    "user event: data %lld after %lld "		\
			    "(duplicate delivery)",			\
			    (long long)(ev)[i].data, last_user);	\
			CHECK((ev)[i].fflags == ((ev)[i].data &		\
			    0xffffff), "user event: fflags %#x for "	\
			    "data %lld", (ev)[i].fflags,		\
			    (long long)(ev)[i].data);			\
			last_user = (ev)[i].data;			\
			add(C_USR_D, 1);				\
		} else if ((ev)[i].ident == 1) {			\
			CHECK((ev)[i].filter == EVFILT_TIMER &&		\
			    (ev)[i].data >= 1, "periodic timer: data "	\
			    "%lld", (long long)(ev)[i].data);		\
			per += (ev)[i].data;				\
		} else {						\
			k = (unsigned)(ev)[i].ident - 1000;		\
			CHECK((ev)[i].filter == EVFILT_TIMER &&		\
			    k < next_id && !seen[k] &&			\
			    (ev)[i].data == 1, "one-shot timer %lu: "	\
			    "delivered twice or unknown (data %lld)",	\
			    (unsigned long)(ev)[i].ident,		\
			    (long long)(ev)[i].data);			\
			seen[k] = 1;					\
			got++;						\
			add(C_ONE_D, 1);				\
		}							\
	}								\
} while (0)
		while (!pausing() && next_id + ONESHOTS <= sizeof(seen)) {
			for (k = 0; k < ONESHOTS; k++) {
				EV_SET(&ch, 1000 + next_id++, EVFILT_TIMER,
				    EV_ADD | EV_ONESHOT, 0, 1 + k, NULL);
				add(C_ONE_A, 1);
				kev(tw.kq, &ch, 1, NULL, 0, 0);
			}
			want = ONESHOTS;
			wd_start(&wd, "one-shot timers");
			for (got = 0; got < want;) {
				n = kev(tw.kq, NULL, 0, ev, 32, WAIT_MS);
				HANDLE_TIMER_EVENTS(ev, n);
				wd_check(&wd);
			}
			pace();
		}
		atomic_store(&tw.stop, 1);
		SYS(-pthread_join(t, NULL));
		/* Every trigger was delivered: the last one's data arrives. */
		wd_start(&wd, "user event, last trigger");
		got = 0;
		while (last_user != tw.last_seq) {
			n = kev(tw.kq, NULL, 0, ev, 32, WAIT_MS);
			HANDLE_TIMER_EVENTS(ev, n);
			wd_check(&wd);
		}
		CHECK(got == 0, "one-shot timer delivered after its round");
		for (;;) {
			tb = now_ns();
			n = kevent(tw.kq, NULL, 0, ev, 32, &zero);
			ta = now_ns();
			if (n >= 0)
				break;
			CHECK(errno == EINTR, "kevent: %s", strerror(errno));
			add(C_EINTR, 1);
		}
		add(C_EVENTS, n);
		HANDLE_TIMER_EVENTS(ev, n);
#undef HANDLE_TIMER_EVENTS
		lo = (tb - ra) / (PERIOD_MS * 1000000LL);
		hi = (ta - rb) / (PERIOD_MS * 1000000LL);
		CHECK(per >= lo && per <= hi, "periodic timer: %lld "
		    "expirations, expected %lld..%lld", per, lo, hi);
		add(C_PER_EXP, per);
		CHECK(got == 0, "one-shot timer delivered after its round");
		SYS(close(tw.kq));
		done = park();
	} while (!done);
	return (NULL);
}

/* ------------------------------------------------------- fork and proc */

/*
 * Each round forks a child.  The child checks that the queue it inherited
 * is gone (design.md section 11: a fork child has no queues), makes its
 * own, waits on a user event and a timer there, writes two bytes into a
 * pipe the parent watches and exits with status round & 63.  The parent
 * gets NOTE_EXIT exactly once with data = the wait status, reads the two
 * bytes and end of file, and reaps the child with the same status.
 *
 * Sanitizer builds spawn a shell that does the same without the queue
 * checks: GCC 12's ASan and TSan do not keep their allocators consistent
 * across fork() in a process whose other threads allocate, so a forked
 * child can block for good in its first malloc(), and TSan also refuses
 * a thread the child starts on a stack a parent thread had ("dup thread
 * with used id"); see REQUIRE_FORK_SAFE_MALLOC() in t_fork.c.
 * posix_spawn() runs no fork handlers and the shell is not instrumented.
 */
#if !SOAK_SANITIZED
static void __attribute__((noreturn))
proc_child(int kq, int wfd, int code)
{
	struct kevent ev[4], ch[2];
	struct timespec zero = { 0, 0 }, ts = { 10, 0 };
	int k, n, seen = 0;

	if (kevent(kq, NULL, 0, ev, 1, &zero) != -1 || errno != EBADF)
		_exit(100);
	if ((k = kqueue()) < 0)
		_exit(101);
	EV_SET(&ch[0], 1, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_TRIGGER, 0,
	    NULL);
	EV_SET(&ch[1], 2, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0, 1, NULL);
	if (kevent(k, ch, 2, NULL, 0, NULL) != 0)
		_exit(102);
	while (seen != 3) {
		n = kevent(k, NULL, 0, ev, 4, &ts);
		if (n <= 0)
			_exit(103);
		while (n-- > 0)
			seen |= (int)ev[n].ident;
	}
	if (write(wfd, "xy", 2) != 2)
		_exit(104);
	_exit(code);
}
#endif

/* The proc watchdog: say what the child is doing, then fail. */
static void __attribute__((noreturn))
proc_stuck(pid_t pid, int exited, int eof, int bytes)
{
	char path[64], stat[256];
	siginfo_t si;
	ssize_t n;
	int fd;

	stat[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) >= 0) {
		n = read(fd, stat, sizeof(stat) - 1);
		stat[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	memset(&si, 0, sizeof(si));
	waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT);
	fail("EVFILT_PROC: no progress for %d s: NOTE_EXIT %s, pipe %d "
	    "bytes%s; waitid says %s (status %d); /proc stat: %s",
	    WATCHDOG_S, exited ? "seen" : "not seen", bytes,
	    eof ? " and EOF" : ", no EOF", si.si_pid == pid ? "exited" :
	    "not exited", si.si_status, stat);
}

static pid_t
proc_spawn(int kq, int wfd, int code)
{
#if SOAK_SANITIZED
	posix_spawn_file_actions_t fa;
	char codestr[16];
	char *argv[] = { "sh", "-c", "printf xy >&3; exit $1", "sh", codestr,
	    NULL };
	extern char **environ;
	pid_t pid;
	int error;

	(void)kq;
	snprintf(codestr, sizeof(codestr), "%d", code);
	SYS(-posix_spawn_file_actions_init(&fa));
	SYS(-posix_spawn_file_actions_adddup2(&fa, wfd, 3));
	error = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	CHECK(error == 0, "posix_spawn: %s", strerror(error));
	posix_spawn_file_actions_destroy(&fa);
	return (pid);
#else
	pid_t pid;

	SYS(pid = fork());
	if (pid == 0)
		proc_child(kq, wfd, code);
	return (pid);
#endif
}

static void *
proc_worker(void *arg)
{
	struct kevent ev[8], ch[2];
	struct watchdog wd;
	char buf[8];
	unsigned r;
	pid_t pid, w;
	int kq, p[2], i, n, exited, eof, bytes, st, done;
	ssize_t m;

	(void)arg;
	prime_sleeper();
	r = 0;
	do {
		SYS(kq = kqueue());
		while (!pausing()) {
			SYS(pipe2(p, O_CLOEXEC | O_NONBLOCK));
			pid = proc_spawn(kq, p[1], r & 63);
			add(C_FORK, 1);
			SYS(close(p[1]));
			EV_SET(&ch[0], pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0,
			    NULL);
			EV_SET(&ch[1], p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0,
			    0, NULL);
			kev(kq, ch, 2, NULL, 0, 0);
			exited = eof = bytes = 0;
			wd_start(&wd, "EVFILT_PROC");
			while (!exited || !eof) {
				n = kev(kq, NULL, 0, ev, 8, WAIT_MS);
				for (i = 0; i < n; i++) {
					if (ev[i].filter == EVFILT_PROC) {
						CHECK(ev[i].ident ==
						    (uintptr_t)pid && !exited &&
						    (ev[i].fflags & NOTE_EXIT),
						    "NOTE_EXIT twice or for an "
						    "unknown pid");
						CHECK(WIFEXITED(ev[i].data) &&
						    WEXITSTATUS(ev[i].data) ==
						    (int)(r & 63), "child "
						    "status %#llx, expected "
						    "exit %u (100+: the child "
						    "failed a check)",
						    (long long)ev[i].data,
						    r & 63);
						exited = (int)ev[i].data | 0x10000;
						add(C_EXIT_D, 1);
						continue;
					}
					CHECK(ev[i].filter == EVFILT_READ &&
					    ev[i].ident == (uintptr_t)p[0],
					    "proc queue: filter %d",
					    ev[i].filter);
					while ((m = read(p[0], buf,
					    sizeof(buf))) > 0)
						bytes += m;
					if (m == 0)
						eof = 1;
					else
						CHECK(errno == EAGAIN,
						    "child pipe: %s",
						    strerror(errno));
				}
				if (now() > wd.deadline)
					proc_stuck(pid, exited, eof, bytes);
			}
			CHECK(bytes == 2, "child pipe: %d bytes", bytes);
			while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
				;
			CHECK(w == pid && st == (exited & 0xffff),
			    "waitpid: status %#x, NOTE_EXIT said %#x", st,
			    exited & 0xffff);
			add(C_REAP, 1);
			SYS(close(p[0]));
			r++;
			pace();
			pace();
		}
		SYS(close(kq));
		done = park();
	} while (!done);
	return (NULL);
}

/* ----------------------------------------------------------- vnodes */

/*
 * A temporary file watched with EVFILT_VNODE (EV_CLEAR).  Each round makes
 * one change (an append or a chmod) and waits for an event carrying its
 * note.  Every 16th round the watched descriptor is closed while
 * registered and the file reopened: a change made then must produce no
 * event, because the close removed the registration.  The cycle ends with
 * an unlink, which must report NOTE_DELETE.
 */
static void
vnode_expect(int kq, unsigned note)
{
	struct kevent ev[4];
	struct watchdog wd;
	unsigned seen = 0;
	int i, n;

	wd_start(&wd, "EVFILT_VNODE");
	while ((seen & note) == 0) {
		n = kev(kq, NULL, 0, ev, 4, WAIT_MS);
		for (i = 0; i < n; i++) {
			CHECK(ev[i].filter == EVFILT_VNODE, "vnode queue: "
			    "filter %d", ev[i].filter);
			seen |= ev[i].fflags;
		}
		wd_check(&wd);
	}
	add(C_VN_D, 1);
}

static void *
vnode_worker(void *arg)
{
	const unsigned notes = NOTE_WRITE | NOTE_EXTEND | NOTE_ATTRIB |
	    NOTE_DELETE | NOTE_LINK;
	struct kevent ev[4];
	char path[64];
	unsigned r;
	int kq, fd, n, done;

	(void)arg;
	prime_sleeper();
	do {
		snprintf(path, sizeof(path), "/tmp/evring-soak-XXXXXX");
		SYS(fd = mkstemp(path));
		SYS(kq = kqueue());
		kchange(kq, fd, EVFILT_VNODE, EV_ADD | EV_CLEAR, notes, 0,
		    NULL);
		for (r = 0; !pausing(); r++) {
			add(C_VN_OP, 1);
			if (r % 2 == 0) {
				CHECK(write(fd, "0123456789abcdef", 16) == 16,
				    "vnode write: %s", strerror(errno));
				vnode_expect(kq, NOTE_WRITE);
			} else {
				SYS(fchmod(fd, r % 4 == 1 ? 0644 : 0600));
				vnode_expect(kq, NOTE_ATTRIB);
			}
			if (r % 16 == 15) {
				SYS(close(fd));
				SYS(fd = open(path, O_RDWR | O_APPEND |
				    O_CLOEXEC));
				CHECK(write(fd, "x", 1) == 1, "write: %s",
				    strerror(errno));
				n = kev(kq, NULL, 0, ev, 4, 0);
				CHECK(n == 0, "EVFILT_VNODE: event (fflags "
				    "%#x) after its descriptor was closed",
				    ev[0].fflags);
				kchange(kq, fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
				    notes, 0, NULL);
				add(C_VN_REOPEN, 1);
			}
			pace();
		}
		add(C_VN_OP, 1);
		SYS(unlink(path));
		vnode_expect(kq, NOTE_DELETE);
		SYS(close(fd));
		SYS(close(kq));
		done = park();
	} while (!done);
	return (NULL);
}

/* ------------------------------------------------------------- ring */

/*
 * A queue with a 64-record ring and two consumers (the worker and a
 * helper) using evring_take() and kevent_wait().  A producer helper adds
 * RING_BATCH one-shot user events per round, already triggered (more than
 * the ring holds, so the kernel's backlog is used), and writes a value into
 * an eventfd the queue watches.  Each user event must arrive exactly once
 * in its round; the eventfd values read must sum to those written.  At
 * the end of the cycle the producer closes the queue while the consumers
 * may sleep in kevent_wait(), which must wake them with EBADF.
 */
#define	RING_BATCH	100
#define	RING_ENTRIES	64

struct ringw {
	int		kq, efd;
	struct evring	ring;
	atomic_int	stop;
	atomic_uint	round;		/* the round being delivered, from 1 */
	atomic_uint	seen[RING_BATCH];	/* round that delivered each */
	atomic_uint	delivered;	/* this round's user records */
	atomic_ullong	efd_got;
};

static void *
ring_consumer(void *arg)
{
	struct ringw *rw = arg;
	struct timespec ts = ms_ts(WAIT_MS);
	struct kevent kv;
	uint64_t v;
	uint32_t state;
	unsigned i, r;
	int n;

	while (!atomic_load(&rw->stop)) {
		while ((n = evring_take(&rw->ring, &kv, &state)) == 1) {
			add(C_EVENTS, 1);
			if (kv.filter == EVFILT_READ) {
				CHECK((int)kv.ident == rw->efd, "ring: read "
				    "event for %lu", (unsigned long)kv.ident);
				while (read(rw->efd, &v, 8) == 8) {
					atomic_fetch_add(&rw->efd_got, v);
					add(C_RING_EFD_R, v);
				}
				continue;
			}
			i = (unsigned)kv.ident % RING_BATCH;
			r = atomic_load(&rw->round);
			CHECK(kv.filter == EVFILT_USER && kv.ident >= 1 &&
			    (kv.ident - 1) / RING_BATCH + 1 == r &&
			    atomic_exchange(&rw->seen[i], r) == r - 1,
			    "ring: user event %lu in round %u: duplicate or "
			    "out of its round", (unsigned long)kv.ident, r);
			add(C_RING_D, 1);
			atomic_fetch_add(&rw->delivered, 1);
		}
		CHECK(n == 0, "evring_take: corrupt indices");
		n = kevent_wait(rw->kq, state, &ts, NULL);
		if (n < 0) {
			if (errno == EINTR) {
				add(C_EINTR, 1);
				continue;
			}
			/*
			 * EBADF: the producer closed the queue (under us,
			 * or before the call).  ENXIO: the number was
			 * reused meanwhile for another queue without a
			 * ring.  Either only after stop was set.
			 */
			CHECK((errno == EBADF || errno == ENXIO) &&
			    atomic_load(&rw->stop), "kevent_wait: %s",
			    strerror(errno));
			if (errno == EBADF)
				add(C_RING_CLOSE, 1);
			break;
		}
	}
	return (NULL);
}

static void *
ring_producer(void *arg)
{
	struct ringw *rw = arg;
	struct kevent ch[RING_BATCH];
	struct watchdog wd;
	unsigned long long efd_w = 0;
	unsigned r, i;
	uint64_t v;

	for (r = 1; !pausing(); r++) {
		atomic_store(&rw->delivered, 0);
		atomic_store(&rw->round, r);
		for (i = 0; i < RING_BATCH; i++)
			EV_SET(&ch[i], (r - 1) * RING_BATCH + i + 1,
			    EVFILT_USER, EV_ADD | EV_ONESHOT, NOTE_TRIGGER, 0,
			    NULL);
		add(C_RING_T, RING_BATCH);
		kev(rw->kq, ch, RING_BATCH, NULL, 0, 0);
		v = rsize(r, 11, 5);
		efd_w += v;
		add(C_RING_EFD_W, v);
		CHECK(write(rw->efd, &v, 8) == 8, "eventfd: %s",
		    strerror(errno));
		wd_start(&wd, "ring round");
		while (atomic_load(&rw->delivered) != RING_BATCH ||
		    atomic_load(&rw->efd_got) != efd_w) {
			sleep_s(0.001);
			wd_check(&wd);
		}
		pace();
	}
	atomic_store(&rw->stop, 1);
	/* Close racing the consumers' kevent_wait(). */
	if (!SOAK_TSAN)
		SYS(close(rw->kq));
	return (NULL);
}

static void *
ring_worker(void *arg)
{
	struct ringw *rw;
	pthread_t prod, cons;
	int done;

	(void)arg;
	prime_sleeper();
	rw = malloc(sizeof(*rw));
	CHECK(rw != NULL, "malloc");
	do {
		memset(rw, 0, sizeof(*rw));
		SYS(rw->kq = kqueue());
		SYS(kevent_ring_attach(rw->kq, RING_ENTRIES));
		SYS(kevent_ring_map(rw->kq, &rw->ring));
		SYS(rw->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
		kchange(rw->kq, rw->efd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0,
		    NULL);
		SYS(-pthread_create(&cons, NULL, ring_consumer, rw));
		SYS(-pthread_create(&prod, NULL, ring_producer, rw));
		ring_consumer(rw);
		SYS(-pthread_join(prod, NULL));
		SYS(-pthread_join(cons, NULL));
		if (SOAK_TSAN)
			SYS(close(rw->kq));
		SYS(kevent_ring_unmap(&rw->ring));
		SYS(close(rw->efd));
		done = park();
	} while (!done);
	free(rw);
	return (NULL);
}

/* ------------------------------------------------------------ signals */

/*
 * The storm: a real-time signal sent with pthread_kill() to the other
 * workers, which spend most of their time in waits (kevent, epoll_wait,
 * poll, select, DP_POLL, kevent_wait), none with SA_RESTART, so every
 * front end sees EINTR.  Real-time signals queue instead of coalescing,
 * so each one sent is handled exactly once, and EVFILT_SIGNAL counts
 * every delivery: sent == handled == the sum of EVFILT_SIGNAL data, exact
 * once the storm stops and the queue is drained (under ThreadSanitizer,
 * sent == the sum and handled <= sent: see exact_pairs[]).  No signal is
 * in flight between cycles, so the handler count read after each cycle's
 * registration is a clean base.
 */
#define	MAX_TARGETS	16
static pthread_t g_targets[MAX_TARGETS];
static int g_ntargets;

static void
handler(int signo)
{

	(void)signo;
	atomic_fetch_add(&g_handled, 1);
}

static void *
storm_worker(void *arg)
{
	struct kevent ev[4];
	struct watchdog wd;
	unsigned long long h0, h, sent, sum;
	unsigned i = 0;
	int kq, n, k, done, rc;

	(void)arg;
	prime_sleeper();
	do {
		SYS(kq = kqueue());
		kchange(kq, g_sig, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
		/* No signal is in flight: the last cycle counted them all. */
		h0 = atomic_load(&g_handled);
		sent = sum = 0;
		while (!pausing()) {
			for (k = 0; k < 4; k++) {
				rc = pthread_kill(g_targets[i++ % g_ntargets],
				    g_sig);
				if (rc == 0)
					sent++;
				else
					CHECK(rc == EAGAIN, "pthread_kill: %s",
					    strerror(rc));
			}
			n = kev(kq, NULL, 0, ev, 4, 0);
			for (k = 0; k < n; k++)
				sum += ev[k].data;
			sleep_s(4.0 / (2 * g_rate + 1));
		}
		wd_start(&wd, "signal storm");
		for (;;) {
			h = atomic_load(&g_handled) - h0;
			if (sum == sent && (h == sent || SOAK_TSAN))
				break;
			n = kev(kq, NULL, 0, ev, 4, 10);
			for (k = 0; k < n; k++) {
				CHECK(ev[k].filter == EVFILT_SIGNAL &&
				    (int)ev[k].ident == g_sig, "signal queue: "
				    "filter %d", ev[k].filter);
				sum += ev[k].data;
			}
			CHECK(sum <= sent, "EVFILT_SIGNAL counted %llu, %llu "
			    "sent", sum, sent);
			CHECK(now() < wd.deadline, "signal storm: no progress "
			    "for %d s: %llu sent, %llu handled, EVFILT_SIGNAL "
			    "counted %llu", WATCHDOG_S, sent, h, sum);
		}
		add(C_SIG_SENT, sent);
		add(C_SIG_HANDLED, h);
		add(C_SIG_KQ, sum);
		SYS(close(kq));
		done = park();
	} while (!done);
	return (NULL);
}

/* ------------------------------------------------------------- main */

static long
rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	CHECK(f != NULL, "/proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return (v);
}

static int
fd_count(void)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	dir = opendir("/proc/self/fd");
	CHECK(dir != NULL, "/proc/self/fd: %s", strerror(errno));
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return (n - 1);		/* less opendir's own */
}

/* What each open descriptor is, for a descriptor count that changed. */
static void
fd_list(void)
{
	char path[300], target[256];
	struct dirent *d;
	ssize_t n;
	DIR *dir;

	dir = opendir("/proc/self/fd");
	CHECK(dir != NULL, "/proc/self/fd: %s", strerror(errno));
	printf("descriptors:");
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		printf(" %s=%s", d->d_name, target);
	}
	printf("\n");
	closedir(dir);
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

static void
check_pairs(const char *when)
{
	unsigned i;
	unsigned long long a, b;

	for (i = 0; i < sizeof(exact_pairs) / sizeof(exact_pairs[0]); i++) {
		a = get(exact_pairs[i][0]);
		b = get(exact_pairs[i][1]);
		CHECK(a == b, "%s: %s %llu != %s %llu", when,
		    ctr_name[exact_pairs[i][0]], a,
		    ctr_name[exact_pairs[i][1]], b);
	}
	CHECK(get(C_USR_D) <= get(C_USR_T), "%s: user deliveries %llu > "
	    "triggers %llu", when, get(C_USR_D), get(C_USR_T));
}

/* Whether name is in the comma-separated list (NULL: everything). */
static int
chosen(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (list == NULL)
		return (1);
	for (p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' ||
		    p[n] == '\0'))
			return (1);
	return (0);
}

static void
usage(void)
{

	fprintf(stderr, "usage: soak [--seconds S] [--cycle S] [--rate R] "
	    "[--only W,...] [--quiet]\n"
	    "  --seconds S  run length (default 600; env SOAK_SECONDS)\n"
	    "  --cycle S    seconds per cycle and sample (default 5)\n"
	    "  --rate R     rounds per second per worker (default 50)\n"
	    "  --only W,... run only these workers: kevent epoll poll select "
	    "devpoll\n"
	    "               timer proc vnode ring (the signal storm always "
	    "runs)\n"
	    "  --quiet      print only the summary\n");
	exit(2);
}

int soak_main(int argc, char **argv);

int
soak_main(int argc, char **argv)
{
	static void *(*const workers[])(void *) = { kevent_worker,
	    epoll_worker, poll_worker, select_worker, devpoll_worker,
	    timer_worker, proc_worker, vnode_worker, ring_worker };
	static const char *const names[] = { "kevent", "epoll", "poll",
	    "select", "devpoll", "timer", "proc", "vnode", "ring" };
	const int nwork = sizeof(workers) / sizeof(workers[0]);
	const char *only = NULL;
	int nw;
	static long rss[MAX_CYCLES];
	static int fds[MAX_CYCLES];
	pthread_t storm;
	struct sigaction sa;
	double t0, tc, cpu0, elapsed, warm;
	unsigned long long ev_prev = 0, ev;
	long max1, max2;
	int i, c, ncycles, fd_ref, first, half;
	char *env;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((env = getenv("SOAK_SECONDS")) != NULL && *env != '\0')
		g_seconds = atof(env);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			g_seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--cycle") == 0 && i + 1 < argc)
			g_cycle_s = atof(argv[++i]);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			g_rate = atof(argv[++i]);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--quiet") == 0)
			g_quiet = 1;
		else
			usage();
	}
	if (g_seconds <= 0 || g_cycle_s <= 0 || g_rate <= 0)
		usage();
	if (g_cycle_s > g_seconds)
		g_cycle_s = g_seconds;
	ncycles = (int)(g_seconds / g_cycle_s + 0.5);
	if (ncycles < 1)
		ncycles = 1;
	if (ncycles > MAX_CYCLES)
		ncycles = MAX_CYCLES;
	/* Warm-up: 10% of the run, at most 30 s, at least one cycle. */
	warm = g_seconds / 10 < 30 ? g_seconds / 10 : 30;
	first = (int)(warm / g_cycle_s + 0.999);
	if (first < 1)
		first = 1;

	g_sig = SIGRTMIN + 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;	/* no SA_RESTART: waits see EINTR */
	sigemptyset(&sa.sa_mask);
	SYS(sigaction(g_sig, &sa, NULL));

#if SOAK_TSAN
	/*
	 * TSan treats a descriptor number as memory: a close() racing a
	 * thread that uses the number is a race to it, and so is evring's
	 * fstat() of a number the program closed (the identity check when
	 * poll() and select() purge a registration from their pooled
	 * queues) racing the creation of a new descriptor under it.  Worse,
	 * symbolizing the first report calls close(), which is libevring's
	 * (instrumented) and re-enters the race detector: TSan deadlocks.
	 * So under TSan the soak leaves out the deliberate close races
	 * (stream swaps, the ring's close under kevent_wait()) and the
	 * poll and select workers; the normal and ASan builds run them.
	 */
	if (only == NULL)
		only = "kevent,epoll,devpoll,timer,proc,vnode,ring";
#endif
	nw = 0;
	for (i = 0; i < nwork; i++)
		if (chosen(only, names[i]))
			nw++;
	if (nw == 0)
		usage();
	printf("soak: %.0f s, %d cycles of %.1f s, %g rounds/s per worker, "
	    "%d workers + storm%s%s%s%s\n", g_seconds, ncycles, g_cycle_s,
	    g_rate, nw, only != NULL ? " (" : "", only != NULL ? only : "",
	    only != NULL ? ")" : "",
	    SOAK_SANITIZED ? " (sanitizer build: RSS not judged)" : "");
	if (!g_quiet)
		printf("%5s %8s %12s %9s %9s %5s %8s %8s %8s %7s %5s\n",
		    "cycle", "time_s", "events", "events/s", "rss_kib", "fds",
		    "kmem_b", "eintr", "signals", "forks", "cpu%");
	t0 = now();
	cpu0 = cpu_s();
	for (i = 0; i < nwork; i++)
		if (chosen(only, names[i]))
			SYS(-pthread_create(&g_targets[g_ntargets++], NULL,
			    workers[i], NULL));
	SYS(-pthread_create(&storm, NULL, storm_worker, NULL));
	tc = t0;
	for (c = 0; c < ncycles; c++) {
		sleep_s(t0 + (c + 1) * g_cycle_s - now());
		atomic_store(&g_pausing, 1);
		pthread_mutex_lock(&g_park_mtx);
		while (g_parked < nw + 1) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 2 * WATCHDOG_S;
			if (pthread_cond_timedwait(&g_parked_cv, &g_park_mtx,
			    &ts) == ETIMEDOUT)
				fail("cycle %d: %d of %d workers parked", c,
				    g_parked, nw + 1);
		}
		/* Every worker is parked: nothing of a cycle is open. */
		rss[c] = rss_kib();
		fds[c] = fd_count();
		check_pairs("cycle end");
		elapsed = now() - tc;
		tc = now();
		ev = get(C_EVENTS);
		if (!g_quiet)
			printf("%5d %8.1f %12llu %9.0f %9ld %5d %8lld %8llu "
			    "%8llu %7llu %5.1f\n", c + 1, tc - t0, ev,
			    (ev - ev_prev) / elapsed, rss[c], fds[c],
			    evring_stat(EVRING_STAT_KMEM), get(C_EINTR), get(C_SIG_SENT), get(C_FORK),
			    100 * (cpu_s() - cpu0) / (tc - t0));
		ev_prev = ev;
		if (c == 0 || fds[c] != fds[c - 1])
			fd_list();
		atomic_store(&g_pausing, 0);
		g_parked = 0;
		g_done = c + 1 == ncycles;
		g_gen++;
		pthread_cond_broadcast(&g_park_cv);
		pthread_mutex_unlock(&g_park_mtx);
	}
	for (i = 0; i < nw; i++)
		SYS(-pthread_join(g_targets[i], NULL));
	SYS(-pthread_join(storm, NULL));
	elapsed = now() - t0;

	check_pairs("end");
	for (i = 0; i < C_NCTR; i++)
		printf("total %-14s %llu\n", ctr_name[i], get(i));
	for (i = 0; i < (int)(sizeof(exact_pairs) / sizeof(exact_pairs[0]));
	    i++)
		printf("match %s == %s: %llu\n", ctr_name[exact_pairs[i][0]],
		    ctr_name[exact_pairs[i][1]], get(exact_pairs[i][0]));
	CHECK(only != NULL || (get(C_EVENTS) > 0 && get(C_FORK) > 0 &&
	    get(C_SIG_SENT) > 0 && get(C_RING_D) > 0 && get(C_VN_D) > 0 &&
	    get(C_ONE_D) > 0),
	    "a workload made no progress");

	/* Leaks: descriptors exact after the warm-up, RSS within slack. */
	if (first >= ncycles)
		first = ncycles - 1;
	fd_ref = fds[first];
	for (c = first; c < ncycles; c++)
		CHECK(fds[c] == fd_ref, "descriptor leak: %d open after cycle "
		    "%d, %d after cycle %d", fds[c], c + 1, fd_ref, first + 1);
	half = first + (ncycles - first) / 2;
	max1 = max2 = 0;
	for (c = first; c < ncycles; c++) {
		if (c < half && rss[c] > max1)
			max1 = rss[c];
		if (c >= half && rss[c] > max2)
			max2 = rss[c];
	}
	printf("fds: %d at every cycle from %d of %d; rss_kib: max %ld in "
	    "cycles %d-%d, max %ld in cycles %d-%d (slack %d)\n", fd_ref,
	    first + 1, ncycles, max1, first + 1, half, max2, half + 1,
	    ncycles, RSS_SLACK_KIB);
	if (half > first && !SOAK_SANITIZED)
		CHECK(max2 <= max1 + RSS_SLACK_KIB, "memory leak: RSS grew "
		    "from %ld KiB to %ld KiB", max1, max2);
	printf("soak: PASS %.0f s, %llu events, %.0f events/s, cpu %.1f%%\n",
	    elapsed, get(C_EVENTS), get(C_EVENTS) / elapsed,
	    100 * (cpu_s() - cpu0) / elapsed);
	return (0);
}

#ifndef SOAK_NO_MAIN
int
main(int argc, char **argv)
{

	return (soak_main(argc, argv));
}
#endif
