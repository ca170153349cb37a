/*
 * The io_uring readiness backend: one multishot poll request
 * (IORING_OP_POLL_ADD with IORING_POLL_ADD_MULTI) per watched descriptor,
 * its user_data the kernel's cookie.
 *
 * Why.  With epoll every drain is an epoll_wait() system call, made at
 * every kernel entry.  Here the kernel of the host posts a completion into
 * shared memory for each wakeup of a watched descriptor, and a drain reads
 * the completion queue: an empty one costs two loads and no system call,
 * so a consumer looping on kevent_wait() while events flow makes no host
 * system call for readiness.  System calls remain for submissions (a new
 * watch, a cancellation, a re-arm when a multishot request ends).
 *
 * The epoll instance stays: the host's internal sources (inotify, the
 * signal eventfd, pidfds) are registered there as before, and one more
 * multishot poll request watches the epoll descriptor itself
 * (HOST_TAG_EPOLL), so that an internal event shows up in the completion
 * queue too and is drained with epoll_wait() only then.  Waiters (the
 * dispatcher, sleepers) wait on the ring's descriptor, which is readable
 * while completions are queued.  As with epoll, completions are consumed
 * only under the poll lock (host_init.c says why).
 *
 * Lifetime.  A poll request holds a reference to the file, where epoll
 * drops a registration when the file goes.  hc_fd_unwatch() runs before
 * the program's close() reaches the host (host_interpose.c), and it
 * cancels the request with IORING_REGISTER_SYNC_CANCEL and then waits for
 * the request's last completion, because the cancelled request finishes
 * (and drops its file reference) in the task work of the thread that
 * submitted it, which may be another thread.  So when close() returns the
 * file is really closed.  Closes the interposer cannot see are the subject
 * of doc/host-backend.md.
 *
 * Ownership.  A request's completions are produced by task work that runs
 * in the thread that submitted it.  A watch is submitted by the thread that
 * registers the descriptor, usually the thread that then waits for its
 * events, so the completion is posted by the waiter itself.  The ring is
 * IORING_SETUP_COOP_TASKRUN: that thread is not interrupted for it, but
 * runs it at its next system call (or interrupt), and is woken for it from
 * an interruptible sleep; a consumer reading its descriptors makes those
 * calls anyway.  IORING_SETUP_TASKRUN_FLAG makes the pending work visible
 * (IORING_SQ_TASKRUN), so hc_host_poll() runs its own thread's work and
 * waits, briefly, for other threads' (host_uring_settle()): a change made
 * before hc_host_poll() then still reaches the kernel before it returns,
 * whoever owns the request.
 *
 * Locks: host_uring_sqlock guards the submission queue and the watch
 * table's transitions; it is taken under the poll lock (re-arms) and with
 * no host lock (watch, unwatch), and takes no other lock.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/io_uring.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host_impl.h"
#include "sys/fail.h"

#define	HOST_URING_SQ		256	/* submission queue entries */
#define	HOST_URING_CQ		8192	/* completion queue entries */
/* What a watch asks for; POLLERR and POLLHUP come unasked. */
#define	HOST_URING_EVENTS	(POLLIN | POLLOUT | POLLPRI | POLLRDHUP)
/* How long an unwatch waits for another thread's task work. */
#define	HOST_URING_CANCEL_NS	2000000000LL
/*
 * How long hc_host_poll() waits for it: a thread running in user mode
 * runs it at its next interrupt, a timer tick at worst.
 */
#define	HOST_URING_SETTLE_NS	20000000LL
/* Completions taken per pass. */
#define	HOST_URING_BATCH	64

_Atomic int host_backend;
_Atomic int host_urfd = -1;

static struct host_lock host_uring_sqlock =
    HOST_LOCK_INITIALIZER("host uring sqlock");
/* Drains in progress (host_uring_pending() says why). */
static _Atomic int host_uring_draining;

