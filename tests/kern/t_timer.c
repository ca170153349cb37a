/*
 * EVFILT_TIMER: units, periodic expiry counts, EV_ONESHOT, NOTE_ABSTIME,
 * re-arming a running timer, EV_DELETE, EV_DISABLE/EV_ENABLE, bad data,
 * and many timers at once.
 *
 * Timing rules for every case here: a timer must never fire before its
 * delay (TIMER_SLACK_NS allows only for clock granularity), while the
 * upper bounds are loose (seconds), because the test machine is shared.
 */
#include <sys/types.h>
#include <sys/event.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "h_evring.h"

#define	MS	1000000LL		/* nanoseconds in a millisecond */
#define	SEC	1000000000LL
#define	TIMER_SLACK_NS	(1 * MS)	/* how early a timer may seem to fire */
#define	LATE_NS		(3 * SEC)	/* how late a timer may fire */

static long long
clock_ns(clockid_t clk)
{
	struct timespec ts;

	ATF_REQUIRE(clock_gettime(clk, &ts) == 0);
	return ((long long)ts.tv_sec * SEC + ts.tv_nsec);
}

static long long
mono_ns(void)
{
	return (clock_ns(CLOCK_MONOTONIC));
}

static long long
real_ns(void)
{
	return (clock_ns(CLOCK_REALTIME));
}

/* Collect up to n events, waiting at most ms milliseconds (ms < 0: forever). */
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

/*
 * Register a one-shot timer with the given unit flags and data, wait for
 * it, and check that it fired no earlier than expect_ns after registration
 * and not absurdly late.
 */
static void
check_oneshot_delay(unsigned int fflags, intptr_t data, long long expect_ns)
{
	struct kevent ev;
	long long t0, el;
	int kq, n;

	kq = kev_kqueue();
	t0 = mono_ns();
	KEV_CHANGE(kq, 42, EVFILT_TIMER, EV_ADD | EV_ONESHOT, fflags, data,
	    (void *)0x42);
	n = kwait(kq, &ev, 1, (expect_ns + LATE_NS) / MS);
	el = mono_ns() - t0;
	ATF_REQUIRE_MSG(n == 1, "timer did not fire within %lld ms (n=%d, %s)",
	    (expect_ns + LATE_NS) / MS, n, n < 0 ? strerror(errno) : "-");
	ATF_REQUIRE_EQ(ev.ident, 42);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_TIMER);
	ATF_REQUIRE_EQ(ev.udata, (void *)0x42);
	ATF_REQUIRE_EQ_MSG(ev.data, 1, "data %ld, want 1 expiration",
	    (long)ev.data);
	ATF_REQUIRE_MSG(el >= expect_ns - TIMER_SLACK_NS,
	    "timer fired early: after %lld us, want >= %lld us",
	    el / 1000, expect_ns / 1000);
	ATF_REQUIRE_MSG(el <= expect_ns + LATE_NS,
	    "timer fired late: after %lld ms", el / MS);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(unit_seconds);
ATF_TC_HEAD(unit_seconds, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_SECONDS: data is in seconds; a 1 s timer fires after 1 s");
}
ATF_TC_BODY(unit_seconds, tc)
{
	check_oneshot_delay(NOTE_SECONDS, 1, 1 * SEC);
}

ATF_TC(unit_default_ms);
ATF_TC_HEAD(unit_default_ms, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Without a unit flag data is in milliseconds: 100 fires after 100 ms");
}
ATF_TC_BODY(unit_default_ms, tc)
{
	check_oneshot_delay(0, 100, 100 * MS);
}

ATF_TC(unit_mseconds);
ATF_TC_HEAD(unit_mseconds, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_MSECONDS: data 150 fires after 150 ms");
}
ATF_TC_BODY(unit_mseconds, tc)
{
	check_oneshot_delay(NOTE_MSECONDS, 150, 150 * MS);
}

ATF_TC(unit_useconds);
ATF_TC_HEAD(unit_useconds, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_USECONDS: data 120000 fires after 120 ms");
}
ATF_TC_BODY(unit_useconds, tc)
{
	check_oneshot_delay(NOTE_USECONDS, 120000, 120 * MS);
}

