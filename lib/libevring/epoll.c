/*
 * The epoll(7) entry points: evring_epoll_create(), evring_epoll_create1(),
 * evring_epoll_ctl(), evring_epoll_wait(), evring_epoll_pwait() and
 * evring_epoll_pwait2().  Each calls the kernel (sys_epoll.c) and turns
 * its errno into -1 and errno, as a system call stub does.  Programs reach
 * them under the libc names through <evring/epoll.h>.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <signal.h>
#include <time.h>

#include "sys/sysproto.h"

#include "start.h"
#include "evring/epoll.h"

#include "cancel.h"

static int
ret(int error, int value)
{

	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (value);
}

int
evring_epoll_create1(int flags)
{
	int error, fd = -1;

	/* Like every queue, an instance is close-on-exec regardless. */
	error = kern_epoll_create(flags, &fd);
	return (ret(error, fd));
}

int
evring_epoll_create(int size)
{

	if (size <= 0)
		return (ret(EINVAL, 0));
	return (evring_epoll_create1(0));
}

int
evring_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{

	return (ret(kern_epoll_ctl(epfd, op, fd, event), 0));
}

static const struct timespec *
ms_to_ts(int timeout, struct timespec *ts)
{

	if (timeout < 0)
		return (NULL);
	ts->tv_sec = timeout / 1000;
	ts->tv_nsec = (long)(timeout % 1000) * 1000000L;
	return (ts);
}

int
evring_epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
    const struct timespec *timeout, const sigset_t *sigmask)
{
	int cs, error, n = 0;

	/* A cancellation point at entry and return, as kevent(2). */
	cs = evring_cancel_off();
	error = kern_epoll_wait(epfd, events, maxevents, timeout, sigmask, &n);
	evring_cancel_restore(cs);
	/*
	 * epoll_wait() has no errno for running out of descriptors (the
	 * eventfd of a thread's first sleep): a shortage of kernel
	 * resources, as ENOMEM says (evring_epoll(3)).
	 */
	if (error == EMFILE || error == ENFILE)
		error = ENOMEM;
	return (ret(error, n));
}

int
evring_epoll_pwait(int epfd, struct epoll_event *events, int maxevents,
    int timeout, const sigset_t *sigmask)
{
	struct timespec ts;

	return (evring_epoll_pwait2(epfd, events, maxevents,
	    ms_to_ts(timeout, &ts), sigmask));
}

int
evring_epoll_wait(int epfd, struct epoll_event *events, int maxevents,
    int timeout)
{

	return (evring_epoll_pwait(epfd, events, maxevents, timeout, NULL));
}
