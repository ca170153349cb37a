/*
 * t_devpoll: Solaris/illumos /dev/poll on the kqueue core.  The program is
 * written as a Solaris program is: it includes <sys/devpoll.h> and calls
 * open("/dev/poll"), write() and ioctl(), which the header maps onto
 * evring_devpoll_open_path(), evring_devpoll_write() and
 * evring_devpoll_ioctl() (every other descriptor passes through to the real
 * calls, which the pipes and sockets here exercise too).
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h_evring.h"

/* Last, as a Solaris program would: open/write/ioctl become macros. */
#include <sys/devpoll.h>

static int
dp_open(void)
{
	int dp;

	dp = open("/dev/poll", O_RDWR);
	ATF_REQUIRE_MSG(dp >= 0, "open(/dev/poll): %s", strerror(errno));
	return (dp);
}

/* Write one pollfd; returns write()'s result. */
static ssize_t
dp_write1(int dp, int fd, short events)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	return (write(dp, &pfd, sizeof(pfd)));
}

#define	DP_ADD(dp, fd, ev)						\
	ATF_REQUIRE_MSG(dp_write1((dp), (fd), (ev)) ==			\
	    (ssize_t)sizeof(struct pollfd), "write(/dev/poll): %s",	\
	    strerror(errno))

/* DP_POLL into fds[nfds] with a timeout in ms; returns ioctl()'s result. */
static int
dp_poll(int dp, struct pollfd *fds, int nfds, int ms)
{
	struct dvpoll dvp;

	memset(fds, 0xa5, sizeof(*fds) * (size_t)(nfds > 0 ? nfds : 0));
	dvp.dp_fds = fds;
	dvp.dp_nfds = (nfds_t)nfds;
	dvp.dp_timeout = ms;
	return (ioctl(dp, DP_POLL, &dvp));
}

/* Exactly one ready descriptor, fd, with revents rev. */
#define	DP_ONE(dp, ms, fdv, rev) do {					\
	struct pollfd pf_[4];						\
	int n_ = dp_poll((dp), pf_, 4, (ms));				\
	ATF_REQUIRE_MSG(n_ == 1, "DP_POLL returned %d (%s)", n_,	\
	    n_ < 0 ? strerror(errno) : "ok");				\
	ATF_CHECK_EQ_MSG(pf_[0].fd, (fdv), "fd %d", pf_[0].fd);	\
	ATF_CHECK_EQ_MSG(pf_[0].revents, (short)(rev),			\
	    "revents %#x, expected %#x", pf_[0].revents,		\
	    (unsigned)(short)(rev));					\
} while (0)

#define	DP_NONE(dp, ms) do {						\
	struct pollfd pf_[4];						\
	int n_ = dp_poll((dp), pf_, 4, (ms));				\
	ATF_REQUIRE_MSG(n_ == 0, "DP_POLL returned %d (%s), fd %d "	\
	    "revents %#x", n_, n_ < 0 ? strerror(errno) : "ok",	\
	    pf_[0].fd, pf_[0].revents);					\
} while (0)

/* DP_ISPOLLED: its result, and the pollfd it filled. */
static int
dp_ispolled(int dp, int fd, struct pollfd *pfd)
{

	pfd->fd = fd;
	pfd->events = 0;
	pfd->revents = 0;
	return (ioctl(dp, DP_ISPOLLED, pfd));
}

