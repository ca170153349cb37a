/*
 * EVFILT_USER: NOTE_TRIGGER, level vs EV_CLEAR, the NOTE_FF* fflags
 * operations, wakeups from another thread, EV_DISPATCH, EV_ONESHOT,
 * udata updates and EV_KEEPUDATA, and errors.
 */
#include <sys/types.h>
#include <sys/event.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "h_evring.h"

#define	MS	1000000LL
#define	SEC	1000000000LL

static long long
mono_ns(void)
{
	struct timespec ts;

	ATF_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return ((long long)ts.tv_sec * SEC + ts.tv_nsec);
}

/* Trigger, keeping the registered udata (a change replaces it otherwise). */
#define	TRIGGER(kq, id) \
	KEV_CHANGE((kq), (id), EVFILT_USER, EV_KEEPUDATA, NOTE_TRIGGER, 0, NULL)

static int
kwait(int kq, struct kevent *ev, int n, long ms)
{
	struct timespec ts, *tsp;

	tsp = NULL;
	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * MS;
		tsp = &ts;
	}
	return (kevent(kq, NULL, 0, ev, n, tsp));
}

/* Expect exactly one pending event now, for ident; return it in *ev. */
static void
expect_one(int kq, uintptr_t ident, struct kevent *ev)
{
	struct kevent evs[4];
	int n;

	n = kwait(kq, evs, 4, 1000);
	ATF_REQUIRE_EQ_MSG(n, 1, "want 1 event for ident %lu, got %d (%s)",
	    (unsigned long)ident, n, n < 0 ? strerror(errno) : "-");
	ATF_REQUIRE_EQ(evs[0].ident, ident);
	ATF_REQUIRE_EQ(evs[0].filter, EVFILT_USER);
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
	ATF_REQUIRE_EQ_MSG(n, 0, "unexpected event: n=%d ident=%lu flags=%#x",
	    n, n > 0 ? (unsigned long)ev.ident : 0UL,
	    n > 0 ? ev.flags : 0);
}

ATF_TC(trigger);
ATF_TC_HEAD(trigger, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD registers a user event that is reported only after "
	    "NOTE_TRIGGER, with its ident, filter and udata");
}
ATF_TC_BODY(trigger, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, (void *)0x1234);
	expect_none(kq, 0);
	TRIGGER(kq, 1);
	expect_one(kq, 1, &ev);
	ATF_REQUIRE_EQ(ev.udata, (void *)0x1234);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(no_trigger);
ATF_TC_HEAD(no_trigger, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A registered user event that is never triggered is never "
	    "reported, with or without EV_CLEAR");
}
ATF_TC_BODY(no_trigger, tc)
{
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq, 2, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_CHANGE(kq, 3, EVFILT_USER, EV_ADD | EV_CLEAR, 0x10, 0, NULL);
	expect_none(kq, 150);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(trigger_at_add);
ATF_TC_HEAD(trigger_at_add, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD with NOTE_TRIGGER in the same change registers the event "
	    "already triggered");
}
ATF_TC_BODY(trigger_at_add, tc)
{
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 8, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_TRIGGER, 0,
	    NULL);
	expect_one(kq, 8, NULL);
	expect_none(kq, 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(clear_once_per_trigger);
ATF_TC_HEAD(clear_once_per_trigger, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "With EV_CLEAR a trigger is reported once; triggers made before "
	    "the next scan merge into one report");
}
ATF_TC_BODY(clear_once_per_trigger, tc)
{
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	TRIGGER(kq, 1);
	expect_one(kq, 1, NULL);
	expect_none(kq, 0);
	TRIGGER(kq, 1);
	TRIGGER(kq, 1);
	TRIGGER(kq, 1);
	expect_one(kq, 1, NULL);
	expect_none(kq, 50);
	TRIGGER(kq, 1);
	expect_one(kq, 1, NULL);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(level_until_delete);
ATF_TC_HEAD(level_until_delete, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Without EV_CLEAR a triggered user event stays triggered: every "
	    "scan reports it until EV_DELETE");
}
ATF_TC_BODY(level_until_delete, tc)
{
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD, 0, 0, NULL);
	TRIGGER(kq, 1);
	expect_one(kq, 1, NULL);
	expect_one(kq, 1, NULL);
	expect_one(kq, 1, NULL);
	/* A plain EV_ADD on the existing knote does not reset it. */
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD, 0, 0, NULL);
	expect_one(kq, 1, NULL);
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_DELETE, 0, 0, NULL);
	expect_none(kq, 50);
	ATF_REQUIRE(close(kq) == 0);
}

/* Apply an fflags operation with a trigger and return the reported fflags. */
static unsigned int
ff_apply(int kq, unsigned int op, unsigned int bits)
{
	struct kevent ev;

	KEV_CHANGE(kq, 1, EVFILT_USER, 0, NOTE_TRIGGER | op | bits, 0, NULL);
	expect_one(kq, 1, &ev);
	return (ev.fflags & NOTE_FFLAGSMASK);
}

