/*
 * The system-call stubs: the library's exported kqueue entry points.
 *
 * Each calls the kernel, which returns 0 or a positive errno, and turns
 * that into the C library's convention (-1 and errno), as a real system
 * call stub does.  The kernel starts when the library is loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "sys/event.h"
#include "sys/evring.h"
#include "sys/sysproto.h"

#include "cancel.h"

static pthread_once_t evring_started = PTHREAD_ONCE_INIT;

static void
evring_start1(void)
{
	int error;

	if ((error = kern_init()) != 0) {
		fprintf(stderr, "libevring: kernel start failed: errno %d\n",
		    error);
		abort();
	}
}

/*
 * Start the kernel if it has not started: for entry points that another
 * library's constructor may call before ours has run, which is the
 * preload's lot (lib/preload/preload.c).
 */
__attribute__((__visibility__("hidden"))) void
evring_start_once(void)
{

	(void)pthread_once(&evring_started, evring_start1);
}

__attribute__((constructor)) static void
evring_start(void)
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

	v = kern_stat(which);
	if (v < 0)
		errno = EINVAL;
	return (v);
}
