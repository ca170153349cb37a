/*
 * The host epoll instance, the dispatcher thread, the readiness drain, and
 * busy polling.
 *
 * See host_init.c for why events are consumed only under the poll lock and
 * why the dispatcher waits in poll() on the epoll descriptor instead of in
 * epoll_wait().
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <linux/futex.h>

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_impl.h"
#include "sys/fail.h"

struct host_lock host_poll_lock = HOST_LOCK_INITIALIZER("host poll lock");
struct host_lock host_setup_lock = HOST_LOCK_INITIALIZER("host setup lock");

_Atomic int host_epfd = -1;

/*
 * Watches of every kind now (descriptors, vnodes, unfired processes,
 * watched signals).  While it is 0 nothing can be pending in the epoll
 * instance that anyone cares about, and hc_host_poll() returns at once.
 */
static _Atomic int host_nwatch;
static _Atomic int host_dispatcher_started;

/*
 * Threads busy polling now (hc_spin_begin() .. hc_spin_end()), and when a
 * program thread last drained the host (a poll's end, or any kernel entry's
 * hc_host_poll()).  Busy pollers drain the host on every turn, for every
 * queue, a program that enters the kernel drains it each time, and a
 * sleeper drains it when it wakes; meanwhile the dispatcher has nothing to
 * do, and woken by each readiness change it is a third runnable thread on
 * the program's CPUs, costing a context switch each way per change.  So
 * it parks, and stays parked
 * until HOST_PARK_NS have passed with no poller and no drain.  Nobody
 * wakes it: a consumer that returns with each event and comes straight
 * back would pay two context switches per event.  The price: while
 * the program comes and goes, an event for a ring whose consumer makes no
 * call may wait up to HOST_PARK_NS for the dispatcher.
 */
#define	HOST_PARK_NS	1000000LL	/* 1 ms */

static _Atomic int host_busypollers;
static _Atomic long long host_drained;

static void
host_dispatcher_park(void)
{
	struct timespec ts = { 0, HOST_PARK_NS };
	int n;

	for (;;) {
		n = atomic_load(&host_busypollers);
		if (n == 0 && hc_clock_monotonic() -
		    atomic_load(&host_drained) >= HOST_PARK_NS)
			return;
		/* Nobody wakes us: look again when the time is up. */
		(void)syscall(SYS_futex, &host_busypollers,
		    FUTEX_WAIT_PRIVATE, n, &ts, NULL, 0);
	}
}

/* Events taken per epoll_wait(); a full batch means "look again". */
#define	HOST_BATCH	64

/*
 * A byte per descriptor, in chunks allocated on first use and never freed
 * (so no lock is needed to read them): HOST_FDT_WATCHED if it has a
 * readiness registration, which hc_fd_unwatch() uses to know whether there
 * is anything to remove (that keeps the counters right across a fork), and
 * HOST_FDT_INTERNAL if it is one of the host layer's own (host_fd_own()),
 * and the marks host_alias.c keeps of which numbers may share their open
 * file description with another (HOST_FDT_DUPED, HOST_FDT_RECEIVED,
 * host_impl.h).
 */
#define	HOST_FDT_WATCHED	0x1
#define	HOST_FDT_INTERNAL	0x2
#define	FDTAB_CHUNKSHIFT	16
#define	FDTAB_CHUNK		(1 << FDTAB_CHUNKSHIFT)
#define	FDTAB_NCHUNKS		(1 << (31 - FDTAB_CHUNKSHIFT))
static _Atomic(_Atomic unsigned char *) host_fdtab[FDTAB_NCHUNKS];
static _Atomic int host_maxfd = -1;
static _Atomic int host_maxinternal = -1;

int
host_epoll_get(int *epfdp)
{
	int fd;

	fd = atomic_load(&host_epfd);
	if (fd >= 0) {
		*epfdp = fd;
		return (0);
	}
	host_lock_acquire(&host_setup_lock);
	fd = atomic_load(&host_epfd);
	if (fd < 0) {
		fd = FAIL_POINT_CALL("host:epoll_create", EMFILE, -1,
		    host_sys_epoll_create1(EPOLL_CLOEXEC));
		if (fd < 0) {
			host_lock_release(&host_setup_lock);
			return (errno);
		}
		fd = host_fd_own(fd);
		host_backend_choose(fd);
		atomic_store(&host_epfd, fd);
	}
	host_lock_release(&host_setup_lock);
	*epfdp = fd;
	return (0);
}

