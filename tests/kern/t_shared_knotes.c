/*
 * t_shared_knotes: every front end on the same knotes.  One descriptor
 * watched through a kqueue, an epoll instance, poll() and select() at once
 * is one kernel file and one host registration (EVRING_STAT_HOSTREG proves
 * it), and one readiness change reaches all of them, including threads
 * blocked in each front end.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/socket.h>

#include <atf-c.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <evring/epoll.h>
#include <evring/poll.h>

#include "h_evring.h"

struct blocked {
	int		kind;		/* 0 kevent, 1 epoll, 2 poll, 3 select */
	int		fd;		/* the descriptor watched */
	int		q;		/* kqueue or epoll instance */
	int		ret;
	int		done;
	unsigned	bits;		/* what it reported */
	pthread_t	th;
};

static void *
blocked_run(void *arg)
{
	struct blocked *b = arg;
	struct timespec ts = { 5, 0 };
	struct timeval tv = { 5, 0 };
	struct epoll_event ev;
	struct kevent kev;
	struct pollfd pfd;
	fd_set r;

	switch (b->kind) {
	case 0:
		b->ret = kevent(b->q, NULL, 0, &kev, 1, &ts);
		b->bits = b->ret == 1 && kev.ident == (uintptr_t)b->fd &&
		    kev.filter == EVFILT_READ;
		break;
	case 1:
		b->ret = epoll_wait(b->q, &ev, 1, 5000);
		b->bits = b->ret == 1 ? ev.events : 0;
		break;
	case 2:
		pfd.fd = b->fd;
		pfd.events = POLLIN;
		b->ret = poll(&pfd, 1, 5000);
		b->bits = (unsigned)pfd.revents;
		break;
	case 3:
		FD_ZERO(&r);
		FD_SET(b->fd, &r);
		b->ret = select(b->fd + 1, &r, NULL, NULL, &tv);
		b->bits = FD_ISSET(b->fd, &r);
		break;
	}
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return (NULL);
}

static void
start_all(struct blocked *b, int fd, int kq, int ep)
{
	int i;

	memset(b, 0, 4 * sizeof(*b));
	for (i = 0; i < 4; i++) {
		b[i].kind = i;
		b[i].fd = fd;
		b[i].q = i == 0 ? kq : ep;
		ATF_REQUIRE_EQ(0, pthread_create(&b[i].th, NULL, blocked_run,
		    &b[i]));
	}
	usleep(150000);
	for (i = 0; i < 4; i++)
		ATF_REQUIRE_MSG(!__atomic_load_n(&b[i].done, __ATOMIC_ACQUIRE),
		    "front end %d returned early (%d)", i, b[i].ret);
}

ATF_TC(one_hostreg_all_frontends);
ATF_TC_HEAD(one_hostreg_all_frontends, tc)
{
	atf_tc_set_md_var(tc, "descr", "A pipe watched by a kqueue, an epoll "
	    "instance, a blocked poll() and a blocked select() at once is one "
	    "kernel file and one host registration, ever; the idle poll() "
	    "queues keep it for their next call, and closing the pipe removes "
	    "it");
}
ATF_TC_BODY(one_hostreg_all_frontends, tc)
{
	struct epoll_event ev;
	struct blocked b[4];
	long long h0, t0, f0;
	int ep, i, kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE((ep = epoll_create1(0)) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	h0 = KEV_STAT(EVRING_STAT_HOSTREG);
	t0 = KEV_STAT(EVRING_STAT_HOSTREG_TOTAL);
	f0 = KEV_STAT(EVRING_STAT_FILES);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ATF_REQUIRE_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	start_all(b, p[0], kq, ep);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL) - t0);
	/* The pipe, and the queue of each blocked poll() and select(). */
	ATF_CHECK_EQ(3, KEV_STAT(EVRING_STAT_FILES) - f0);
	ATF_REQUIRE_EQ(1, write(p[1], "x", 1));
	for (i = 0; i < 4; i++)
		pthread_join(b[i].th, NULL);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL) - t0);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_REQUIRE_EQ(0, epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	/* The pooled poll()/select() queues still hold their knotes. */
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_CHECK_EQ(0, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL) - t0);
}

ATF_TC(one_change_reaches_all);
ATF_TC_HEAD(one_change_reaches_all, tc)
{
	atf_tc_set_md_var(tc, "descr", "Threads blocked in kevent(), "
	    "epoll_wait(), poll() and select() on one socket are all woken "
	    "by one write from another thread, and each reports the socket "
	    "readable in its own terms");
}
ATF_TC_BODY(one_change_reaches_all, tc)
{
	struct epoll_event ev;
	struct blocked b[4];
	int ep, i, kq, s[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE((ep = epoll_create1(0)) >= 0);
	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = 99;
	ATF_REQUIRE_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, s[0], &ev));
	start_all(b, s[0], kq, ep);
	ATF_REQUIRE_EQ(1, write(s[1], "x", 1));
	for (i = 0; i < 4; i++) {
		pthread_join(b[i].th, NULL);
		ATF_CHECK_EQ_MSG(1, b[i].ret, "front end %d", i);
	}
	ATF_CHECK_EQ(1, b[0].bits);
	ATF_CHECK_EQ(EPOLLIN, b[1].bits);
	ATF_CHECK_EQ(POLLIN, b[2].bits);
	ATF_CHECK_EQ(1, b[3].bits);
}

ATF_TC(hup_reaches_all);
ATF_TC_HEAD(hup_reaches_all, tc)
{
	atf_tc_set_md_var(tc, "descr", "The peer's close reaches a kqueue "
	    "(EV_EOF), an epoll instance (EPOLLHUP unasked) and poll() "
	    "(POLLHUP with events == 0) through the one knote per queue");
}
ATF_TC_BODY(hup_reaches_all, tc)
{
	struct epoll_event ev;
	struct kevent kev;
	struct pollfd pfd;
	int ep, kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE((ep = epoll_create1(0)) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	memset(&ev, 0, sizeof(ev));
	ATF_REQUIRE_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	close(p[1]);
	kev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK(kev.flags & EV_EOF);
	ATF_REQUIRE_EQ(1, epoll_wait(ep, &ev, 1, 1000));
	ATF_CHECK_EQ(EPOLLHUP, ev.events);
	pfd.fd = p[0];
	pfd.events = 0;
	ATF_CHECK_EQ(1, poll(&pfd, 1, 1000));
	ATF_CHECK_EQ(POLLHUP, pfd.revents);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, one_hostreg_all_frontends);
	ATF_TP_ADD_TC(tp, one_change_reaches_all);
	ATF_TP_ADD_TC(tp, hup_reaches_all);
	return (atf_no_error());
}