ATF_TC(unit_nseconds);
ATF_TC_HEAD(unit_nseconds, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_NSECONDS: data 110000000 fires after 110 ms");
}
ATF_TC_BODY(unit_nseconds, tc)
{
	check_oneshot_delay(NOTE_NSECONDS, 110000000, 110 * MS);
}

ATF_TC(periodic_count);
ATF_TC_HEAD(periodic_count, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A periodic timer reports in data the number of expirations since "
	    "its last delivery: 5+ periods without kevent() give data >= 4, "
	    "never more than the elapsed periods");
}
ATF_TC_BODY(periodic_count, tc)
{
	struct kevent ev;
	long long t0, el, maxexp;
	int kq, n;

	kq = kev_kqueue();
	t0 = mono_ns();
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ADD, NOTE_MSECONDS, 20, NULL);
	/* Sleep at least 5.5 periods without calling kevent(). */
	while (mono_ns() - t0 < 110 * MS)
		usleep(10000);
	n = kwait(kq, &ev, 1, 0);
	el = mono_ns() - t0;
	ATF_REQUIRE_EQ_MSG(n, 1, "expired timer not reported (n=%d)", n);
	ATF_REQUIRE_EQ(ev.ident, 1);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_TIMER);
	maxexp = el / (20 * MS);
	ATF_REQUIRE_MSG(ev.data >= 4,
	    "data %ld after %lld ms of a 20 ms timer, want >= 4",
	    (long)ev.data, el / MS);
	ATF_REQUIRE_MSG(ev.data <= maxexp,
	    "data %ld: more expirations than %lld periods elapsed",
	    (long)ev.data, maxexp);

	/* The count restarts after a delivery, and the timer keeps going. */
	t0 = mono_ns();
	n = kwait(kq, &ev, 1, 2000);
	el = mono_ns() - t0;
	ATF_REQUIRE_EQ_MSG(n, 1, "periodic timer stopped after a delivery");
	ATF_REQUIRE(ev.data >= 1);
	ATF_REQUIRE_MSG(ev.data <= el / (20 * MS) + 1,
	    "data %ld after only %lld ms: count was not reset",
	    (long)ev.data, el / MS);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(periodic_interval);
ATF_TC_HEAD(periodic_interval, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Consecutive deliveries of a 30 ms periodic timer, each taken as "
	    "soon as it fires, are at least one period apart in total");
}
ATF_TC_BODY(periodic_interval, tc)
{
	struct kevent ev;
	long long t0, el, total;
	int i, kq;

	kq = kev_kqueue();
	t0 = mono_ns();
	KEV_CHANGE(kq, 3, EVFILT_TIMER, EV_ADD, 0, 30, NULL);
	total = 0;
	for (i = 0; i < 5; i++) {
		ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 3000), 1);
		total += ev.data;
	}
	el = mono_ns() - t0;
	/* total expirations happened no earlier than total periods. */
	ATF_REQUIRE_MSG(el >= total * 30 * MS - TIMER_SLACK_NS,
	    "%lld expirations in only %lld ms", total, el / MS);
	ATF_REQUIRE(el < 5 * 30 * MS + 5 * SEC);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(oneshot_gone);
