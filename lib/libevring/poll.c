/*
 * The poll(2) and select(2) entry points: evring_poll(), evring_ppoll(),
 * evring_select() and evring_pselect(), on the kernel's knotes
 * (sys_generic.c).  Programs reach them under the libc names through
 * <evring/poll.h>.
 */
#include <sys/select.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "sys/sysproto.h"

#include "start.h"
#include "evring/poll.h"

#include "cancel.h"

/*
 * poll() and select() have no errno for running out of descriptors: the
 * host's, for the queue a call keeps or a thread's first sleep, are a
 * shortage of kernel resources as ENOMEM says (evring_poll(3)).
 */
static int
ret(int error, int value)
{

	if (error == EMFILE || error == ENFILE)
		error = ENOMEM;
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (value);
}

int
evring_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
    const sigset_t *sigmask)
{
	int cs, error, n = 0;

	/* A cancellation point at entry and return, as kevent(2). */
	cs = evring_cancel_off();
	error = kern_poll(fds, (unsigned long)nfds, timeout, sigmask, &n);
	evring_cancel_restore(cs);
	return (ret(error, n));
}

int
evring_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct timespec ts;

	if (timeout < 0)
		return (evring_ppoll(fds, nfds, NULL, NULL));
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
	return (evring_ppoll(fds, nfds, &ts, NULL));
}

int
evring_select(int nfds, fd_set *readfds, fd_set *writefds,
    fd_set *exceptfds, struct timeval *timeout)
{
	int cs, error, n = 0;

	/* The kernel reads and updates the timeval itself (EFAULT). */
	cs = evring_cancel_off();
	error = kern_select(nfds, readfds, writefds, exceptfds, timeout, 1,
	    NULL, &n);
	evring_cancel_restore(cs);
	return (ret(error, n));
}

int
evring_pselect(int nfds, fd_set *readfds, fd_set *writefds,
    fd_set *exceptfds, const struct timespec *timeout,
    const sigset_t *sigmask)
{
	int cs, error, n = 0;

	cs = evring_cancel_off();
	error = kern_select(nfds, readfds, writefds, exceptfds,
	    (void *)(uintptr_t)timeout, 0, sigmask, &n);
	evring_cancel_restore(cs);
	return (ret(error, n));
}
