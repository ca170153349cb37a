/*
 * The action and behaviour flags of struct kevent: EV_ADD, EV_DELETE,
 * EV_ENABLE, EV_DISABLE, EV_ONESHOT, EV_CLEAR, EV_DISPATCH, EV_RECEIPT,
 * EV_ERROR reporting, EV_KEEPUDATA, re-registration on a ready
 * descriptor, and that a failed change leaves nothing half registered.
 * Descriptor cases use pipes and socket pairs.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "h_evring.h"

#define	MS	1000000LL
#define	SEC	1000000000LL

static int
kwait(int kq, struct kevent *ev, int n, long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * MS;
	return (kevent(kq, NULL, 0, ev, n, &ts));
}

/* Expect exactly one event now, for (ident, filter). */
static void
expect_one(int kq, uintptr_t ident, short filter, struct kevent *ev)
{
	struct kevent evs[4];
	int n;

	n = kwait(kq, evs, 4, 1000);
	ATF_REQUIRE_EQ_MSG(n, 1, "want 1 event for %lu/%d, got %d (%s)",
	    (unsigned long)ident, filter, n, n < 0 ? strerror(errno) : "-");
	ATF_REQUIRE_EQ(evs[0].ident, ident);
	ATF_REQUIRE_EQ(evs[0].filter, filter);
	ATF_REQUIRE_EQ(evs[0].flags & EV_ERROR, 0);
	if (ev != NULL)
		*ev = evs[0];
}

static void
expect_none(int kq, long ms)
{
	struct kevent ev;
	int n;

	n = kwait(kq, &ev, 1, ms);
	ATF_REQUIRE_EQ_MSG(n, 0, "unexpected event: n=%d ident=%lu "
	    "filter=%d flags=%#x", n, n > 0 ? (unsigned long)ev.ident : 0UL,
	    n > 0 ? ev.filter : 0, n > 0 ? ev.flags : 0);
}

/* A pipe with n bytes in it; p[0] is the read end. */
static void
ready_pipe(int p[2], int n)
{
	char buf[16];

	ATF_REQUIRE(pipe(p) == 0);
	memset(buf, 'x', sizeof(buf));
	if (n > 0)
		ATF_REQUIRE_EQ(write(p[1], buf, (size_t)n), n);
}

static long long
knotes(void)
{
	long long v;

	v = evring_stat(EVRING_STAT_KNOTES);
	ATF_REQUIRE_MSG(v >= 0, "evring_stat: %s", strerror(errno));
	return (v);
}

/* Wait (at most 1 s) for the knote count to reach want. */
static void
expect_knotes(long long want)
{
	long long v;
	int i;

	for (i = 0; i < 1000 && (v = knotes()) != want; i++)
		usleep(1000);
	ATF_REQUIRE_EQ_MSG(v, want, "EVRING_STAT_KNOTES %lld, want %lld", v,
	    want);
}