static void *
host_dispatcher(void *arg)
{
	struct pollfd pfd;
	int epfd = (int)(intptr_t)arg;

	pfd.fd = epfd;
	pfd.events = POLLIN;
	for (;;) {
		pfd.revents = 0;
		/*
		 * poll() on an epoll descriptor says whether events are
		 * queued without taking them, and on an io_uring whether
		 * completions are; only the poll lock holder takes them.
		 */
		if (host_sys_poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			hc_log("dispatcher: poll failed");
			break;
		}
		if (pfd.revents & POLLNVAL)
			break;
		host_dispatcher_park();
		host_lock_acquire(&host_poll_lock);
		host_drain_locked();
		host_lock_release(&host_poll_lock);
	}
	return (NULL);
}

static int
host_dispatcher_start(void)
{
	pthread_t t;
	int epfd = -1, error;

	if (atomic_load(&host_dispatcher_started))
		return (0);
	error = host_epoll_get(&epfd);
	if (error != 0)
		return (error);
	host_lock_acquire(&host_setup_lock);
	if (!atomic_load(&host_dispatcher_started)) {
		if ((error = FAIL_POINT("host:thread:dispatcher",
		    ENOMEM)) == 0)
			error = host_thread_create(&t, host_dispatcher,
			    (void *)(intptr_t)host_wait_fd());
		if (error == 0)
			atomic_store(&host_dispatcher_started, 1);
	}
	host_lock_release(&host_setup_lock);
	return (error);
}

int
host_watch_hold(void)
{
	int error;

	error = host_dispatcher_start();
	if (error != 0)
		return (error);
	atomic_fetch_add(&host_nwatch, 1);
	return (0);
}

void
host_watch_rele(void)
{

	atomic_fetch_sub(&host_nwatch, 1);
}

int
host_watching(void)
{

	return (atomic_load_explicit(&host_nwatch, memory_order_acquire) > 0);
}

static void
host_dispatch_one(const struct epoll_event *ev)
{
	const struct hc_upcalls *up;
	unsigned long long tag = ev->data.u64;
	unsigned revents;

	if ((tag & HOST_TAG) == 0) {
		up = atomic_load(&host_upcalls);
		atomic_fetch_add_explicit(&host_stats[HC_STAT_FDREPORTS], 1,
		    memory_order_relaxed);
		revents = host_fd_reported(tag, ev->events, 1);
		if (up != NULL && up->hu_fdready != NULL)
			up->hu_fdready(tag, (revents & (HC_POLLIN |
			    HC_POLLPRI | HC_POLLOUT | HC_POLLERR | HC_POLLHUP |
			    HC_POLLRDHUP)) | HC_POLLSTATE);
		return;
	}
	switch ((tag >> HOST_TAG_KINDSHIFT) & HOST_TAG_KINDMASK) {
	case HOST_TAG_INOTIFY:
		host_vnode_dispatch();
		break;
	case HOST_TAG_SIGNAL:
		host_sig_dispatch();
		break;
	case HOST_TAG_PROC:
		host_proc_dispatch((struct hc_pwatch *)(uintptr_t)
		    (tag & HOST_TAG_PTRMASK));
		break;
	}
}

void
host_drain_locked(void)
{

	if (host_uring_active())
		host_uring_drain_locked();
	else
		host_epoll_drain_locked();
}

void
host_epoll_drain_locked(void)
{
	const struct hc_upcalls *up;
	struct epoll_event ev[HOST_BATCH];
	int epfd, i, n;

	epfd = atomic_load(&host_epfd);
	if (epfd < 0)
		return;
	up = atomic_load(&host_upcalls);
	do {
		if (up != NULL && up->hu_drainstart != NULL)
			up->hu_drainstart();
		n = host_sys_epoll_wait(epfd, ev, HOST_BATCH, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < n; i++)
			host_dispatch_one(&ev[i]);
	} while (n == HOST_BATCH || (n < 0 && errno == EINTR));
}

