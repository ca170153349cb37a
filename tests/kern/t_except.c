/*
 * t_except: EVFILT_EXCEPT with NOTE_OOB on a TCP socket: it fires when
 * out-of-band data arrives, stays quiet for ordinary data, and stops once
 * the urgent byte has been read.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <atf-c.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "h_evring.h"

ATF_TC(oob_fires);
ATF_TC_HEAD(oob_fires, tc)
{
	atf_tc_set_md_var(tc, "descr", "send(MSG_OOB) fires the receiver's "
	    "EVFILT_EXCEPT/NOTE_OOB knote, with NOTE_OOB in fflags; after the "
	    "urgent byte is read it no longer fires");
}
ATF_TC_BODY(oob_fires, tc)
{
	struct kevent ev;
	char c;
	int cl, kq, sv;

	kev_tcp_pair(&cl, &sv);
	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, sv, EVFILT_EXCEPT, EV_ADD, NOTE_OOB, 0, NULL);
	KEV_NONE(kq, 50);

	ATF_REQUIRE_EQ(1, send(cl, "!", 1, MSG_OOB));
	ev = KEV_ONE(kq, 1000, sv, EVFILT_EXCEPT);
	ATF_CHECK_MSG(ev.fflags & NOTE_OOB, "fflags %#x", ev.fflags);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);

	ATF_REQUIRE_EQ(1, recv(sv, &c, 1, MSG_OOB));
	ATF_CHECK_EQ('!', c);
	KEV_NONE(kq, 100);
	close(cl);
	close(sv);
}

ATF_TC(no_oob_no_event);
ATF_TC_HEAD(no_oob_no_event, tc)
{
	atf_tc_set_md_var(tc, "descr", "Ordinary data does not fire "
	    "EVFILT_EXCEPT/NOTE_OOB, though the same data does fire "
	    "EVFILT_READ on the same socket");
}
ATF_TC_BODY(no_oob_no_event, tc)
{
	struct kevent ev;
	int cl, kqe, kqr, sv;

	kev_tcp_pair(&cl, &sv);
	ATF_REQUIRE((kqe = kqueue()) >= 0);
	ATF_REQUIRE((kqr = kqueue()) >= 0);
	KEV_CHANGE(kqe, sv, EVFILT_EXCEPT, EV_ADD, NOTE_OOB, 0, NULL);
	KEV_CHANGE(kqr, sv, EVFILT_READ, EV_ADD, 0, 0, NULL);

	ATF_REQUIRE_EQ(5, send(cl, "plain", 5, 0));
	ev = KEV_ONE(kqr, 1000, sv, EVFILT_READ);
	ATF_CHECK_EQ(5, ev.data);
	KEV_NONE(kqe, 100);
	close(cl);
	close(sv);
}

ATF_TC(oob_with_inline_data);
ATF_TC_HEAD(oob_with_inline_data, tc)
{
	atf_tc_set_md_var(tc, "descr", "A knote watching READ and EXCEPT on "
	    "one socket reports each filter separately: data alone fires only "
	    "READ, urgent data then fires EXCEPT too");
}
ATF_TC_BODY(oob_with_inline_data, tc)
{
	struct kevent evs[4];
	int cl, kq, n, sv;

	kev_tcp_pair(&cl, &sv);
	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, sv, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq, sv, EVFILT_EXCEPT, EV_ADD, NOTE_OOB, 0, NULL);

	ATF_REQUIRE_EQ(3, send(cl, "abc", 3, 0));
	(void)KEV_ONE(kq, 1000, sv, EVFILT_READ);

	ATF_REQUIRE_EQ(1, send(cl, "u", 1, MSG_OOB));
	/* Bounded wait for the urgent byte to arrive at the receiver. */
	for (n = 0; n < 100; n++) {
		memset(evs, 0, sizeof(evs));
		ATF_REQUIRE(kev_wait(kq, evs, 4, 1000) >= 1);
		if (kev_find(evs, 4, sv, EVFILT_EXCEPT) != NULL)
			break;
		usleep(10000);
	}
	ATF_REQUIRE(kev_find(evs, 4, sv, EVFILT_EXCEPT) != NULL);
	ATF_CHECK(kev_find(evs, 4, sv, EVFILT_READ) != NULL);
	close(cl);
	close(sv);
}

ATF_TP_ADD_TCS(tp)
{
	signal(SIGPIPE, SIG_IGN);
	ATF_TP_ADD_TC(tp, oob_fires);
	ATF_TP_ADD_TC(tp, no_oob_no_event);
	ATF_TP_ADD_TC(tp, oob_with_inline_data);
	return (atf_no_error());
}
