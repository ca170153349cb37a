/*
 * t_poll: poll(2) and ppoll(2) on the kqueue core's knotes (sys_generic.c),
 * through <evring/poll.h>, which maps the libc names to evring's.  Linux
 * semantics: POLLNVAL, POLLHUP/POLLERR unasked, events == 0, duplicate
 * entries, negative descriptors, the limits and errnos, timeouts, EINTR
 * and the signal mask, a thread blocked in poll() woken by another.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <evring/poll.h>

#include "h_evring.h"

#define	ERR(call, err) do {						\
	errno = 0;							\
	ATF_CHECK_MSG((call) == -1 && errno == (err),			\
	    "%s: wanted %s, got errno %d (%s)", #call, strerror(err),	\
	    errno, strerror(errno));					\
} while (0)

static void
xwrite(int fd)
{

	ATF_REQUIRE_EQ(1, write(fd, "x", 1));
}

static volatile sig_atomic_t got_sig;
static void
on_sig(int sig)
{

	(void)sig;
	got_sig++;
}

/* SIGUSR2 counted by on_sig() and blocked; *block is the set of it. */
static void
sigusr2_blocked(sigset_t *block)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	ATF_REQUIRE_EQ(0, sigaction(SIGUSR2, &sa, NULL));
	sigemptyset(block);
	sigaddset(block, SIGUSR2);
	ATF_REQUIRE_EQ(0, sigprocmask(SIG_BLOCK, block, NULL));
}