void
hc_fd_resample(const unsigned long long *cookies, int n)
{
	const struct hc_upcalls *up;
	struct pollfd pfd[HC_RESAMPLE_MAX];
	int i, r;

	if (n <= 0 || n > HC_RESAMPLE_MAX || host_lock_owned(&host_poll_lock))
		return;
	for (i = 0; i < n; i++) {
		pfd[i].fd = host_cookie_fd(cookies[i]);
		pfd[i].events = POLLIN | POLLPRI | POLLOUT | POLLRDHUP;
		pfd[i].revents = 0;
	}
	up = atomic_load(&host_upcalls);
	/* Sampled and delivered under the drain lock, as a drain is. */
	host_lock_acquire(&host_poll_lock);
	if (up != NULL && up->hu_drainstart != NULL)
		up->hu_drainstart();
	do {
		r = host_sys_poll(pfd, (nfds_t)n, 0);
	} while (r < 0 && errno == EINTR);
	atomic_fetch_add_explicit(&host_stats[HC_STAT_FDQUERY], 1,
	    memory_order_relaxed);
	for (i = 0; r >= 0 && i < n; i++) {
		if (pfd[i].revents & POLLNVAL)
			continue;
		atomic_fetch_add_explicit(&host_stats[HC_STAT_FDREPORTS], 1,
		    memory_order_relaxed);
		(void)host_fd_reported(cookies[i], (unsigned)pfd[i].revents,
		    0);
		if (up != NULL && up->hu_fdready != NULL)
			up->hu_fdready(cookies[i], ((unsigned)pfd[i].revents &
			    (HC_POLLIN | HC_POLLPRI | HC_POLLOUT | HC_POLLERR |
			    HC_POLLHUP | HC_POLLRDHUP)) | HC_POLLSTATE);
	}
	host_lock_release(&host_poll_lock);
}

void
hc_host_poll(void)
{

	if (!host_watching())
		return;
	/* io_uring: an empty completion queue costs no system call. */
	if (host_uring_active() && !host_uring_pending())
		return;
	/* Upcalls must not call us; refuse rather than self-deadlock. */
	if (host_lock_owned(&host_poll_lock))
		return;
	host_lock_acquire(&host_poll_lock);
	host_drain_locked();
	host_lock_release(&host_poll_lock);
	atomic_store_explicit(&host_drained, hc_clock_monotonic(),
	    memory_order_relaxed);
}

void
host_fdtab_note(int fd)
{
	int cur;

	cur = atomic_load_explicit(&host_maxfd, memory_order_relaxed);
	while (fd > cur &&
	    !atomic_compare_exchange_weak(&host_maxfd, &cur, fd))
		;
}

int
host_fd_maxfd(void)
{

	return (atomic_load_explicit(&host_maxfd, memory_order_relaxed));
}

/* Set fd's registration byte to on; return what it was, or -1. */
static _Atomic unsigned char *
host_fdtab_byte(int fd, int create)
{
	_Atomic unsigned char *chunk, *expect;
	unsigned idx;

	if (fd < 0)
		return (NULL);
	idx = (unsigned)fd >> FDTAB_CHUNKSHIFT;
	chunk = atomic_load(&host_fdtab[idx]);
	if (chunk == NULL) {
		if (!create)
			return (NULL);
		chunk = FAIL_POINT_CALL("host:fd_table", ENOMEM, NULL,
		    calloc(FDTAB_CHUNK, sizeof(*chunk)));
		if (chunk == NULL)
			return (NULL);
		expect = NULL;
		if (!atomic_compare_exchange_strong(&host_fdtab[idx], &expect,
		    chunk)) {
			free(chunk);
			chunk = expect;
		}
	}
	return (&chunk[fd & (FDTAB_CHUNK - 1)]);
}

/*
 * Set (on) or clear fd's bits in mask, which must be some of host_alias.c's
 * marks; return the byte as it was, or 0 when fd has none (a chunk that
 * cannot be allocated leaves the number unmarked: -1).
 */
int
host_fdtab_mark(int fd, unsigned mask, int on)
{
	_Atomic unsigned char *b;

	if ((b = host_fdtab_byte(fd, on)) == NULL)
		return (on && fd >= 0 ? -1 : 0);
	if (on)
		return (atomic_fetch_or(b, (unsigned char)mask));
	return (atomic_fetch_and(b, (unsigned char)~mask));
}

