/*
 * EVFILT_TIMER on the queue's timing wheel: timers at every level of the
 * wheel fire in order and never early, exact periodic counts with other
 * threads busy, cancel/modify/delete racing expiry from several threads,
 * timers of a queue no thread waits on (watched by poll(), by another
 * queue, or read from a ring without a call), and fork() with timers armed.
 *
 * Timing rules as in t_timer.c: never early (TIMER_SLACK_NS is clock
 * granularity only), upper bounds loose because the machine is shared.
 */
#define	_GNU_SOURCE	/* ppoll() */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sched.h>
#include <stdio.h>
#include <atf-c.h>

#include "h_evring.h"

#define	US	1000LL
#define	MS	1000000LL
#define	SEC	1000000000LL
#define	TIMER_SLACK_NS	(1 * MS)
#define	LATE_NS		(2 * SEC)

static int
kchange(int kq, uintptr_t ident, unsigned short flags, unsigned fflags,
    intptr_t data, void *udata)
{
	struct kevent kev;
	struct timespec zero = { 0, 0 };

	EV_SET(&kev, ident, EVFILT_TIMER, flags, fflags, data, udata);
	return (kevent(kq, &kev, 1, NULL, 0, &zero));
}

static int
kwait(int kq, struct kevent *ev, int n, long long ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / SEC);
	ts.tv_nsec = (long)(ns % SEC);
	return (kevent(kq, NULL, 0, ev, n, ns < 0 ? NULL : &ts));
}

ATF_TC(levels_in_order);
ATF_TC_HEAD(levels_in_order, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "One-shot timers whose delays fall in the first four levels of "
	    "the wheel (0 to 1.2 s), registered in one call in scrambled "
	    "order, each fire once, never before their delay, and in the "
	    "order of their delays; timers an hour and a year away stay "
	    "armed and silent");
}
ATF_TC_BODY(levels_in_order, tc)
{
	static const long long delay_us[] = {
		700000, 0, 3000, 1200000, 65, 300000, 20000, 131, 5000,
		90000, 4300, 1, 270000, 66000,
	};
	enum { N = sizeof(delay_us) / sizeof(delay_us[0]) };
	struct kevent ch[N + 2], ev;
	long long t0, el, last = -1;
	int fired[N] = { 0 }, i, n, kq;

	kq = kev_kqueue();
	for (i = 0; i < N; i++)
		EV_SET(&ch[i], (uintptr_t)i, EVFILT_TIMER, EV_ADD | EV_ONESHOT,
		    NOTE_USECONDS, delay_us[i], NULL);
	EV_SET(&ch[N], 1000, EVFILT_TIMER, EV_ADD | EV_ONESHOT,
	    NOTE_SECONDS, 3600, NULL);
	EV_SET(&ch[N + 1], 1001, EVFILT_TIMER, EV_ADD | EV_ONESHOT,
	    NOTE_SECONDS, 365 * 86400, NULL);
	t0 = kev_now_ns();
	ATF_REQUIRE_EQ(0, kevent(kq, ch, N + 2, NULL, 0, NULL));
	for (n = 0; n < N; n++) {
		ATF_REQUIRE_EQ_MSG(1, kwait(kq, &ev, 1, 3 * SEC),
		    "only %d of %d timers fired", n, N);
		el = kev_now_ns() - t0;
		i = (int)ev.ident;
		ATF_REQUIRE_MSG(i >= 0 && i < N, "ident %d fired", i);
		ATF_REQUIRE_MSG(fired[i]++ == 0, "timer %d fired twice", i);
		ATF_REQUIRE_EQ(1, (int)ev.data);
		ATF_REQUIRE_MSG(el >= delay_us[i] * US - TIMER_SLACK_NS,
		    "timer of %lld us fired after %lld us", delay_us[i],
		    el / US);
		ATF_REQUIRE_MSG(el <= delay_us[i] * US + LATE_NS,
		    "timer of %lld us fired after %lld ms", delay_us[i],
		    el / MS);
		/* Delays closer than the slack may swap; no others. */
		ATF_REQUIRE_MSG(delay_us[i] * US >= last - TIMER_SLACK_NS,
		    "timer of %lld us fired after one of %lld us",
		    delay_us[i], last / US);
		if (delay_us[i] * US > last)
			last = delay_us[i] * US;
	}
	ATF_REQUIRE_EQ(0, kwait(kq, &ev, 1, 50 * MS));
	/* Still armed: a delete finds both. */
	ATF_REQUIRE_EQ(0, kchange(kq, 1000, EV_DELETE, 0, 0, NULL));
	ATF_REQUIRE_EQ(0, kchange(kq, 1001, EV_DELETE, 0, 0, NULL));
	ATF_REQUIRE_EQ(0, close(kq));
}

