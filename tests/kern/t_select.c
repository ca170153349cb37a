/*
 * t_select: select(2) and pselect(2) on the kqueue core's knotes
 * (sys_generic.c), through <evring/poll.h>.  Linux semantics: the sets
 * come back holding the ready descriptors, readable includes end of file,
 * EBADF for a descriptor that is not open, EINVAL for nfds < 0 or a bad
 * timeout, EFAULT, the timeout updated by select() but not pselect(),
 * EINTR, the signal mask, and a thread blocked in select() woken by another.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atf-c.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
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

ATF_TC(sets);
ATF_TC_HEAD(sets, tc)
{
	atf_tc_set_md_var(tc, "descr", "select() returns the count of bits set "
	    "and sets holding only the ready descriptors: a pipe's write end "
	    "writable at once, its read end readable after a write");
}
ATF_TC_BODY(sets, tc)
{
	struct timeval tv = { 0, 0 };
	fd_set r, w;
	int nfds, p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	nfds = (p[0] > p[1] ? p[0] : p[1]) + 1;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	FD_SET(p[0], &w);	/* a pipe's read end is never writable */
	ATF_CHECK_EQ(1, select(nfds, &r, &w, NULL, &tv));
	ATF_CHECK(!FD_ISSET(p[0], &r));
	ATF_CHECK(FD_ISSET(p[1], &w));
	ATF_CHECK(!FD_ISSET(p[0], &w));
	xwrite(p[1]);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	ATF_CHECK_EQ(2, select(nfds, &r, &w, NULL, &tv));
	ATF_CHECK(FD_ISSET(p[0], &r));
	ATF_CHECK(FD_ISSET(p[1], &w));
}

ATF_TC(eof_readable);
ATF_TC_HEAD(eof_readable, tc)
{
	atf_tc_set_md_var(tc, "descr", "End of file (POLLHUP) counts as "
	    "readable, an error (POLLERR) as readable and writable, as "
	    "Linux's POLLIN_SET and POLLOUT_SET say");
}
ATF_TC_BODY(eof_readable, tc)
{
	struct timeval tv = { 0, 0 };
	fd_set r, w;
	int p[2], q[2];

	signal(SIGPIPE, SIG_IGN);
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE_EQ(0, pipe(q));
	close(p[1]);
	close(q[0]);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(q[1], &r);
	FD_SET(q[1], &w);
	ATF_CHECK_EQ(3, select(FD_SETSIZE, &r, &w, NULL, &tv));
	ATF_CHECK(FD_ISSET(p[0], &r));
	ATF_CHECK(FD_ISSET(q[1], &r));
	ATF_CHECK(FD_ISSET(q[1], &w));
}

