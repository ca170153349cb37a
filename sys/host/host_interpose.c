/*
 * Close interposition: the program's close(), dup2(), dup3(),
 * close_range() and closefrom() tell the kernel (hu_fdclose) before the
 * host descriptor goes, so that knotes belong to descriptor numbers as on
 * the BSDs (see sys/sys/file.h).
 *
 * The real operations are made by system call, not through the next
 * definition of the symbol: that cannot recurse, whatever else interposes.
 * The exception is a ThreadSanitizer build, which tracks descriptors in its
 * own close()/dup2()/dup3() interceptors and reports false races on reused
 * descriptor numbers if those are skipped; there the next definition is
 * called (the sanitizer's, or the C library's when the sanitizer's comes
 * first and calls ours).  Closes inside the C library call its internal
 * close; fclose(), pclose() and freopen() are interposed too (see there),
 * others are noticed at the next registration of the number.
 *
 * The host layer's own descriptors (host_fd_own()) are not the program's
 * to close: close() of one fails EBADF, as if it were not open, and
 * close_range() and closefrom() close around them.  A daemon that closes
 * every descriptor at start-up keeps a working library.
 */
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <linux/close_range.h>

#include "host_impl.h"

#define	HOST_EXPORT	__attribute__((__visibility__("default")))

/*
 * Tell the kernel about fd.  Only descriptors the kernel could have seen
 * (at most the highest one given to hc_fd_stat/hc_fd_watch/hc_kqfd_create
 * or returned by hc_fd_alias) are worth an upcall; the rest pass straight
 * through.
 */
static inline const struct hc_upcalls *
host_close_upcalls(void)
{
	const struct hc_upcalls *up;

	up = atomic_load_explicit(&host_upcalls, memory_order_acquire);
	if (up == NULL || up->hu_fdclose == NULL)
		return (NULL);
	return (up);
}

/*
 * Tell the kernel of numbers lo..hi: that they are about to be closed or
 * replaced (hu_fdclose), or, with after, that they have been
 * (hu_fdclosed).
 */
static void
host_fdclose_range(unsigned lo, unsigned hi, int after)
{
	const struct hc_upcalls *up;
	void (*fn)(int);
	int max, saved;
	unsigned fd;

	up = host_close_upcalls();
	if (up == NULL ||
	    (fn = after ? up->hu_fdclosed : up->hu_fdclose) == NULL)
		return;
	max = host_fd_maxfd();
	if (max < 0 || lo > (unsigned)max)
		return;
	if (hi > (unsigned)max)
		hi = (unsigned)max;
	/* The program sees the errno of the close, not of the kernel. */
	saved = errno;
	for (fd = lo; fd <= hi; fd++)
		fn((int)fd);
	errno = saved;
}

/* Numbers lo..hi have been closed or replaced: the kernel hears it again. */
static void
host_closed(unsigned lo, unsigned hi)
{

	host_fdclose_range(lo, hi, 1);
}

/*
 * Numbers lo..hi are about to be closed or replaced: the kernel hears it
 * first (its epoll registrations look for another number on the same
 * description, which the marks help find), then what the host layer keeps
 * per number goes.
 */
static void
host_closing(unsigned lo, unsigned hi)
{

	host_fdclose_range(lo, hi, 0);
	host_soerr_forget(lo, hi);
	host_fd_forget(lo, hi);
}

static int
host_sys_close(int fd)
{

	return ((int)syscall(SYS_close, fd));
}

static int
host_sys_dup3(int oldfd, int newfd, int flags)
{

	return ((int)syscall(SYS_dup3, oldfd, newfd, flags));
}

#ifdef HOST_TSAN
/*
 * Under ThreadSanitizer the next close() and dup3() are TSan's
 * interceptors, which keep its descriptor bookkeeping right; they are
 * looked up once, at load time.  A lazy dlsym() from inside close() breaks
 * when TSan itself closes a descriptor while symbolizing a report (dlsym
 * frees its error state into an allocator TSan is using) and hangs there.
 */
typedef int (*host_close_fn)(int);
typedef int (*host_dup3_fn)(int, int, int);
static host_close_fn host_next_close = host_sys_close;
static host_dup3_fn host_next_dup3 = host_sys_dup3;

/*
 * host_fd_move_high() gives up the number it moved one of the host's
 * descriptors from, which the program is given next.  TSan must see that
 * close, or it takes the program's new descriptor for the old one and
 * reports its creation as a race: so it goes through the first close()
 * in the process, TSan's interceptor, which calls ours, which then only
 * closes it (host_closing_moved).
 */