static void
put(int fd, const char *s)
{

	ATF_REQUIRE_EQ((ssize_t)strlen(s), write(fd, s, strlen(s)));
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

ATF_TC(add_and_poll);
ATF_TC_HEAD(add_and_poll, tc)
{
	atf_tc_set_md_var(tc, "descr", "write() of a pollfd adds a "
	    "descriptor: DP_POLL reports nothing while the pipe is empty, "
	    "then the fd with its events and POLLIN once data arrives");
}
ATF_TC_BODY(add_and_poll, tc)
{
	struct pollfd pf[4];
	int dp, p[2];

	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	DP_ADD(dp, p[0], POLLIN);
	DP_NONE(dp, 0);
	put(p[1], "x");
	ATF_REQUIRE_EQ(1, dp_poll(dp, pf, 4, 1000));
	ATF_CHECK_EQ(p[0], pf[0].fd);
	ATF_CHECK_EQ(POLLIN, pf[0].events);
	ATF_CHECK_EQ(POLLIN, pf[0].revents);
	/* POLLRDNORM asked for is reported with POLLIN. */
	DP_ADD(dp, p[0], POLLRDNORM);
	DP_ONE(dp, 0, p[0], POLLIN | POLLRDNORM);
	ATF_REQUIRE_EQ(0, close(dp));
}

ATF_TC(or_update);
ATF_TC_HEAD(or_update, tc)
{
	atf_tc_set_md_var(tc, "descr", "Writing a descriptor again ORs the "
	    "new events into its entry (illumos), within one write() and "
	    "across writes; it stays one knote");
}
ATF_TC_BODY(or_update, tc)
{
	struct pollfd pfds[2], pfd;
	long long knotes;
	int dp, s[2];

	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	dp = dp_open();
	knotes = KEV_STAT(EVRING_STAT_KNOTES);
	DP_ADD(dp, s[0], POLLIN);
	/* Writable, but POLLOUT was not asked for. */
	DP_NONE(dp, 0);
	DP_ADD(dp, s[0], POLLOUT);
	DP_ONE(dp, 0, s[0], POLLOUT);
	ATF_REQUIRE_EQ(1, dp_ispolled(dp, s[0], &pfd));
	ATF_CHECK_EQ(POLLIN | POLLOUT, pfd.revents);
	put(s[1], "x");
	DP_ONE(dp, 0, s[0], POLLIN | POLLOUT);
	ATF_CHECK_EQ(knotes + 1, KEV_STAT(EVRING_STAT_KNOTES));

	/* Two entries for one descriptor in one write(). */
	pfds[0].fd = s[1];
	pfds[0].events = POLLIN;
	pfds[1].fd = s[1];
	pfds[1].events = POLLPRI;
	pfds[0].revents = pfds[1].revents = 0;
	ATF_REQUIRE_EQ((ssize_t)sizeof(pfds), write(dp, pfds, sizeof(pfds)));
	ATF_REQUIRE_EQ(1, dp_ispolled(dp, s[1], &pfd));
	ATF_CHECK_EQ(POLLIN | POLLPRI, pfd.revents);
	ATF_CHECK_EQ(knotes + 2, KEV_STAT(EVRING_STAT_KNOTES));
	ATF_REQUIRE_EQ(0, close(dp));
	ATF_CHECK_EQ(knotes, KEV_STAT(EVRING_STAT_KNOTES));
}

ATF_TC(remove);
ATF_TC_HEAD(remove, tc)
{
	atf_tc_set_md_var(tc, "descr", "POLLREMOVE (illumos's 0x0800) takes "
	    "a descriptor out of the set: DP_POLL stops reporting it, "
	    "DP_ISPOLLED says 0, its knote and host registration go; "
	    "removing an absent descriptor is not an error");
}
ATF_TC_BODY(remove, tc)
{
	struct pollfd pfd;
	long long knotes, hostreg;
	int dp, p[2];

	ATF_REQUIRE_EQ(0x0800, POLLREMOVE);
	ATF_REQUIRE_EQ(0, pipe(p));
	dp = dp_open();
	knotes = KEV_STAT(EVRING_STAT_KNOTES);
	hostreg = KEV_STAT(EVRING_STAT_HOSTREG);
	DP_ADD(dp, p[0], POLLIN);
	ATF_CHECK_EQ(hostreg + 1, KEV_STAT(EVRING_STAT_HOSTREG));
	put(p[1], "x");
	DP_ONE(dp, 0, p[0], POLLIN);
	DP_ADD(dp, p[0], POLLREMOVE);
	DP_NONE(dp, 0);
	ATF_CHECK_EQ(0, dp_ispolled(dp, p[0], &pfd));
	ATF_CHECK_EQ(knotes, KEV_STAT(EVRING_STAT_KNOTES));
	ATF_CHECK_EQ(hostreg, KEV_STAT(EVRING_STAT_HOSTREG));
	/* Not in the set: nothing happens, and write() succeeds. */
	DP_ADD(dp, p[0], POLLREMOVE);
	/* Added again after removal, with only the new events. */
	DP_ADD(dp, p[0], POLLOUT);
	ATF_REQUIRE_EQ(1, dp_ispolled(dp, p[0], &pfd));
	ATF_CHECK_EQ(POLLOUT, pfd.revents);
	ATF_REQUIRE_EQ(0, close(dp));
}

ATF_TC(level_triggered);
ATF_TC_HEAD(level_triggered, tc)
{
	atf_tc_set_md_var(tc, "descr", "DP_POLL is level-triggered: a "
	    "readable descriptor is reported by every call until drained, "
	    "and a call with room for fewer than are ready reports the "
	    "others next");
}
ATF_TC_BODY(level_triggered, tc)
{
	struct pollfd pf[4];
	char c;
	int dp, p[3][2], i, seen = 0, n;

	dp = dp_open();
	for (i = 0; i < 3; i++) {
		ATF_REQUIRE_EQ(0, pipe(p[i]));
		DP_ADD(dp, p[i][0], POLLIN);
	}
	put(p[0][1], "x");
	for (i = 0; i < 3; i++)
		DP_ONE(dp, 0, p[0][0], POLLIN);
	ATF_REQUIRE_EQ(1, read(p[0][0], &c, 1));
	DP_NONE(dp, 0);

	for (i = 0; i < 3; i++)
		put(p[i][1], "y");
	n = dp_poll(dp, pf, 2, 0);
	ATF_REQUIRE_EQ(2, n);
	for (i = 0; i < n; i++)
		seen |= 1 << (pf[i].fd == p[0][0] ? 0 :
		    pf[i].fd == p[1][0] ? 1 : 2);
	n = dp_poll(dp, pf, 2, 0);
	ATF_REQUIRE_EQ(2, n);
	for (i = 0; i < n; i++)
		seen |= 1 << (pf[i].fd == p[0][0] ? 0 :
		    pf[i].fd == p[1][0] ? 1 : 2);
	ATF_CHECK_EQ_MSG(7, seen, "two calls of two saw only %#x", seen);
	ATF_REQUIRE_EQ(3, dp_poll(dp, pf, 4, 0));
}

ATF_TC(timeouts);
ATF_TC_HEAD(timeouts, tc)
{
	atf_tc_set_md_var(tc, "descr", "dp_timeout: 0 returns at once, a "
	    "positive value waits that many ms and returns 0, -1 waits "
	    "until an event; dp_nfds 0 just sleeps for the timeout");
}
ATF_TC_BODY(timeouts, tc)
{
	struct pollfd pf[4];
	struct timespec t0;
	double ms;
	int dp, p[2];

	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	DP_ADD(dp, p[0], POLLIN);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_REQUIRE_EQ(0, dp_poll(dp, pf, 4, 0));
	ms = kev_elapsed_ms(&t0);
	ATF_CHECK_MSG(ms < 50, "timeout 0 took %.1f ms", ms);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_REQUIRE_EQ(0, dp_poll(dp, pf, 4, 150));
	ms = kev_elapsed_ms(&t0);
	ATF_CHECK_MSG(ms >= 140 && ms < 2000, "timeout 150 took %.1f ms", ms);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_REQUIRE_EQ(0, dp_poll(dp, pf, 0, 100));
	ms = kev_elapsed_ms(&t0);
	ATF_CHECK_MSG(ms >= 90 && ms < 2000, "nfds 0 slept %.1f ms", ms);

	put(p[1], "x");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_REQUIRE_EQ(1, dp_poll(dp, pf, 4, -1));
	ms = kev_elapsed_ms(&t0);
	ATF_CHECK_MSG(ms < 500, "ready with -1 took %.1f ms", ms);
}

ATF_TC(ispolled);
ATF_TC_HEAD(ispolled, tc)
{
	atf_tc_set_md_var(tc, "descr", "DP_ISPOLLED returns 1 with the "
	    "polled events in revents (illumos) for a descriptor in the "
	    "set, and 0 leaving the pollfd alone for one not in it, for a "
	    "negative fd, and for an entry whose descriptor was closed");
}
ATF_TC_BODY(ispolled, tc)
{
	struct pollfd pfd;
	int dp, p[2];

	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_CHECK_EQ(0, dp_ispolled(dp, p[0], &pfd));
	DP_ADD(dp, p[0], POLLIN | POLLPRI);
	ATF_CHECK_EQ(1, dp_ispolled(dp, p[0], &pfd));
	ATF_CHECK_EQ(p[0], pfd.fd);
	ATF_CHECK_EQ(POLLIN | POLLPRI, pfd.revents);
	ATF_CHECK_EQ(0, dp_ispolled(dp, p[1], &pfd));

	pfd.fd = p[1];
	pfd.events = 0x1234;
	pfd.revents = 0x77;
	ATF_CHECK_EQ(0, ioctl(dp, DP_ISPOLLED, &pfd));
	ATF_CHECK_EQ(0x1234, pfd.events);
	ATF_CHECK_EQ(0x77, pfd.revents);
	ATF_CHECK_EQ(0, dp_ispolled(dp, -1, &pfd));

	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_CHECK_EQ(0, dp_ispolled(dp, p[0], &pfd));
}

ATF_TC(pollnval);
ATF_TC_HEAD(pollnval, tc)
{
	atf_tc_set_md_var(tc, "descr", "A descriptor closed while in the "
	    "set, and one written while not open, are reported with "
	    "POLLNVAL by every DP_POLL until removed; a reused number is "
	    "polled again as what it names now");
}
ATF_TC_BODY(pollnval, tc)
{
	struct pollfd pf[4];
	int dp, p[2], q[2], bad;

	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	DP_ADD(dp, p[0], POLLIN);
	ATF_REQUIRE_EQ(0, close(p[0]));
	DP_ONE(dp, 0, p[0], POLLNVAL);
	DP_ONE(dp, 0, p[0], POLLNVAL);
	ATF_REQUIRE_EQ(1, dp_poll(dp, pf, 4, 0));
	ATF_CHECK_EQ(POLLIN, pf[0].events);

	/* Never open: kept, and POLLNVAL. */
	bad = p[0] + 50;
	(void)close(bad);
	DP_ADD(dp, bad, POLLIN);
	ATF_REQUIRE_EQ(2, dp_poll(dp, pf, 4, 0));
	ATF_CHECK(pf[0].revents == POLLNVAL && pf[1].revents == POLLNVAL);
	DP_ADD(dp, bad, POLLREMOVE);
	DP_ONE(dp, 0, p[0], POLLNVAL);

	/* The number reused: polled as the new pipe, not POLLNVAL. */
	ATF_REQUIRE_EQ(0, pipe(q));
	if (q[0] != p[0]) {
		ATF_REQUIRE_EQ(p[0], dup2(q[0], p[0]));
		ATF_REQUIRE_EQ(0, close(q[0]));
	}
	DP_NONE(dp, 0);
	put(q[1], "z");
	DP_ONE(dp, 0, p[0], POLLIN);
}

ATF_TC(pollhup);
ATF_TC_HEAD(pollhup, tc)
{
	atf_tc_set_md_var(tc, "descr", "Closing a pipe's write end reports "
	    "POLLHUP on the read end, even with events 0 (hangup is "
	    "reported whether asked for or not), and it is level");
}
ATF_TC_BODY(pollhup, tc)
{
	int dp, p[2], q[2];

	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE_EQ(0, pipe(q));
	DP_ADD(dp, p[0], POLLIN);
	DP_ADD(dp, q[0], 0);
	DP_NONE(dp, 0);
	ATF_REQUIRE_EQ(0, close(p[1]));
	DP_ONE(dp, 1000, p[0], POLLHUP);
	DP_ONE(dp, 0, p[0], POLLHUP);
	DP_ADD(dp, p[0], POLLREMOVE);
	/* Data is not reported without POLLIN; the hangup is. */
	put(q[1], "d");
	DP_NONE(dp, 0);
	ATF_REQUIRE_EQ(0, close(q[1]));
	DP_ONE(dp, 1000, q[0], POLLHUP);
}

ATF_TC(pollpri_pollerr);
ATF_TC_HEAD(pollpri_pollerr, tc)
{
	atf_tc_set_md_var(tc, "descr", "Urgent TCP data is reported as "
	    "POLLPRI to an entry asking for it (and not as POLLIN when that "
	    "was not asked for); a pipe's write end whose reader closed "
	    "reports POLLERR, with POLLOUT when asked and alone when not");
}
ATF_TC_BODY(pollpri_pollerr, tc)
{
	int dp, c, s, p[2], q[2];

	dp = dp_open();
	kev_tcp_pair(&c, &s);
	DP_ADD(dp, s, POLLPRI);
	DP_NONE(dp, 0);
	ATF_REQUIRE_EQ(1, send(c, "!", 1, MSG_OOB));
	DP_ONE(dp, 1000, s, POLLPRI);

	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE_EQ(0, pipe(q));
	DP_ADD(dp, s, POLLREMOVE);
	DP_ADD(dp, p[1], POLLOUT);
	DP_ONE(dp, 0, p[1], POLLOUT);
	DP_ADD(dp, p[1], POLLREMOVE);
	/* Writable, but POLLOUT not asked for: nothing. */
	DP_ADD(dp, q[1], 0);
	DP_NONE(dp, 0);
	ATF_REQUIRE_EQ(0, close(q[0]));
	DP_ONE(dp, 1000, q[1], POLLERR);
	DP_ADD(dp, q[1], POLLOUT);
	DP_ONE(dp, 0, q[1], POLLOUT | POLLERR);
}

ATF_TC(errors);
ATF_TC_HEAD(errors, tc)
{
	atf_tc_set_md_var(tc, "descr", "Errors as illumos documents them: "
	    "EINVAL for a length not a multiple of a pollfd, for more "
	    "pollfds than OPEN_MAX, for dp_nfds >= OPEN_MAX and for an "
	    "unknown request; EFAULT for a bad buffer, dvpoll, dp_fds or "
	    "pollfd; EBADF for a closed descriptor; kevent() on /dev/poll "
	    "is EBADF");
}
ATF_TC_BODY(errors, tc)
{
	struct pollfd pfd[2], pf[4];
	struct dvpoll dvp;
	struct rlimit rl;
	struct kevent kev;
	struct pollfd *big;
	int dp, p[2], closed;

	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	memset(pfd, 0, sizeof(pfd));
	pfd[0].fd = p[0];
	pfd[0].events = POLLIN;

	errno = 0;
	ATF_CHECK(write(dp, pfd, sizeof(pfd[0]) + 1) == -1 && errno == EINVAL);
	ATF_CHECK(write(dp, pfd, 3) == -1 && errno == EINVAL);
	/* Nothing was added by the failed writes. */
	ATF_CHECK_EQ(0, dp_ispolled(dp, p[0], &pf[0]));
	ATF_CHECK(write(dp, (void *)8, sizeof(pfd[0])) == -1 &&
	    errno == EFAULT);
	ATF_CHECK_EQ(0, write(dp, pfd, 0));

	ATF_CHECK(ioctl(dp, DP_POLL, (void *)8) == -1 && errno == EFAULT);
	dvp.dp_fds = (struct pollfd *)8;
	dvp.dp_nfds = 4;
	dvp.dp_timeout = 0;
	ATF_CHECK(ioctl(dp, DP_POLL, &dvp) == -1 && errno == EFAULT);
	ATF_CHECK(ioctl(dp, DP_ISPOLLED, (void *)8) == -1 && errno == EFAULT);
	ATF_CHECK(ioctl(dp, DPIOC | 99, &dvp) == -1 && errno == EINVAL);

	/* OPEN_MAX is the descriptor limit. */
	ATF_REQUIRE_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = 64;
	ATF_REQUIRE_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	dvp.dp_fds = pf;
	dvp.dp_nfds = 64;
	ATF_CHECK(ioctl(dp, DP_POLL, &dvp) == -1 && errno == EINVAL);
	dvp.dp_nfds = 4;
	ATF_CHECK_EQ(0, ioctl(dp, DP_POLL, &dvp));
	ATF_REQUIRE((big = calloc(65, sizeof(*big))) != NULL);
	ATF_CHECK(write(dp, big, 65 * sizeof(*big)) == -1 && errno == EINVAL);
	/* Descriptors at or over the limit are skipped, as on illumos. */
	pfd[1].fd = 64;
	pfd[1].events = POLLIN;
	ATF_CHECK_EQ((ssize_t)sizeof(pfd[1]), write(dp, &pfd[1],
	    sizeof(pfd[1])));
	ATF_CHECK_EQ(0, dp_ispolled(dp, 64, &pf[0]));
	free(big);

	/* EBADF: a closed descriptor is no /dev/poll instance. */
	ATF_REQUIRE((closed = dp_open()) >= 0);
	ATF_REQUIRE_EQ(0, close(closed));
	ATF_CHECK(write(closed, pfd, sizeof(pfd[0])) == -1 && errno == EBADF);
	ATF_CHECK(ioctl(closed, DP_POLL, &dvp) == -1 && errno == EBADF);
	ATF_CHECK(ioctl(-1, DP_ISPOLLED, &pfd[0]) == -1 && errno == EBADF);

	/* Not a kqueue: kevent() refuses it. */
	EV_SET(&kev, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_CHECK(kevent(dp, &kev, 1, NULL, 0, NULL) == -1 && errno == EBADF);
	/* Other descriptors go to the real calls. */
	ATF_CHECK(ioctl(p[0], DP_POLL, &dvp) == -1 && errno == ENOTTY);
	ATF_CHECK(open("/nonexistent/dev/poll", O_RDONLY) == -1 &&
	    errno == ENOENT);
}

ATF_TC(enomem);
ATF_TC_HEAD(enomem, tc)
{
	atf_tc_set_md_var(tc, "descr", "A write() whose pollfd array the "
	    "kernel cannot allocate fails with ENOMEM and changes nothing");
}
ATF_TC_BODY(enomem, tc)
{
	struct rlimit rl, as;
	struct pollfd *big, pfd;
	unsigned long vsz, n;
	ssize_t r;
	int dp, p[2], e;
	FILE *f;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* Their runtimes map memory as they go and die without it. */
	atf_tc_skip("RLIMIT_AS cannot be tightened under a sanitizer");
#endif
	/* As many pollfds as the limit allows, at least 128 KiB of them. */
	ATF_REQUIRE_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max < 16384 + 16)
		atf_tc_skip("RLIMIT_NOFILE hard limit %lu is too low",
		    (unsigned long)rl.rlim_max);
	n = rl.rlim_max > 1000000 + 16 ? 1000000 : rl.rlim_max - 16;
	rl.rlim_cur = n + 1;
	ATF_REQUIRE_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE((big = calloc(n, sizeof(*big))) != NULL);
	big[0].fd = p[0];
	big[0].events = POLLIN;
	for (unsigned long i = 1; i < n; i++)
		big[i].fd = -1;
	/* Leave less room than the kernel's copy of the array needs. */
	ATF_REQUIRE((f = fopen("/proc/self/statm", "r")) != NULL);
	ATF_REQUIRE_EQ(1, fscanf(f, "%lu", &vsz));
	fclose(f);
	ATF_REQUIRE_EQ(0, getrlimit(RLIMIT_AS, &as));
	{
		struct rlimit tight = as;

		tight.rlim_cur = vsz * (unsigned long)sysconf(_SC_PAGESIZE) +
		    (64UL << 10);
		ATF_REQUIRE_EQ(0, setrlimit(RLIMIT_AS, &tight));
	}
	r = write(dp, big, n * sizeof(*big));
	e = errno;
	ATF_REQUIRE_EQ(0, setrlimit(RLIMIT_AS, &as));
	ATF_CHECK_MSG(r == -1 && e == ENOMEM, "write returned %zd (%s)", r,
	    strerror(e));
	ATF_CHECK_EQ(0, dp_ispolled(dp, p[0], &pfd));
	free(big);
}

struct waiter {
	int		dp;
	atomic_int	n;		/* read while the waiter may return */
	atomic_int	err;
	struct pollfd	pf[4];
	atomic_int	started;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;

	atomic_store(&w->started, 1);
	w->n = dp_poll(w->dp, w->pf, 4, -1);
	w->err = errno;
	return (NULL);
}

static void
waiter_start(struct waiter *w, pthread_t *t, int dp)
{

	memset(w, 0, sizeof(*w));
	w->dp = dp;
	ATF_REQUIRE_EQ(0, pthread_create(t, NULL, waiter_main, w));
	while (!atomic_load(&w->started))
		sleep_ms(1);
	sleep_ms(100);		/* it is asleep in DP_POLL by now */
}

ATF_TC(thread_wakeup);
ATF_TC_HEAD(thread_wakeup, tc)
{
	atf_tc_set_md_var(tc, "descr", "A thread blocked in DP_POLL with "
	    "dp_timeout -1 is woken by another thread's write into a "
	    "watched pipe, and by another thread closing a watched "
	    "descriptor (POLLNVAL)");
}
ATF_TC_BODY(thread_wakeup, tc)
{
	struct waiter w;
	pthread_t t;
	int dp, p[2];

	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	DP_ADD(dp, p[0], POLLIN);
	waiter_start(&w, &t, dp);
	ATF_CHECK_EQ(0, w.n);
	put(p[1], "w");
	ATF_REQUIRE_EQ(0, pthread_join(t, NULL));
	ATF_REQUIRE_EQ_MSG(1, w.n, "DP_POLL: %d (%s)", w.n, strerror(w.err));
	ATF_CHECK_EQ(p[0], w.pf[0].fd);
	ATF_CHECK_EQ(POLLIN, w.pf[0].revents);

	DP_ADD(dp, p[0], POLLREMOVE);
	DP_ADD(dp, p[1], 0);
	waiter_start(&w, &t, dp);
	ATF_REQUIRE_EQ(0, close(p[1]));
	ATF_REQUIRE_EQ(0, pthread_join(t, NULL));
	ATF_REQUIRE_EQ_MSG(1, w.n, "DP_POLL: %d (%s)", w.n, strerror(w.err));
	ATF_CHECK_EQ(p[1], w.pf[0].fd);
	ATF_CHECK_EQ(POLLNVAL, w.pf[0].revents);
}

static void
on_usr1(int sig)
{

	(void)sig;
}

ATF_TC(eintr);
ATF_TC_HEAD(eintr, tc)
{
	atf_tc_set_md_var(tc, "descr", "A signal caught while a thread "
	    "sleeps in DP_POLL makes it fail with EINTR, even with "
	    "SA_RESTART");
}
ATF_TC_BODY(eintr, tc)
{
	struct sigaction sa;
	struct waiter w;
	pthread_t t;
	int dp, p[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	ATF_REQUIRE_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	DP_ADD(dp, p[0], POLLIN);
	waiter_start(&w, &t, dp);
	ATF_REQUIRE_EQ(0, pthread_kill(t, SIGUSR1));
	ATF_REQUIRE_EQ(0, pthread_join(t, NULL));
	ATF_CHECK_EQ(-1, w.n);
	ATF_CHECK_EQ(EINTR, w.err);
}

ATF_TC(close_wakes);
ATF_TC_HEAD(close_wakes, tc)
{
	atf_tc_set_md_var(tc, "descr", "Closing the /dev/poll descriptor "
	    "wakes a thread sleeping in DP_POLL on it, which fails with "
	    "EBADF");
}
ATF_TC_BODY(close_wakes, tc)
{
	struct waiter w;
	pthread_t t;
	int dp;

	dp = dp_open();
	waiter_start(&w, &t, dp);
	ATF_REQUIRE_EQ(0, close(dp));
	ATF_REQUIRE_EQ(0, pthread_join(t, NULL));
	ATF_CHECK_EQ(-1, w.n);
	ATF_CHECK_EQ(EBADF, w.err);
}

ATF_TC(shared_hostreg);
ATF_TC_HEAD(shared_hostreg, tc)
{
	atf_tc_set_md_var(tc, "descr", "A socket watched by /dev/poll and a "
	    "kqueue at once is one host registration "
	    "(EVRING_STAT_HOSTREG), a readiness change reaches both, and "
	    "the registration goes with the last watcher");
}
ATF_TC_BODY(shared_hostreg, tc)
{
	long long reg, total;
	int dp, kq, s[2];

	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	reg = KEV_STAT(EVRING_STAT_HOSTREG);
	total = KEV_STAT(EVRING_STAT_HOSTREG_TOTAL);
	ATF_REQUIRE((kq = kqueue()) >= 0);
	dp = dp_open();
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	DP_ADD(dp, s[0], POLLIN | POLLOUT);
	ATF_CHECK_EQ(reg + 1, KEV_STAT(EVRING_STAT_HOSTREG));
	ATF_CHECK_EQ(total + 1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL));
	DP_ONE(dp, 0, s[0], POLLOUT);
	KEV_NONE(kq, 0);
	put(s[1], "s");
	KEV_ONE(kq, 1000, s[0], EVFILT_READ);
	DP_ONE(dp, 1000, s[0], POLLIN | POLLOUT);
	ATF_REQUIRE_EQ(0, close(kq));
	ATF_CHECK_EQ(reg + 1, KEV_STAT(EVRING_STAT_HOSTREG));
	DP_ADD(dp, s[0], POLLREMOVE);
	ATF_CHECK_EQ(reg, KEV_STAT(EVRING_STAT_HOSTREG));
	ATF_CHECK_EQ(total + 1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL));
}

