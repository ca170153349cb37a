/*
 * evring: Solaris/illumos-style /dev/poll.
 *
 * A program written for /dev/poll compiles unchanged against this header:
 * struct dvpoll, DP_POLL, DP_ISPOLLED and POLLREMOVE carry illumos's
 * values, and struct pollfd and the other POLL* bits are the C library's
 * (<poll.h>), whose POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP and
 * POLLNVAL are illumos's values too.  Linux has no /dev/poll device, so
 * unless EVRING_DEVPOLL_NO_MACROS is defined, open(), write() and ioctl()
 * become macros for evring_devpoll_open_path(), evring_devpoll_write() and
 * evring_devpoll_ioctl(), which handle "/dev/poll" and /dev/poll
 * descriptors and pass every other call to the real one.  See
 * evring_devpoll(3) and doc/porting-devpoll.md.
 */
#ifndef _SYS_DEVPOLL_H_
#define	_SYS_DEVPOLL_H_

#ifdef _KERNEL
#include <sys/ktypes.h>

/* The program's struct pollfd (the C library's, the same on illumos). */
struct pollfd {
	int	fd;
	short	events;
	short	revents;
};
typedef unsigned long	nfds_t;
#else
#include <sys/types.h>
#include <sys/ioctl.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#endif

/* ioctl requests, illumos's numbers. */
#define	DPIOC		(0xD0 << 8)
#define	DP_POLL		(DPIOC | 1)	/* wait for events on the set */
#define	DP_ISPOLLED	(DPIOC | 2)	/* is this descriptor in the set */

/*
 * In a pollfd written to /dev/poll: remove the descriptor from the set.
 * illumos's value; the C library's own POLLREMOVE (0x1000, under
 * _GNU_SOURCE) is an unused Linux bit and is replaced.
 */
#ifdef POLLREMOVE
#undef POLLREMOVE
#endif
#define	POLLREMOVE	0x0800

/* The DP_POLL argument (illumos's layout, without DP_PPOLL's dp_setp). */
typedef struct dvpoll {
	struct pollfd	*dp_fds;	/* where ready descriptors go */
	nfds_t		dp_nfds;	/* room in dp_fds[] */
	int		dp_timeout;	/* ms; -1 forever, 0 do not wait */
} dvpoll_t;

#ifndef _KERNEL
#ifdef __cplusplus
extern "C" {
#endif
int	evring_devpoll_open(void);
int	evring_devpoll_open_path(const char *path, int flags, ...);
ssize_t	evring_devpoll_write(int fd, const void *buf, size_t len);
int	evring_devpoll_ioctl(int fd, unsigned long request, ...);
#ifdef __cplusplus
}
#endif

#ifndef EVRING_DEVPOLL_NO_MACROS
#define	open(...)		evring_devpoll_open_path(__VA_ARGS__)
#define	write(fd, buf, len)	evring_devpoll_write((fd), (buf), (len))
#define	ioctl(...)		evring_devpoll_ioctl(__VA_ARGS__)
#endif
#endif /* !_KERNEL */

#endif /* !_SYS_DEVPOLL_H_ */