static host_close_fn host_first_close = host_sys_close;
static __thread int host_closing_moved = -1;

void
host_close_moved(int fd)
{

	host_closing_moved = fd;
	(void)host_first_close(fd);
	host_closing_moved = -1;
}

__attribute__((constructor(101)))
static void
host_interpose_resolve(void)
{
	host_close_fn cfn;
	host_dup3_fn dfn;

	cfn = (host_close_fn)dlsym(RTLD_DEFAULT, "close");
	if (cfn != NULL)
		host_first_close = cfn;
	cfn = (host_close_fn)dlsym(RTLD_NEXT, "close");
	if (cfn != NULL && cfn != close)
		host_next_close = cfn;
	dfn = (host_dup3_fn)dlsym(RTLD_NEXT, "dup3");
	if (dfn != NULL && dfn != dup3)
		host_next_dup3 = dfn;
}

#define	host_real_close(fd)		host_next_close(fd)
#define	host_real_dup3(o, n, f)		host_next_dup3((o), (n), (f))
#define	host_moved(fd)			((fd) == host_closing_moved)
#else
#define	host_real_close		host_sys_close
#define	host_real_dup3		host_sys_dup3
#define	host_moved(fd)		0

void
host_close_moved(int fd)
{

	(void)host_sys_close(fd);
}
#endif

/*
 * close_range(lo, hi, flags) by system call, around the host's own
 * descriptors.  CLOSE_RANGE_UNSHARE goes with the first piece only.
 */
