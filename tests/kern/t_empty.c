/*
 * t_empty: EVFILT_EMPTY, a socket's send queue is empty (data 0), as
 * FreeBSD's filt_soempty().  Linux does not wake a socket's pollers when
 * its send queue drains, so the filter polls while the queue holds data
 * (kevent.2): each case waits up to a second for what must come, and
 * checks with a pause that nothing else does.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/socket.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h_evring.h"

/* Write into fd until its queue and its peer's are full; the bytes. */
static size_t
fill(int fd)
{
	static char buf[65536];
	size_t total = 0;
	ssize_t n;

	ATF_REQUIRE(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	while ((n = write(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	ATF_REQUIRE(n < 0 && errno == EAGAIN);
	return (total);
}

/* Read size bytes from fd (blocking). */
static void
drain(int fd, size_t size)
{
	static char buf[65536];
	ssize_t n;

	while (size > 0) {
		n = read(fd, buf, size < sizeof(buf) ? size : sizeof(buf));
		ATF_REQUIRE(n > 0);
		size -= (size_t)n;
	}
}

ATF_TC(unix_level);
ATF_TC_HEAD(unix_level, tc)
{
	atf_tc_set_md_var(tc, "descr", "A Unix stream socket: reported at "
	    "once while its send queue is empty (data 0, every call); not "
	    "while the peer has not read what was sent; reported again once "
	    "the peer has read it all");
}
ATF_TC_BODY(unix_level, tc)
{
	struct kevent ev;
	size_t n;
	int kq, s[2];

	kq = kev_kqueue();
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	KEV_CHANGE(kq, s[0], EVFILT_EMPTY, EV_ADD, 0, 0, (void *)7);
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_EMPTY);
	ATF_CHECK_EQ(0, ev.data);
	ATF_CHECK_EQ((void *)7, ev.udata);
	ev = KEV_ONE(kq, 0, s[0], EVFILT_EMPTY);	/* level-triggered */
	ATF_REQUIRE_EQ(10, write(s[0], "0123456789", 10));
	KEV_NONE(kq, 50);
	drain(s[1], 10);
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_EMPTY);
	ATF_CHECK_EQ(0, ev.data);
	n = fill(s[0]);
	KEV_NONE(kq, 50);
	drain(s[1], n);
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_EMPTY);
	ATF_CHECK_EQ(0, ev.data);
	ATF_REQUIRE(close(s[0]) == 0 && close(s[1]) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(tcp_unacked);
ATF_TC_HEAD(tcp_unacked, tc)
{
	atf_tc_set_md_var(tc, "descr", "A TCP socket whose peer does not read "
	    "keeps unacknowledged data: not reported (EV_ONESHOT) until the "
	    "peer reads it all, then once; a registration added before "
	    "another filter on the same socket (the knote grows) still polls");
}
ATF_TC_BODY(tcp_unacked, tc)
{
	struct kevent ev;
	size_t n;
	int c, kq, s;

	kq = kev_kqueue();
	kev_tcp_pair(&c, &s);
	n = fill(c);
	KEV_CHANGE(kq, c, EVFILT_EMPTY, EV_ADD | EV_ONESHOT, 0, 0, NULL);
	KEV_CHANGE(kq, c, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 100);
	drain(s, n);
	ev = KEV_ONE(kq, 1000, c, EVFILT_EMPTY);
	ATF_CHECK_EQ(0, ev.data);
	ATF_CHECK(ev.flags & EV_ONESHOT);
	KEV_NONE(kq, 50);
	/* EV_ONESHOT: delivered means deleted. */
	EV_SET(&ev, c, EVFILT_EMPTY, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(-1, kevent(kq, &ev, 1, NULL, 0, NULL));
	ATF_CHECK_EQ(ENOENT, errno);
	ATF_REQUIRE(close(c) == 0 && close(s) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(tcp_clear);
ATF_TC_HEAD(tcp_clear, tc)
{
	atf_tc_set_md_var(tc, "descr", "EV_CLEAR on a TCP socket: reported "
	    "once at registration (empty), not again while nothing is sent, "
	    "and once after each write the peer acknowledges, even when the "
	    "acknowledgement comes before any look at the queue");
}
ATF_TC_BODY(tcp_clear, tc)
{
	struct kevent ev;
	int c, i, kq, s;

	kq = kev_kqueue();
	kev_tcp_pair(&c, &s);
	KEV_CHANGE(kq, c, EVFILT_EMPTY, EV_ADD | EV_CLEAR, 0, 0, NULL);
	ev = KEV_ONE(kq, 1000, c, EVFILT_EMPTY);
	ATF_CHECK_EQ(0, ev.data);
	KEV_NONE(kq, 100);
	for (i = 0; i < 3; i++) {
		ATF_REQUIRE_EQ(5, write(c, "hello", 5));
		ev = KEV_ONE(kq, 1000, c, EVFILT_EMPTY);
		ATF_CHECK_EQ(0, ev.data);
		KEV_NONE(kq, 60);
	}
	ATF_REQUIRE(close(c) == 0 && close(s) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(unix_clear);
ATF_TC_HEAD(unix_clear, tc)
{
	atf_tc_set_md_var(tc, "descr", "EV_CLEAR on a Unix stream socket: "
	    "reported once at registration (not again for the host's first "
	    "report), and once each time the peer reads what was written");
}
ATF_TC_BODY(unix_clear, tc)
{
	struct kevent ev;
	int i, kq, s[2];

	kq = kev_kqueue();
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	KEV_CHANGE(kq, s[0], EVFILT_EMPTY, EV_ADD | EV_CLEAR, 0, 0, NULL);
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_EMPTY);
	ATF_CHECK_EQ(0, ev.data);
	KEV_NONE(kq, 50);
	for (i = 0; i < 3; i++) {
		ATF_REQUIRE_EQ(3, write(s[0], "abc", 3));
		KEV_NONE(kq, 20);
		drain(s[1], 3);
		ev = KEV_ONE(kq, 1000, s[0], EVFILT_EMPTY);
		ATF_CHECK_EQ(0, ev.data);
		KEV_NONE(kq, 50);
	}
	ATF_REQUIRE(close(s[0]) == 0 && close(s[1]) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(listener_and_errors);
ATF_TC_HEAD(listener_and_errors, tc)
{
	atf_tc_set_md_var(tc, "descr", "A listening socket is always empty "
	    "(reported); a pipe, a regular file and a queue are EINVAL, as "
	    "FreeBSD, whose other descriptors have no EVFILT_EMPTY");
}
ATF_TC_BODY(listener_and_errors, tc)
{
	struct sockaddr_in sin;
	struct kevent ev;
	int f, kq, l, p[2];

	kq = kev_kqueue();
	l = kev_tcp_listener(&sin);
	KEV_CHANGE(kq, l, EVFILT_EMPTY, EV_ADD, 0, 0, NULL);
	ev = KEV_ONE(kq, 1000, l, EVFILT_EMPTY);
	ATF_CHECK_EQ(0, ev.data);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE((f = open("/dev/null", O_WRONLY)) >= 0);
	EV_SET(&ev, p[1], EVFILT_EMPTY, EV_ADD, 0, 0, NULL);
	ATF_CHECK_EQ(-1, kevent(kq, &ev, 1, NULL, 0, NULL));
	ATF_CHECK_EQ(EINVAL, errno);
	EV_SET(&ev, f, EVFILT_EMPTY, EV_ADD, 0, 0, NULL);
	ATF_CHECK_EQ(-1, kevent(kq, &ev, 1, NULL, 0, NULL));
	ATF_CHECK_EQ(EINVAL, errno);
	EV_SET(&ev, kq, EVFILT_EMPTY, EV_ADD, 0, 0, NULL);
	ATF_CHECK_EQ(-1, kevent(kq, &ev, 1, NULL, 0, NULL));
	ATF_CHECK_EQ(EINVAL, errno);
	ATF_REQUIRE(close(p[0]) == 0 && close(p[1]) == 0 && close(f) == 0);
	ATF_REQUIRE(close(l) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, unix_level);
	ATF_TP_ADD_TC(tp, tcp_unacked);
	ATF_TP_ADD_TC(tp, tcp_clear);
	ATF_TP_ADD_TC(tp, unix_clear);
	ATF_TP_ADD_TC(tp, listener_and_errors);
	return (atf_no_error());
}