ATF_TC(add_delete);
ATF_TC_HEAD(add_delete, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD registers a read filter that reports the pipe's data; "
	    "EV_DELETE removes it (a pending event with it); a second "
	    "EV_DELETE fails with ENOENT");
}
ATF_TC_BODY(add_delete, tc)
{
	struct kevent ev;
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 0);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)0xabc);
	expect_none(kq, 0);
	ATF_REQUIRE_EQ(write(p[1], "abc", 3), 3);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_EQ(ev.data, 3);
	ATF_REQUIRE_EQ(ev.udata, (void *)0xabc);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	expect_none(kq, 50);
	ATF_REQUIRE_EQ(kev_change(kq, p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(level_triggered);
ATF_TC_HEAD(level_triggered, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Without EV_CLEAR a readable pipe is reported by every "
	    "consecutive kevent() call until it is drained");
}
ATF_TC_BODY(level_triggered, tc)
{
	char buf[8];
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 2);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	expect_one(kq, p[0], EVFILT_READ, NULL);
	expect_one(kq, p[0], EVFILT_READ, NULL);
	expect_one(kq, p[0], EVFILT_READ, NULL);
	ATF_REQUIRE_EQ(read(p[0], buf, sizeof(buf)), 2);
	expect_none(kq, 50);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(disable_enable);
ATF_TC_HEAD(disable_enable, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A disabled knote is not reported though its condition holds; "
	    "EV_ENABLE on it reports it at once");
}
ATF_TC_BODY(disable_enable, tc)
{
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 1);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_DISABLE, 0, 0, NULL);
	expect_none(kq, 100);
	/* Enable and scan in one call, with a zero timeout. */
	EV_SET(&ch, p[0], EVFILT_READ, EV_ENABLE, 0, 0, NULL);
	ATF_REQUIRE_EQ_MSG(kevent(kq, &ch, 1, &ev, 1, &zero), 1,
	    "re-enabled ready knote not reported at once");
	ATF_REQUIRE_EQ(ev.ident, (uintptr_t)p[0]);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_READ);
	ATF_REQUIRE_EQ(ev.data, 1);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(disable_drops_queued);
ATF_TC_HEAD(disable_drops_queued, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_DISABLE on a knote whose event is already queued keeps that "
	    "event from being reported");
}
ATF_TC_BODY(disable_drops_queued, tc)
{
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_TRIGGER, 0,
	    NULL);
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_DISABLE, 0, 0, NULL);
	expect_none(kq, 50);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(add_disabled);
ATF_TC_HEAD(add_disabled, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD|EV_DISABLE registers a knote disabled: a ready pipe is not "
	    "reported until EV_ENABLE");
}
ATF_TC_BODY(add_disabled, tc)
{
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 1);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_DISABLE, 0, 0, NULL);
	expect_none(kq, 100);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ENABLE, 0, 0, NULL);
	expect_one(kq, p[0], EVFILT_READ, NULL);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(oneshot);
