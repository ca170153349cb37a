/*
 * /dev/poll: the library's entry points (evring_devpoll(3)).
 *
 * Linux has no /dev/poll device, so a program reaches the kernel's
 * /dev/poll instances through these: evring_devpoll_open() makes one,
 * evring_devpoll_open_path() does so for the path "/dev/poll" and opens
 * anything else with open(2), and evring_devpoll_write() and
 * evring_devpoll_ioctl() handle /dev/poll descriptors and pass every other
 * descriptor to write(2) and ioctl(2).  <sys/devpoll.h> maps a program's
 * open(), write() and ioctl() onto them.  Closing a /dev/poll descriptor
 * goes through the library's close(), like a kqueue's.
 */
#define	EVRING_DEVPOLL_NO_MACROS

#include <sys/ioctl.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "sys/devpoll.h"
#include "sys/sysproto.h"

#include "start.h"

#define	DEVPOLL_PATH	"/dev/poll"

int
evring_devpoll_open(void)
{
	int error, fd;

	/* Like a kqueue, always close-on-exec: a new image has no kernel. */
	if ((error = kern_devpoll_open(0, &fd)) != 0) {
		errno = error;
		return (-1);
	}
	return (fd);
}

int
evring_devpoll_open_path(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (path != NULL && strcmp(path, DEVPOLL_PATH) == 0) {
		/* It exists, and it is a device: O_CREAT|O_EXCL fails. */
		if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
			errno = EEXIST;
			return (-1);
		}
		if (flags & O_DIRECTORY) {
			errno = ENOTDIR;
			return (-1);
		}
		return (evring_devpoll_open());
	}
	return (open(path, flags, mode));
}

ssize_t
evring_devpoll_write(int fd, const void *buf, size_t len)
{
	long n;
	int error;

	if (kern_devpoll_check(fd) != 0)
		return (write(fd, buf, len));
	if ((error = kern_devpoll_write(fd, buf, len, &n)) != 0) {
		errno = error;
		return (-1);
	}
	return ((ssize_t)n);
}

int
evring_devpoll_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	int error, n;

	/* Every ioctl(2) argument is passed as one word. */
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (kern_devpoll_check(fd) != 0)
		return (ioctl(fd, request, arg));
	if ((error = kern_devpoll_ioctl(fd, request, arg, &n)) != 0) {
		errno = error;
		return (-1);
	}
	return (n);
}