/* Threads that keep the machine and the library busy meanwhile. */
static atomic_int load_stop;

static void *
load_thread(void *arg)
{
	struct kevent kev;
	struct timespec zero = { 0, 0 };
	int kq = *(int *)arg;

	EV_SET(&kev, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	(void)kevent(kq, &kev, 1, NULL, 0, NULL);
	while (!atomic_load(&load_stop)) {
		EV_SET(&kev, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
		(void)kevent(kq, &kev, 1, &kev, 1, &zero);
	}
	return (NULL);
}

ATF_TC(periodic_exact_under_load);
ATF_TC_HEAD(periodic_exact_under_load, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Periodic timers of 1 ms and 7 ms taken at irregular moments "
	    "for 400 ms while three threads hammer other queues: the sum of "
	    "data is exactly the periods elapsed, neither lost nor extra");
}
ATF_TC_BODY(periodic_exact_under_load, tc)
{
	static const long long period[] = { 1 * MS, 7 * MS };
	pthread_t th[3];
	struct kevent ev[4];
	long long t0, t1, tb, te, sum[2] = { 0, 0 }, lo, hi;
	int lkq[3], i, j, n, kq;

	atomic_store(&load_stop, 0);
	for (i = 0; i < 3; i++) {
		lkq[i] = kev_kqueue();
		ATF_REQUIRE_EQ(0, pthread_create(&th[i], NULL, load_thread,
		    &lkq[i]));
	}
	kq = kev_kqueue();
	t0 = kev_now_ns();
	for (j = 0; j < 2; j++)
		ATF_REQUIRE_EQ(0, kchange(kq, (uintptr_t)j, EV_ADD,
		    NOTE_NSECONDS, period[j], NULL));
	t1 = kev_now_ns();		/* the timers started in [t0, t1] */
	for (i = 0; i < 60; i++) {
		usleep((useconds_t)(i * 997 % 13000));
		n = kwait(kq, ev, 4, 0);
		ATF_REQUIRE(n >= 0);
		for (j = 0; j < n; j++)
			sum[ev[j].ident] += ev[j].data;
	}
	/* What is due by tb is counted; nothing due after te is. */
	tb = kev_now_ns();
	n = kwait(kq, ev, 4, 0);
	te = kev_now_ns();
	ATF_REQUIRE(n >= 0);
	for (j = 0; j < n; j++)
		sum[ev[j].ident] += ev[j].data;
	atomic_store(&load_stop, 1);
	for (i = 0; i < 3; i++) {
		ATF_REQUIRE_EQ(0, pthread_join(th[i], NULL));
		ATF_REQUIRE_EQ(0, close(lkq[i]));
	}
	for (j = 0; j < 2; j++) {
		lo = (tb - t1) / period[j];
		hi = (te - t0) / period[j];
		ATF_CHECK_MSG(sum[j] >= lo && sum[j] <= hi,
		    "period %lld us: %lld expirations counted, %lld to %lld "
		    "elapsed", period[j] / US, sum[j], lo, hi);
	}
	ATF_REQUIRE_EQ(0, close(kq));
}

/*
 * Cancel, modify and delete racing expiry.  Each changer thread owns
 * RACE_IDENTS timers and, round after round, starts one as EV_ONESHOT with
 * a delay of a few microseconds and then leaves it, deletes it, or
 * re-adds it with a new delay, after a random pause; collector threads take
 * the events.  udata names the ident and a generation.
 */
#define	RACE_CHANGERS	2
#define	RACE_COLLECTORS	2
#define	RACE_IDENTS	64
#define	RACE_ROUNDS	120
#define	RACE_GENS	(2 * RACE_ROUNDS + 2)
#define	RACE_N		(RACE_CHANGERS * RACE_IDENTS)

static int race_kq;
static atomic_int race_stop;
static atomic_int race_delivered[RACE_N][RACE_GENS];
static unsigned char race_deleted[RACE_N][RACE_GENS];
static atomic_int race_bad;		/* a duplicate or a bad record */
static atomic_int race_stuck;		/* a round's event never came */

static void
race_pause(unsigned *seed)
{
	long long end = kev_now_ns() + (rand_r(seed) % 80) * US;

	while (kev_now_ns() < end)
		;
}

static void *
race_changer(void *arg)
{
	int c = (int)(intptr_t)arg, gen[RACE_IDENTS], pending[RACE_IDENTS];
	unsigned seed = 12345u + (unsigned)c;
	long long deadline;
	int r, i, id, g;

	for (i = 0; i < RACE_IDENTS; i++) {
		gen[i] = 0;
		pending[i] = -1;
	}
	for (r = 0; r < RACE_ROUNDS; r++) {
		for (i = 0; i < RACE_IDENTS; i++) {
			id = c * RACE_IDENTS + i;
			/* The last round's event, if one is owed, first. */
			deadline = kev_now_ns() + 5 * SEC;
			while (pending[i] >= 0 && atomic_load(
			    &race_delivered[id][pending[i]]) == 0) {
				if (kev_now_ns() > deadline) {
					atomic_fetch_add(&race_stuck, 1);
					return (NULL);
				}
				sched_yield();
			}
			g = ++gen[i];
			if (kchange(race_kq, (uintptr_t)id, EV_ADD | EV_ONESHOT,
			    NOTE_USECONDS, rand_r(&seed) % 60,
			    (void *)(intptr_t)(id << 16 | g)) != 0) {
				atomic_fetch_add(&race_bad, 1);
				return (NULL);
			}
			pending[i] = g;
			switch (rand_r(&seed) % 3) {
			case 1:
				race_pause(&seed);
				if (kchange(race_kq, (uintptr_t)id, EV_DELETE,
				    0, 0, NULL) == 0) {
					race_deleted[id][g] = 1;
					pending[i] = -1;
				} else if (errno != ENOENT)
					atomic_fetch_add(&race_bad, 1);
				break;
			case 2:
				race_pause(&seed);
				g = ++gen[i];
				if (kchange(race_kq, (uintptr_t)id,
				    EV_ADD | EV_ONESHOT, NOTE_USECONDS,
				    rand_r(&seed) % 60,
				    (void *)(intptr_t)(id << 16 | g)) != 0)
					atomic_fetch_add(&race_bad, 1);
				pending[i] = g;
				break;
			}
		}
	}
	for (i = 0; i < RACE_IDENTS; i++) {
		id = c * RACE_IDENTS + i;
		deadline = kev_now_ns() + 5 * SEC;
		while (pending[i] >= 0 &&
		    atomic_load(&race_delivered[id][pending[i]]) == 0) {
			if (kev_now_ns() > deadline) {
				atomic_fetch_add(&race_stuck, 1);
				break;
			}
			sched_yield();
		}
	}
	return (NULL);
}

static void *
race_collector(void *arg)
{
	struct kevent ev[8];
	int i, n, id, g;

	(void)arg;
	while (!atomic_load(&race_stop)) {
		n = kwait(race_kq, ev, 8, 10 * MS);
		if (n < 0) {
			atomic_fetch_add(&race_bad, 1);
			break;
		}
		for (i = 0; i < n; i++) {
			id = (int)((intptr_t)ev[i].udata >> 16);
			g = (int)((intptr_t)ev[i].udata & 0xffff);
			if (id < 0 || id >= RACE_N || g <= 0 ||
			    g >= RACE_GENS || (int)ev[i].ident != id ||
			    ev[i].data != 1 ||
			    atomic_fetch_add(&race_delivered[id][g], 1) != 0)
				atomic_fetch_add(&race_bad, 1);
		}
	}
	return (NULL);
}

ATF_TC(cancel_modify_race);
ATF_TC_HEAD(cancel_modify_race, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Two threads start, delete and re-add microsecond one-shot "
	    "timers while two others collect: every start is delivered at "
	    "most once, one that EV_DELETE removed (0) never, the last of "
	    "every round exactly once, each with data 1");
	atf_tc_set_md_var(tc, "timeout", "120");
}
ATF_TC_BODY(cancel_modify_race, tc)
{
	pthread_t ch[RACE_CHANGERS], co[RACE_COLLECTORS];
	int i, id, g, ndel = 0, bad = 0;

	race_kq = kev_kqueue();
	atomic_store(&race_stop, 0);
	for (i = 0; i < RACE_COLLECTORS; i++)
		ATF_REQUIRE_EQ(0, pthread_create(&co[i], NULL, race_collector,
		    NULL));
	for (i = 0; i < RACE_CHANGERS; i++)
		ATF_REQUIRE_EQ(0, pthread_create(&ch[i], NULL, race_changer,
		    (void *)(intptr_t)i));
	for (i = 0; i < RACE_CHANGERS; i++)
		ATF_REQUIRE_EQ(0, pthread_join(ch[i], NULL));
	atomic_store(&race_stop, 1);
	for (i = 0; i < RACE_COLLECTORS; i++)
		ATF_REQUIRE_EQ(0, pthread_join(co[i], NULL));
	ATF_REQUIRE_EQ_MSG(0, atomic_load(&race_bad),
	    "%d duplicate or malformed events, or failed changes",
	    atomic_load(&race_bad));
	ATF_REQUIRE_EQ_MSG(0, atomic_load(&race_stuck),
	    "%d rounds whose event never came", atomic_load(&race_stuck));
	for (id = 0; id < RACE_N; id++)
		for (g = 0; g < RACE_GENS; g++) {
			if (!race_deleted[id][g])
				continue;
			ndel++;
			if (atomic_load(&race_delivered[id][g]) != 0)
				bad++;
		}
	ATF_REQUIRE_EQ_MSG(0, bad, "%d of %d deleted timers fired", bad,
	    ndel);
	ATF_REQUIRE_MSG(ndel > 0, "no delete won a race: the test tested "
	    "nothing");
	ATF_REQUIRE_EQ(0, close(race_kq));
}

