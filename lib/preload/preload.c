/*
 * libevring-preload.so: an unmodified program's epoll, poll and select
 * calls routed through evring, by LD_PRELOAD.  See libevring-preload(8).
 *
 * The library is libevring itself (kernel, host layer, entry points) plus
 * the definitions below, which take the C library's names.  Being the
 * whole library rather than a shim in front of libevring.so matters:
 * LD_PRELOAD puts this object ahead of the C library in the lookup order,
 * but the objects it needs come after the C library, so libevring.so's
 * close(), dup2(), sigaction() and friends would never be reached.  Here
 * they are ours too.  The symbols are unversioned (preload.map), so that
 * they bind the program's versioned references to the C library's
 * (epoll_wait@GLIBC_2.3.2) as well as a libevring program's (kevent@
 * EVRING_0.1): a program linked with libevring and also preloaded has one
 * kernel, this one.
 *
 * dup(), dup2(), dup3() and fcntl(F_DUPFD) need nothing here: a
 * registration follows its open file description, and an epoll instance
 * lives as long as any of its descriptors, by what the kernel does when a
 * descriptor is closed (evring_epoll(3)).
 *
 * The host layer never calls these names itself (host_sys.c): it would
 * recurse into the kernel.
 */
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sys/event.h"
#include "sys/evring.h"
/* The evring_* names; the C library's are the ones defined here. */
#define	EVRING_NO_RENAME
#include "evring/epoll.h"
#include "evring/poll.h"

#define	PRELOAD_EXPORT	__attribute__((__visibility__("default")))

/*
 * Tells the host layer that it is in the preload, where even a
 * sanitizer's interceptor of poll() or epoll_wait() leads back here
 * (host_sys.c).
 */
__attribute__((__visibility__("hidden")))
const int host_sys_preloaded = 1;

/* The fortified C library's failure exit (glibc exports it). */
extern void __chk_fail(void) __attribute__((__noreturn__));

/*
 * Starts the kernel once (lib/libevring/kevent.c).  Another library's
 * constructor may run before ours and already call epoll or poll; each
 * entry point below makes sure the kernel is up first.
 */
void	evring_start_once(void) __attribute__((__visibility__("hidden")));

/*
 * Calls routed, for EVRING_PRELOAD_STATS: proof that a program's calls
 * really went through evring, which a benchmark must not take on trust.
 * Counting is also where every entry point starts the kernel if need be.
 */
enum {
	PS_EPOLL_CREATE,
	PS_EPOLL_CTL,
	PS_EPOLL_WAIT,
	PS_POLL,
	PS_SELECT,
	PS_N
};
static const char *const preload_statname[PS_N] = {
	[PS_EPOLL_CREATE] = "epoll_create",
	[PS_EPOLL_CTL] = "epoll_ctl",
	[PS_EPOLL_WAIT] = "epoll_wait",
	[PS_POLL] = "poll",
	[PS_SELECT] = "select",
};
static _Atomic unsigned long long preload_stats[PS_N];

static inline void
preload_count(int which)
{

	evring_start_once();
	atomic_fetch_add_explicit(&preload_stats[which], 1,
	    memory_order_relaxed);
}

PRELOAD_EXPORT int
epoll_create(int size)
{

	preload_count(PS_EPOLL_CREATE);
	return (evring_epoll_create(size));
}

PRELOAD_EXPORT int
epoll_create1(int flags)
{

	preload_count(PS_EPOLL_CREATE);
	return (evring_epoll_create1(flags));
}

PRELOAD_EXPORT int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{

	preload_count(PS_EPOLL_CTL);
	return (evring_epoll_ctl(epfd, op, fd, event));
}

PRELOAD_EXPORT int
epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{

	preload_count(PS_EPOLL_WAIT);
	return (evring_epoll_wait(epfd, events, maxevents, timeout));
}

PRELOAD_EXPORT int
epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
    const sigset_t *sigmask)
{

	preload_count(PS_EPOLL_WAIT);
	return (evring_epoll_pwait(epfd, events, maxevents, timeout, sigmask));
}