static struct {
	int			fd;		/* host_urfd, once published */
	/* Submission queue: written under host_uring_sqlock. */
	_Atomic unsigned	*sq_head;	/* the kernel's */
	_Atomic unsigned	*sq_tail;	/* ours */
	_Atomic unsigned	*sq_flags;	/* the kernel's */
	unsigned		*sq_array;
	unsigned		sq_mask;
	unsigned		sq_entries;
	unsigned		sq_unsubmitted;
	struct io_uring_sqe	*sqes;
	/* Completion queue: consumed under the poll lock. */
	_Atomic unsigned	*cq_head;	/* ours */
	_Atomic unsigned	*cq_tail;	/* the kernel's */
	unsigned		cq_mask;
	struct io_uring_cqe	*cqes;
	/* The mappings. */
	void			*map_sq, *map_cq, *map_sqes;
	size_t			len_sq, len_cq, len_sqes;
	int			dontfork;	/* the child inherits no map */
} hu;

/*
 * The watch of each descriptor number, 8 bytes each, in chunks allocated
 * on first use and never freed: 0 for none, the cookie while its request
 * is armed (or about to be re-armed), the cookie with HOST_TAG set while it
 * is being cancelled and its last completion has not been seen.
 */
#define	URTAB_CHUNKSHIFT	14
#define	URTAB_CHUNK		(1 << URTAB_CHUNKSHIFT)
#define	URTAB_NCHUNKS		(1 << (31 - URTAB_CHUNKSHIFT))
static _Atomic(_Atomic unsigned long long *) host_urtab[URTAB_NCHUNKS];

static _Atomic unsigned long long *
host_urtab_slot(int fd, int create)
{
	_Atomic unsigned long long *chunk, *fresh, *expect;
	unsigned idx;

	if (fd < 0)
		return (NULL);
	idx = (unsigned)fd >> URTAB_CHUNKSHIFT;
	chunk = atomic_load(&host_urtab[idx]);
	if (chunk == NULL && create) {
		fresh = FAIL_POINT_CALL("host:uring_table", ENOMEM, NULL,
		    calloc(URTAB_CHUNK, sizeof(*fresh)));
		if (fresh == NULL)
			return (NULL);
		expect = NULL;
		if (atomic_compare_exchange_strong(&host_urtab[idx], &expect,
		    fresh))
			chunk = fresh;
		else {
			free(fresh);	/* another thread's won */
			chunk = expect;
		}
	}
	return (chunk == NULL ? NULL : &chunk[fd & (URTAB_CHUNK - 1)]);
}

static int
host_uring_enter(unsigned tosubmit, unsigned mincomplete, unsigned flags)
{

	return ((int)syscall(SYS_io_uring_enter, hu.fd, tosubmit, mincomplete,
	    flags, NULL, 0));
}

/* Submit what is queued.  Called with host_uring_sqlock held. */
static int
host_uring_submit_locked(void)
{
	int n;

	while (hu.sq_unsubmitted > 0) {
		n = host_uring_enter(hu.sq_unsubmitted, 0, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return (errno);
		}
		if (n == 0)
			return (EAGAIN);
		hu.sq_unsubmitted -= (unsigned)n;
	}
	return (0);
}

/*
 * Queue a multishot poll of fd for user_data.  Called with
 * host_uring_sqlock held; the caller submits.
 */
static int
host_uring_queue_poll(int fd, unsigned long long user_data)
{
	struct io_uring_sqe *sqe;
	unsigned head, tail, idx;
	int error;

	tail = atomic_load_explicit(hu.sq_tail, memory_order_relaxed);
	/* Acquire: pairs with the kernel's release of sq_head. */
	head = atomic_load_explicit(hu.sq_head, memory_order_acquire);
	if (tail - head >= hu.sq_entries) {
		if ((error = host_uring_submit_locked()) != 0)
			return (error);
		head = atomic_load_explicit(hu.sq_head, memory_order_acquire);
		if (tail - head >= hu.sq_entries)
			return (EAGAIN);
	}
	idx = tail & hu.sq_mask;
	sqe = &hu.sqes[idx];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = fd;
	sqe->poll32_events = HOST_URING_EVENTS;
	sqe->len = IORING_POLL_ADD_MULTI;
	sqe->user_data = user_data;
	hu.sq_array[idx] = idx;
	/*
	 * Release: the entry is written before the kernel can see the new
	 * tail (pairs with the kernel's acquire of sq_tail in io_uring_enter).
	 */
	atomic_store_explicit(hu.sq_tail, tail + 1, memory_order_release);
	hu.sq_unsubmitted++;
	return (0);
}