/* One 30 ms one-shot timer on a new queue; its start time in *t0p. */
static int
kq_with_timer(long long *t0p)
{
	int kq = kev_kqueue();

	*t0p = kev_now_ns();
	ATF_REQUIRE_EQ(0, kchange(kq, 9, EV_ADD | EV_ONESHOT, 0, 30,
	    (void *)0x9));
	return (kq);
}

static void
check_fired_after(long long t0, const char *how)
{
	long long el = kev_now_ns() - t0;

	ATF_REQUIRE_MSG(el >= 30 * MS - TIMER_SLACK_NS,
	    "%s: a 30 ms timer fired after %lld us", how, el / US);
	ATF_REQUIRE_MSG(el <= 30 * MS + LATE_NS,
	    "%s: a 30 ms timer fired after %lld ms", how, el / MS);
}

ATF_TC(no_waiter_poll);
ATF_TC_HEAD(no_waiter_poll, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A queue's timer fires with no thread in kevent() for it: poll() "
	    "on the queue's descriptor sees it readable after the delay, and "
	    "kevent() then returns the event");
}
ATF_TC_BODY(no_waiter_poll, tc)
{
	struct pollfd pfd;
	struct kevent ev;
	long long t0;
	int kq;

	kq = kq_with_timer(&t0);
	pfd.fd = kq;
	pfd.events = POLLIN;
	ATF_REQUIRE_EQ(1, poll(&pfd, 1, 3000));
	check_fired_after(t0, "poll()");
	ATF_REQUIRE(pfd.revents & POLLIN);
	ATF_REQUIRE_EQ(1, kwait(kq, &ev, 1, 0));
	ATF_REQUIRE_EQ(9, (int)ev.ident);
	ATF_REQUIRE_EQ(1, (int)ev.data);
	ATF_REQUIRE_EQ(0, close(kq));
}