ATF_TC(fflags_ops);
ATF_TC_HEAD(fflags_ops, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_FFCOPY, NOTE_FFOR, NOTE_FFAND and NOTE_FFNOP apply to the "
	    "saved fflags (NOTE_FFLAGSMASK bits), which are reported in fflags");
}
ATF_TC_BODY(fflags_ops, tc)
{
	unsigned int ff;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0x000003, 0, NULL);

	ff = ff_apply(kq, NOTE_FFNOP, 0x0000f0);
	ATF_REQUIRE_EQ_MSG(ff, 0x000003, "FFNOP: fflags %#x, want 0x3", ff);
	ff = ff_apply(kq, NOTE_FFCOPY, 0x00000f);
	ATF_REQUIRE_EQ_MSG(ff, 0x00000f, "FFCOPY: fflags %#x, want 0xf", ff);
	ff = ff_apply(kq, NOTE_FFOR, 0x0000f0);
	ATF_REQUIRE_EQ_MSG(ff, 0x0000ff, "FFOR: fflags %#x, want 0xff", ff);
	ff = ff_apply(kq, NOTE_FFAND, 0x00003c);
	ATF_REQUIRE_EQ_MSG(ff, 0x00003c, "FFAND: fflags %#x, want 0x3c", ff);
	ff = ff_apply(kq, NOTE_FFNOP, 0x000001);
	ATF_REQUIRE_EQ_MSG(ff, 0x00003c, "FFNOP: fflags %#x, want 0x3c", ff);
	ff = ff_apply(kq, NOTE_FFOR, 0xabc000);
	ATF_REQUIRE_EQ_MSG(ff, 0xabc03c, "FFOR high bits: fflags %#x", ff);
	ff = ff_apply(kq, NOTE_FFCOPY, 0);
	ATF_REQUIRE_EQ_MSG(ff, 0, "FFCOPY 0: fflags %#x", ff);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(fflags_without_trigger);
ATF_TC_HEAD(fflags_without_trigger, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "An fflags operation without NOTE_TRIGGER updates the saved fflags "
	    "but reports nothing; the next trigger reports the result");
}
ATF_TC_BODY(fflags_without_trigger, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_CHANGE(kq, 1, EVFILT_USER, 0, NOTE_FFOR | 0x5, 0, NULL);
	expect_none(kq, 50);
	KEV_CHANGE(kq, 1, EVFILT_USER, 0, NOTE_FFOR | 0x50, 0, NULL);
	TRIGGER(kq, 1);
	expect_one(kq, 1, &ev);
	ATF_REQUIRE_EQ_MSG(ev.fflags & NOTE_FFLAGSMASK, 0x55,
	    "fflags %#x, want 0x55", ev.fflags);
	ATF_REQUIRE(close(kq) == 0);
}

struct trig_arg {
	int		kq;
	uintptr_t	ident;
	useconds_t	delay_us;
	int		error;		/* errno of a failed trigger */
};

static void *
trigger_thread(void *arg)
{
	struct trig_arg *ta = arg;
	struct kevent kev;
	struct timespec zero = { 0, 0 };

	usleep(ta->delay_us);
	EV_SET(&kev, ta->ident, EVFILT_USER, EV_KEEPUDATA, NOTE_TRIGGER, 0,
	    NULL);
	if (kevent(ta->kq, &kev, 1, NULL, 0, &zero) != 0)
		ta->error = errno;
	return (NULL);
}

ATF_TC(trigger_from_thread);
ATF_TC_HEAD(trigger_from_thread, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A trigger from another thread wakes the owner sleeping in "
	    "kevent() with a 10 s timeout promptly");
}
ATF_TC_BODY(trigger_from_thread, tc)
{
	struct trig_arg ta;
	struct kevent ev;
	pthread_t t;
	long long t0, el;
	int kq, n;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 77, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, (void *)77);
	ta.kq = kq;
	ta.ident = 77;
	ta.delay_us = 150000;
	ta.error = 0;
	t0 = mono_ns();
	ATF_REQUIRE(pthread_create(&t, NULL, trigger_thread, &ta) == 0);
	n = kwait(kq, &ev, 1, 10000);
	el = mono_ns() - t0;
	ATF_REQUIRE(pthread_join(t, NULL) == 0);
	ATF_REQUIRE_EQ_MSG(ta.error, 0, "trigger failed: %s",
	    strerror(ta.error));
	ATF_REQUIRE_EQ_MSG(n, 1, "owner not woken (n=%d after %lld ms)", n,
	    el / MS);
	ATF_REQUIRE_EQ(ev.ident, 77);
	ATF_REQUIRE_EQ(ev.udata, (void *)77);
	ATF_REQUIRE_MSG(el < 5 * SEC, "woken only after %lld ms", el / MS);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(dispatch);