ATF_TC_HEAD(oneshot_gone, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "An EV_ONESHOT timer fires once, then its knote is gone: no second "
	    "event, and EV_DELETE fails with ENOENT");
}
ATF_TC_BODY(oneshot_gone, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 9, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0, 30, NULL);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 3000), 1);
	ATF_REQUIRE_EQ(ev.ident, 9);
	ATF_REQUIRE(ev.flags & EV_ONESHOT);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 150), 0,
	    "one-shot timer fired twice");
	ATF_REQUIRE_EQ(kev_change(kq, 9, EVFILT_TIMER, EV_DELETE, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

/*
 * An absolute timer in the given unit; unit_ns is the unit's length.
 * Checks that it fires at (not before) the wall-clock target, and once.
 */
static void
check_abstime(unsigned int unit, long long unit_ns, long long ahead_ns)
{
	struct kevent ev;
	long long target, now;
	int kq, n;

	kq = kev_kqueue();
	/* Round the target up to a whole unit. */
	target = (real_ns() + ahead_ns + unit_ns - 1) / unit_ns;
	KEV_CHANGE(kq, 5, EVFILT_TIMER, EV_ADD | EV_ONESHOT,
	    unit | NOTE_ABSTIME, (intptr_t)target, (void *)5);
	n = kwait(kq, &ev, 1, (ahead_ns + unit_ns + LATE_NS) / MS);
	now = real_ns();
	ATF_REQUIRE_EQ_MSG(n, 1, "absolute timer did not fire (n=%d)", n);
	ATF_REQUIRE_EQ(ev.ident, 5);
	ATF_REQUIRE_EQ(ev.udata, (void *)5);
	ATF_REQUIRE_MSG(now >= target * unit_ns - TIMER_SLACK_NS,
	    "absolute timer fired %lld us before its time",
	    (target * unit_ns - now) / 1000);
	ATF_REQUIRE_MSG(now <= target * unit_ns + LATE_NS,
	    "absolute timer fired %lld ms late",
	    (now - target * unit_ns) / MS);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 100), 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(abstime_seconds);
ATF_TC_HEAD(abstime_seconds, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_ABSTIME|NOTE_SECONDS: fires when CLOCK_REALTIME reaches the "
	    "given second, not before");
}
ATF_TC_BODY(abstime_seconds, tc)
{
	check_abstime(NOTE_SECONDS, SEC, 300 * MS);
}

ATF_TC(abstime_mseconds);
ATF_TC_HEAD(abstime_mseconds, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_ABSTIME in milliseconds (the default unit) fires at that "
	    "CLOCK_REALTIME time");
}
ATF_TC_BODY(abstime_mseconds, tc)
{
	check_abstime(0, MS, 150 * MS);
}

ATF_TC(abstime_useconds);
ATF_TC_HEAD(abstime_useconds, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_ABSTIME|NOTE_USECONDS fires at that CLOCK_REALTIME time");
}
ATF_TC_BODY(abstime_useconds, tc)
{
	check_abstime(NOTE_USECONDS, 1000, 150 * MS);
}

ATF_TC(abstime_nseconds);
ATF_TC_HEAD(abstime_nseconds, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_ABSTIME|NOTE_NSECONDS fires at that CLOCK_REALTIME time");
}
ATF_TC_BODY(abstime_nseconds, tc)
{
	check_abstime(NOTE_NSECONDS, 1, 150 * MS);
}