ATF_TC(ring);
ATF_TC_HEAD(ring, tc)
{
	atf_tc_set_md_var(tc, "descr", "An event ring attaches to a "
	    "/dev/poll instance as to a kqueue: readiness arrives as "
	    "kevent records (ident the fd, udata the events), "
	    "kevent_wait() waits for them, and DP_POLL returns 0 at once");
}
ATF_TC_BODY(ring, tc)
{
	const struct kevent *rec;
	struct timespec ts = { 2, 0 };
	struct pollfd pf[4];
	struct evring r;
	uint32_t state;
	int dp, p[2], n;

	dp = dp_open();
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE_MSG(kevent_ring_attach(dp, 64) == 0,
	    "kevent_ring_attach: %s", strerror(errno));
	ATF_REQUIRE_MSG(kevent_ring_map(dp, &r) == 0, "kevent_ring_map: %s",
	    strerror(errno));
	DP_ADD(dp, p[0], POLLIN);
	ATF_CHECK(evring_peek(&r, &state) == NULL);
	put(p[1], "r");
	n = kevent_wait(dp, state, &ts, NULL);
	ATF_REQUIRE_MSG(n >= 1, "kevent_wait: %d (%s)", n, strerror(errno));
	ATF_REQUIRE((rec = evring_peek(&r, &state)) != NULL);
	ATF_CHECK_EQ((uintptr_t)p[0], rec->ident);
	ATF_CHECK_EQ(EVFILT_READ, rec->filter);
	ATF_CHECK_EQ(1, rec->data);
	ATF_CHECK_EQ((uintptr_t)POLLIN, (uintptr_t)rec->udata);
	evring_advance(&r, 1);
	ATF_CHECK_EQ(0, dp_poll(dp, pf, 4, -1));
	ATF_REQUIRE_EQ(0, kevent_ring_unmap(&r));
	ATF_REQUIRE_EQ(0, kevent_ring_detach(dp));
	/* Detached: DP_POLL reports it again. */
	DP_ONE(dp, 0, p[0], POLLIN);
}