static int
host_uring_sync_cancel(unsigned long long user_data)
{
	struct io_uring_sync_cancel_reg sc;
	int r;

	memset(&sc, 0, sizeof(sc));
	sc.addr = user_data;
	sc.timeout.tv_sec = -1;
	sc.timeout.tv_nsec = -1;
	do {
		r = (int)syscall(SYS_io_uring_register, hu.fd,
		    IORING_REGISTER_SYNC_CANCEL, &sc, 1);
	} while (r < 0 && errno == EINTR);
	return (r < 0 ? errno : 0);
}

static void
host_uring_unmap(void)
{

	if (hu.map_sqes != NULL)
		munmap(hu.map_sqes, hu.len_sqes);
	if (hu.map_cq != NULL && hu.map_cq != hu.map_sq)
		munmap(hu.map_cq, hu.len_cq);
	if (hu.map_sq != NULL)
		munmap(hu.map_sq, hu.len_sq);
	memset(&hu, 0, sizeof(hu));
}

static void *
host_uring_map(int fd, size_t len, off_t off)
{
	void *p;

	p = FAIL_POINT_CALL("host:uring_mmap", ENOMEM, MAP_FAILED,
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	    fd, off));
	if (p == MAP_FAILED)
		return (NULL);
	/* A fork child must not write into the parent's queues. */
	if (madvise(p, len, MADV_DONTFORK) != 0)
		hu.dontfork = 0;
	return (p);
}

/*
 * Set up the ring, watching epfd; the ring's descriptor, or -1 with errno
 * when io_uring cannot be used here (disabled, filtered by seccomp, or a
 * kernel without multishot poll or IORING_REGISTER_SYNC_CANCEL).  Called
 * with the setup lock held, before anyone else can see the ring.
 */
static int
host_uring_setup(int epfd)
{
	struct io_uring_params p;
	size_t sqlen, cqlen;
	char *sq, *cq;
	int error, fd;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN |
	    IORING_SETUP_TASKRUN_FLAG;
	p.cq_entries = HOST_URING_CQ;
	fd = FAIL_POINT_CALL("host:uring_setup", ENOMEM, -1,
	    (int)syscall(SYS_io_uring_setup, HOST_URING_SQ, &p));
	if (fd < 0)
		return (-1);
	fd = host_fd_own(fd);
	/* NODROP: a full completion queue keeps what overflows. */
	if ((p.features & (IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP)) !=
	    (IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP)) {
		host_close(fd);
		errno = ENOSYS;
		return (-1);
	}
	hu.dontfork = 1;
	sqlen = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cqlen = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (cqlen > sqlen)
		sqlen = cqlen;
	hu.len_sq = hu.len_cq = sqlen;
	hu.map_sq = hu.map_cq = host_uring_map(fd, sqlen, IORING_OFF_SQ_RING);
	hu.len_sqes = p.sq_entries * sizeof(struct io_uring_sqe);
	hu.map_sqes = host_uring_map(fd, hu.len_sqes, IORING_OFF_SQES);
	if (hu.map_sq == NULL || hu.map_sqes == NULL) {
		error = errno;
		host_uring_unmap();
		host_close(fd);
		errno = error;
		return (-1);
	}
	sq = hu.map_sq;
	cq = hu.map_cq;
	hu.sq_head = (_Atomic unsigned *)(void *)(sq + p.sq_off.head);
	hu.sq_tail = (_Atomic unsigned *)(void *)(sq + p.sq_off.tail);
	hu.sq_flags = (_Atomic unsigned *)(void *)(sq + p.sq_off.flags);
	hu.sq_array = (unsigned *)(void *)(sq + p.sq_off.array);
	hu.sq_mask = *(unsigned *)(void *)(sq + p.sq_off.ring_mask);
	hu.sq_entries = *(unsigned *)(void *)(sq + p.sq_off.ring_entries);
	hu.sqes = hu.map_sqes;
	hu.cq_head = (_Atomic unsigned *)(void *)(cq + p.cq_off.head);
	hu.cq_tail = (_Atomic unsigned *)(void *)(cq + p.cq_off.tail);
	hu.cq_mask = *(unsigned *)(void *)(cq + p.cq_off.ring_mask);
	hu.cqes = (struct io_uring_cqe *)(void *)(cq + p.cq_off.cqes);
	hu.fd = fd;
	/*
	 * Unwatch depends on a synchronous cancel (Linux 6.0): probe it
	 * with a user_data no request has, which must say ENOENT.
	 */
	error = host_uring_sync_cancel(HOST_MKTAG(HOST_TAG_EPOLL, 1));
	if (error == ENOENT) {
		error = host_uring_queue_poll(epfd, HOST_MKTAG(HOST_TAG_EPOLL,
		    0));
		if (error == 0)
			error = host_uring_submit_locked();
	} else if (error == 0)
		error = ENOSYS;
	if (error != 0) {
		host_uring_unmap();
		host_close(fd);
		errno = error;
		return (-1);
	}
	/* Release: hu is complete before anyone sees the descriptor. */
	atomic_store_explicit(&host_urfd, fd, memory_order_release);
	return (fd);
}