ATF_TC_HEAD(oneshot, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ONESHOT: a still-readable pipe is reported once, then the "
	    "knote is deleted (EV_DELETE gives ENOENT)");
}
ATF_TC_BODY(oneshot, tc)
{
	struct kevent ev;
	long long base;
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 1);
	base = knotes();
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_ONESHOT, 0, 0, NULL);
	ATF_REQUIRE_EQ(knotes(), base + 1);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE(ev.flags & EV_ONESHOT);
	expect_none(kq, 50);
	ATF_REQUIRE_EQ(kev_change(kq, p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	expect_knotes(base);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(forceoneshot);
ATF_TC_HEAD(forceoneshot, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_FORCEONESHOT, as FreeBSD: a change with it makes the "
	    "registration EV_ONESHOT and reports it once at once, even on an "
	    "empty pipe and an untriggered EVFILT_USER (with EV_ADD too); a "
	    "disabled registration reports when enabled; then it is gone");
}
ATF_TC_BODY(forceoneshot, tc)
{
	struct kevent ev;
	long long base;
	int kq, p[2];

	kq = kev_kqueue();
	ATF_REQUIRE(pipe(p) == 0);
	base = knotes();
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	expect_none(kq, 20);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ENABLE | EV_FORCEONESHOT, 0, 0,
	    NULL);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_MSG(ev.flags & EV_ONESHOT, "flags %#x", ev.flags);
	ATF_REQUIRE_EQ(ev.flags & EV_FORCEONESHOT, 0);
	ATF_REQUIRE_EQ(ev.data, 0);
	expect_none(kq, 20);
	ATF_REQUIRE_EQ(kev_change(kq, p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, ENOENT);

	KEV_CHANGE(kq, 5, EVFILT_USER, EV_ADD | EV_FORCEONESHOT, 0, 0,
	    (void *)0x5);
	expect_one(kq, 5, EVFILT_USER, &ev);
	ATF_REQUIRE(ev.flags & EV_ONESHOT);
	ATF_REQUIRE_EQ(ev.udata, (void *)0x5);
	expect_none(kq, 20);

	KEV_CHANGE(kq, 6, EVFILT_USER, EV_ADD | EV_DISABLE, 0, 0, NULL);
	KEV_CHANGE(kq, 6, EVFILT_USER, EV_FORCEONESHOT | EV_KEEPUDATA, 0, 0,
	    NULL);
	expect_none(kq, 20);
	KEV_CHANGE(kq, 6, EVFILT_USER, EV_ENABLE | EV_KEEPUDATA, 0, 0, NULL);
	expect_one(kq, 6, EVFILT_USER, &ev);
	ATF_REQUIRE(ev.flags & EV_ONESHOT);
	expect_none(kq, 20);
	expect_knotes(base);
	ATF_REQUIRE(close(p[0]) == 0 && close(p[1]) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

#define	TRIGGER_USER(kq, id) KEV_CHANGE((kq), (id), EVFILT_USER, \
	EV_KEEPUDATA, NOTE_TRIGGER, 0, NULL)

ATF_TC(readd_keeps_flags);
ATF_TC_HEAD(readd_keeps_flags, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A second EV_ADD of a registration changes udata, fflags and "
	    "data, not EV_CLEAR, EV_ONESHOT or EV_DISPATCH, as FreeBSD's "
	    "kqueue_register(): an EV_CLEAR pipe stays edge-triggered, an "
	    "EV_ONESHOT user event still goes after one report, an "
	    "EV_DISPATCH one still disables itself");
}
ATF_TC_BODY(readd_keeps_flags, tc)
{
	struct kevent ev;
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 1);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)0x2);
	/* Re-adding on a ready source reports at once, still EV_CLEAR. */
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_MSG(ev.flags & EV_CLEAR, "flags %#x", ev.flags);
	ATF_REQUIRE_EQ(ev.udata, (void *)0x2);
	expect_none(kq, 20);

	KEV_CHANGE(kq, 7, EVFILT_USER, EV_ADD | EV_ONESHOT, 0, 0, NULL);
	KEV_CHANGE(kq, 7, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, NULL);
	expect_one(kq, 7, EVFILT_USER, &ev);
	ATF_REQUIRE_MSG(ev.flags & EV_ONESHOT, "flags %#x", ev.flags);
	ATF_REQUIRE_EQ(kev_change(kq, 7, EVFILT_USER, EV_DELETE, 0, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, ENOENT);

	KEV_CHANGE(kq, 8, EVFILT_USER, EV_ADD | EV_DISPATCH | EV_CLEAR, 0, 0,
	    NULL);
	KEV_CHANGE(kq, 8, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, NULL);
	expect_one(kq, 8, EVFILT_USER, &ev);
	ATF_REQUIRE(ev.flags & EV_DISPATCH);
	TRIGGER_USER(kq, 8);
	expect_none(kq, 20);		/* disabled by the dispatch */
	ATF_REQUIRE(close(p[0]) == 0 && close(p[1]) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(clear);
ATF_TC_HEAD(clear, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_CLEAR: a readable pipe is reported once per change, not on "
	    "every scan; new data reports again with the new byte count");
}
ATF_TC_BODY(clear, tc)
{
	struct kevent ev;
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 0);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	expect_none(kq, 0);
	ATF_REQUIRE_EQ(write(p[1], "a", 1), 1);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_EQ(ev.data, 1);
	expect_none(kq, 50);
	ATF_REQUIRE_EQ(write(p[1], "b", 1), 1);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_EQ_MSG(ev.data, 2, "data %ld, want 2 bytes readable",
	    (long)ev.data);
	expect_none(kq, 50);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(dispatch);
ATF_TC_HEAD(dispatch, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_DISPATCH: reported once and then disabled though still "
	    "readable; EV_ENABLE re-arms it and it is reported again");
}
ATF_TC_BODY(dispatch, tc)
{
	struct kevent ev;
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 1);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_DISPATCH, 0, 0, NULL);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE(ev.flags & EV_DISPATCH);
	expect_none(kq, 50);
	ATF_REQUIRE_EQ(write(p[1], "y", 1), 1);
	expect_none(kq, 50);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ENABLE, 0, 0, NULL);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_EQ(ev.data, 2);
	expect_none(kq, 50);
	/* Still registered: EV_DELETE succeeds. */
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(receipt);
ATF_TC_HEAD(receipt, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_RECEIPT: each change is answered by an EV_ERROR entry with "
	    "data 0, kevent() returns the number of receipts, and no pending "
	    "event is scanned in that call");
}
ATF_TC_BODY(receipt, tc)
{
	struct kevent ch[2], ev[8];
	struct timespec zero = { 0, 0 };
	int i, kq, p[2], q[2], n;

	kq = kev_kqueue();
	ready_pipe(p, 1);
	ready_pipe(q, 1);
	/* A knote with an event pending. */
	KEV_CHANGE(kq, q[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	EV_SET(&ch[0], p[0], EVFILT_READ, EV_ADD | EV_RECEIPT, 0, 0,
	    (void *)1);
	EV_SET(&ch[1], 5, EVFILT_USER, EV_ADD | EV_RECEIPT, NOTE_TRIGGER, 0,
	    (void *)2);
	memset(ev, 0, sizeof(ev));
	n = kevent(kq, ch, 2, ev, 8, &zero);
	ATF_REQUIRE_EQ_MSG(n, 2, "kevent returned %d, want 2 receipts", n);
	for (i = 0; i < 2; i++) {
		ATF_REQUIRE_MSG(ev[i].flags & EV_ERROR,
		    "entry %d flags %#x lack EV_ERROR", i, ev[i].flags);
		ATF_REQUIRE_EQ_MSG(ev[i].data, 0, "receipt %d data %ld", i,
		    (long)ev[i].data);
	}
	ATF_REQUIRE_EQ(ev[0].ident, (uintptr_t)p[0]);
	ATF_REQUIRE_EQ(ev[0].filter, EVFILT_READ);
	ATF_REQUIRE_EQ(ev[1].ident, 5);
	ATF_REQUIRE_EQ(ev[1].filter, EVFILT_USER);
	/* The changes took effect: three events are now pending. */
	n = kwait(kq, ev, 8, 1000);
	ATF_REQUIRE_EQ_MSG(n, 3, "%d events after the receipts, want 3", n);
	for (i = 0; i < n; i++)
		ATF_REQUIRE_EQ(ev[i].flags & EV_ERROR, 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(error_in_eventlist);
ATF_TC_HEAD(error_in_eventlist, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A failed change with room in the event list is reported as "
	    "EV_ERROR with data = errno and ident/filter/udata as given; "
	    "kevent() returns the number of errors and processes the "
	    "changes after the failed one");
}
ATF_TC_BODY(error_in_eventlist, tc)
{
	struct kevent ch[4], ev[8];
	struct timespec zero = { 0, 0 };
	int kq, bad, n;

	kq = kev_kqueue();
	bad = dup(0);
	ATF_REQUIRE(bad >= 0);
	ATF_REQUIRE(close(bad) == 0);
	EV_SET(&ch[0], bad, EVFILT_READ, EV_ADD, 0, 0, (void *)0x11);
	EV_SET(&ch[1], 7, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	EV_SET(&ch[2], 8, EVFILT_USER, EV_DELETE, 0, 0, (void *)0x22);
	EV_SET(&ch[3], 9, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	memset(ev, 0, sizeof(ev));
	n = kevent(kq, ch, 4, ev, 8, &zero);
	ATF_REQUIRE_EQ_MSG(n, 2, "kevent returned %d, want 2 errors", n);
	ATF_REQUIRE(ev[0].flags & EV_ERROR);
	ATF_REQUIRE_EQ(ev[0].data, EBADF);
	ATF_REQUIRE_EQ(ev[0].ident, (uintptr_t)bad);
	ATF_REQUIRE_EQ(ev[0].filter, EVFILT_READ);
	ATF_REQUIRE_EQ(ev[0].udata, (void *)0x11);
	ATF_REQUIRE(ev[1].flags & EV_ERROR);
	ATF_REQUIRE_EQ(ev[1].data, ENOENT);
	ATF_REQUIRE_EQ(ev[1].ident, 8);
	ATF_REQUIRE_EQ(ev[1].filter, EVFILT_USER);
	ATF_REQUIRE_EQ(ev[1].udata, (void *)0x22);
	/* Both good changes were applied. */
	KEV_CHANGE(kq, 7, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	expect_one(kq, 7, EVFILT_USER, NULL);
	KEV_CHANGE(kq, 9, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	expect_one(kq, 9, EVFILT_USER, NULL);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(error_no_room);
ATF_TC_HEAD(error_no_room, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A failed change with nevents == 0 makes kevent() fail with the "
	    "change's errno");
}
ATF_TC_BODY(error_no_room, tc)
{
	struct kevent ch;
	struct timespec zero = { 0, 0 };
	int kq, bad;

	kq = kev_kqueue();
	bad = dup(0);
	ATF_REQUIRE(bad >= 0);
	ATF_REQUIRE(close(bad) == 0);
	EV_SET(&ch, bad, EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(kevent(kq, &ch, 1, NULL, 0, &zero), -1);
	ATF_REQUIRE_EQ(errno, EBADF);
	EV_SET(&ch, 3, EVFILT_USER, EV_ENABLE, 0, 0, NULL);
	ATF_REQUIRE_EQ(kevent(kq, &ch, 1, NULL, 0, &zero), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(error_fills_eventlist);
ATF_TC_HEAD(error_fills_eventlist, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "With fewer event slots than failed changes, the slots are filled "
	    "with EV_ERROR entries and kevent() reports the error beyond them "
	    "(returns the slots filled, or fails with the errno)");
}
ATF_TC_BODY(error_fills_eventlist, tc)
{
	struct kevent ch[3], ev[1];
	struct timespec zero = { 0, 0 };
	int kq, n;

	kq = kev_kqueue();
	EV_SET(&ch[0], 100, EVFILT_USER, EV_DELETE, 0, 0, NULL);
	EV_SET(&ch[1], 101, EVFILT_USER, EV_DELETE, 0, 0, NULL);
	EV_SET(&ch[2], 102, EVFILT_USER, EV_DELETE, 0, 0, NULL);
	memset(ev, 0, sizeof(ev));
	n = kevent(kq, ch, 3, ev, 1, &zero);
	if (n == -1)
		ATF_REQUIRE_EQ(errno, ENOENT);
	else {
		ATF_REQUIRE_EQ_MSG(n, 1, "kevent returned %d with 1 slot", n);
		ATF_REQUIRE(ev[0].flags & EV_ERROR);
		ATF_REQUIRE_EQ(ev[0].data, ENOENT);
		ATF_REQUIRE_EQ(ev[0].ident, 100);
	}
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(keepudata);
ATF_TC_HEAD(keepudata, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD on an existing knote replaces udata; with EV_KEEPUDATA "
	    "the old udata is kept");
}
ATF_TC_BODY(keepudata, tc)
{
	struct kevent ev;
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 1);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)0xa);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_EQ(ev.udata, (void *)0xa);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_KEEPUDATA, 0, 0,
	    (void *)0xb);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_EQ_MSG(ev.udata, (void *)0xa,
	    "EV_KEEPUDATA: udata %p, want 0xa", ev.udata);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)0xc);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_EQ_MSG(ev.udata, (void *)0xc, "udata %p, want 0xc",
	    ev.udata);
	/* EV_ENABLE|EV_KEEPUDATA leaves it too. */
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ENABLE | EV_KEEPUDATA, 0, 0,
	    (void *)0xd);
	expect_one(kq, p[0], EVFILT_READ, &ev);
	ATF_REQUIRE_EQ(ev.udata, (void *)0xc);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(readd_ready_clear);
ATF_TC_HEAD(readd_ready_clear, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Re-adding an EV_CLEAR registration on a descriptor that is still "
	    "ready (its event already consumed) reports it at once");
}
ATF_TC_BODY(readd_ready_clear, tc)
{
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 3);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	expect_one(kq, p[0], EVFILT_READ, NULL);
	expect_none(kq, 50);
	EV_SET(&ch, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, (void *)2);
	ATF_REQUIRE_EQ_MSG(kevent(kq, &ch, 1, &ev, 1, &zero), 1,
	    "re-added registration on a ready pipe not reported at once");
	ATF_REQUIRE_EQ(ev.ident, (uintptr_t)p[0]);
	ATF_REQUIRE_EQ(ev.data, 3);
	ATF_REQUIRE_EQ(ev.udata, (void *)2);
	ATF_REQUIRE(close(kq) == 0);
}

/*
 * Issue 12, item 1: adding an EV_CLEAR registration on a descriptor that
 * is already ready, in the call that collects, reported the event twice:
 * once from the registration's own look at the descriptor and again from
 * the host's first report of the new registration, which came after the
 * collection.  The host's report is now the one activation.
 */
ATF_TC(clear_add_ready_once);
ATF_TC_HEAD(clear_add_ready_once, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD|EV_CLEAR on an already readable socket, pipe or eventfd, "
	    "or an idle pipe's write end, in a kevent() call that collects: "
	    "reported by that call once, and not by the next (20 rounds "
	    "each)");
}
ATF_TC_BODY(clear_add_ready_once, tc)
{
	struct timespec zero = { 0, 0 };
	struct kevent ch, ev[4];
	uint64_t one = 1;
	int kind, i, kq, n, fd, fds[2];

	for (kind = 0; kind < 4; kind++)
		for (i = 0; i < 20; i++) {
			short filter = EVFILT_READ;

			switch (kind) {
			case 0:
				ATF_REQUIRE_EQ(0, socketpair(AF_UNIX,
				    SOCK_STREAM, 0, fds));
				ATF_REQUIRE_EQ(1, write(fds[1], "x", 1));
				fd = fds[0];
				break;
			case 1:
				ready_pipe(fds, 1);
				fd = fds[0];
				break;
			case 2:
				ATF_REQUIRE((fds[0] = eventfd(0, 0)) >= 0);
				ATF_REQUIRE_EQ(8, write(fds[0], &one, 8));
				fds[1] = -1;
				fd = fds[0];
				break;
			default:
				ready_pipe(fds, 0);
				fd = fds[1];
				filter = EVFILT_WRITE;
				break;
			}
			kq = kev_kqueue();
			EV_SET(&ch, fd, filter, EV_ADD | EV_CLEAR, 0, 0, NULL);
			n = kevent(kq, &ch, 1, ev, 4, &zero);
			ATF_REQUIRE_EQ_MSG(1, n, "kind %d round %d: %d events",
			    kind, i, n);
			ATF_REQUIRE_EQ((uintptr_t)fd, ev[0].ident);
			usleep(2000);	/* the host's reports are in */
			n = kevent(kq, NULL, 0, ev, 4, &zero);
			ATF_REQUIRE_EQ_MSG(0, n, "kind %d round %d: reported "
			    "again (%d)", kind, i, n);
			ATF_REQUIRE(close(kq) == 0);
			ATF_REQUIRE(close(fds[0]) == 0);
			if (fds[1] >= 0)
				ATF_REQUIRE(close(fds[1]) == 0);
		}
}