/* fd's byte, 0 for a number never marked. */
unsigned
host_fdtab_get(int fd)
{
	_Atomic unsigned char *b;

	if ((b = host_fdtab_byte(fd, 0)) == NULL)
		return (0);
	return (atomic_load_explicit(b, memory_order_relaxed));
}

int
host_fdtab_set(int fd, int on)
{
	_Atomic unsigned char *b;

	if ((b = host_fdtab_byte(fd, on)) == NULL)
		return (fd < 0 || on ? -1 : 0);
	if (on)
		return ((atomic_fetch_or(b, HOST_FDT_WATCHED) &
		    HOST_FDT_WATCHED) != 0);
	return ((atomic_fetch_and(b, (unsigned char)~HOST_FDT_WATCHED) &
	    HOST_FDT_WATCHED) != 0);
}

/*
 * Where the host layer's own descriptors go: from HOST_FD_HIGH below the
 * soft RLIMIT_NOFILE, or below 1,024 if that is higher, so that the
 * numbers a program is given are the ones Linux would give it (the lowest
 * free), a number it closed stays closed, and fd_set programs, whose
 * descriptors stay under 1,024, never meet them.  Not higher than that:
 * the host kernel sizes a process's descriptor table by its highest
 * number.
 */
#define	HOST_FD_HIGH	64
#define	HOST_FD_CEIL	1024

static int
host_fd_move_high(int fd)
{
	struct rlimit rl;
	rlim_t top;
	int nfd;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return (fd);
	top = rl.rlim_cur < HOST_FD_CEIL ? rl.rlim_cur : HOST_FD_CEIL;
	if (top <= HOST_FD_HIGH || (rlim_t)fd >= top - HOST_FD_HIGH)
		return (fd);
	/* Close-on-exec, as every one of them is made. */
	nfd = host_sys_fcntl(fd, F_DUPFD_CLOEXEC, (long)(top - HOST_FD_HIGH));
	if (nfd < 0)
		return (fd);	/* all taken: where it is will do */
	host_close_moved(fd);
	return (nfd);
}

/*
 * The host layer's own descriptors (its epoll instance, sleepers'
 * eventfds, the signal eventfd, inotify, io_uring, pidfds) are moved out
 * of the program's way (host_fd_move_high()) and marked, so that a
 * program's close(), close_range() or closefrom() leaves them open
 * (host_interpose.c): daemons close every descriptor at start-up, and the
 * library would stop working.  Returns the descriptor to use.  Best
 * effort: one whose mark cannot be stored (no memory for its chunk) is
 * not protected.
 */
int
host_fd_own(int fd)
{
	_Atomic unsigned char *b;
	int cur;

	if (fd < 0)
		return (fd);
	fd = host_fd_move_high(fd);
	if ((b = host_fdtab_byte(fd, 1)) == NULL)
		return (fd);
	atomic_fetch_or(b, HOST_FDT_INTERNAL);
	cur = atomic_load_explicit(&host_maxinternal, memory_order_relaxed);
	while (fd > cur &&
	    !atomic_compare_exchange_weak(&host_maxinternal, &cur, fd))
		;
	return (fd);
}

void
host_fd_disown(int fd)
{
	_Atomic unsigned char *b;

	if ((b = host_fdtab_byte(fd, 0)) != NULL)
		atomic_fetch_and(b, (unsigned char)~HOST_FDT_INTERNAL);
}

int
host_fd_internal(int fd)
{
	_Atomic unsigned char *b;

	if (fd < 0 || fd > atomic_load_explicit(&host_maxinternal,
	    memory_order_relaxed) || (b = host_fdtab_byte(fd, 0)) == NULL)
		return (0);
	return ((atomic_load(b) & HOST_FDT_INTERNAL) != 0);
}

/* The highest of the host's own descriptors ever, or -1. */
int
host_fd_maxinternal(void)
{

	return (atomic_load_explicit(&host_maxinternal, memory_order_relaxed));
}

