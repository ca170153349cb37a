/*
 * The Linux host layer: the implementation of sys/sys/hostcall.h.
 *
 * Files:
 *	host_init.c	this overview; hc_init, memory, clocks, logging, stats,
 *			the kernel's per-thread pointer (hc_curthread)
 *	host_lock.c	hc_mtx and the internal owner-aware locks
 *	host_witness.c	lock-order checking of both, under INVARIANTS
 *	host_poll.c	the epoll instance, the dispatcher thread (parked
 *			while the program drains the host), hc_host_poll,
 *			and how busy polling sees signals (hc_spin_*)
 *	host_uring.c	the io_uring readiness backend (EVRING_HOST_BACKEND):
 *			descriptors in multishot poll requests, the epoll
 *			instance kept for internal sources; completions are
 *			consumed under the poll lock like epoll events
 *	host_sleep.c	per-thread sleepers (eventfd + ppoll)
 *	host_callout.c	the callout thread and its deadline heap
 *	host_copy.c	hc_copyin/hc_copyout with fault recovery
 *	host_fd.c	descriptor stat/watch/query, queue descriptors
 *	host_vnode.c	vnode watches on inotify
 *	host_proc.c	process watches on pidfds
 *	host_sig.c	signal watches, the signal handler, sigaction/signal
 *			interposition, the SIGSEGV/SIGBUS disposition table,
 *			and the count of handler calls busy polling reads
 *	host_interpose.c close/dup2/dup3/close_range/closefrom interposition
 *	host_fork.c	pthread_atfork handlers
 *
 * Threads.  The host layer starts at most two threads of its own, both
 * lazily and both with every signal blocked, so that signals meant for the
 * program land in the program's threads:
 *
 *  - The dispatcher, started when the first watch of any kind (descriptor,
 *    vnode, process, signal) exists.  It blocks in poll() on the epoll
 *    descriptor, which reports readability without consuming any event,
 *    then takes the poll lock, collects events with a zero timeout and runs
 *    the upcalls.  It exists so that host readiness reaches the kernel even
 *    while no thread is inside it (a program poll()ing a queue's own
 *    descriptor, for instance).
 *
 *  - The callout thread, started by the first hc_callout_reset().  It runs
 *    each callout's function with no lock held.
 *
 * The poll lock.  Every event source the host watches is registered in one
 * epoll instance, edge-triggered.  Events are consumed (epoll_wait) only
 * with the poll lock held, and the upcalls for them run before it is
 * released.  So at most one upcall runs at a time, and a thread that
 * changes something and then calls hc_host_poll() is certain to have seen
 * the upcall when hc_host_poll() returns: either it takes the event itself,
 * or another thread took it and still holds the poll lock, on which
 * hc_host_poll() waits.  A thread sleeping in hc_sleep() also watches the
 * epoll descriptor and, when it becomes readable, drains it itself, which
 * saves a hand-off to the dispatcher.
 *
 * Lock order:
 *
 *	poll lock -> kernel locks (taken by the upcalls)
 *	poll lock -> signal lock -> vnode lock -> process lock -> setup lock
 *	    -> sleeper list lock -> callout lock
 *
 * The kernel must never call hc_host_poll() or hc_sleep() with its own
 * locks held.  hc_proc_unwatch() takes the poll lock (so that it cannot
 * race with the upcall for that watch) unless the caller already holds it,
 * i.e. it is called from within an upcall; so the kernel must not call it
 * with a lock that an upcall may take.  The other hc_*_unwatch() calls do
 * not take the poll lock: an upcall for a watch that was just removed may
 * still arrive (the kernel's cookie generations drop it).  The callout lock
 * is never held while a callout function runs, and no host lock is held
 * while hu_fdclose() runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host_impl.h"

_Atomic(const struct hc_upcalls *) host_upcalls;
_Atomic long long host_stats[HC_NSTATS];

int
hc_init(int version, const struct hc_upcalls *up)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (version != HYPERCALL_VERSION || up == NULL)
		return (EINVAL);
	atomic_store(&host_upcalls, up);
	pthread_once(&once, host_fork_register);
	return (0);
}

void *
hc_malloc(unsigned long size, int flags)
{

	if (flags & HC_M_ZERO)
		return (calloc(1, size));
	return (malloc(size));
}

void
hc_free(void *ptr)
{

	free(ptr);
}

long long
hc_clock_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

long long
hc_clock_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

long long
hc_stat(int which)
{

	if (which < 0 || which >= HC_NSTATS)
		return (-1);
	return (atomic_load(&host_stats[which]));
}

/*
 * Write the whole message with write(2) rather than stdio: the caller may
 * be in a state (a panic with locks held) where stdio's lock could block.
 */
static void
host_write_line(const char *prefix, const char *msg)
{
	const char *parts[3] = { prefix, msg != NULL ? msg : "(null)", "\n" };
	size_t i, off, len;
	ssize_t n;

	for (i = 0; i < 3; i++) {
		len = strlen(parts[i]);
		for (off = 0; off < len; off += (size_t)n) {
			n = write(STDERR_FILENO, parts[i] + off, len - off);
			if (n <= 0) {
				if (n < 0 && errno == EINTR) {
					n = 0;
					continue;
				}
				return;
			}
		}
	}
}

void
hc_panic(const char *msg)
{

	host_write_line("evring: panic: ", msg);
	abort();
}

void
hc_log(const char *msg)
{
	int saved = errno;

	host_write_line("evring: ", msg);
	errno = saved;
}

int
host_thread_create(pthread_t *tp, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int error;

	/*
	 * The new thread inherits the creator's mask; block everything
	 * around pthread_create() so no signal can reach it before it
	 * could block them itself.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(tp, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error == 0)
		pthread_detach(*tp);
	/*
	 * A thread that cannot start is a shortage of memory as the calls
	 * that need one document it (kevent.2): pthread_create()'s EAGAIN
	 * is no errno of theirs.
	 */
	return (error == 0 ? 0 : ENOMEM);
}

/*
 * The kernel's per-thread pointer.  The __thread copy is what
 * hc_curthread() reads; the key exists only for its destructor, which
 * tells the kernel the thread is going (its epoch record goes back to the
 * pool, kern_epoch.c).  A fork child keeps the forking thread's pointer;
 * the kernel's fork handler decides what it is worth there.
 */
static __thread void *host_curthread_ptr;
static pthread_key_t host_curthread_key;
static pthread_once_t host_curthread_once = PTHREAD_ONCE_INIT;
static int host_curthread_keyerr;

static void
host_curthread_dtor(void *td)
{
	const struct hc_upcalls *up = atomic_load(&host_upcalls);

	host_curthread_ptr = NULL;
	if (up != NULL && up->hu_threadexit != NULL)
		up->hu_threadexit(td);
}

static void
host_curthread_keyinit(void)
{

	host_curthread_keyerr = pthread_key_create(&host_curthread_key,
	    host_curthread_dtor);
}

void *
hc_curthread(void)
{

	return (host_curthread_ptr);
}

int
hc_curthread_set(void *td)
{
	int error;

	pthread_once(&host_curthread_once, host_curthread_keyinit);
	if (host_curthread_keyerr != 0)
		return (host_curthread_keyerr);
	if ((error = pthread_setspecific(host_curthread_key, td)) != 0)
		return (error);
	host_curthread_ptr = td;
	return (0);
}