ATF_TC(abstime_past);
ATF_TC_HEAD(abstime_past, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "An absolute timer whose time has passed fires at once");
}
ATF_TC_BODY(abstime_past, tc)
{
	struct kevent ev;
	long long t0, el;
	int kq, seen;

	kq = kev_kqueue();
	t0 = mono_ns();
	KEV_CHANGE(kq, 6, EVFILT_TIMER, EV_ADD, NOTE_ABSTIME | NOTE_SECONDS,
	    (intptr_t)(real_ns() / SEC - 60), NULL);
	KEV_CHANGE(kq, 7, EVFILT_TIMER, EV_ADD, NOTE_ABSTIME | NOTE_MSECONDS,
	    (intptr_t)(real_ns() / MS - 1000), NULL);
	seen = 0;
	while (seen != 3 && kwait(kq, &ev, 1, 2000) == 1) {
		ATF_REQUIRE(ev.ident == 6 || ev.ident == 7);
		ATF_REQUIRE_MSG((seen & (1 << (ev.ident - 6))) == 0,
		    "absolute timer %lu fired twice", (unsigned long)ev.ident);
		seen |= 1 << (ev.ident - 6);
	}
	ATF_REQUIRE_EQ_MSG(seen, 3, "past absolute timers fired: mask %d",
	    seen);
	el = mono_ns() - t0;
	ATF_REQUIRE_MSG(el < 1 * SEC, "past absolute timers took %lld ms",
	    el / MS);
	/* An absolute time is reached once: the timers do not repeat. */
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 200), 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(readd_shorter);
ATF_TC_HEAD(readd_shorter, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD on a running 10 s timer with a 50 ms period re-arms it: "
	    "it fires after about 50 ms, not 10 s");
}
ATF_TC_BODY(readd_shorter, tc)
{
	struct kevent ev;
	long long t0, el;
	int kq, n;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ADD, 0, 10000, NULL);
	t0 = mono_ns();
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ADD, 0, 50, NULL);
	n = kwait(kq, &ev, 1, 3000);
	el = mono_ns() - t0;
	ATF_REQUIRE_EQ_MSG(n, 1, "re-added timer kept its old 10 s period");
	ATF_REQUIRE_EQ(ev.ident, 1);
	ATF_REQUIRE_MSG(el >= 50 * MS - TIMER_SLACK_NS,
	    "re-added timer fired after %lld us", el / 1000);
	/* It keeps the new period. */
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 3000), 1);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(readd_longer);
ATF_TC_HEAD(readd_longer, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD on a running 30 ms timer with a 5 s period re-arms it: "
	    "nothing fires within 300 ms");
}
ATF_TC_BODY(readd_longer, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ADD, 0, 30, NULL);
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ADD, 0, 5000, NULL);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 300), 0,
	    "timer fired at its old period after being re-added");
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(delete_stops);
ATF_TC_HEAD(delete_stops, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_DELETE stops a periodic timer, also dropping an expiration "
	    "that is pending but not yet delivered");
}
ATF_TC_BODY(delete_stops, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ADD, 0, 20, NULL);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 3000), 1);
	usleep(50000);		/* let it expire again, undelivered */
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_DELETE, 0, 0, NULL);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 150), 0,
	    "deleted timer still reported");
	ATF_REQUIRE_EQ(kev_change(kq, 1, EVFILT_TIMER, EV_DELETE, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(negative_data);
ATF_TC_HEAD(negative_data, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A timer with negative data is rejected with EINVAL, both as "
	    "kevent()'s errno and in an EV_ERROR entry, and is not registered");
}
ATF_TC_BODY(negative_data, tc)
{
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	int kq;

	kq = kev_kqueue();
	ATF_REQUIRE_EQ(kev_change(kq, 1, EVFILT_TIMER, EV_ADD, 0, -1, NULL), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	ATF_REQUIRE_EQ(kev_change(kq, 1, EVFILT_TIMER, EV_ADD, NOTE_SECONDS,
	    -100, NULL), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);

	EV_SET(&ch, 2, EVFILT_TIMER, EV_ADD, NOTE_USECONDS, -5, (void *)2);
	memset(&ev, 0, sizeof(ev));
	ATF_REQUIRE_EQ(kevent(kq, &ch, 1, &ev, 1, &zero), 1);
	ATF_REQUIRE(ev.flags & EV_ERROR);
	ATF_REQUIRE_EQ(ev.data, EINVAL);
	ATF_REQUIRE_EQ(ev.ident, 2);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_TIMER);

	ATF_REQUIRE_EQ(kev_change(kq, 1, EVFILT_TIMER, EV_DELETE, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE_EQ(kev_change(kq, 2, EVFILT_TIMER, EV_DELETE, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(bad_fflags);
ATF_TC_HEAD(bad_fflags, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A timer with fflags other than a unit and NOTE_ABSTIME is "
	    "rejected with EINVAL, as on FreeBSD, and is not registered");
}
ATF_TC_BODY(bad_fflags, tc)
{
	int kq;

	kq = kev_kqueue();
	ATF_REQUIRE_EQ(kev_change(kq, 1, EVFILT_TIMER, EV_ADD, 0x100, 10, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	ATF_REQUIRE_EQ(kev_change(kq, 1, EVFILT_TIMER, EV_ADD,
	    NOTE_MSECONDS | 0x80000000u, 10, NULL), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	ATF_REQUIRE_EQ(kev_change(kq, 1, EVFILT_TIMER, EV_DELETE, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(disable_enable);
ATF_TC_HEAD(disable_enable, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_DISABLE stops delivery of a periodic timer; EV_ENABLE "
	    "resumes it");
}
ATF_TC_BODY(disable_enable, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ADD, 0, 20, NULL);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 3000), 1);
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_DISABLE, 0, 0, NULL);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 200), 0,
	    "disabled timer reported");
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ENABLE, 0, 0, NULL);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 3000), 1,
	    "re-enabled timer not reported");
	ATF_REQUIRE_EQ(ev.ident, 1);
	ATF_REQUIRE(ev.data >= 1);
	ATF_REQUIRE(close(kq) == 0);
}

#define	NTIMERS	1000

ATF_TC(many_timers);
ATF_TC_HEAD(many_timers, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "1000 one-shot timers with periods from 10 to 109 ms all fire, "
	    "each exactly once, none early, each with its own udata");
}
ATF_TC_BODY(many_timers, tc)
{
	static struct kevent ch[NTIMERS];
	static int seen[NTIMERS];
	struct kevent ev[64];
	long long t0, el, deadline;
	int i, kq, n, total;

	kq = kev_kqueue();
	for (i = 0; i < NTIMERS; i++)
		EV_SET(&ch[i], 1000 + i, EVFILT_TIMER, EV_ADD | EV_ONESHOT,
		    NOTE_MSECONDS, 10 + (i * 7) % 100,
		    (void *)(uintptr_t)(0x10000 + i));
	t0 = mono_ns();
	ATF_REQUIRE_EQ_MSG(kevent(kq, ch, NTIMERS, NULL, 0, NULL), 0,
	    "registering %d timers: %s", NTIMERS, strerror(errno));
	total = 0;
	deadline = t0 + 8 * SEC;
	while (total < NTIMERS && mono_ns() < deadline) {
		n = kwait(kq, ev, 64, 500);
		ATF_REQUIRE_MSG(n >= 0, "kevent: %s", strerror(errno));
		el = mono_ns() - t0;
		for (int j = 0; j < n; j++) {
			ATF_REQUIRE_EQ(ev[j].filter, EVFILT_TIMER);
			ATF_REQUIRE(ev[j].ident >= 1000 &&
			    ev[j].ident < 1000 + NTIMERS);
			i = (int)ev[j].ident - 1000;
			ATF_REQUIRE_EQ(ev[j].udata,
			    (void *)(uintptr_t)(0x10000 + i));
			ATF_REQUIRE_MSG(seen[i] == 0, "timer %d fired twice", i);
			ATF_REQUIRE_MSG(el >= ch[i].data * MS - TIMER_SLACK_NS,
			    "timer %d (%ld ms) fired after %lld ms", i,
			    (long)ch[i].data, el / MS);
			seen[i] = 1;
			total++;
		}
	}
	ATF_REQUIRE_EQ_MSG(total, NTIMERS, "only %d of %d timers fired",
	    total, NTIMERS);
	ATF_REQUIRE_EQ(kwait(kq, ev, 64, 150), 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(udata_ident_verbatim);
ATF_TC_HEAD(udata_ident_verbatim, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A timer event carries the registered ident and udata verbatim, "
	    "including values using every bit of a pointer");
}
ATF_TC_BODY(udata_ident_verbatim, tc)
{
	struct kevent ev;
	uintptr_t ident;
	void *udata;
	int kq;

	ident = (uintptr_t)0x7edcba9876543210ULL;
	udata = (void *)(uintptr_t)0xfedcba9876543211ULL;
	if (sizeof(uintptr_t) < 8) {
		ident = 0x7edcba98;
		udata = (void *)(uintptr_t)0xfedcba99;
	}
	kq = kev_kqueue();
	KEV_CHANGE(kq, ident, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0, 10, udata);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 3000), 1);
	ATF_REQUIRE_EQ(ev.ident, ident);
	ATF_REQUIRE_EQ(ev.udata, udata);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_TIMER);
	ATF_REQUIRE_EQ(ev.flags & EV_ERROR, 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(timers_independent);
ATF_TC_HEAD(timers_independent, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Timers with the same ident on two queues are independent: "
	    "deleting one leaves the other running");
}
ATF_TC_BODY(timers_independent, tc)
{
	struct kevent ev;
	int kq1, kq2;

	kq1 = kev_kqueue();
	kq2 = kev_kqueue();
	KEV_CHANGE(kq1, 1, EVFILT_TIMER, EV_ADD, 0, 20, (void *)1);
	KEV_CHANGE(kq2, 1, EVFILT_TIMER, EV_ADD, 0, 20, (void *)2);
	KEV_CHANGE(kq1, 1, EVFILT_TIMER, EV_DELETE, 0, 0, NULL);
	ATF_REQUIRE_EQ(kwait(kq2, &ev, 1, 3000), 1);
	ATF_REQUIRE_EQ(ev.udata, (void *)2);
	ATF_REQUIRE_EQ(kwait(kq1, &ev, 1, 100), 0);
	ATF_REQUIRE(close(kq1) == 0);
	ATF_REQUIRE(close(kq2) == 0);
}