ATF_TC(readable_writable);
ATF_TC_HEAD(readable_writable, tc)
{
	atf_tc_set_md_var(tc, "descr", "poll() reports POLLIN on a pipe only "
	    "after a write and POLLOUT on its write end at once; revents is "
	    "limited to what was asked (plus POLLHUP/POLLERR) and the return "
	    "counts the entries with revents");
}
ATF_TC_BODY(readable_writable, tc)
{
	struct pollfd pfd[2];
	int p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	pfd[0].fd = p[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = p[1];
	pfd[1].events = POLLOUT;
	pfd[0].revents = pfd[1].revents = 0x7777;
	ATF_CHECK_EQ(1, poll(pfd, 2, 0));
	ATF_CHECK_EQ(0, pfd[0].revents);
	ATF_CHECK_EQ(POLLOUT, pfd[1].revents);
	xwrite(p[1]);
	ATF_CHECK_EQ(2, poll(pfd, 2, 0));
	ATF_CHECK_EQ(POLLIN, pfd[0].revents);
	pfd[1].events = 0;
	ATF_CHECK_EQ(1, poll(pfd, 2, 0));
	ATF_CHECK_EQ(0, pfd[1].revents);
}

ATF_TC(pollnval_negative);
ATF_TC_HEAD(pollnval_negative, tc)
{
	atf_tc_set_md_var(tc, "descr", "A descriptor that is not open gets "
	    "POLLNVAL (and counts, and makes poll() return at once); a "
	    "negative one is ignored with revents 0");
}
ATF_TC_BODY(pollnval_negative, tc)
{
	struct pollfd pfd[3];
	struct timespec t0;
	int p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	pfd[0].fd = 999;
	pfd[0].events = POLLIN;
	pfd[1].fd = -5;
	pfd[1].events = POLLIN;
	pfd[1].revents = 0x7777;
	pfd[2].fd = p[0];
	pfd[2].events = POLLIN;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_CHECK_EQ(1, poll(pfd, 3, 5000));
	ATF_CHECK(kev_elapsed_ms(&t0) < 1000);
	ATF_CHECK_EQ(POLLNVAL, pfd[0].revents);
	ATF_CHECK_EQ(0, pfd[1].revents);
	ATF_CHECK_EQ(0, pfd[2].revents);
}

ATF_TC(hup_err_unasked);
ATF_TC_HEAD(hup_err_unasked, tc)
{
	atf_tc_set_md_var(tc, "descr", "POLLHUP (read end, writer gone) and "
	    "POLLERR (write end, reader gone) are reported with events == 0 "
	    "and whatever was asked; readable data with events == 0 is not");
}
ATF_TC_BODY(hup_err_unasked, tc)
{
	struct pollfd pfd;
	int p[2], q[2];

	signal(SIGPIPE, SIG_IGN);
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE_EQ(0, pipe(q));
	xwrite(p[1]);
	pfd.fd = p[0];
	pfd.events = 0;
	ATF_CHECK_EQ(0, poll(&pfd, 1, 0));
	close(p[1]);
	ATF_CHECK_EQ(1, poll(&pfd, 1, 0));
	ATF_CHECK_EQ(POLLHUP, pfd.revents);
	pfd.events = POLLIN;
	ATF_CHECK_EQ(1, poll(&pfd, 1, 0));
	ATF_CHECK_EQ(POLLIN | POLLHUP, pfd.revents);
	pfd.fd = q[1];
	pfd.events = 0;
	close(q[0]);
	ATF_CHECK_EQ(1, poll(&pfd, 1, 0));
	ATF_CHECK_EQ(POLLERR, pfd.revents);
}

ATF_TC(duplicates);
ATF_TC_HEAD(duplicates, tc)
{
	atf_tc_set_md_var(tc, "descr", "Duplicate entries for one descriptor "
	    "are each answered with their own mask and each counted; the "
	    "descriptor is one knote on the call's queue");
}
ATF_TC_BODY(duplicates, tc)
{
	struct pollfd pfd[3];
	int s[2];

	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	xwrite(s[1]);
	pfd[0].fd = pfd[1].fd = pfd[2].fd = s[0];
	pfd[0].events = POLLIN;
	pfd[1].events = POLLOUT;
	pfd[2].events = POLLIN | POLLOUT;
	ATF_CHECK_EQ(3, poll(pfd, 3, 0));
	ATF_CHECK_EQ(POLLIN, pfd[0].revents);
	ATF_CHECK_EQ(POLLOUT, pfd[1].revents);
	ATF_CHECK_EQ(POLLIN | POLLOUT, pfd[2].revents);
}

ATF_TC(regular_file);
ATF_TC_HEAD(regular_file, tc)
{
	atf_tc_set_md_var(tc, "descr", "A regular file is always readable and "
	    "writable, as on Linux (unlike epoll, poll() accepts it)");
}
ATF_TC_BODY(regular_file, tc)
{
	struct pollfd pfd;
	char path[] = "/tmp/t_poll.XXXXXX";
	int f;

	ATF_REQUIRE((f = mkstemp(path)) >= 0);
	unlink(path);
	pfd.fd = f;
	pfd.events = POLLIN | POLLOUT;
	ATF_CHECK_EQ(1, poll(&pfd, 1, 1000));
	ATF_CHECK_EQ(POLLIN | POLLOUT, pfd.revents);
}

ATF_TC(errors);
ATF_TC_HEAD(errors, tc)
{
	atf_tc_set_md_var(tc, "descr", "EINVAL for nfds above RLIMIT_NOFILE and "
	    "for a bad ppoll() timespec; EFAULT for an unreadable array, "
	    "timespec or signal mask");
}
ATF_TC_BODY(errors, tc)
{
	struct pollfd pfd;
	struct rlimit rl;
	struct timespec bad = { 0, 1000000000L }, neg = { -1, 0 };
	int p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	pfd.fd = p[0];
	pfd.events = POLLIN;
	ATF_REQUIRE_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	ERR(poll(&pfd, rl.rlim_cur + 1, 0), EINVAL);
	ERR(ppoll(&pfd, 1, &bad, NULL), EINVAL);
	ERR(ppoll(&pfd, 1, &neg, NULL), EINVAL);
	ERR(poll((void *)16, 1, 0), EFAULT);
	ERR(ppoll(&pfd, 1, (void *)16, NULL), EFAULT);
	ERR(ppoll(&pfd, 1, NULL, (void *)16), EFAULT);
	ATF_CHECK_EQ(0, poll(NULL, 0, 0));
}

ATF_TC(timeouts);
ATF_TC_HEAD(timeouts, tc)
{
	atf_tc_set_md_var(tc, "descr", "poll() with 0 returns at once, with 100 "
	    "ms after about 100 ms, with no descriptors it just sleeps; "
	    "ppoll() with a timespec likewise");
}
ATF_TC_BODY(timeouts, tc)
{
	struct pollfd pfd;
	struct timespec t0, ts = { 0, 60000000L };
	double ms;
	int p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	pfd.fd = p[0];
	pfd.events = POLLIN;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_CHECK_EQ(0, poll(&pfd, 1, 0));
	ATF_CHECK(kev_elapsed_ms(&t0) < 50);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_CHECK_EQ(0, poll(&pfd, 1, 100));
	ms = kev_elapsed_ms(&t0);
	ATF_CHECK_MSG(ms >= 95 && ms < 1000, "waited %.1f ms", ms);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_CHECK_EQ(0, poll(NULL, 0, 50));
	ms = kev_elapsed_ms(&t0);
	ATF_CHECK_MSG(ms >= 45 && ms < 1000, "waited %.1f ms", ms);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_CHECK_EQ(0, ppoll(&pfd, 1, &ts, NULL));
	ms = kev_elapsed_ms(&t0);
	ATF_CHECK_MSG(ms >= 55 && ms < 1000, "waited %.1f ms", ms);
}

struct waiter {
	struct pollfd	pfd;
	int		timeout;
	int		ret;
	int		err;
	int		done;
	pthread_t	th;
};

static void *
waiter_run(void *arg)
{
	struct waiter *w = arg;

	w->ret = poll(&w->pfd, 1, w->timeout);
	w->err = errno;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return (NULL);
}

ATF_TC(thread_woken);
ATF_TC_HEAD(thread_woken, tc)
{
	atf_tc_set_md_var(tc, "descr", "A thread blocked in poll(-1) is woken "
	    "by another thread's write and reports POLLIN");
}
ATF_TC_BODY(thread_woken, tc)
{
	struct waiter w;
	int p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	memset(&w, 0, sizeof(w));
	w.pfd.fd = p[0];
	w.pfd.events = POLLIN;
	w.timeout = -1;
	ATF_REQUIRE_EQ(0, pthread_create(&w.th, NULL, waiter_run, &w));
	usleep(100000);
	ATF_CHECK(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	xwrite(p[1]);
	pthread_join(w.th, NULL);
	ATF_CHECK_EQ(1, w.ret);
	ATF_CHECK_EQ(POLLIN, w.pfd.revents);
}

ATF_TC(eintr);
ATF_TC_HEAD(eintr, tc)
{
	atf_tc_set_md_var(tc, "descr", "A signal handler, even SA_RESTART, ends "
	    "a blocked poll() with EINTR");
}
ATF_TC_BODY(eintr, tc)
{
	struct sigaction sa;
	struct waiter w;
	int p[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sa.sa_flags = SA_RESTART;
	ATF_REQUIRE_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ATF_REQUIRE_EQ(0, pipe(p));
	memset(&w, 0, sizeof(w));
	w.pfd.fd = p[0];
	w.pfd.events = POLLIN;
	w.timeout = 5000;
	ATF_REQUIRE_EQ(0, pthread_create(&w.th, NULL, waiter_run, &w));
	usleep(100000);
	pthread_kill(w.th, SIGUSR1);
	pthread_join(w.th, NULL);
	ATF_CHECK_EQ(-1, w.ret);
	ATF_CHECK_EQ(EINTR, w.err);
}

ATF_TC(ppoll_sigmask);
ATF_TC_HEAD(ppoll_sigmask, tc)
{
	atf_tc_set_md_var(tc, "descr", "ppoll() applies its mask atomically "
	    "with the sleep: a pending blocked signal the mask unblocks ends "
	    "it with EINTR at once; one the mask keeps blocked stays pending");
}
ATF_TC_BODY(ppoll_sigmask, tc)
{
	struct pollfd pfd;
	struct timespec ts = { 0, 50000000L }, t0;
	sigset_t block, open;
	int p[2];

	sigusr2_blocked(&block);
	ATF_REQUIRE_EQ(0, pipe(p));
	pfd.fd = p[0];
	pfd.events = POLLIN;
	got_sig = 0;
	raise(SIGUSR2);
	ATF_CHECK_EQ(0, ppoll(&pfd, 1, &ts, &block));
	ATF_CHECK_EQ(0, got_sig);
	sigemptyset(&open);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ERR(ppoll(&pfd, 1, NULL, &open), EINTR);
	ATF_CHECK(kev_elapsed_ms(&t0) < 1000);
	ATF_CHECK_EQ(1, got_sig);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
}

ATF_TC(ppoll_zero_sigmask);
ATF_TC_HEAD(ppoll_zero_sigmask, tc)
{
	atf_tc_set_md_var(tc, "descr", "ppoll() with a zero timeout applies "
	    "its mask too, as Linux: with nothing ready, a pending blocked "
	    "signal the mask unblocks is delivered and the call fails with "
	    "EINTR; with a descriptor ready it returns it and the signal "
	    "stays pending (issue 11, item 7)");
}
ATF_TC_BODY(ppoll_zero_sigmask, tc)
{
	struct pollfd pfd;
	struct timespec zero = { 0, 0 };
	sigset_t block, open;
	int p[2];

	sigusr2_blocked(&block);
	ATF_REQUIRE_EQ(0, pipe(p));
	pfd.fd = p[0];
	pfd.events = POLLIN;
	sigemptyset(&open);
	got_sig = 0;
	raise(SIGUSR2);
	/* Ready: the count, and the signal waits. */
	ATF_REQUIRE_EQ(1, write(p[1], "x", 1));
	ATF_CHECK_EQ(1, ppoll(&pfd, 1, &zero, &open));
	ATF_CHECK_EQ(0, got_sig);
	/* Nothing ready: the signal, and EINTR. */
	pfd.fd = p[1];
	pfd.events = POLLPRI;
	ERR(ppoll(&pfd, 1, &zero, &open), EINTR);
	ATF_CHECK_EQ(1, got_sig);
	/* The mask keeps it blocked: 0, and it stays pending. */
	raise(SIGUSR2);
	ATF_CHECK_EQ(0, ppoll(&pfd, 1, &zero, &block));
	ATF_CHECK_EQ(1, got_sig);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	ATF_CHECK_EQ(2, got_sig);
	close(p[0]);
	close(p[1]);
}

ATF_TC(no_stale_registrations);
ATF_TC_HEAD(no_stale_registrations, tc)
{
	atf_tc_set_md_var(tc, "descr", "poll() calls leave nothing growing: "
	    "after the first, a thousand more on the same descriptors add no "
	    "queue, knote, host registration or kernel memory");
}
ATF_TC_BODY(no_stale_registrations, tc)
{
	struct pollfd pfd[2];
	long long h0, k0, q0, m0;
	int i, p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	pfd[0].fd = p[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = p[1];
	pfd[1].events = POLLOUT;
	(void)poll(pfd, 2, 0);
	h0 = KEV_STAT(EVRING_STAT_HOSTREG);
	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	q0 = KEV_STAT(EVRING_STAT_KQUEUES);
	m0 = KEV_STAT(EVRING_STAT_KMEM);
	for (i = 0; i < 1000; i++)
		ATF_REQUIRE_EQ(1, poll(pfd, 2, 0));
	ATF_CHECK_EQ(h0, KEV_STAT(EVRING_STAT_HOSTREG));
	ATF_CHECK_EQ(k0, KEV_STAT(EVRING_STAT_KNOTES));
	ATF_CHECK_EQ(q0, KEV_STAT(EVRING_STAT_KQUEUES));
	ATF_CHECK_EQ(m0, KEV_STAT(EVRING_STAT_KMEM));
}

ATF_TC(stale_purged);
ATF_TC_HEAD(stale_purged, tc)
{
	atf_tc_set_md_var(tc, "descr", "poll() reuses its queue's "
	    "registrations across calls (a second call on the same pipe makes "
	    "no new host registration) and purges those the next call does "
	    "not name: polling another pipe drops the first's registration, "
	    "and the first's readiness is never reported");
}
ATF_TC_BODY(stale_purged, tc)
{
	struct pollfd pfd;
	long long h0, t0;
	int a[2], b[2];

	ATF_REQUIRE_EQ(0, pipe(a));
	ATF_REQUIRE_EQ(0, pipe(b));
	h0 = KEV_STAT(EVRING_STAT_HOSTREG);
	t0 = KEV_STAT(EVRING_STAT_HOSTREG_TOTAL);
	pfd.fd = a[0];
	pfd.events = POLLIN;
	ATF_CHECK_EQ(0, poll(&pfd, 1, 0));
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_CHECK_EQ(0, poll(&pfd, 1, 0));
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL) - t0);
	xwrite(a[1]);
	pfd.fd = b[0];
	ATF_CHECK_EQ(0, poll(&pfd, 1, 50));
	ATF_CHECK_EQ(0, pfd.revents);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_CHECK_EQ(2, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL) - t0);
}

ATF_TC(reused_number);
ATF_TC_HEAD(reused_number, tc)
{
	atf_tc_set_md_var(tc, "descr", "A descriptor polled, closed and its "
	    "number reused by a new pipe: the next poll() of that number "
	    "watches the new pipe, not the old registration");
}
ATF_TC_BODY(reused_number, tc)
{
	struct pollfd pfd;
	int a[2], b[2], fd;

	ATF_REQUIRE_EQ(0, pipe(a));
	xwrite(a[1]);
	pfd.fd = fd = a[0];
	pfd.events = POLLIN;
	ATF_CHECK_EQ(1, poll(&pfd, 1, 0));
	close(a[0]);
	ATF_REQUIRE_EQ(0, pipe(b));
	ATF_REQUIRE_EQ(fd, b[0]);
	ATF_CHECK_EQ(0, poll(&pfd, 1, 50));
	xwrite(b[1]);
	ATF_CHECK_EQ(1, poll(&pfd, 1, 1000));
	ATF_CHECK_EQ(POLLIN, pfd.revents);
	close(b[0]);
	ATF_CHECK_EQ(1, poll(&pfd, 1, 0));
	ATF_CHECK_EQ(POLLNVAL, pfd.revents);
}

ATF_TC(pool_queue_not_the_programs);
ATF_TC_HEAD(pool_queue_not_the_programs, tc)
{
	atf_tc_set_md_var(tc, "descr", "The queue poll() keeps for itself "
	    "takes no low number: after a poll() the next descriptor is the "
	    "one after the program's last, and every number the library "
	    "opened meanwhile (960 and up) is, to the program's poll(), "
	    "select() and close(), not open (issue 11 item 2; the soak found "
	    "poll() of the pooled queue's number failing with EINVAL)");
}
ATF_TC_BODY(pool_queue_not_the_programs, tc)
{
	unsigned char before[1024];
	struct timeval tv = { 0, 0 };
	struct pollfd pfd;
	fd_set rfds;
	int fd, n, p[2], x;

	for (fd = 0; fd < 1024; fd++)
		before[fd] = fcntl(fd, F_GETFD) != -1;
	ATF_REQUIRE_EQ(0, pipe(p));
	pfd.fd = p[0];
	pfd.events = POLLIN;
	ATF_REQUIRE_EQ(0, poll(&pfd, 1, 0));
	x = dup(0);
	ATF_CHECK_EQ_MSG(p[1] + 1, x, "dup() gave %d, not %d", x, p[1] + 1);
	ATF_REQUIRE_EQ(0, close(x));
	n = 0;
	for (fd = 960; fd < 1024; fd++) {
		if (before[fd] || fcntl(fd, F_GETFD) == -1)
			continue;
		n++;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		ATF_CHECK_EQ_MSG(1, poll(&pfd, 1, 0), "poll(%d): %s", fd,
		    strerror(errno));
		ATF_CHECK_EQ_MSG(POLLNVAL, pfd.revents, "fd %d: revents %#x",
		    fd, pfd.revents);
		FD_ZERO(&rfds);
		FD_SET(fd, &rfds);
		ATF_CHECK_EQ(-1, select(fd + 1, &rfds, NULL, NULL, &tv));
		ATF_CHECK_EQ(EBADF, errno);
		ATF_CHECK_EQ(-1, close(fd));
		ATF_CHECK_EQ(EBADF, errno);
	}
	ATF_CHECK_MSG(n > 0, "the library opened nothing at 960 and up");
	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_REQUIRE_EQ(0, close(p[1]));
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, readable_writable);
	ATF_TP_ADD_TC(tp, pollnval_negative);
	ATF_TP_ADD_TC(tp, hup_err_unasked);
	ATF_TP_ADD_TC(tp, duplicates);
	ATF_TP_ADD_TC(tp, regular_file);
	ATF_TP_ADD_TC(tp, errors);
	ATF_TP_ADD_TC(tp, timeouts);
	ATF_TP_ADD_TC(tp, thread_woken);
	ATF_TP_ADD_TC(tp, eintr);
	ATF_TP_ADD_TC(tp, ppoll_sigmask);
	ATF_TP_ADD_TC(tp, ppoll_zero_sigmask);
	ATF_TP_ADD_TC(tp, no_stale_registrations);
	ATF_TP_ADD_TC(tp, stale_purged);
	ATF_TP_ADD_TC(tp, reused_number);
	ATF_TP_ADD_TC(tp, pool_queue_not_the_programs);
	return (atf_no_error());
}