ATF_TC(no_leak);
ATF_TC_HEAD(no_leak, tc)
{
	atf_tc_set_md_var(tc, "descr", "300 rounds of open /dev/poll, add, "
	    "OR-update, poll, close a watched descriptor (POLLNVAL), remove "
	    "and close leave kernel memory (EVRING_STAT_KMEM), knotes, "
	    "queues, files and host registrations at their starting values");
}
ATF_TC_BODY(no_leak, tc)
{
	struct pollfd pf[8];
	long long m0, k0, q0, f0, h0;
	int dp, i, j, p[4][2];

	/* The descriptor table grows once, at first use: not a leak. */
	ATF_REQUIRE_EQ(0, pipe(p[0]));
	dp = dp_open();
	DP_ADD(dp, p[0][0], POLLIN);
	ATF_REQUIRE_EQ(0, close(dp));
	ATF_REQUIRE_EQ(0, close(p[0][0]));
	ATF_REQUIRE_EQ(0, close(p[0][1]));
	m0 = KEV_STAT(EVRING_STAT_KMEM);
	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	q0 = KEV_STAT(EVRING_STAT_KQUEUES);
	f0 = KEV_STAT(EVRING_STAT_FILES);
	h0 = KEV_STAT(EVRING_STAT_HOSTREG);
	for (i = 0; i < 300; i++) {
		dp = dp_open();
		for (j = 0; j < 4; j++) {
			ATF_REQUIRE_EQ(0, pipe(p[j]));
			DP_ADD(dp, p[j][0], POLLIN);
			DP_ADD(dp, p[j][1], (short)(j & 1 ? POLLOUT : 0));
		}
		DP_ADD(dp, p[0][0], POLLPRI);
		put(p[1][1], "x");
		ATF_REQUIRE(dp_poll(dp, pf, 8, 0) >= 1);
		ATF_REQUIRE_EQ(0, close(p[2][0]));
		ATF_REQUIRE(dp_poll(dp, pf, 8, 0) >= 2);
		DP_ADD(dp, p[3][0], POLLREMOVE);
		if (i % 2)
			ATF_REQUIRE_EQ(0, close(dp));
		for (j = 0; j < 4; j++) {
			if (j != 2)
				ATF_REQUIRE_EQ(0, close(p[j][0]));
			ATF_REQUIRE_EQ(0, close(p[j][1]));
		}
		if (i % 2 == 0)
			ATF_REQUIRE_EQ(0, close(dp));
	}
	ATF_CHECK_EQ_MSG(m0, KEV_STAT(EVRING_STAT_KMEM), "kmem %lld -> %lld "
	    "(knote %lld file %lld kqueue %lld)", m0,
	    KEV_STAT(EVRING_STAT_KMEM), KEV_STAT(EVRING_STAT_KMEM_KNOTE),
	    KEV_STAT(EVRING_STAT_KMEM_FILE), KEV_STAT(EVRING_STAT_KMEM_KQUEUE));
	ATF_CHECK_EQ(k0, KEV_STAT(EVRING_STAT_KNOTES));
	ATF_CHECK_EQ(q0, KEV_STAT(EVRING_STAT_KQUEUES));
	ATF_CHECK_EQ(f0, KEV_STAT(EVRING_STAT_FILES));
	ATF_CHECK_EQ(h0, KEV_STAT(EVRING_STAT_HOSTREG));
}

