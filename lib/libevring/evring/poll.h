/*
 * <evring/poll.h>: poll(2), ppoll(2), select(2) and pselect(2) on evring's
 * kernel.
 *
 * Include it instead of (or after) <poll.h> and <sys/select.h>: the types
 * and constants are the system's, and unless EVRING_NO_RENAME is defined
 * the libc names become evring's functions, so a program written for them
 * compiles unchanged.  The renaming macros are function-like, so that a
 * structure member or variable called poll or select is left alone (and
 * &poll is still libc's).  See evring_poll(3).
 */
#ifndef _EVRING_POLL_H_
#define	_EVRING_POLL_H_

#include <sys/select.h>
#include <sys/time.h>

#include <poll.h>
#include <signal.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

int	evring_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int	evring_ppoll(struct pollfd *fds, nfds_t nfds,
	    const struct timespec *timeout, const sigset_t *sigmask);
int	evring_select(int nfds, fd_set *readfds, fd_set *writefds,
	    fd_set *exceptfds, struct timeval *timeout);
int	evring_pselect(int nfds, fd_set *readfds, fd_set *writefds,
	    fd_set *exceptfds, const struct timespec *timeout,
	    const sigset_t *sigmask);

#ifndef EVRING_NO_RENAME
/* Variadic, so that an argument with a comma (a compound literal) passes. */
#define	poll(...)	evring_poll(__VA_ARGS__)
#define	ppoll(...)	evring_ppoll(__VA_ARGS__)
#define	select(...)	evring_select(__VA_ARGS__)
#define	pselect(...)	evring_pselect(__VA_ARGS__)
#endif

#ifdef __cplusplus
}
#endif

#endif /* !_EVRING_POLL_H_ */