ATF_TC(errors);
ATF_TC_HEAD(errors, tc)
{
	atf_tc_set_md_var(tc, "descr", "EBADF for a closed descriptor in any "
	    "set (before any wait), EINVAL for nfds < 0, above RLIMIT_NOFILE, "
	    "a negative timeval or a bad pselect() timespec; EFAULT for an "
	    "unreadable set or timeout");
}
ATF_TC_BODY(errors, tc)
{
	struct timeval tv = { 5, 0 }, neg = { -1, 0 };
	struct timespec bad = { 0, 1000000000L };
	struct rlimit rl;
	struct timespec t0;
	fd_set r;
	int p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ERR(select(-1, &r, NULL, NULL, &tv), EINVAL);
	ATF_REQUIRE_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	ERR(select((int)rl.rlim_cur + 1, &r, NULL, NULL, &tv), EINVAL);
	ERR(select(p[0] + 1, &r, NULL, NULL, &neg), EINVAL);
	ERR(pselect(p[0] + 1, &r, NULL, NULL, &bad, NULL), EINVAL);
	ERR(select(p[0] + 1, (void *)16, NULL, NULL, &tv), EFAULT);
	ERR(select(p[0] + 1, &r, NULL, NULL, (void *)16), EFAULT);
	FD_ZERO(&r);
	FD_SET(900, &r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ERR(select(901, NULL, &r, NULL, &tv), EBADF);
	ERR(select(901, NULL, NULL, &r, &tv), EBADF);
	FD_SET(p[0], &r);
	ERR(select(901, &r, NULL, NULL, &tv), EBADF);
	ATF_CHECK(kev_elapsed_ms(&t0) < 1000);
	ATF_CHECK_EQ(0, select(0, NULL, NULL, NULL, &(struct timeval){0, 0}));
}

ATF_TC(timeout_updated);
ATF_TC_HEAD(timeout_updated, tc)
{
	atf_tc_set_md_var(tc, "descr", "select() leaves the time not slept in "
	    "its timeval (0 after a full timeout, most of it after an early "
	    "return), as Linux does; pselect() leaves its timespec alone");
}
ATF_TC_BODY(timeout_updated, tc)
{
	struct timeval tv = { 0, 80000 };
	struct timespec ts = { 0, 50000000L };
	fd_set r;
	int p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ATF_CHECK_EQ(0, select(p[0] + 1, &r, NULL, NULL, &tv));
	ATF_CHECK_EQ(0, tv.tv_sec);
	ATF_CHECK_EQ(0, tv.tv_usec);
	xwrite(p[1]);
	tv.tv_sec = 10;
	tv.tv_usec = 0;
	FD_SET(p[0], &r);
	ATF_CHECK_EQ(1, select(p[0] + 1, &r, NULL, NULL, &tv));
	ATF_CHECK_MSG(tv.tv_sec >= 8 && tv.tv_sec <= 10, "left %ld s",
	    (long)tv.tv_sec);
	FD_ZERO(&r);
	ATF_CHECK_EQ(0, pselect(1, &r, NULL, NULL, &ts, NULL));
	ATF_CHECK_EQ(50000000L, ts.tv_nsec);
}

struct waiter {
	int		fd;
	int		ret;
	int		err;
	int		done;
	fd_set		r;
	pthread_t	th;
};

static void *
waiter_run(void *arg)
{
	struct waiter *w = arg;
	struct timeval tv = { 5, 0 };

	FD_ZERO(&w->r);
	FD_SET(w->fd, &w->r);
	w->ret = select(w->fd + 1, &w->r, NULL, NULL, &tv);
	w->err = errno;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return (NULL);
}

ATF_TC(thread_woken);
ATF_TC_HEAD(thread_woken, tc)
{
	atf_tc_set_md_var(tc, "descr", "A thread blocked in select() is woken "
	    "by another thread's write and reports the descriptor readable");
}
ATF_TC_BODY(thread_woken, tc)
{
	struct waiter w;
	int p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	memset(&w, 0, sizeof(w));
	w.fd = p[0];
	ATF_REQUIRE_EQ(0, pthread_create(&w.th, NULL, waiter_run, &w));
	usleep(100000);
	ATF_CHECK(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	xwrite(p[1]);
	pthread_join(w.th, NULL);
	ATF_CHECK_EQ(1, w.ret);
	ATF_CHECK(FD_ISSET(p[0], &w.r));
}

ATF_TC(eintr);
ATF_TC_HEAD(eintr, tc)
{
	atf_tc_set_md_var(tc, "descr", "A signal handler, even SA_RESTART, ends "
	    "a blocked select() with EINTR");
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
	w.fd = p[0];
	ATF_REQUIRE_EQ(0, pthread_create(&w.th, NULL, waiter_run, &w));
	usleep(100000);
	pthread_kill(w.th, SIGUSR1);
	pthread_join(w.th, NULL);
	ATF_CHECK_EQ(-1, w.ret);
	ATF_CHECK_EQ(EINTR, w.err);
}

ATF_TC(pselect_sigmask);
ATF_TC_HEAD(pselect_sigmask, tc)
{
	atf_tc_set_md_var(tc, "descr", "pselect() applies its mask atomically "
	    "with the sleep: a pending blocked signal the mask unblocks ends "
	    "it with EINTR at once; one the mask keeps blocked stays pending");
}
ATF_TC_BODY(pselect_sigmask, tc)
{
	struct timespec ts = { 0, 50000000L }, t0;
	sigset_t block, open;
	fd_set r;
	int p[2];

	sigusr2_blocked(&block);
	ATF_REQUIRE_EQ(0, pipe(p));
	got_sig = 0;
	raise(SIGUSR2);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ATF_CHECK_EQ(0, pselect(p[0] + 1, &r, NULL, NULL, &ts, &block));
	ATF_CHECK_EQ(0, got_sig);
	sigemptyset(&open);
	FD_SET(p[0], &r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ERR(pselect(p[0] + 1, &r, NULL, NULL, NULL, &open), EINTR);
	ATF_CHECK(kev_elapsed_ms(&t0) < 1000);
	ATF_CHECK_EQ(1, got_sig);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
}

ATF_TC(pselect_zero_sigmask);
ATF_TC_HEAD(pselect_zero_sigmask, tc)
{
	atf_tc_set_md_var(tc, "descr", "pselect() with a zero timeout "
	    "applies its mask too, as Linux: with nothing ready, a pending "
	    "blocked signal the mask unblocks is delivered and the call "
	    "fails with EINTR (issue 11, item 7)");
}
ATF_TC_BODY(pselect_zero_sigmask, tc)
{
	struct timespec zero = { 0, 0 };
	sigset_t block, open;
	fd_set r;
	int p[2];

	sigusr2_blocked(&block);
	ATF_REQUIRE_EQ(0, pipe(p));
	sigemptyset(&open);
	got_sig = 0;
	raise(SIGUSR2);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ERR(pselect(p[0] + 1, &r, NULL, NULL, &zero, &open), EINTR);
	ATF_CHECK_EQ(1, got_sig);
	raise(SIGUSR2);
	FD_SET(p[0], &r);
	ATF_CHECK_EQ(0, pselect(p[0] + 1, &r, NULL, NULL, &zero, &block));
	ATF_CHECK_EQ(1, got_sig);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	ATF_CHECK_EQ(2, got_sig);
	close(p[0]);
	close(p[1]);
}

ATF_TC(beyond_fd_setsize);
ATF_TC_HEAD(beyond_fd_setsize, tc)
{
	atf_tc_set_md_var(tc, "descr", "As on Linux, nfds may exceed FD_SETSIZE "
	    "(up to RLIMIT_NOFILE) when the caller's sets are that large: a "
	    "descriptor numbered above 1024 is reported");
}
ATF_TC_BODY(beyond_fd_setsize, tc)
{
	unsigned long sets[2][2048 / (8 * sizeof(unsigned long))];
	struct timeval tv = { 1, 0 };
	struct rlimit rl;
	int hi, p[2];
	unsigned b = 8 * sizeof(unsigned long);

	ATF_REQUIRE_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < 1500) {
		rl.rlim_cur = rl.rlim_max < 2048 ? rl.rlim_max : 2048;
		if (rl.rlim_cur < 1500 || setrlimit(RLIMIT_NOFILE, &rl) != 0)
			atf_tc_skip("RLIMIT_NOFILE too low");
	}
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE((hi = dup2(p[0], 1300)) == 1300);
	xwrite(p[1]);
	memset(sets, 0, sizeof(sets));
	sets[0][hi / b] |= 1UL << (hi % b);
	ATF_CHECK_EQ(1, select(hi + 1, (fd_set *)sets[0], NULL, NULL, &tv));
	ATF_CHECK(sets[0][hi / b] & (1UL << (hi % b)));
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, sets);
	ATF_TP_ADD_TC(tp, eof_readable);
	ATF_TP_ADD_TC(tp, errors);
	ATF_TP_ADD_TC(tp, timeout_updated);
	ATF_TP_ADD_TC(tp, thread_woken);
	ATF_TP_ADD_TC(tp, eintr);
	ATF_TP_ADD_TC(tp, pselect_sigmask);
	ATF_TP_ADD_TC(tp, pselect_zero_sigmask);
	ATF_TP_ADD_TC(tp, beyond_fd_setsize);
	return (atf_no_error());
}