ATF_TC(direct_api);
ATF_TC_HEAD(direct_api, tc)
{
	atf_tc_set_md_var(tc, "descr", "evring_devpoll_open() and the "
	    "evring_devpoll_* calls work without the macros; a /dev/poll "
	    "descriptor is close-on-exec and closes through close()");
}
ATF_TC_BODY(direct_api, tc)
{
	struct pollfd pfd;
	long long kq0;
	int dp, p[2];

	kq0 = KEV_STAT(EVRING_STAT_KQUEUES);
	ATF_REQUIRE((dp = evring_devpoll_open()) >= 0);
	ATF_CHECK_EQ(kq0 + 1, KEV_STAT(EVRING_STAT_KQUEUES));
	ATF_CHECK(fcntl(dp, F_GETFD) & FD_CLOEXEC);
	ATF_REQUIRE_EQ(0, pipe(p));
	pfd.fd = p[0];
	pfd.events = POLLIN;
	pfd.revents = 0;
	ATF_REQUIRE_EQ((ssize_t)sizeof(pfd),
	    evring_devpoll_write(dp, &pfd, sizeof(pfd)));
	ATF_CHECK_EQ(1, evring_devpoll_ioctl(dp, DP_ISPOLLED, &pfd));
	ATF_REQUIRE_EQ(1, evring_devpoll_write(p[1], "x", 1));
	ATF_REQUIRE_EQ(0, close(dp));
	ATF_CHECK_EQ(kq0, KEV_STAT(EVRING_STAT_KQUEUES));
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, add_and_poll);
	ATF_TP_ADD_TC(tp, or_update);
	ATF_TP_ADD_TC(tp, remove);
	ATF_TP_ADD_TC(tp, level_triggered);
	ATF_TP_ADD_TC(tp, timeouts);
	ATF_TP_ADD_TC(tp, ispolled);
	ATF_TP_ADD_TC(tp, pollnval);
	ATF_TP_ADD_TC(tp, pollhup);
	ATF_TP_ADD_TC(tp, pollpri_pollerr);
	ATF_TP_ADD_TC(tp, errors);
	ATF_TP_ADD_TC(tp, enomem);
	ATF_TP_ADD_TC(tp, thread_wakeup);
	ATF_TP_ADD_TC(tp, eintr);
	ATF_TP_ADD_TC(tp, close_wakes);
	ATF_TP_ADD_TC(tp, shared_hostreg);
	ATF_TP_ADD_TC(tp, ring);
	ATF_TP_ADD_TC(tp, no_leak);
	ATF_TP_ADD_TC(tp, direct_api);
	return (0);
}