static int
host_close_range_around(unsigned lo, unsigned hi, int flags)
{
	unsigned fd, max;
	int r = 0;

	max = host_fd_maxinternal() < 0 ? 0 :
	    (unsigned)host_fd_maxinternal();
	if (host_fd_maxinternal() >= 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		for (fd = lo; fd <= hi && fd <= max; fd++) {
			if (!host_fd_internal((int)fd))
				continue;
			if (fd > lo && (r = (int)syscall(SYS_close_range, lo,
			    fd - 1, flags)) != 0)
				return (r);
			flags &= ~CLOSE_RANGE_UNSHARE;
			if (fd == hi)
				return (0);
			lo = fd + 1;
		}
	return ((int)syscall(SYS_close_range, lo, hi, flags));
}

HOST_EXPORT int
close(int fd)
{
	int r;

	if (host_moved(fd))
		return (host_real_close(fd));
	if (host_fd_internal(fd)) {
		errno = EBADF;
		return (-1);
	}
	if (fd < 0)
		return (host_real_close(fd));
	host_closing((unsigned)fd, (unsigned)fd);
	r = host_real_close(fd);
	host_closed((unsigned)fd, (unsigned)fd);
	return (r);
}

HOST_EXPORT int
dup3(int oldfd, int newfd, int flags)
{

	/*
	 * Only a dup3() that will succeed closes newfd: a bad oldfd must
	 * not tear down newfd's knotes.
	 */
	int r;

	if (oldfd != newfd && newfd >= 0 &&
	    host_sys_fcntl(oldfd, F_GETFD, 0) != -1)
		host_closing((unsigned)newfd, (unsigned)newfd);
	r = host_real_dup3(oldfd, newfd, flags);
	host_fd_duped(oldfd, r);
	if (r >= 0)
		host_closed((unsigned)r, (unsigned)r);
	return (r);
}

HOST_EXPORT int
dup2(int oldfd, int newfd)
{

	/* dup2(fd, fd) checks fd and does nothing; dup3() refuses it. */
	if (oldfd == newfd) {
		if (host_sys_fcntl(oldfd, F_GETFD, 0) == -1)
			return (-1);
		return (newfd);
	}
	return (dup3(oldfd, newfd, 0));
}

HOST_EXPORT int
close_range(unsigned int lo, unsigned int hi, int flags)
{
	int r;

	/* With CLOSE_RANGE_CLOEXEC nothing is closed now. */
	if (lo > hi || (flags & CLOSE_RANGE_CLOEXEC))
		return (host_close_range_around(lo, hi, flags));
	host_closing(lo, hi);
	r = host_close_range_around(lo, hi, flags);
	host_closed(lo, hi);
	return (r);
}

HOST_EXPORT void
closefrom(int lowfd)
{
	int fd, max, saved;

	saved = errno;
	if (lowfd < 0)
		lowfd = 0;
	host_closing((unsigned)lowfd, UINT_MAX);
	if (host_close_range_around((unsigned)lowfd, UINT_MAX, 0) != 0) {
		/* No close_range(2): close what can be open, one by one. */
		max = (int)sysconf(_SC_OPEN_MAX);
		for (fd = lowfd; fd < max; fd++)
			if (!host_fd_internal(fd))
				(void)syscall(SYS_close, fd);
	}
	host_closed((unsigned)lowfd, UINT_MAX);
	errno = saved;
}

/*
 * fcntl(): F_GETFL and F_SETFL on a queue's descriptor show and set the
 * program's O_NONBLOCK, kept by the kernel (hu_qnonblock), as Linux's
 * epoll descriptor would have it: the host descriptor behind a queue stays
 * non-blocking.  Everything else goes to the C library's fcntl(), which
 * keeps its cancellation point for F_SETLKW.
 */
typedef int (*host_fcntl_fn)(int, int, ...);
static host_fcntl_fn host_next_fcntl;

__attribute__((constructor(101)))
static void
host_fcntl_resolve(void)
{

	host_next_fcntl = (host_fcntl_fn)dlsym(RTLD_NEXT, "fcntl");
}

static int
host_fcntl(int fd, int cmd, long arg)
{
	const struct hc_upcalls *up;
	int flags, nb, r;

	up = atomic_load_explicit(&host_upcalls, memory_order_acquire);
	if ((cmd == F_GETFL || cmd == F_SETFL) && up != NULL &&
	    up->hu_qnonblock != NULL && (nb = up->hu_qnonblock(fd, -1)) >= 0) {
		if (cmd == F_SETFL) {
			if ((int)syscall(SYS_fcntl, fd, F_SETFL,
			    arg | O_NONBLOCK) != 0)
				return (-1);
			(void)up->hu_qnonblock(fd, (arg & O_NONBLOCK) != 0);
			return (0);
		}
		if ((flags = (int)syscall(SYS_fcntl, fd, F_GETFL)) < 0)
			return (-1);
		return (nb ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
	}
	if (host_next_fcntl != NULL && host_next_fcntl != fcntl)
		r = host_next_fcntl(fd, cmd, arg);
	else
		r = (int)syscall(SYS_fcntl, fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		host_fd_duped(fd, r);
	return (r);
}

HOST_EXPORT int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return (host_fcntl(fd, cmd, arg));
}

/* The same call under the name large-file programs use. */
HOST_EXPORT int	fcntl64(int fd, int cmd, ...)
    __attribute__((__alias__("fcntl")));

/*
 * The other calls that give a process a second number on an open file
 * description, noted for hc_fd_alias() (host_alias.c): dup(), and the
 * descriptors that arrive in SCM_RIGHTS messages or from pidfd_getfd().
 * Each calls the C library's own, which keeps its cancellation points.
 */
typedef int (*host_dup_fn)(int);
typedef ssize_t (*host_recvmsg_fn)(int, struct msghdr *, int);
typedef int (*host_recvmmsg_fn)(int, struct mmsghdr *, unsigned int, int,
    struct timespec *);
typedef int (*host_pidfd_getfd_fn)(int, int, unsigned int);
static host_dup_fn host_next_dup;
static host_recvmsg_fn host_next_recvmsg;
static host_recvmmsg_fn host_next_recvmmsg;
static host_pidfd_getfd_fn host_next_pidfd_getfd;

__attribute__((constructor(101)))
static void
host_dup_resolve(void)
{

	host_next_dup = (host_dup_fn)dlsym(RTLD_NEXT, "dup");
	host_next_recvmsg = (host_recvmsg_fn)dlsym(RTLD_NEXT, "recvmsg");
	host_next_recvmmsg = (host_recvmmsg_fn)dlsym(RTLD_NEXT, "recvmmsg");
	host_next_pidfd_getfd = (host_pidfd_getfd_fn)dlsym(RTLD_NEXT,
	    "pidfd_getfd");
}

HOST_EXPORT int
dup(int oldfd)
{
	int r;

	if (host_next_dup != NULL && host_next_dup != dup)
		r = host_next_dup(oldfd);
	else
		r = (int)syscall(SYS_dup, oldfd);
	host_fd_duped(oldfd, r);
	return (r);
}

/* Note every descriptor a received message carried. */
static void
host_msg_received(const struct msghdr *msg)
{
	struct cmsghdr *cm;
	const int *fds;
	size_t i, n;

	if (msg->msg_control == NULL || msg->msg_controllen == 0)
		return;
	for (cm = CMSG_FIRSTHDR(msg); cm != NULL;
	    cm = CMSG_NXTHDR((struct msghdr *)(uintptr_t)msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (const int *)(const void *)CMSG_DATA(cm);
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++)
			host_fd_received(fds[i]);
	}
}

HOST_EXPORT ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r;

	if (host_next_recvmsg != NULL && host_next_recvmsg != recvmsg)
		r = host_next_recvmsg(fd, msg, flags);
	else
		r = syscall(SYS_recvmsg, fd, msg, flags);
	if (r >= 0 && msg != NULL)
		host_msg_received(msg);
	return (r);
}

HOST_EXPORT int
recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
    struct timespec *timeout)
{
	int i, r;