PRELOAD_EXPORT int
epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
    const struct timespec *timeout, const sigset_t *sigmask)
{

	preload_count(PS_EPOLL_WAIT);
	return (evring_epoll_pwait2(epfd, events, maxevents, timeout,
	    sigmask));
}

PRELOAD_EXPORT int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{

	preload_count(PS_POLL);
	return (evring_poll(fds, nfds, timeout));
}

PRELOAD_EXPORT int
ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
    const sigset_t *sigmask)
{

	preload_count(PS_POLL);
	return (evring_ppoll(fds, nfds, timeout, sigmask));
}

/*
 * _FORTIFY_SOURCE turns poll() and ppoll() on an array of known size
 * into these, which check the array against nfds first, as glibc's do.
 */
PRELOAD_EXPORT int
__poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{

	if (fdslen / sizeof(*fds) < nfds)
		__chk_fail();
	preload_count(PS_POLL);
	return (evring_poll(fds, nfds, timeout));
}

PRELOAD_EXPORT int
__ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
    const sigset_t *sigmask, size_t fdslen)
{

	if (fdslen / sizeof(*fds) < nfds)
		__chk_fail();
	preload_count(PS_POLL);
	return (evring_ppoll(fds, nfds, timeout, sigmask));
}

PRELOAD_EXPORT int
select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
    struct timeval *timeout)
{

	preload_count(PS_SELECT);
	return (evring_select(nfds, readfds, writefds, exceptfds, timeout));
}

PRELOAD_EXPORT int
pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
    const struct timespec *timeout, const sigset_t *sigmask)
{

	preload_count(PS_SELECT);
	return (evring_pselect(nfds, readfds, writefds, exceptfds, timeout,
	    sigmask));
}

/*
 * EVRING_PRELOAD_STATS: "1" (or "stderr") prints the counts to standard
 * error when the process exits; an absolute path appends them to that
 * file instead, for daemons whose standard error goes elsewhere.  One
 * line per process, written with one write(2):
 *
 *	evring-preload: pid 42 epoll_create 1 epoll_ctl 9 epoll_wait 310
 *	    poll 0 select 0 hostreg_total 7
 *
 * A fork child starts from zero, so each line counts its own process.
 */
static char *preload_statsdest;

static void
preload_forkchild(void)
{
	int i;

	for (i = 0; i < PS_N; i++)
		atomic_store_explicit(&preload_stats[i], 0,
		    memory_order_relaxed);
}

__attribute__((constructor))
static void
preload_start(void)
{
	const char *v;

	v = getenv("EVRING_PRELOAD_STATS");
	if (v == NULL || *v == '\0' || strcmp(v, "0") == 0)
		return;
	/* The environment may change under us; keep our own copy. */
	preload_statsdest = strdup(v);
	(void)pthread_atfork(NULL, NULL, preload_forkchild);
}

__attribute__((destructor))
static void
preload_report(void)
{
	char line[512];
	size_t len;
	int fd, i, n, saved;

	if (preload_statsdest == NULL)
		return;
	saved = errno;
	n = snprintf(line, sizeof(line), "evring-preload: pid %ld",
	    (long)getpid());
	for (i = 0; i < PS_N && n > 0 && (size_t)n < sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %llu",
		    preload_statname[i], atomic_load(&preload_stats[i]));
	if (n > 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n,
		    " hostreg_total %lld\n",
		    evring_stat(EVRING_STAT_HOSTREG_TOTAL));
	if (n <= 0 || (size_t)n >= sizeof(line)) {
		errno = saved;
		return;
	}
	len = (size_t)n;
	if (preload_statsdest[0] == '/') {
		fd = open(preload_statsdest,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			(void)write(fd, line, len);
			/* By system call: the kernel has nothing to hear. */
			(void)syscall(SYS_close, fd);
		}
	} else
		(void)write(STDERR_FILENO, line, len);
	errno = saved;
}