ATF_TC(modify_keeps_oneshot);
ATF_TC_HEAD(modify_keeps_oneshot, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Changing an EV_ONESHOT timer's period with a change that has no "
	    "EV_ADD keeps it one-shot: it expires once (data 1 however long "
	    "it waits unread) and is gone (regression: the change's own "
	    "flags made its callout periodic)");
}
ATF_TC_BODY(modify_keeps_oneshot, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0, 5000, NULL);
	KEV_CHANGE(kq, 1, EVFILT_TIMER, 0, 0, 10, NULL);
	usleep(200000);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 2000), 1);
	ATF_REQUIRE_EQ(ev.ident, 1);
	ATF_REQUIRE_EQ_MSG(ev.data, 1, "expirations %jd", (intmax_t)ev.data);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 100), 0,
	    "the one-shot timer fired again");
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(close_while_firing);
ATF_TC_HEAD(close_while_firing, tc)
{
	atf_tc_set_md_var(tc, "descr", "Regression (found by fuzz_kevent, "
	    "ASan heap-use-after-free in host_co_main): a periodic timer "
	    "whose expiry re-armed its callout while close() waited for "
	    "that expiry stayed in the callout heap after the callout was "
	    "freed.  Queues closed while their microsecond timers fire "
	    "must leave a kernel whose timers still work");
}
ATF_TC_BODY(close_while_firing, tc)
{
	struct kevent kev;
	struct timespec ts = { 2, 0 };
	long long end;
	int i, j, kq;

	for (i = 0; i < 2000; i++) {
		kq = kev_kqueue();
		for (j = 0; j < 4; j++)
			ATF_REQUIRE_EQ(0, kev_change(kq, (uintptr_t)j,
			    EVFILT_TIMER, EV_ADD, NOTE_USECONDS, 10, NULL));
		/* Let them fire, then close while one may be running. */
		end = mono_ns() + 50000LL * (i % 4);
		while (mono_ns() < end)
			;
		ATF_REQUIRE_EQ(0, close(kq));
	}
	kq = kev_kqueue();
	ATF_REQUIRE_EQ(0, kev_change(kq, 7, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0,
	    20, NULL));
	ATF_REQUIRE_EQ(1, kevent(kq, NULL, 0, &kev, 1, &ts));
	ATF_CHECK_EQ(7, (int)kev.ident);
	ATF_REQUIRE_EQ(0, close(kq));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, modify_keeps_oneshot);
	ATF_TP_ADD_TC(tp, unit_seconds);
	ATF_TP_ADD_TC(tp, unit_default_ms);
	ATF_TP_ADD_TC(tp, unit_mseconds);
	ATF_TP_ADD_TC(tp, unit_useconds);
	ATF_TP_ADD_TC(tp, unit_nseconds);
	ATF_TP_ADD_TC(tp, periodic_count);
	ATF_TP_ADD_TC(tp, periodic_interval);
	ATF_TP_ADD_TC(tp, oneshot_gone);
	ATF_TP_ADD_TC(tp, abstime_seconds);
	ATF_TP_ADD_TC(tp, abstime_mseconds);
	ATF_TP_ADD_TC(tp, abstime_useconds);
	ATF_TP_ADD_TC(tp, abstime_nseconds);
	ATF_TP_ADD_TC(tp, abstime_past);
	ATF_TP_ADD_TC(tp, readd_shorter);
	ATF_TP_ADD_TC(tp, readd_longer);
	ATF_TP_ADD_TC(tp, delete_stops);
	ATF_TP_ADD_TC(tp, negative_data);
	ATF_TP_ADD_TC(tp, bad_fflags);
	ATF_TP_ADD_TC(tp, disable_enable);
	ATF_TP_ADD_TC(tp, many_timers);
	ATF_TP_ADD_TC(tp, udata_ident_verbatim);
	ATF_TP_ADD_TC(tp, timers_independent);
	ATF_TP_ADD_TC(tp, close_while_firing);
	return (atf_no_error());
}
