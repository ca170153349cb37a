/*
 * The kernel's system-call entry points, as lib/libevring calls them.
 *
 * Includes nothing, so that both the freestanding kernel and the userland
 * library can include it.  Each returns 0 or a positive errno; the library
 * turns that into -1 and errno, as a system call stub does.
 */
#ifndef _SYS_SYSPROTO_H_
#define	_SYS_SYSPROTO_H_

struct kevent;
struct timespec;

int	kern_init(void);
int	kern_kqueue(int flags, int *fdp);
int	kern_kevent(int fd, const struct kevent *changelist, int nchanges,
	    struct kevent *eventlist, int nevents,
	    const struct timespec *timeout, int *retval);
long long kern_stat(int which);

/* The event ring (kern_evring.c). */
int	kern_kevent_ring_attach(int fd, unsigned int entries);
int	kern_kevent_ring_detach(int fd);
int	kern_kevent_ring_map(int fd, void **addrp, unsigned long *sizep,
	    unsigned int *entriesp, unsigned int *recoffp);
int	kern_kevent_wait(int fd, unsigned int ringstate,
	    const struct timespec *timeout, const void *sigmask, int *retval);
int	kern_kevent_ring_putback(int fd, const struct kevent *kev);
int	kern_kqueue_setprop(int fd, int prop, long long value);
int	kern_kqueue_getprop(int fd, int prop, long long *valuep);

/* /dev/poll (sys_devpoll.c); check is 0 for a /dev/poll descriptor. */
int	kern_devpoll_open(int flags, int *fdp);
int	kern_devpoll_check(int fd);
int	kern_devpoll_write(int fd, const void *buf, unsigned long len,
	    long *retval);
int	kern_devpoll_ioctl(int fd, unsigned long request, void *arg,
	    int *retval);

/* epoll (sys_epoll.c), poll and select (sys_generic.c). */
struct epoll_event;
struct pollfd;
int	kern_epoll_create(int flags, int *fdp);
int	kern_epoll_ctl(int epfd, int op, int fd,
	    const struct epoll_event *event);
int	kern_epoll_wait(int epfd, struct epoll_event *events, int maxevents,
	    const struct timespec *timeout, const void *sigmask, int *retval);
int	kern_poll(struct pollfd *fds, unsigned long nfds,
	    const struct timespec *timeout, const void *sigmask, int *retval);
int	kern_select(int nfds, void *readfds, void *writefds,
	    void *exceptfds, void *timeout, int istimeval,
	    const void *sigmask, int *retval);

#endif /* !_SYS_SYSPROTO_H_ */