ATF_TC(no_waiter_nested);
ATF_TC_HEAD(no_waiter_nested, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A timer of a queue that only another queue watches fires on "
	    "time: the watcher's kevent() wakes after the delay");
}
ATF_TC_BODY(no_waiter_nested, tc)
{
	struct kevent kev, ev;
	long long t0;
	int inner, outer;

	outer = kev_kqueue();
	inner = kq_with_timer(&t0);
	EV_SET(&kev, (uintptr_t)inner, EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(0, kevent(outer, &kev, 1, NULL, 0, NULL));
	ATF_REQUIRE_EQ(1, kwait(outer, &ev, 1, 3 * SEC));
	check_fired_after(t0, "a watching queue");
	ATF_REQUIRE_EQ(inner, (int)ev.ident);
	ATF_REQUIRE_EQ(1, kwait(inner, &ev, 1, 0));
	ATF_REQUIRE_EQ(9, (int)ev.ident);
	ATF_REQUIRE_EQ(0, close(inner));
	ATF_REQUIRE_EQ(0, close(outer));
}

ATF_TC(no_waiter_ring);
ATF_TC_HEAD(no_waiter_ring, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A timer's record reaches the ring of a consumer that reads the "
	    "mapped header and makes no call at all");
}
ATF_TC_BODY(no_waiter_ring, tc)
{
	const struct kevent *rec;
	struct evring r;
	long long t0, end;
	uint32_t first;
	int kq;

	kq = kev_kqueue();
	ATF_REQUIRE_EQ(0, kevent_ring_attach(kq, 64));
	ATF_REQUIRE_EQ(0, kevent_ring_map(kq, &r));
	t0 = kev_now_ns();
	ATF_REQUIRE_EQ(0, kchange(kq, 9, EV_ADD | EV_ONESHOT, 0, 30,
	    (void *)0x9));
	end = t0 + 30 * MS + LATE_NS;
	while (evring_ready(&r, &first) == 0)
		ATF_REQUIRE_MSG(kev_now_ns() < end, "no record after %lld ms",
		    (kev_now_ns() - t0) / MS);
	check_fired_after(t0, "a ring read without calls");
	rec = evring_record(&r, first);
	ATF_REQUIRE_EQ(9, (int)rec->ident);
	ATF_REQUIRE_EQ(EVFILT_TIMER, rec->filter);
	ATF_REQUIRE_EQ(1, (int)rec->data);
	evring_advance(&r, 1);
	ATF_REQUIRE_EQ(0, close(kq));
}