void
host_poll_forkchild(void)
{
	_Atomic unsigned char *chunk;
	int epfd, i, j;

	host_lock_forkchild(&host_setup_lock);
	host_uring_forkchild();
	/*
	 * The epoll instance is shared with the parent: closing our
	 * descriptor leaves the parent's registrations alone, whereas
	 * epoll_ctl() on it would change them.
	 */
	epfd = atomic_exchange(&host_epfd, -1);
	if (epfd >= 0)
		host_close(epfd);
	atomic_store(&host_dispatcher_started, 0);
	atomic_store(&host_busypollers, 0);
	atomic_store(&host_nwatch, 0);
	for (i = 0; i < FDTAB_NCHUNKS; i++) {
		chunk = atomic_load(&host_fdtab[i]);
		if (chunk == NULL)
			continue;
		/* Registrations are the parent's; own descriptors stay. */
		for (j = 0; j < FDTAB_CHUNK; j++)
			atomic_store_explicit(&chunk[j],
			    atomic_load_explicit(&chunk[j],
			    memory_order_relaxed) & ~HOST_FDT_WATCHED,
			    memory_order_relaxed);
	}
	atomic_store(&host_stats[HC_STAT_FDWATCH], 0);
	atomic_store(&host_stats[HC_STAT_VWATCH], 0);
}

/*
 * Busy polling: noticing signals during a spin (hostcall.h says the two
 * ways), and the CPU's spin hint.
 *
 * Counted is the usual way and costs nothing per spin: host_sig.c fronts
 * every caught signal and counts this thread's handler calls
 * (host_sig_forwarded); host_sig_spinmark holds the count the spin began
 * with, and hc_sleep() compares against it.  The masked way costs two
 * system calls per spin (block, restore) and one per pending-set look,
 * which at one event per spin was half of an event's cost; it stays for
 * a caller's sigmask, where the mask must apply during the spin too.
 */
_Static_assert(sizeof(sigset_t) <= sizeof(((struct hc_spin *)0)->hs_saved),
    "struct hc_spin holds a host sigset_t");

int
hc_spin_begin(struct hc_spin *sp, const void *sigmask)
{
	sigset_t all;
	int error;

	sp->hs_counted = 0;
	sp->hs_masked = 0;
	if (sigmask == NULL && host_sig_count_start() == 0) {
		host_sig_spinmark = host_sig_forwarded;
		/* The mark is set before the sleep may look at it. */
		atomic_signal_fence(memory_order_seq_cst);
		host_sig_spinning = 1;
		sp->hs_counted = 1;
	} else {
		(void)sigfillset(&all);
		error = pthread_sigmask(SIG_BLOCK, &all,
		    (sigset_t *)sp->hs_saved);
		if (error != 0)
			return (error);
		sp->hs_masked = 1;
	}
	atomic_fetch_add(&host_busypollers, 1);
	return (0);
}

int
hc_spin_signalled(const struct hc_spin *sp, const void *sigmask)
{
	const sigset_t *mask;
	sigset_t pend;
	int sig;

	if (sp->hs_counted)
		return (host_sig_forwarded != host_sig_spinmark);
	if (!sp->hs_masked || sigpending(&pend) != 0)
		return (0);
	mask = sigmask != NULL ? sigmask : (const sigset_t *)sp->hs_saved;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&pend, sig) == 1 &&
		    sigismember(mask, sig) == 0)
			return (1);
	return (0);
}

void
hc_spin_end(struct hc_spin *sp)
{

	if (!sp->hs_counted && !sp->hs_masked)
		return;
	atomic_store(&host_drained, hc_clock_monotonic());
	atomic_fetch_sub(&host_busypollers, 1);
	if (sp->hs_counted)
		host_sig_spinning = 0;
	if (sp->hs_masked)
		(void)pthread_sigmask(SIG_SETMASK, (sigset_t *)sp->hs_saved,
		    NULL);
	sp->hs_counted = 0;
	sp->hs_masked = 0;
}

/*
 * A spin that may be waiting for a thread that is not running (more threads
 * than CPUs) gives its CPU away now and then, as an adaptive mutex sleeps
 * once the owner is off CPU.
 */
void
hc_thread_yield(void)
{

	(void)sched_yield();
}

void
hc_cpu_relax(void)
{

#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}
