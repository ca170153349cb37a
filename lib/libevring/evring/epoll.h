/*
 * <evring/epoll.h>: epoll(7) on evring's kernel.
 *
 * Include it instead of (or after) <sys/epoll.h>: the types and constants
 * are the system's, and unless EVRING_NO_RENAME is defined the libc names
 * are macros for evring's functions, so a program written for epoll
 * compiles unchanged against them.  See evring_epoll(3).
 */
#ifndef _EVRING_EPOLL_H_
#define	_EVRING_EPOLL_H_

#include <sys/epoll.h>
#include <sys/event.h>

#include <signal.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

int	evring_epoll_create(int size);
int	evring_epoll_create1(int flags);
int	evring_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
int	evring_epoll_wait(int epfd, struct epoll_event *events, int maxevents,
	    int timeout);
int	evring_epoll_pwait(int epfd, struct epoll_event *events,
	    int maxevents, int timeout, const sigset_t *sigmask);
int	evring_epoll_pwait2(int epfd, struct epoll_event *events,
	    int maxevents, const struct timespec *timeout,
	    const sigset_t *sigmask);

/*
 * An epoll instance with an event ring attached (kevent_ring_attach(2))
 * delivers struct kevent records, one per slot of a descriptor's
 * registration: EVFILT_READ (EPOLLIN, and end of file or an error, which
 * epoll always reports), EVFILT_WRITE (EPOLLOUT), EVFILT_EXCEPT (EPOLLPRI),
 * each with udata holding the registration's epoll_data.  This turns one
 * record into the epoll_event epoll_wait() would have reported for that
 * slot (several records of one descriptor OR together).
 */
static inline struct epoll_event
evring_epoll_event(const struct kevent *kev)
{
	struct epoll_event ev;
	uint32_t bits = 0;

	switch (kev->filter) {
	case EVFILT_READ:
		if ((kev->flags & EV_EOF) == 0 || kev->data > 0)
			bits |= EPOLLIN;
		if (kev->flags & EV_EOF)
			bits |= EPOLLRDHUP | EPOLLHUP;
		if ((kev->flags & EV_EOF) && kev->fflags != 0)
			bits |= EPOLLERR;
		break;
	case EVFILT_WRITE:
		bits |= (kev->flags & EV_EOF) ? EPOLLHUP : EPOLLOUT;
		if ((kev->flags & EV_EOF) && kev->fflags != 0)
			bits |= EPOLLERR;
		break;
	case EVFILT_EXCEPT:
		bits |= EPOLLPRI;
		break;
	}
	ev.events = bits;
	ev.data.u64 = (uint64_t)(uintptr_t)kev->udata;
	return (ev);
}

#ifndef EVRING_NO_RENAME
#define	epoll_create	evring_epoll_create
#define	epoll_create1	evring_epoll_create1
#define	epoll_ctl	evring_epoll_ctl
#define	epoll_wait	evring_epoll_wait
#define	epoll_pwait	evring_epoll_pwait
#define	epoll_pwait2	evring_epoll_pwait2
#endif

#ifdef __cplusplus
}
#endif

#endif /* !_EVRING_EPOLL_H_ */