struct sleeper_arg {
	int		kq;
	int		n;
	struct kevent	ev;
	long long	t;
};

static void *
sleeper(void *arg)
{
	struct sleeper_arg *a = arg;

	a->n = kwait(a->kq, &a->ev, 1, 5 * SEC);
	a->t = kev_now_ns();
	return (NULL);
}

ATF_TC(sleeper_gets_new_timer);
ATF_TC_HEAD(sleeper_gets_new_timer, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A thread already asleep in kevent() for up to 5 s gets a 30 ms "
	    "timer another thread adds meanwhile, on time");
}
ATF_TC_BODY(sleeper_gets_new_timer, tc)
{
	struct sleeper_arg a;
	pthread_t th;
	long long t0;

	a.kq = kev_kqueue();
	ATF_REQUIRE_EQ(0, kchange(a.kq, 1, EV_ADD | EV_ONESHOT,
	    NOTE_SECONDS, 3600, NULL));
	ATF_REQUIRE_EQ(0, pthread_create(&th, NULL, sleeper, &a));
	usleep(50000);		/* let it fall asleep */
	t0 = kev_now_ns();
	ATF_REQUIRE_EQ(0, kchange(a.kq, 9, EV_ADD | EV_ONESHOT, 0, 30,
	    (void *)0x9));
	ATF_REQUIRE_EQ(0, pthread_join(th, NULL));
	ATF_REQUIRE_EQ_MSG(1, a.n, "the sleeper got %d events", a.n);
	ATF_REQUIRE_EQ(9, (int)a.ev.ident);
	ATF_REQUIRE_MSG(a.t - t0 >= 30 * MS - TIMER_SLACK_NS &&
	    a.t - t0 <= 30 * MS + LATE_NS,
	    "the sleeper woke %lld us after the start", (a.t - t0) / US);
	ATF_REQUIRE_EQ(0, close(a.kq));
}

