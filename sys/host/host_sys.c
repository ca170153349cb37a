/*
 * The host layer's own calls to interfaces that something in the process
 * may define over the C library's: poll(), ppoll(), epoll_create1(),
 * epoll_ctl(), epoll_wait() and fcntl().
 *
 * Called by name, each would bind to the first definition in the process.
 * Under libevring-preload.so that is the preload's own, which routes the
 * call into the kernel, and the kernel would call back into the host: a
 * recursion that ends in a deadlock or a stack overflow.  A program may
 * also define them (a test harness, a sandbox).  So the host makes these
 * calls by system call, which nothing can capture.  t_preload:no_recursion
 * proves it.
 *
 * The exception is a ThreadSanitizer build of libevring.so, as for
 * close() in host_interpose.c: TSan's interceptors of these calls record
 * the happens-before edges between epoll_ctl() and epoll_wait() and the
 * descriptors' lives, and skipping them could give false reports.  There a
 * call goes to the first definition outside this library (the sanitizer's
 * interceptor, or the C library's), looked up once at load time.  Not in
 * the preload, though: the interceptor calls the next definition after
 * the sanitizer's runtime, which is the preload's own, so there too the
 * system call is the only way out.
 */
#include <sys/epoll.h>
#include <sys/syscall.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "host_impl.h"

/* What the system calls take as their sigset size: the kernel's sigset. */
#define	HOST_KSIGSET_SIZE	(_NSIG / 8)

static int
host_raw_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
#ifdef SYS_poll
	return ((int)syscall(SYS_poll, fds, nfds, timeout));
#else
	struct timespec ts;

	if (timeout < 0)
		return ((int)syscall(SYS_ppoll, fds, nfds, NULL, NULL,
		    HOST_KSIGSET_SIZE));
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
	return ((int)syscall(SYS_ppoll, fds, nfds, &ts, NULL,
	    HOST_KSIGSET_SIZE));
#endif
}

static int
host_raw_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tsp,
    const sigset_t *sigmask)
{
	struct timespec ts;

	/* The system call writes the time left back; the C library's not. */
	if (tsp != NULL) {
		ts = *tsp;
		tsp = &ts;
	}
	return ((int)syscall(SYS_ppoll, fds, nfds, tsp, sigmask,
	    HOST_KSIGSET_SIZE));
}

static int
host_raw_epoll_create1(int flags)
{

	return ((int)syscall(SYS_epoll_create1, flags));
}

static int
host_raw_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{

	return ((int)syscall(SYS_epoll_ctl, epfd, op, fd, ev));
}

static int
host_raw_epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout)
{

	/* Every architecture has epoll_pwait; not all have epoll_wait. */
	return ((int)syscall(SYS_epoll_pwait, epfd, ev, n, timeout, NULL,
	    HOST_KSIGSET_SIZE));
}

static int
host_raw_fcntl(int fd, int cmd, long arg)
{

	return ((int)syscall(SYS_fcntl, fd, cmd, arg));
}

typedef int (*host_poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*host_ppoll_fn)(struct pollfd *, nfds_t,
    const struct timespec *, const sigset_t *);
typedef int (*host_epoll_create1_fn)(int);
typedef int (*host_epoll_ctl_fn)(int, int, int, struct epoll_event *);
typedef int (*host_epoll_wait_fn)(int, struct epoll_event *, int, int);
typedef int (*host_fcntl_fn)(int, int, long);

/* The calls made; only a TSan build of libevring.so changes them. */
static host_poll_fn host_next_poll = host_raw_poll;
static host_ppoll_fn host_next_ppoll = host_raw_ppoll;
static host_epoll_create1_fn host_next_epoll_create1 = host_raw_epoll_create1;
static host_epoll_ctl_fn host_next_epoll_ctl = host_raw_epoll_ctl;
static host_epoll_wait_fn host_next_epoll_wait = host_raw_epoll_wait;
static host_fcntl_fn host_next_fcntl = host_raw_fcntl;

#ifdef HOST_TSAN
/* Defined (as 1) only in libevring-preload.so, by preload.c. */
extern const int host_sys_preloaded
    __attribute__((__weak__, __visibility__("hidden")));

/* The first definition of name that is not in this shared object. */
static void *
host_sys_next(const char *name)
{
	Dl_info self, def;
	void *fn;

	fn = dlsym(RTLD_DEFAULT, name);
	if (fn != NULL && dladdr((void *)host_sys_next, &self) != 0 &&
	    dladdr(fn, &def) != 0 && def.dli_fbase == self.dli_fbase)
		fn = dlsym(RTLD_NEXT, name);
	return (fn);
}

#define	HOST_SYS_RESOLVE(name) do {					\
	void *fn_;							\
									\
	if ((fn_ = host_sys_next(#name)) != NULL)			\
		host_next_##name = (host_##name##_fn)fn_;		\
} while (0)

__attribute__((constructor(101)))
static void
host_sys_resolve(void)
{

	if (&host_sys_preloaded != NULL)
		return;
	HOST_SYS_RESOLVE(poll);
	HOST_SYS_RESOLVE(ppoll);
	HOST_SYS_RESOLVE(epoll_create1);
	HOST_SYS_RESOLVE(epoll_ctl);
	HOST_SYS_RESOLVE(epoll_wait);
	/* fcntl() is variadic; its third argument is passed as a long. */
	HOST_SYS_RESOLVE(fcntl);
}
#endif /* HOST_TSAN */

int
host_sys_poll(struct pollfd *fds, unsigned long nfds, int timeout)
{

	return (host_next_poll(fds, (nfds_t)nfds, timeout));
}

int
host_sys_ppoll(struct pollfd *fds, unsigned long nfds,
    const struct timespec *tsp, const sigset_t *sigmask)
{

	return (host_next_ppoll(fds, (nfds_t)nfds, tsp, sigmask));
}

int
host_sys_epoll_create1(int flags)
{

	return (host_next_epoll_create1(flags));
}

int
host_sys_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{

	return (host_next_epoll_ctl(epfd, op, fd, ev));
}

int
host_sys_epoll_wait(int epfd, struct epoll_event *ev, int n, int timeout)
{

	return (host_next_epoll_wait(epfd, ev, n, timeout));
}

int
host_sys_fcntl(int fd, int cmd, long arg)
{

	return (host_next_fcntl(fd, cmd, arg));
}