/*
 * Choose the backend, once, when the epoll instance is made: the setup
 * lock is held.  EVRING_HOST_BACKEND=epoll, io_uring, or auto (io_uring
 * where it can be set up); unset or unknown, HOST_BACKEND_DEFAULT.
 * io_uring that cannot be set up falls back to epoll.
 */
void
host_backend_choose(int epfd)
{
	const char *env;
	int want;

	if (atomic_load(&host_backend) == HOST_BACKEND_URING) {
		/* A fork child making its epoll instance again. */
		if (host_uring_setup(epfd) < 0)
			atomic_store(&host_backend, HOST_BACKEND_EPOLL);
		return;
	}
	if (atomic_load(&host_backend) != HOST_BACKEND_NONE)
		return;
	env = getenv("EVRING_HOST_BACKEND");
	if (env != NULL && strcmp(env, "epoll") == 0)
		want = HOST_BACKEND_EPOLL;
	else if (env != NULL && (strcmp(env, "io_uring") == 0 ||
	    strcmp(env, "auto") == 0))
		want = HOST_BACKEND_URING;
	else
		want = HOST_BACKEND_DEFAULT;
	if (want == HOST_BACKEND_URING && host_uring_setup(epfd) < 0) {
		if (env != NULL && strcmp(env, "io_uring") == 0)
			hc_log("EVRING_HOST_BACKEND=io_uring: io_uring "
			    "unavailable, using epoll");
		want = HOST_BACKEND_EPOLL;
	}
	atomic_store(&host_backend, want);
	atomic_store(&host_stats[HC_STAT_BACKEND], want);
}

int
host_uring_active(void)
{

	/* Acquire: pairs with the release in host_uring_setup(). */
	return (atomic_load_explicit(&host_urfd, memory_order_acquire) >= 0);
}

int
host_wait_fd(void)
{
	int fd;

	fd = atomic_load(&host_urfd);
	return (fd >= 0 ? fd : atomic_load(&host_epfd));
}

/* Sleep until a completion is posted, at most ns nanoseconds. */
static void
host_uring_waitcq(long ns)
{
	struct pollfd pfd;
	struct timespec ts;

	pfd.fd = hu.fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ts.tv_sec = 0;
	ts.tv_nsec = ns;
	(void)host_sys_ppoll(&pfd, 1, &ts, NULL);
}

static int
host_uring_cqready(void)
{

	/* Acquire: pairs with the kernel's release of cq_tail. */
	return (atomic_load_explicit(hu.cq_tail, memory_order_acquire) !=
	    atomic_load_explicit(hu.cq_head, memory_order_relaxed));
}

/*
 * Task work that will post completions is pending (IORING_SQ_TASKRUN):
 * run this thread's, then wait for the other threads' (each is woken or
 * runs it at its next kernel entry), so that a readiness change made
 * before the call is in the completion queue when it returns.  Returns
 * whether completions are queued.  The flag is the ring's, not a
 * thread's, and is cleared by the first thread that runs its work, so
 * this is a bounded best effort, not a proof.
 */
