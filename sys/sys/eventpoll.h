/*
 * Kernel-private definitions of the epoll(7), poll(2) and select(2) front
 * ends (sys_epoll.c, sys_generic.c): the Linux ABI values they take and
 * return, and the conventions they share for registering a descriptor's
 * knote.  doc/frontends.md explains the design.
 */
#ifndef _SYS_EVENTPOLL_H_
#define	_SYS_EVENTPOLL_H_

#ifndef _KERNEL
#error "sys/eventpoll.h is kernel-private; programs use <evring/epoll.h>"
#endif

#include <sys/ktypes.h>
#include <sys/hostcall.h>

/* poll(2) bits: the host's, which are Linux's (and epoll's low bits). */
#define	POLLIN		HC_POLLIN
#define	POLLPRI		HC_POLLPRI
#define	POLLOUT		HC_POLLOUT
#define	POLLERR		HC_POLLERR
#define	POLLHUP		HC_POLLHUP
#define	POLLNVAL	0x0020
#define	POLLRDNORM	0x0040
#define	POLLRDBAND	0x0080
#define	POLLWRNORM	0x0100
#define	POLLWRBAND	0x0200
#define	POLLRDHUP	HC_POLLRDHUP

struct pollfd {
	int	fd;
	short	events;
	short	revents;
};

/* epoll(7), Linux's values. */
#define	EPOLLIN		0x00000001u
#define	EPOLLPRI	0x00000002u
#define	EPOLLOUT	0x00000004u
#define	EPOLLERR	0x00000008u
#define	EPOLLHUP	0x00000010u
#define	EPOLLRDNORM	0x00000040u
#define	EPOLLRDBAND	0x00000080u
#define	EPOLLWRNORM	0x00000100u
#define	EPOLLWRBAND	0x00000200u
#define	EPOLLMSG	0x00000400u
#define	EPOLLRDHUP	0x00002000u
#define	EPOLLEXCLUSIVE	0x10000000u
#define	EPOLLWAKEUP	0x20000000u
#define	EPOLLONESHOT	0x40000000u
#define	EPOLLET		0x80000000u

#define	EPOLL_CLOEXEC	02000000	/* O_CLOEXEC */
#define	EPOLL_CTL_ADD	1
#define	EPOLL_CTL_DEL	2
#define	EPOLL_CTL_MOD	3

/* Linux's limit on epoll instances nested inside one another. */
#define	EP_MAX_NESTS	5
/* The longest chain of queues of any kind an epoll_ctl() check follows. */
#define	EP_MAX_HOPS	64

/*
 * struct epoll_event is packed on x86-64 (12 bytes), naturally aligned
 * elsewhere, as in Linux's uapi header.
 */
struct epoll_event {
	uint32_t	events;
	uint64_t	data;
}
#if defined(__x86_64__)
__attribute__((__packed__))
#endif
;

/*
 * How a front end registers interest in a descriptor: one knote, with a
 * read slot always (it reports POLLHUP/POLLERR, which are never optional),
 * a write slot for POLLOUT and an except slot for POLLPRI.  The read slot's
 * registration fflags carry the requested poll bits above bit 8, so that a
 * collected knote says what it was asked for (kr_sfflags); when POLLIN was
 * not asked for, NOTE_LOWAT with an unreachable mark makes the read slot
 * fire only at end of file or error.
 */
#define	FE_SF_SHIFT		8
#define	FE_SF_EVENTS(sf)	(((unsigned)(sf) >> FE_SF_SHIFT) & 0xffffu)
#define	FE_LOWAT_NEVER		INT64_MAX

struct file;
struct kqueue;
/* The descriptor's poll bits now, HC_POLL* (0 on error). */
unsigned fe_readiness(struct file *fp);
/* A collected knote's poll bits, as its delivery re-check read them. */
struct kq_knrec;
unsigned fe_record_bits(const struct kq_knrec *kr);
/* Register (EV_ADD) or re-arm interest in fd for events on kq. */
int	fe_register(struct kqueue *kq, int fd, unsigned events,
	    unsigned short evflags, void *udata);
/* Remove every slot of fd's knote on kq; ENOENT when there is none. */
int	fe_unregister(struct kqueue *kq, int fd);
/* In a fork child: forget the nesting lock another thread may hold. */
void	epoll_forkchild(void);
/* In a fork child: forget the pool of poll()/select() queues. */
void	poll_forkchild(void);
/* A timeout in a timespec (NULL: forever) as a deadline. */

#endif /* !_SYS_EVENTPOLL_H_ */