ATF_TC(modify_ready_lowat);
ATF_TC_HEAD(modify_ready_lowat, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Modifying a registration on an already-ready pipe (lowering "
	    "NOTE_LOWAT below the bytes present) reports it at once");
}
ATF_TC_BODY(modify_ready_lowat, tc)
{
	int kq, p[2];

	kq = kev_kqueue();
	ready_pipe(p, 4);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, NOTE_LOWAT, 10,
	    NULL);
	expect_none(kq, 50);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, NOTE_LOWAT, 2,
	    NULL);
	expect_one(kq, p[0], EVFILT_READ, NULL);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(failed_change_no_knote);
ATF_TC_HEAD(failed_change_no_knote, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A failed change never leaves a half-registered knote: EV_ADD on a "
	    "closed fd, then EV_DELETE, gives EBADF; a timer with negative "
	    "data, then EV_DELETE, gives ENOENT; the knote count is unchanged");
}
ATF_TC_BODY(failed_change_no_knote, tc)
{
	long long base;
	int kq, bad;

	kq = kev_kqueue();
	bad = dup(0);
	ATF_REQUIRE(bad >= 0);
	ATF_REQUIRE(close(bad) == 0);
	base = knotes();

	ATF_REQUIRE_EQ(kev_change(kq, bad, EVFILT_READ, EV_ADD, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(errno, EBADF);
	ATF_REQUIRE_EQ(kev_change(kq, bad, EVFILT_READ, EV_DELETE, 0, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, EBADF);

	ATF_REQUIRE_EQ(kev_change(kq, 1, EVFILT_TIMER, EV_ADD, 0, -1, NULL), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	ATF_REQUIRE_EQ(kev_change(kq, 1, EVFILT_TIMER, EV_DELETE, 0, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, ENOENT);

	ATF_REQUIRE_EQ(kev_change(kq, 0, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(kev_change(kq, 0, EVFILT_SIGNAL, EV_DELETE, 0, 0, NULL),
	    -1);

	expect_knotes(base);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(per_filter_state);
ATF_TC_HEAD(per_filter_state, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EVFILT_READ and EVFILT_WRITE on one socket are independent: "
	    "disabling or deleting one leaves the other reporting");
}
ATF_TC_BODY(per_filter_state, tc)
{
	struct kevent ev[4];
	int kq, n, s[2], sawr, saww, i;

	kq = kev_kqueue();
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	ATF_REQUIRE_EQ(write(s[1], "hi", 2), 2);
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_ADD, 0, 0, (void *)'r');
	KEV_CHANGE(kq, s[0], EVFILT_WRITE, EV_ADD, 0, 0, (void *)'w');
	n = kwait(kq, ev, 4, 1000);
	ATF_REQUIRE_EQ_MSG(n, 2, "%d events, want READ and WRITE", n);
	sawr = saww = 0;
	for (i = 0; i < n; i++) {
		ATF_REQUIRE_EQ(ev[i].ident, (uintptr_t)s[0]);
		if (ev[i].filter == EVFILT_READ) {
			ATF_REQUIRE_EQ(ev[i].udata, (void *)'r');
			ATF_REQUIRE_EQ(ev[i].data, 2);
			sawr++;
		} else if (ev[i].filter == EVFILT_WRITE) {
			ATF_REQUIRE_EQ(ev[i].udata, (void *)'w');
			saww++;
		}
	}
	ATF_REQUIRE(sawr == 1 && saww == 1);

	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_DISABLE, 0, 0, NULL);
	expect_one(kq, s[0], EVFILT_WRITE, NULL);
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_ENABLE, 0, 0, NULL);
	KEV_CHANGE(kq, s[0], EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
	expect_one(kq, s[0], EVFILT_READ, NULL);
	ATF_REQUIRE_EQ(kev_change(kq, s[0], EVFILT_WRITE, EV_DELETE, 0, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	expect_none(kq, 50);
	ATF_REQUIRE(close(kq) == 0);
}

static void
alarm_handler(int signo)
{
	static const char msg[] = "kevent() with nevents 0 blocked\n";
	ssize_t r;

	/* A change-only kevent() blocked: fail loudly. */
	(void)signo;
	r = write(2, msg, sizeof(msg) - 1);
	_exit(r < 0 ? 2 : 1);
}

ATF_TC(changes_only_null_timeout);
ATF_TC_HEAD(changes_only_null_timeout, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "kevent() with nevents == 0 and a NULL timeout applies the changes "
	    "and returns at once instead of waiting");
}
ATF_TC_BODY(changes_only_null_timeout, tc)
{
	struct kevent ch;
	int kq;

	kq = kev_kqueue();
	ATF_REQUIRE(signal(SIGALRM, alarm_handler) != SIG_ERR);
	alarm(5);
	EV_SET(&ch, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	ATF_REQUIRE_EQ(kevent(kq, &ch, 1, NULL, 0, NULL), 0);
	ATF_REQUIRE_EQ(kevent(kq, NULL, 0, NULL, 0, NULL), 0);
	alarm(0);
	KEV_CHANGE(kq, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	expect_one(kq, 1, EVFILT_USER, NULL);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(level_once_per_call);
ATF_TC_HEAD(level_once_per_call, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "One kevent() call asking for more events than are ready reports "
	    "each of 100 ready level-triggered descriptors exactly once, and "
	    "the next call reports all 100 again (regression: batches of 64 "
	    "each started a new pass and reported requeued knotes again)");
}
ATF_TC_BODY(level_once_per_call, tc)
{
	enum { NFD = 100, NEV = 512 };
	static struct kevent out[NEV];
	struct kevent ev;
	int fds[NFD], seen[NFD], kq, i, j, n, call;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	for (i = 0; i < NFD; i++) {
		ATF_REQUIRE((fds[i] = eventfd(1, 0)) >= 0);
		EV_SET(&ev, fds[i], EVFILT_READ, EV_ADD, 0, 0,
		    (void *)(intptr_t)i);
		ATF_REQUIRE(kevent(kq, &ev, 1, NULL, 0, NULL) == 0);
	}
	for (call = 0; call < 2; call++) {
		memset(seen, 0, sizeof(seen));
		n = kevent(kq, NULL, 0, out, NEV, NULL);
		ATF_REQUIRE_EQ_MSG(n, NFD, "call %d returned %d events", call,
		    n);
		for (j = 0; j < n; j++) {
			i = (int)(intptr_t)out[j].udata;
			ATF_REQUIRE(i >= 0 && i < NFD);
			ATF_REQUIRE_EQ_MSG(seen[i], 0, "descriptor %d twice", i);
			seen[i] = 1;
		}
	}
	for (i = 0; i < NFD; i++)
		ATF_REQUIRE(close(fds[i]) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, level_once_per_call);
	ATF_TP_ADD_TC(tp, add_delete);
	ATF_TP_ADD_TC(tp, level_triggered);
	ATF_TP_ADD_TC(tp, disable_enable);
	ATF_TP_ADD_TC(tp, disable_drops_queued);
	ATF_TP_ADD_TC(tp, add_disabled);
	ATF_TP_ADD_TC(tp, oneshot);
	ATF_TP_ADD_TC(tp, forceoneshot);
	ATF_TP_ADD_TC(tp, readd_keeps_flags);
	ATF_TP_ADD_TC(tp, clear);
	ATF_TP_ADD_TC(tp, dispatch);
	ATF_TP_ADD_TC(tp, receipt);
	ATF_TP_ADD_TC(tp, error_in_eventlist);
	ATF_TP_ADD_TC(tp, error_no_room);
	ATF_TP_ADD_TC(tp, error_fills_eventlist);
	ATF_TP_ADD_TC(tp, keepudata);
	ATF_TP_ADD_TC(tp, readd_ready_clear);
	ATF_TP_ADD_TC(tp, clear_add_ready_once);
	ATF_TP_ADD_TC(tp, modify_ready_lowat);
	ATF_TP_ADD_TC(tp, failed_change_no_knote);
	ATF_TP_ADD_TC(tp, per_filter_state);
	ATF_TP_ADD_TC(tp, changes_only_null_timeout);
	return (atf_no_error());
}