static int
host_uring_settle(void)
{
	long long deadline;

	(void)host_uring_enter(0, 0, IORING_ENTER_GETEVENTS);
	deadline = -1;
	while (!host_uring_cqready() && (atomic_load_explicit(hu.sq_flags,
	    memory_order_relaxed) & IORING_SQ_TASKRUN)) {
		if (deadline < 0)
			deadline = hc_clock_monotonic() + HOST_URING_SETTLE_NS;
		else if (hc_clock_monotonic() > deadline)
			break;
		host_uring_waitcq(50000);
	}
	return (host_uring_cqready());
}

/*
 * Whether hc_host_poll() must take the poll lock: completions are queued,
 * or kept by the kernel after the completion queue overflowed, or about to
 * be posted by task work (host_uring_settle()), or another thread is
 * draining, whose upcalls the caller must wait for (host_init.c:
 * when hc_host_poll() returns, every change made before it has reached
 * the kernel).  No lock and no system call.
 */
int
host_uring_pending(void)
{
	unsigned head, tail;

	/*
	 * Acquire: pairs with the release of cq_head in a drain, so that
	 * a head moved by a drain shows its host_uring_draining increment.
	 */
	head = atomic_load_explicit(hu.cq_head, memory_order_acquire);
	/* Acquire: pairs with the kernel's release of cq_tail. */
	tail = atomic_load_explicit(hu.cq_tail, memory_order_acquire);
	if (head != tail || (atomic_load_explicit(hu.sq_flags,
	    memory_order_relaxed) & IORING_SQ_CQ_OVERFLOW) != 0)
		return (1);
	if ((atomic_load_explicit(hu.sq_flags, memory_order_relaxed) &
	    IORING_SQ_TASKRUN) && host_uring_settle())
		return (1);
	/*
	 * Acquire: pairs with the release decrement at the end of a drain,
	 * so that 0 shows its upcalls done.
	 */
	return (atomic_load_explicit(&host_uring_draining,
	    memory_order_acquire) != 0);
}

/*
 * A request has ended (no IORING_CQE_F_MORE).  Called with the poll lock
 * held; returns 1 when it must be armed again.
 */
static int
host_uring_ended(unsigned long long cookie, int res)
{
	_Atomic unsigned long long *slot;
	unsigned long long cur;

	slot = host_urtab_slot(host_cookie_fd(cookie), 0);
	if (slot == NULL)
		return (0);
	cur = cookie | HOST_TAG;
	/* A cancel waits for this: the file reference is gone. */
	if (atomic_compare_exchange_strong(slot, &cur, 0))
		return (0);
	if (cur != cookie)
		return (0);		/* an older request of the number */
	/*
	 * Still watched: multishot ends when the completion queue is full
	 * (the kernel keeps the last completion) and in a few other cases;
	 * arm it again.  An error other than those (EBADF: the descriptor
	 * went before the request was armed) drops the watch.
	 */
	if (res >= 0 || res == -ECANCELED || res == -ENOMEM ||
	    res == -EAGAIN)
		return (1);
	cur = cookie;
	(void)atomic_compare_exchange_strong(slot, &cur, 0);
	return (0);
}

/* Arm again the requests that ended; the poll lock is held. */
static void
host_uring_rearm(const unsigned long long *cookie, int n)
{
	_Atomic unsigned long long *slot;
	int i, fd;

	host_lock_acquire(&host_uring_sqlock);
	for (i = 0; i < n; i++) {
		if (cookie[i] & HOST_TAG) {
			fd = atomic_load(&host_epfd);
			if (fd >= 0)
				(void)host_uring_queue_poll(fd, cookie[i]);
			continue;
		}
		fd = host_cookie_fd(cookie[i]);
		slot = host_urtab_slot(fd, 0);
		/*
		 * Under the submission lock an unwatch cannot cross: it
		 * either changed the slot before this look (and the watch
		 * is not armed again) or cancels after the submission.
		 */
		if (slot != NULL && atomic_load(slot) == cookie[i])
			(void)host_uring_queue_poll(fd, cookie[i]);
	}
	(void)host_uring_submit_locked();
	host_lock_release(&host_uring_sqlock);
}