ATF_TC(fork_armed);
ATF_TC_HEAD(fork_armed, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "fork() with timers armed: the child has no queue (EBADF) and no "
	    "timer fires in it; the parent's periodic timer keeps its exact "
	    "count and its one-shot timer fires on time");
}
ATF_TC_BODY(fork_armed, tc)
{
	struct kevent ev[4];
	long long t0, t1, tb, te, sum = 0, once = 0, el;
	pid_t pid;
	int i, n, kq, status;

	kq = kev_kqueue();
	t0 = kev_now_ns();
	ATF_REQUIRE_EQ(0, kchange(kq, 1, EV_ADD, NOTE_USECONDS, 5000, NULL));
	ATF_REQUIRE_EQ(0, kchange(kq, 2, EV_ADD | EV_ONESHOT, 0, 60, NULL));
	t1 = kev_now_ns();
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0) {
		struct timespec ts = { 0, 100 * MS };

		/* The queue is not the child's, and nothing fires here. */
		if (kevent(kq, NULL, 0, ev, 4, &ts) != -1 || errno != EBADF)
			_exit(1);
		n = kqueue();
		if (n < 0 || kevent(n, NULL, 0, ev, 4, &ts) != 0)
			_exit(2);
		_exit(0);
	}
	for (i = 0; i < 20; i++) {
		ATF_REQUIRE((n = kwait(kq, ev, 4, SEC)) >= 1);
		while (n-- > 0) {
			if (ev[n].ident == 2) {
				once++;
				el = kev_now_ns() - t0;
				ATF_REQUIRE_MSG(el >= 60 * MS - TIMER_SLACK_NS &&
				    el <= 60 * MS + LATE_NS,
				    "one-shot of 60 ms after %lld us", el / US);
			} else
				sum += ev[n].data;
		}
	}
	tb = kev_now_ns();
	n = kwait(kq, ev, 4, 0);
	te = kev_now_ns();
	while (n-- > 0)
		if (ev[n].ident == 1)
			sum += ev[n].data;
		else
			once++;
	ATF_REQUIRE_EQ(pid, waitpid(pid, &status, 0));
	ATF_REQUIRE_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child check %d failed", WEXITSTATUS(status));
	ATF_REQUIRE_EQ_MSG(1, once, "the one-shot fired %lld times", once);
	ATF_REQUIRE_MSG(sum >= (tb - t1) / (5 * MS) &&
	    sum <= (te - t0) / (5 * MS),
	    "%lld expirations of 5 ms in %lld to %lld ms", sum,
	    (tb - t1) / MS, (te - t0) / MS);
	ATF_REQUIRE_EQ(0, close(kq));
}