	if (host_next_recvmmsg != NULL && host_next_recvmmsg != recvmmsg)
		r = host_next_recvmmsg(fd, vec, vlen, flags, timeout);
	else
		r = (int)syscall(SYS_recvmmsg, fd, vec, vlen, flags, timeout);
	for (i = 0; i < r; i++)
		host_msg_received(&vec[i].msg_hdr);
	return (r);
}

HOST_EXPORT int
pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	int r;

	if (host_next_pidfd_getfd != NULL &&
	    host_next_pidfd_getfd != pidfd_getfd)
		r = host_next_pidfd_getfd(pidfd, targetfd, flags);
	else
		r = (int)syscall(SYS_pidfd_getfd, pidfd, targetfd, flags);
	if (r >= 0)
		host_fd_received(r);
	return (r);
}

/*
 * getsockopt(SO_ERROR) also returns an error that the kernel read (and so
 * cleared) to report it in an EV_EOF event's fflags: see host_soerr_stash().
 * A newer error pending on the socket wins and discards the kept one.
 */
HOST_EXPORT int
getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	int error, kept;

	error = (int)syscall(SYS_getsockopt, fd, level, optname, optval,
	    optlen);
	if (error != 0 || level != SOL_SOCKET || optname != SO_ERROR ||
	    optval == NULL || optlen == NULL || *optlen < sizeof(int))
		return (error);
	kept = host_soerr_take(fd);
	if (kept != 0 && *(int *)optval == 0)
		*(int *)optval = kept;
	return (0);
}

/*
 * fclose(), pclose() and freopen() close the stream's descriptor inside
 * the C library, where close() above cannot see it.  With the epoll
 * backend the kernel would notice at the next registration of the number;
 * with io_uring the descriptor's poll request holds the file, so until
 * then a socket would send no FIN and a pipe would keep its writer
 * blocked (pclose() of a child writing to a full pipe would wait forever).
 * So they tell the kernel first, as close() does.  The C library's
 * functions are looked up once, at load time (see host_interpose_resolve()
 * for why not lazily), and again if a call comes first.
 */
typedef int (*host_fclose_fn)(FILE *);
typedef FILE *(*host_freopen_fn)(const char *, const char *, FILE *);
static host_fclose_fn host_next_fclose, host_next_pclose;
static host_freopen_fn host_next_freopen;

__attribute__((constructor(101)))
static void
host_stdio_resolve(void)
{

	host_next_fclose = (host_fclose_fn)dlsym(RTLD_NEXT, "fclose");
	host_next_pclose = (host_fclose_fn)dlsym(RTLD_NEXT, "pclose");
	host_next_freopen = (host_freopen_fn)dlsym(RTLD_NEXT, "freopen");
}

static void
host_stdio_fdclose(FILE *fp)
{
	int fd, saved;

	if (host_next_fclose == NULL || host_next_pclose == NULL ||
	    host_next_freopen == NULL)
		host_stdio_resolve();
	saved = errno;
	fd = fp != NULL ? fileno(fp) : -1;	/* -1: no descriptor */
	errno = saved;
	if (fd >= 0)
		host_closing((unsigned)fd, (unsigned)fd);
}

HOST_EXPORT int
fclose(FILE *fp)
{

	host_stdio_fdclose(fp);
	return (host_next_fclose(fp));
}

HOST_EXPORT int
pclose(FILE *fp)
{

	host_stdio_fdclose(fp);
	return (host_next_pclose(fp));
}

HOST_EXPORT FILE *
freopen(const char *path, const char *mode, FILE *fp)
{

	host_stdio_fdclose(fp);
	return (host_next_freopen(path, mode, fp));
}