void
host_uring_drain_locked(void)
{
	struct io_uring_cqe cqe[HOST_URING_BATCH];
	unsigned long long rearm[HOST_URING_BATCH];
	const struct hc_upcalls *up;
	unsigned head, tail, n, i;
	int nrearm, flushed = 0;

	up = atomic_load(&host_upcalls);
	/* Before any completion is taken: host_uring_pending() looks. */
	atomic_fetch_add(&host_uring_draining, 1);
	for (;;) {
		head = atomic_load_explicit(hu.cq_head, memory_order_relaxed);
		/* Acquire: pairs with the kernel's release of cq_tail. */
		tail = atomic_load_explicit(hu.cq_tail, memory_order_acquire);
		if (head == tail) {
			/*
			 * Completions that did not fit wait in the kernel
			 * until an io_uring_enter() asks for events.
			 */
			if (!flushed && (atomic_load_explicit(hu.sq_flags,
			    memory_order_relaxed) & IORING_SQ_CQ_OVERFLOW)) {
				flushed = 1;
				(void)host_uring_enter(0, 0,
				    IORING_ENTER_GETEVENTS);
				continue;
			}
			break;
		}
		n = tail - head;
		if (n > HOST_URING_BATCH)
			n = HOST_URING_BATCH;
		for (i = 0; i < n; i++)
			cqe[i] = hu.cqes[(head + i) & hu.cq_mask];
		/*
		 * Release: the entries are copied before the kernel may
		 * reuse their slots (pairs with its acquire of cq_head).
		 */
		atomic_store_explicit(hu.cq_head, head + n,
		    memory_order_release);
		atomic_fetch_add_explicit(&host_stats[HC_STAT_URING_CQES], n,
		    memory_order_relaxed);
		nrearm = 0;
		for (i = 0; i < n; i++) {
			if (cqe[i].user_data & HOST_TAG) {
				if (((cqe[i].user_data >> HOST_TAG_KINDSHIFT) &
				    HOST_TAG_KINDMASK) != HOST_TAG_EPOLL)
					continue;
				host_epoll_drain_locked();
				if (!(cqe[i].flags & IORING_CQE_F_MORE))
					rearm[nrearm++] = cqe[i].user_data;
				continue;
			}
			if (cqe[i].res > 0)
				atomic_fetch_add_explicit(
				    &host_stats[HC_STAT_FDREPORTS], 1,
				    memory_order_relaxed);
			if (cqe[i].res > 0)
				(void)host_fd_reported(cqe[i].user_data,
				    (unsigned)cqe[i].res, 0);
			if (cqe[i].res > 0 && up != NULL &&
			    up->hu_fdready != NULL)
				up->hu_fdready(cqe[i].user_data,
				    (unsigned)cqe[i].res & (HC_POLLIN |
				    HC_POLLPRI | HC_POLLOUT | HC_POLLERR |
				    HC_POLLHUP | HC_POLLRDHUP));
			if (!(cqe[i].flags & IORING_CQE_F_MORE) &&
			    host_uring_ended(cqe[i].user_data, cqe[i].res))
				rearm[nrearm++] = cqe[i].user_data;
		}
		if (nrearm > 0)
			host_uring_rearm(rearm, nrearm);
	}
	/* Release: pairs with the acquire in host_uring_pending(). */
	atomic_fetch_sub_explicit(&host_uring_draining, 1,
	    memory_order_release);
}

/*
 * Is fd a descriptor io_uring's poll can wait on?  A file without a poll
 * method would complete a poll request at once, every time; epoll refuses
 * it with EPERM, and so does hc_fd_watch().  Sockets and pipes always
 * poll; for the rest epoll is asked (host_fd_pollprobe()), anonymous
 * inodes included: an eventfd polls, a file system context (fsopen())
 * does not.
 */
static int
host_uring_pollable(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return (errno);
	if (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode))
		return (0);
	return (host_fd_pollprobe(fd));
}

/*
 * hc_fd_watch() for this backend; the watch is counted by the caller.
 * *newp says whether a new poll request was queued: one reports the
 * descriptor's current readiness, as epoll_ctl() does; a request already
 * armed is left alone and reports only changes.
 */