ATF_TC_HEAD(dispatch, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_DISPATCH: reported once, then disabled; a trigger while "
	    "disabled is kept and reported by EV_ENABLE");
}
ATF_TC_BODY(dispatch, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR | EV_DISPATCH, 0, 0,
	    NULL);
	TRIGGER(kq, 1);
	expect_one(kq, 1, &ev);
	ATF_REQUIRE(ev.flags & EV_DISPATCH);
	/* Disabled now: a trigger is not reported... */
	TRIGGER(kq, 1);
	expect_none(kq, 50);
	/* ...until the knote is enabled again. */
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ENABLE, 0, 0, NULL);
	expect_one(kq, 1, NULL);
	/* Disabled again; enabling without a new trigger reports nothing. */
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ENABLE, 0, 0, NULL);
	expect_none(kq, 50);
	TRIGGER(kq, 1);
	expect_one(kq, 1, NULL);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(oneshot);
ATF_TC_HEAD(oneshot, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ONESHOT: the first trigger is reported and the knote is "
	    "deleted; a second trigger fails with ENOENT");
}
ATF_TC_BODY(oneshot, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 4, EVFILT_USER, EV_ADD | EV_ONESHOT, 0, 0, NULL);
	TRIGGER(kq, 4);
	expect_one(kq, 4, &ev);
	ATF_REQUIRE(ev.flags & EV_ONESHOT);
	expect_none(kq, 0);
	ATF_REQUIRE_EQ(kev_change(kq, 4, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE_EQ(kev_change(kq, 4, EVFILT_USER, EV_DELETE, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(udata_keepudata);
ATF_TC_HEAD(udata_keepudata, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A change on an existing user knote replaces its udata unless "
	    "EV_KEEPUDATA is given");
}
ATF_TC_BODY(udata_keepudata, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, (void *)0xa);
	KEV_CHANGE(kq, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0, (void *)0xb);
	expect_one(kq, 1, &ev);
	ATF_REQUIRE_EQ_MSG(ev.udata, (void *)0xb, "udata %p, want 0xb",
	    ev.udata);
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_KEEPUDATA, NOTE_TRIGGER, 0,
	    (void *)0xc);
	expect_one(kq, 1, &ev);
	ATF_REQUIRE_EQ_MSG(ev.udata, (void *)0xb,
	    "EV_KEEPUDATA: udata %p, want 0xb", ev.udata);
	/* EV_ADD on the existing knote (no EV_CLEAR: that would reset it). */
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, (void *)0xd);
	expect_one(kq, 1, &ev);
	ATF_REQUIRE_EQ(ev.udata, (void *)0xd);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(trigger_missing);
ATF_TC_HEAD(trigger_missing, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_TRIGGER on an ident that is not registered fails with ENOENT "
	    "(as errno, and as an EV_ERROR entry) and registers nothing");
}
ATF_TC_BODY(trigger_missing, tc)
{
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	int kq;

	kq = kev_kqueue();
	ATF_REQUIRE_EQ(kev_change(kq, 5, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	EV_SET(&ch, 6, EVFILT_USER, 0, NOTE_TRIGGER, 0, (void *)6);
	ATF_REQUIRE_EQ(kevent(kq, &ch, 1, &ev, 1, &zero), 1);
	ATF_REQUIRE(ev.flags & EV_ERROR);
	ATF_REQUIRE_EQ(ev.data, ENOENT);
	ATF_REQUIRE_EQ(ev.ident, 6);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_USER);
	expect_none(kq, 0);
	ATF_REQUIRE_EQ(kev_change(kq, 5, EVFILT_USER, EV_DELETE, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(idents_independent);
ATF_TC_HEAD(idents_independent, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Triggering one user ident reports that ident only, and the same "
	    "ident on another queue is a different knote");
}
ATF_TC_BODY(idents_independent, tc)
{
	struct kevent ev;
	int kq1, kq2;

	kq1 = kev_kqueue();
	kq2 = kev_kqueue();
	KEV_CHANGE(kq1, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_CHANGE(kq1, 2, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_CHANGE(kq2, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	TRIGGER(kq1, 2);
	expect_one(kq1, 2, &ev);
	expect_none(kq1, 0);
	expect_none(kq2, 0);
	TRIGGER(kq2, 1);
	expect_one(kq2, 1, NULL);
	expect_none(kq1, 0);
	ATF_REQUIRE(close(kq1) == 0);
	ATF_REQUIRE(close(kq2) == 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, trigger);
	ATF_TP_ADD_TC(tp, no_trigger);
	ATF_TP_ADD_TC(tp, trigger_at_add);
	ATF_TP_ADD_TC(tp, clear_once_per_trigger);
	ATF_TP_ADD_TC(tp, level_until_delete);
	ATF_TP_ADD_TC(tp, fflags_ops);
	ATF_TP_ADD_TC(tp, fflags_without_trigger);
	ATF_TP_ADD_TC(tp, trigger_from_thread);
	ATF_TP_ADD_TC(tp, dispatch);
	ATF_TP_ADD_TC(tp, oneshot);
	ATF_TP_ADD_TC(tp, udata_keepudata);
	ATF_TP_ADD_TC(tp, trigger_missing);
	ATF_TP_ADD_TC(tp, idents_independent);
	return (atf_no_error());
}