ATF_TC(exhaustion_enomem);
ATF_TC_HEAD(exhaustion_enomem, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "With RLIMIT_AS too tight for a thread, a queue's first timer, "
	    "a knote watching another queue and a ring attach fail with "
	    "ENOMEM instead of ending the process, and all three work once "
	    "the limit is lifted (issue 15: the callout thread)");
}
ATF_TC_BODY(exhaustion_enomem, tc)
{
	struct rlimit as, tight;
	struct kevent kev, ev;
	struct timespec ts = { 3, 0 };
	unsigned long vsz;
	pid_t pid;
	FILE *f;
	int kq, kq2, status, r, e;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	atf_tc_skip("RLIMIT_AS cannot be tightened under a sanitizer");
#endif
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0) {
		/* A fork child starts with no callout thread at all. */
		if ((kq = kqueue()) < 0 || (kq2 = kqueue()) < 0)
			_exit(10);
		if ((f = fopen("/proc/self/statm", "r")) == NULL ||
		    fscanf(f, "%lu", &vsz) != 1)
			_exit(11);
		fclose(f);
		if (getrlimit(RLIMIT_AS, &as) != 0)
			_exit(12);
		tight = as;
		tight.rlim_cur = vsz * (unsigned long)sysconf(_SC_PAGESIZE) +
		    (1UL << 20);
		if (setrlimit(RLIMIT_AS, &tight) != 0)
			_exit(13);
		r = kchange(kq, 1, EV_ADD | EV_ONESHOT, 0, 10, NULL);
		e = errno;
		if (r != -1 || e != ENOMEM)
			_exit(1);
		EV_SET(&kev, (uintptr_t)kq2, EVFILT_READ, EV_ADD, 0, 0, NULL);
		r = kevent(kq, &kev, 1, NULL, 0, NULL);
		e = errno;
		if (r != -1 || e != ENOMEM)
			_exit(2);
		r = kevent_ring_attach(kq, 64);
		e = errno;
		if (r != -1 || e != ENOMEM)
			_exit(3);
		if (setrlimit(RLIMIT_AS, &as) != 0)
			_exit(14);
		/* Nothing half-made stays behind: all three work now. */
		if (kchange(kq, 1, EV_ADD | EV_ONESHOT, 0, 10, NULL) != 0 ||
		    kevent(kq, NULL, 0, &ev, 1, &ts) != 1 || ev.ident != 1)
			_exit(4);
		if (kevent(kq, &kev, 1, NULL, 0, NULL) != 0)
			_exit(5);
		EV_SET(&kev, 7, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, NULL);
		if (kevent(kq2, &kev, 1, NULL, 0, NULL) != 0 ||
		    kevent(kq, NULL, 0, &ev, 1, &ts) != 1 ||
		    (int)ev.ident != kq2)
			_exit(6);
		if (kevent_ring_attach(kq, 64) != 0)
			_exit(7);
		_exit(0);
	}
	ATF_REQUIRE_EQ(pid, waitpid(pid, &status, 0));
	ATF_REQUIRE_MSG(WIFEXITED(status), "the child died of signal %d",
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	ATF_REQUIRE_EQ_MSG(0, WEXITSTATUS(status), "child step %d failed",
	    WEXITSTATUS(status));
}

struct trigger_arg {
	int	kq;
	int	fd;		/* an eventfd-like pipe end to write, or -1 */
};