int
host_uring_watch(int fd, unsigned long long cookie, int *newp)
{
	_Atomic unsigned long long *slot;
	unsigned long long old;
	int error;

	*newp = 0;

	if (host_cookie_fd(cookie) != fd)
		return (EINVAL);
	if ((error = host_uring_pollable(fd)) != 0)
		return (error);
	if ((slot = host_urtab_slot(fd, 1)) == NULL)
		return (ENOMEM);
	host_lock_acquire(&host_uring_sqlock);
	old = atomic_load(slot);
	if (old == cookie) {
		host_lock_release(&host_uring_sqlock);
		return (0);
	}
	if (old != 0 && (old & HOST_TAG) == 0) {
		/* Watched under another cookie: that request goes first. */
		atomic_store(slot, old | HOST_TAG);
		(void)host_uring_submit_locked();
		(void)host_uring_sync_cancel(old);
	}
	atomic_store(slot, cookie);
	error = host_uring_queue_poll(fd, cookie);
	if (error == 0)
		error = host_uring_submit_locked();
	if (error != 0)
		atomic_store(slot, 0);
	else
		*newp = 1;
	host_lock_release(&host_uring_sqlock);
	return (error);
}

/*
 * hc_fd_unwatch() for this backend.  When it returns, no request of this
 * process holds fd's file: the request is cancelled and its last
 * completion, posted by the task work that also drops its reference, has
 * been seen.  The caller holds the kernel's file_watch_lock (under which
 * the poll lock may be taken, kern_descrip.c) and no host lock, unless it
 * is an upcall; then the drain in progress sees the completion.
 */
void
host_uring_unwatch(int fd, unsigned long long cookie)
{
	_Atomic unsigned long long *slot;
	unsigned long long cur;
	long long deadline;
	int error;

	slot = host_urtab_slot(fd, 0);
	if (slot == NULL)
		return;
	host_lock_acquire(&host_uring_sqlock);
	if (atomic_load(slot) != cookie) {
		host_lock_release(&host_uring_sqlock);
		return;			/* dropped after an error */
	}
	atomic_store(slot, cookie | HOST_TAG);
	/* A re-arm still queued must be in the kernel to be cancelled. */
	(void)host_uring_submit_locked();
	error = host_uring_sync_cancel(cookie);
	host_lock_release(&host_uring_sqlock);
	if (error != 0) {
		/* ENOENT: it had ended already, its completion is posted. */
		cur = cookie | HOST_TAG;
		(void)atomic_compare_exchange_strong(slot, &cur, 0);
		return;
	}
	if (host_lock_owned(&host_poll_lock))
		return;
	deadline = hc_clock_monotonic() + HOST_URING_CANCEL_NS;
	host_lock_acquire(&host_poll_lock);
	for (;;) {
		host_uring_drain_locked();
		if (atomic_load(slot) != (cookie | HOST_TAG))
			break;
		if (hc_clock_monotonic() > deadline) {
			hc_log("io_uring: a cancelled poll request did not "
			    "complete; its descriptor may stay open");
			break;
		}
		/*
		 * The submitting thread runs the completion as task work,
		 * soon: at its next kernel entry or interrupt, or woken from
		 * an interruptible sleep for it.
		 */
		host_uring_waitcq(1000000);
	}
	host_lock_release(&host_poll_lock);
}

void
host_uring_forkprepare(void)
{

	host_lock_acquire(&host_uring_sqlock);
}

void
host_uring_forkparent(void)
{

	host_lock_release(&host_uring_sqlock);
}

/*
 * The child shares the parent's ring (an io_uring instance is one object,
 * whichever process holds its descriptor): it closes its descriptor and
 * forgets its mappings without submitting or cancelling anything, which
 * would change the parent's requests.  The mappings were not inherited
 * (MADV_DONTFORK) unless madvise() failed.
 */
void
host_uring_forkchild(void)
{
	_Atomic unsigned long long *chunk;
	int fd, i;

	host_lock_forkchild(&host_uring_sqlock);
	fd = atomic_exchange(&host_urfd, -1);
	if (fd < 0)
		return;
	if (hu.dontfork)
		memset(&hu, 0, sizeof(hu));
	else
		host_uring_unmap();
	host_close(fd);
	for (i = 0; i < URTAB_NCHUNKS; i++) {
		chunk = atomic_load(&host_urtab[i]);
		if (chunk != NULL)
			memset((void *)chunk, 0, URTAB_CHUNK * sizeof(*chunk));
	}
}
