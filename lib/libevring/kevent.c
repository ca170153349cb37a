/*
 * The system-call stubs: the library's exported kqueue entry points.
 *
 * Each calls the kernel, which returns 0 or a positive errno, and turns
 * that into the C library's convention (-1 and errno), as a real system
 * call stub does.  The kernel starts when the library is loaded, or at the
 * first call after a start that failed (start.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sys/event.h"
#include "sys/evring.h"
#include "sys/sysproto.h"

#include "start.h"

#include "cancel.h"

_Atomic int evring_started;
static pthread_mutex_t evring_start_mtx = PTHREAD_MUTEX_INITIALIZER;

/*
 * A start that fails leaves what it made for the next try to keep
 * (kern_init() may be called again), and no entry point reaches the
 * kernel until one succeeds.
 */
int
evring_start_slow(void)
{
	int error = 0;

	pthread_mutex_lock(&evring_start_mtx);
	if (!atomic_load_explicit(&evring_started, memory_order_relaxed) &&
	    (error = kern_init()) == 0)
		atomic_store_explicit(&evring_started, 1,
		    memory_order_release);
	pthread_mutex_unlock(&evring_start_mtx);
	return (error);
}

/*
 * Start the kernel if it has not started: for entry points that another
 * library's constructor may call before ours has run, which is the
 * preload's lot (lib/preload/preload.c).
 */
__attribute__((__visibility__("hidden"))) void
evring_start_once(void)
{

	(void)evring_start();
}

__attribute__((constructor)) static void
evring_start_ctor(void)
{

	evring_start_once();
}

int
kqueue1(int flags)
{
	int error, fd;

	/* Queues are always close-on-exec: a new image has no kernel. */
	if ((flags & ~O_CLOEXEC) != 0) {
		errno = EINVAL;
		return (-1);
	}
	if ((error = kern_kqueue(0, &fd)) != 0) {
		errno = error;
		return (-1);
	}
	return (fd);
}

int
kqueue(void)
{

	return (kqueue1(0));
}

int
kevent(int kq, const struct kevent *changelist, int nchanges,
    struct kevent *eventlist, int nevents, const struct timespec *timeout)
{
	int cs, error, n;

	/*
	 * As FreeBSD's libthr: a call with no room for events cannot block
	 * and is not a cancellation point; one with room acts on a request
	 * at its entry, and at its return only if it failed and made no
	 * changes, so that a cancelled thread never loses knowledge of
	 * changes applied or events taken.  Inside, cancellation is off
	 * (cancel.h).
	 */
	cs = evring_cancel_off_if(nevents > 0);
	error = kern_kevent(kq, changelist, nchanges, eventlist, nevents,
	    timeout, &n);
	evring_cancel_restore_if(cs, nevents > 0 && error != 0 &&
	    nchanges == 0);
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (n);
}

long long
evring_stat(int which)
{
	long long v;

	/* A kernel that could not start holds nothing (and counts nothing). */
	if (evring_start() != 0)
		return (0);
	v = kern_stat(which);
	if (v < 0)
		errno = EINVAL;
	return (v);
}