static void *
trigger_later(void *arg)
{
	struct trigger_arg *t = arg;
	struct kevent kev;

	usleep(50000);
	EV_SET(&kev, 77, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	if (t->kq >= 0)
		(void)kevent(t->kq, &kev, 1, NULL, 0, NULL);
	if (t->fd >= 0)
		(void)write(t->fd, "x", 1);
	return (NULL);
}

ATF_TC(huge_timeout);
ATF_TC_HEAD(huge_timeout, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A timeout of INT64_MAX seconds (and 999999999 ns) is as good as "
	    "none for kevent(), kevent_wait() and ppoll(): each waits and "
	    "returns the event another thread makes 50 ms later, rather than "
	    "failing or returning at once because the deadline overflowed");
}
ATF_TC_BODY(huge_timeout, tc)
{
	struct timespec huge = { INT64_MAX, 999999999 };
	struct trigger_arg ta;
	struct kevent kev, ev;
	struct pollfd pfd;
	struct evring r;
	pthread_t th;
	uint32_t first;
	long long t0;
	int kq, p[2], n;

	kq = kev_kqueue();
	EV_SET(&kev, 77, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	ATF_REQUIRE_EQ(0, kevent(kq, &kev, 1, NULL, 0, NULL));
	ta.kq = kq;
	ta.fd = -1;
	ATF_REQUIRE_EQ(0, pthread_create(&th, NULL, trigger_later, &ta));
	t0 = kev_now_ns();
	n = kevent(kq, NULL, 0, &ev, 1, &huge);
	ATF_REQUIRE_EQ_MSG(1, n, "kevent: %d (%s)", n, strerror(errno));
	ATF_REQUIRE(kev_now_ns() - t0 >= 40 * MS);
	ATF_REQUIRE_EQ(0, pthread_join(th, NULL));

	ATF_REQUIRE_EQ(0, kevent_ring_attach(kq, 64));
	ATF_REQUIRE_EQ(0, kevent_ring_map(kq, &r));
	ATF_REQUIRE_EQ(0, evring_ready(&r, &first));
	ATF_REQUIRE_EQ(0, pthread_create(&th, NULL, trigger_later, &ta));
	t0 = kev_now_ns();
	n = kevent_wait(kq, first, &huge, NULL);
	ATF_REQUIRE_EQ_MSG(1, n, "kevent_wait: %d (%s)", n, strerror(errno));
	ATF_REQUIRE(kev_now_ns() - t0 >= 40 * MS);
	ATF_REQUIRE_EQ(0, pthread_join(th, NULL));
	ATF_REQUIRE_EQ(0, close(kq));

	ATF_REQUIRE_EQ(0, pipe(p));
	ta.kq = -1;
	ta.fd = p[1];
	pfd.fd = p[0];
	pfd.events = POLLIN;
	ATF_REQUIRE_EQ(0, pthread_create(&th, NULL, trigger_later, &ta));
	t0 = kev_now_ns();
	n = ppoll(&pfd, 1, &huge, NULL);
	ATF_REQUIRE_EQ_MSG(1, n, "ppoll: %d (%s)", n, strerror(errno));
	ATF_REQUIRE(kev_now_ns() - t0 >= 40 * MS);
	ATF_REQUIRE_EQ(0, pthread_join(th, NULL));
	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_REQUIRE_EQ(0, close(p[1]));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, levels_in_order);
	ATF_TP_ADD_TC(tp, periodic_exact_under_load);
	ATF_TP_ADD_TC(tp, cancel_modify_race);
	ATF_TP_ADD_TC(tp, no_waiter_poll);
	ATF_TP_ADD_TC(tp, no_waiter_nested);
	ATF_TP_ADD_TC(tp, no_waiter_ring);
	ATF_TP_ADD_TC(tp, sleeper_gets_new_timer);
	ATF_TP_ADD_TC(tp, fork_armed);
	ATF_TP_ADD_TC(tp, exhaustion_enomem);
	ATF_TP_ADD_TC(tp, huge_timeout);
	return (atf_no_error());
}
