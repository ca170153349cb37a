/*
 * t_nest: a kqueue is a real, pollable host descriptor.  The host's own
 * poll and epoll (reached by system call, so no front end of the library
 * can stand in for them) see it readable exactly while it has pending
 * events; another kqueue can watch it (data = pending events), and a cycle
 * of queues watching each other neither deadlocks nor loops; closing a
 * watched queue removes its watchers' registrations, as closing any
 * descriptor does on FreeBSD (knote_fdclose()); kqueue descriptors are
 * close-on-exec.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/event.h>
#include <sys/syscall.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <evring/epoll.h>	/* evring's epoll; the host's is syscall() */

#include "h_evring.h"

/* The host's poll on one descriptor: revents, or -1. */
static int
host_poll(int fd, long ms)
{
	struct timespec ts;
	struct pollfd pfd;
	long n;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	n = syscall(SYS_ppoll, &pfd, 1UL, &ts, NULL, (size_t)8);
	if (n < 0)
		return (-1);
	return (n == 0 ? 0 : pfd.revents);
}

static int
host_epoll_wait(int ep, struct epoll_event *ev, long ms)
{
	return ((int)syscall(SYS_epoll_pwait, ep, ev, 1, (int)ms, NULL,
	    (size_t)8));
}

/* Add user event ident (EV_CLEAR) to kq, and trigger it. */
static void
user_add(int kq, uintptr_t ident)
{
	KEV_CHANGE(kq, ident, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
}

static void
user_trigger(int kq, uintptr_t ident)
{
	KEV_CHANGE(kq, ident, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
}

ATF_TC(host_poll_pending);
ATF_TC_HEAD(host_poll_pending, tc)
{
	atf_tc_set_md_var(tc, "descr", "The host's poll() sees a kqueue "
	    "POLLIN exactly while it has pending events: not when empty, yes "
	    "after an EVFILT_USER trigger, not after the EV_CLEAR event is "
	    "consumed; a level-triggered user event keeps it readable");
}
ATF_TC_BODY(host_poll_pending, tc)
{
	int kq, r;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_CHECK_EQ(0, host_poll(kq, 0));
	user_add(kq, 1);
	ATF_CHECK_EQ(0, host_poll(kq, 0));

	user_trigger(kq, 1);
	r = host_poll(kq, 1000);
	ATF_CHECK_MSG(r > 0 && (r & POLLIN), "revents %#x", r);
	/* Not consumed yet: still readable. */
	r = host_poll(kq, 0);
	ATF_CHECK_MSG(r > 0 && (r & POLLIN), "revents %#x", r);

	(void)KEV_ONE(kq, 0, 1, EVFILT_USER);
	ATF_CHECK_EQ(0, host_poll(kq, 0));
	ATF_CHECK_EQ(0, host_poll(kq, 50));

	/* Without EV_CLEAR the user event stays triggered after delivery. */
	KEV_CHANGE(kq, 2, EVFILT_USER, EV_ADD, 0, 0, NULL);
	user_trigger(kq, 2);
	(void)KEV_ONE(kq, 1000, 2, EVFILT_USER);
	r = host_poll(kq, 1000);
	ATF_CHECK_MSG(r > 0 && (r & POLLIN), "revents %#x", r);
	KEV_CHANGE(kq, 2, EVFILT_USER, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(0, host_poll(kq, 0));
}

ATF_TC(host_epoll_pending);
ATF_TC_HEAD(host_epoll_pending, tc)
{
	atf_tc_set_md_var(tc, "descr", "The host's epoll sees a kqueue "
	    "EPOLLIN while it has pending events and not otherwise");
}
ATF_TC_BODY(host_epoll_pending, tc)
{
	struct epoll_event ee;
	int ep, kq;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE((ep = (int)syscall(SYS_epoll_create1, EPOLL_CLOEXEC)) >=
	    0);
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	ee.data.u64 = 0xabc;
	ATF_REQUIRE_EQ(0, syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, kq, &ee));
	ATF_CHECK_EQ(0, host_epoll_wait(ep, &ee, 0));

	user_add(kq, 5);
	user_trigger(kq, 5);
	memset(&ee, 0, sizeof(ee));
	ATF_REQUIRE_EQ(1, host_epoll_wait(ep, &ee, 1000));
	ATF_CHECK(ee.events & EPOLLIN);
	ATF_CHECK_EQ(0xabc, ee.data.u64);

	(void)KEV_ONE(kq, 0, 5, EVFILT_USER);
	ATF_CHECK_EQ(0, host_epoll_wait(ep, &ee, 0));
	ATF_CHECK_EQ(0, host_epoll_wait(ep, &ee, 50));
	close(ep);
}

ATF_TC(nested_zero_timeout);
ATF_TC_HEAD(nested_zero_timeout, tc)
{
	atf_tc_set_md_var(tc, "descr", "Kqueue B watching kqueue A: a "
	    "zero-timeout kevent() on B right after an event is triggered in A "
	    "reports A readable with data 1");
}
ATF_TC_BODY(nested_zero_timeout, tc)
{
	struct kevent ev;
	int a, b;

	ATF_REQUIRE((a = kqueue()) >= 0);
	ATF_REQUIRE((b = kqueue()) >= 0);
	KEV_CHANGE(b, a, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(b, 0);
	user_add(a, 1);
	KEV_NONE(b, 0);
	user_trigger(a, 1);
	ev = KEV_ONE(b, 0, a, EVFILT_READ);
	ATF_CHECK_EQ(1, ev.data);
}

ATF_TC(nested_data_count);
ATF_TC_HEAD(nested_data_count, tc)
{
	atf_tc_set_md_var(tc, "descr", "Kqueue B watching kqueue A: data = "
	    "number of events pending in A (3 after three triggers); once A "
	    "is drained B reports nothing; a new trigger fires B again");
}
ATF_TC_BODY(nested_data_count, tc)
{
	struct kevent ev, evs[8];
	int a, b, i;

	ATF_REQUIRE((a = kqueue()) >= 0);
	ATF_REQUIRE((b = kqueue()) >= 0);
	KEV_CHANGE(b, a, EVFILT_READ, EV_ADD, 0, 0, NULL);
	for (i = 1; i <= 3; i++)
		user_add(a, i);
	for (i = 1; i <= 3; i++)
		user_trigger(a, i);

	ev = KEV_ONE(b, 1000, a, EVFILT_READ);
	ATF_CHECK_EQ(3, ev.data);

	ATF_REQUIRE_EQ(3, kev_wait(a, evs, 8, 0));
	KEV_NONE(b, 0);
	KEV_NONE(b, 100);

	user_trigger(a, 2);
	ev = KEV_ONE(b, 1000, a, EVFILT_READ);
	ATF_CHECK_EQ(1, ev.data);
}

struct trig_arg {
	int	kq;
	int	delay_ms;
};

static void *
trigger_thread(void *arg)
{
	struct trig_arg *ta = arg;
	struct kevent ch;

	usleep(ta->delay_ms * 1000);
	EV_SET(&ch, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	if (kevent(ta->kq, &ch, 1, NULL, 0, NULL) != 0)
		return ((void *)1);
	return (NULL);
}

ATF_TC(nested_wakeup);
ATF_TC_HEAD(nested_wakeup, tc)
{
	atf_tc_set_md_var(tc, "descr", "A thread blocked in kevent() on B (B "
	    "watches A, 3 s timeout) is woken when another thread triggers an "
	    "event in A");
}
ATF_TC_BODY(nested_wakeup, tc)
{
	struct trig_arg ta;
	struct timespec t0;
	struct kevent ev;
	pthread_t t;
	void *ret;
	double ms;
	int a, b;

	ATF_REQUIRE((a = kqueue()) >= 0);
	ATF_REQUIRE((b = kqueue()) >= 0);
	KEV_CHANGE(b, a, EVFILT_READ, EV_ADD, 0, 0, NULL);
	user_add(a, 1);

	ta.kq = a;
	ta.delay_ms = 100;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_REQUIRE_EQ(0, pthread_create(&t, NULL, trigger_thread, &ta));
	ev = KEV_ONE(b, 3000, a, EVFILT_READ);
	ms = kev_elapsed_ms(&t0);
	ATF_REQUIRE_EQ(0, pthread_join(t, &ret));
	ATF_REQUIRE(ret == NULL);
	ATF_CHECK_EQ(1, ev.data);
	printf("B woken after %.1f ms\n", ms);
	ATF_CHECK_MSG(ms < 2000, "woken after %.1f ms", ms);
}

ATF_TC(self_watch);
ATF_TC_HEAD(self_watch, tc)
{
	atf_tc_set_md_var(tc, "descr", "A queue cannot watch itself: EV_ADD, "
	    "and any other change, of EVFILT_READ or EVFILT_WRITE on its own "
	    "descriptor fails with EINVAL, as on FreeBSD, and the queue "
	    "works on");
}
ATF_TC_BODY(self_watch, tc)
{
	struct kevent kev;
	int kq;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	EV_SET(&kev, kq, EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_CHECK_ERRNO(EINVAL, kevent(kq, &kev, 1, NULL, 0, NULL) == -1);
	EV_SET(&kev, kq, EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	ATF_CHECK_ERRNO(EINVAL, kevent(kq, &kev, 1, NULL, 0, NULL) == -1);
	EV_SET(&kev, kq, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_ERRNO(EINVAL, kevent(kq, &kev, 1, NULL, 0, NULL) == -1);
	user_add(kq, 1);
	user_trigger(kq, 1);
	KEV_ONE(kq, 1000, 1, EVFILT_USER);
	ATF_REQUIRE_EQ(0, close(kq));
}

ATF_TC(cycle);
ATF_TC_HEAD(cycle, tc)
{
	atf_tc_set_md_var(tc, "descr", "A watches B and B watches A: an event "
	    "triggered in A neither deadlocks nor loops; both queues report "
	    "promptly (A its user event, B that A is readable)");
	atf_tc_set_md_var(tc, "timeout", "20");
}
ATF_TC_BODY(cycle, tc)
{
	struct kevent evs[8];
	struct timespec t0;
	double ms;
	int a, b, i, na, nb;

	/* A deadlock inside kevent() would hang: kill it, fail the case. */
	alarm(10);
	ATF_REQUIRE((a = kqueue()) >= 0);
	ATF_REQUIRE((b = kqueue()) >= 0);
	KEV_CHANGE(a, b, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(b, a, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(a, 0);
	KEV_NONE(b, 0);

	user_add(a, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	user_trigger(a, 1);

	memset(evs, 0, sizeof(evs));
	nb = kev_wait(b, evs, 8, 1000);
	ATF_CHECK_EQ_MSG(1, nb, "B returned %d", nb);
	ATF_CHECK(kev_find(evs, nb > 0 ? nb : 0, a, EVFILT_READ) != NULL);

	memset(evs, 0, sizeof(evs));
	na = kev_wait(a, evs, 8, 1000);
	ATF_CHECK_MSG(na >= 1 && na <= 2, "A returned %d", na);
	ATF_CHECK(kev_find(evs, na > 0 ? na : 0, 1, EVFILT_USER) != NULL);
	for (i = 0; i < na; i++)
		ATF_CHECK(evs[i].filter == EVFILT_USER ||
		    (evs[i].filter == EVFILT_READ && evs[i].ident ==
		    (uintptr_t)b));

	/* More rounds stay bounded and prompt. */
	for (i = 0; i < 10; i++) {
		na = kev_wait(a, evs, 8, 0);
		nb = kev_wait(b, evs, 8, 0);
		ATF_CHECK(na >= 0 && na <= 2);
		ATF_CHECK(nb >= 0 && nb <= 1);
	}
	ms = kev_elapsed_ms(&t0);
	printf("cycle rounds took %.1f ms\n", ms);
	ATF_CHECK_MSG(ms < 2500, "took %.1f ms", ms);

	KEV_CHANGE(a, b, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	KEV_CHANGE(b, a, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_REQUIRE_EQ(0, close(a));
	ATF_REQUIRE_EQ(0, close(b));
	alarm(0);
}

ATF_TC(close_watched_queue);
ATF_TC_HEAD(close_watched_queue, tc)
{
	atf_tc_set_md_var(tc, "descr", "Closing kqueue A while kqueue B "
	    "watches it, with an event pending in A, removes B's "
	    "registration: B reports nothing, an EV_DELETE of it fails with "
	    "EBADF and its knote is gone, as FreeBSD's close() does for any "
	    "descriptor (knote_fdclose())");
}
ATF_TC_BODY(close_watched_queue, tc)
{
	struct kevent ev;
	long long before;
	int a, b;

	ATF_REQUIRE((a = kqueue()) >= 0);
	ATF_REQUIRE((b = kqueue()) >= 0);
	before = KEV_STAT(EVRING_STAT_KNOTES);
	KEV_CHANGE(b, a, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(b, 0);
	KEV_CHANGE(a, 1, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, NULL);
	ev = KEV_ONE(b, 1000, a, EVFILT_READ);
	ATF_CHECK_EQ(1, ev.data);
	ATF_REQUIRE_EQ(0, close(a));
	KEV_NONE(b, 50);
	ATF_CHECK_EQ(KEV_STAT(EVRING_STAT_KNOTES), before);
	EV_SET(&ev, a, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(-1, kevent(b, &ev, 1, NULL, 0, NULL));
	ATF_CHECK_EQ(EBADF, errno);
	ATF_REQUIRE_EQ(0, close(b));
}

ATF_TC(close_watched_queue_disabled);
ATF_TC_HEAD(close_watched_queue_disabled, tc)
{
	atf_tc_set_md_var(tc, "descr", "A disabled registration in kqueue B "
	    "on kqueue A goes when A is closed: its knote is gone and an "
	    "EV_DELETE fails with EBADF (regression: the knote stayed)");
}
ATF_TC_BODY(close_watched_queue_disabled, tc)
{
	struct kevent ev;
	long long before;
	int a, b;

	ATF_REQUIRE((a = kqueue()) >= 0);
	ATF_REQUIRE((b = kqueue()) >= 0);
	before = KEV_STAT(EVRING_STAT_KNOTES);
	KEV_CHANGE(b, a, EVFILT_READ, EV_ADD | EV_DISABLE, 0, 0, NULL);
	ATF_REQUIRE_EQ(KEV_STAT(EVRING_STAT_KNOTES), before + 1);
	/*
	 * Sleep once first: the host makes its sleeper descriptor then, and
	 * must not take A's number after the close.
	 */
	KEV_NONE(b, 20);
	ATF_REQUIRE_EQ(0, close(a));
	KEV_NONE(b, 0);
	ATF_CHECK_EQ(KEV_STAT(EVRING_STAT_KNOTES), before);
	EV_SET(&ev, a, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(-1, kevent(b, &ev, 1, NULL, 0, NULL));
	ATF_CHECK_EQ(EBADF, errno);
	ATF_REQUIRE_EQ(0, close(b));
}

ATF_TC(cloexec);
ATF_TC_HEAD(cloexec, tc)
{
	atf_tc_set_md_var(tc, "descr", "kqueue() descriptors are close-on-exec "
	    "(FD_CLOEXEC)");
}
ATF_TC_BODY(cloexec, tc)
{
	int fl, kq;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE((fl = fcntl(kq, F_GETFD)) != -1);
	ATF_CHECK(fl & FD_CLOEXEC);
}

ATF_TC(chain_zero_timeout);
ATF_TC_HEAD(chain_zero_timeout, tc)
{
	atf_tc_set_md_var(tc, "descr", "A chain of 12 queues, each watching "
	    "the one below, kqueues and epoll instances alternating: after a "
	    "trigger at the bottom, a zero-timeout kevent() at the top sees "
	    "it every time, in 1,000 rounds, although the callout thread may "
	    "be carrying the notice up the chain meanwhile (issue 15, item 5)");
	atf_tc_set_md_var(tc, "timeout", "120");
}
ATF_TC_BODY(chain_zero_timeout, tc)
{
	enum { L = 12, ROUNDS = 1000 };
	struct epoll_event ee;
	struct kevent kev, ev;
	struct timespec zero = { 0, 0 }, t0;
	int q[L], i, r, miss = 0;

	for (r = 0; r < ROUNDS; r++) {
		/* Even levels and the top are kqueues, odd ones epoll. */
		for (i = 0; i < L; i++)
			ATF_REQUIRE((q[i] = (i % 2 == 0 || i == L - 1) ?
			    kqueue() : epoll_create1(0)) >= 0);
		user_add(q[0], 1);
		for (i = 1; i < L; i++) {
			if (i % 2 == 0 || i == L - 1) {
				EV_SET(&kev, (uintptr_t)q[i - 1], EVFILT_READ,
				    EV_ADD, 0, 0, NULL);
				ATF_REQUIRE_EQ(0, kevent(q[i], &kev, 1, NULL,
				    0, NULL));
			} else {
				memset(&ee, 0, sizeof(ee));
				ee.events = EPOLLIN;
				ATF_REQUIRE_EQ(0, epoll_ctl(q[i], EPOLL_CTL_ADD,
				    q[i - 1], &ee));
			}
		}
		user_trigger(q[0], 1);
		/*
		 * Look at the top after 0 to 98 us: some rounds then find
		 * the callout thread (woken by the first notice) half way up
		 * the chain.
		 */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (kev_elapsed_ms(&t0) < (r % 50) * 0.002)
			;
		if (kevent(q[L - 1], NULL, 0, &ev, 1, &zero) != 1)
			miss++;
		for (i = 0; i < L; i++)
			ATF_REQUIRE_EQ(0, close(q[i]));
	}
	ATF_REQUIRE_EQ_MSG(0, miss, "the top missed the event in %d of %d "
	    "rounds", miss, ROUNDS);
}

static int
ep_watch(int ep, int fd)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	return (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ee));
}

static int
kq_watch(int kq, int fd)
{
	struct kevent kev;

	EV_SET(&kev, (uintptr_t)fd, EVFILT_READ, EV_ADD, 0, 0, NULL);
	return (kevent(kq, &kev, 1, NULL, 0, NULL));
}

ATF_TC(cycle_through_kqueues);
ATF_TC_HEAD(cycle_through_kqueues, tc)
{
	atf_tc_set_md_var(tc, "descr", "Cycles and depth across kqueues and "
	    "epoll instances alike (issue 15, item 5): a cycle through an "
	    "epoll instance is ELOOP whether epoll_ctl() or kevent() would "
	    "close it; epoll instances linked through kqueues count toward "
	    "the limit of five; kqueues alone may still form a cycle, as on "
	    "FreeBSD, and a long chain of them under an instance is fine");
}
ATF_TC_BODY(cycle_through_kqueues, tc)
{
	int e[7], k[7], kk[20], i;

	for (i = 0; i < 7; i++) {
		ATF_REQUIRE((e[i] = epoll_create1(0)) >= 0);
		ATF_REQUIRE((k[i] = kqueue()) >= 0);
	}
	/* e0 -> k0 -> e1, closed by epoll_ctl(e1, e0) or kevent(k1...). */
	ATF_REQUIRE_EQ(0, ep_watch(e[0], k[0]));
	ATF_REQUIRE_EQ(0, kq_watch(k[0], e[1]));
	errno = 0;
	ATF_CHECK_MSG(ep_watch(e[1], e[0]) == -1 && errno == ELOOP,
	    "epoll_ctl closing e1 -> e0 -> k0 -> e1: errno %d", errno);
	ATF_REQUIRE_EQ(0, ep_watch(e[1], k[1]));
	errno = 0;
	ATF_CHECK_MSG(kq_watch(k[1], e[0]) == -1 && errno == ELOOP,
	    "kevent closing k1 -> e0 -> k0 -> e1 -> k1: errno %d", errno);
	/* The refused additions left nothing behind: e1 is not ready. */
	ATF_CHECK_EQ(0, epoll_wait(e[1], &(struct epoll_event){ 0 }, 1, 0));

	/* Depth: e0 -> k0 -> e1 -> k1 -> ... -> e4: five instances. */
	for (i = 2; i <= 4; i++) {
		ATF_REQUIRE_EQ(0, kq_watch(k[i - 1], e[i]));
		ATF_REQUIRE_EQ(0, ep_watch(e[i], k[i]));
	}
	/* A sixth on top of e0 is too many; on top of k0, five again. */
	errno = 0;
	ATF_CHECK_MSG(ep_watch(e[5], e[0]) == -1 && errno == ELOOP,
	    "a sixth instance above five linked through kqueues: errno %d",
	    errno);
	ATF_CHECK_EQ(0, ep_watch(e[5], k[0]));

	/* Kqueues alone: a cycle, and a long chain under an instance. */
	for (i = 0; i < 20; i++)
		ATF_REQUIRE((kk[i] = kqueue()) >= 0);
	for (i = 1; i < 20; i++)
		ATF_REQUIRE_EQ(0, kq_watch(kk[i], kk[i - 1]));
	ATF_CHECK_EQ(0, kq_watch(kk[0], kk[19]));
	ATF_CHECK_EQ(0, ep_watch(e[6], kk[5]));
	for (i = 0; i < 20; i++)
		ATF_REQUIRE_EQ(0, close(kk[i]));
	for (i = 0; i < 7; i++) {
		ATF_REQUIRE_EQ(0, close(e[i]));
		ATF_REQUIRE_EQ(0, close(k[i]));
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, host_poll_pending);
	ATF_TP_ADD_TC(tp, chain_zero_timeout);
	ATF_TP_ADD_TC(tp, cycle_through_kqueues);
	ATF_TP_ADD_TC(tp, host_epoll_pending);
	ATF_TP_ADD_TC(tp, nested_zero_timeout);
	ATF_TP_ADD_TC(tp, nested_data_count);
	ATF_TP_ADD_TC(tp, nested_wakeup);
	ATF_TP_ADD_TC(tp, self_watch);
	ATF_TP_ADD_TC(tp, cycle);
	ATF_TP_ADD_TC(tp, close_watched_queue);
	ATF_TP_ADD_TC(tp, close_watched_queue_disabled);
	ATF_TP_ADD_TC(tp, cloexec);
	return (atf_no_error());
}
