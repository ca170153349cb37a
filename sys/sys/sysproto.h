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

#endif /* !_SYS_SYSPROTO_H_ */
