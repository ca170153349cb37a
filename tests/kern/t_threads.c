/*
 * Threads: many producers and consumers on one queue (every event
 * delivered exactly once), many threads on their own queues sharing
 * descriptors, wakeups of a thread blocked with no timeout, two scanners
 * on one level-triggered knote, and registration churn with a final
 * consistency check.  Each case is bounded to a few seconds.
 *
 * Worker threads never call ATF_REQUIRE (that would end the process from
 * the wrong thread); they record failures, which the main thread checks.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
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

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * SEC + ts.tv_nsec);
}

static int
kwait(int kq, struct kevent *ev, int n, long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * MS;
	return (kevent(kq, NULL, 0, ev, n, &ts));
}

/* The first failure a worker saw, for the main thread to report. */
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[256];
static atomic_int nfail;

static void
worker_fail(const char *what, long a, long b)
{
	pthread_mutex_lock(&fail_lock);
	if (nfail++ == 0)
		snprintf(fail_msg, sizeof(fail_msg), "%s (%ld, %ld)", what,
		    a, b);
	pthread_mutex_unlock(&fail_lock);
}

#define	REQUIRE_NO_WORKER_FAILURE() \
	ATF_REQUIRE_MSG(atomic_load(&nfail) == 0, "%d worker failures; first: " \
	    "%s", atomic_load(&nfail), fail_msg)

static long long
knotes(void)
{
	long long v;

	v = evring_stat(EVRING_STAT_KNOTES);
	ATF_REQUIRE_MSG(v >= 0, "evring_stat: %s", strerror(errno));
	return (v);
}

/* Wait (at most 2 s) for the knote count to reach want. */
static void
expect_knotes(long long want)
{
	long long deadline, v;

	deadline = mono_ns() + 2 * SEC;
	while ((v = knotes()) != want && mono_ns() < deadline)
		usleep(1000);
	ATF_REQUIRE_EQ_MSG(v, want, "EVRING_STAT_KNOTES %lld, want %lld", v,
	    want);
}

/*
 * Producers and consumers on one queue.
 */
#define	PC_IDENTS	1024
#define	PC_PRODUCERS	8
#define	PC_CONSUMERS	4

static int pc_kq;
static atomic_int pc_count[PC_IDENTS];
static atomic_int pc_total;
static atomic_int pc_stop;

static void *
pc_producer(void *arg)
{
	int i, p;

	p = (int)(intptr_t)arg;
	for (i = p; i < PC_IDENTS; i += PC_PRODUCERS)
		if (kev_change(pc_kq, 10000 + i, EVFILT_USER, EV_KEEPUDATA,
		    NOTE_TRIGGER, 0, NULL) != 0)
			worker_fail("trigger failed: ident, errno", i, errno);
	return (NULL);
}

static void *
pc_consumer(void *arg)
{
	struct kevent ev[16];
	int i, id, n;

	(void)arg;
	while (!atomic_load(&pc_stop)) {
		n = kwait(pc_kq, ev, 16, 50);
		if (n < 0) {
			worker_fail("consumer kevent: errno", errno, 0);
			break;
		}
		for (i = 0; i < n; i++) {
			id = (int)ev[i].ident - 10000;
			if (ev[i].filter != EVFILT_USER || id < 0 ||
			    id >= PC_IDENTS || (ev[i].flags & EV_ERROR) ||
			    ev[i].udata != (void *)(intptr_t)(id + 1)) {
				worker_fail("bad event: ident, flags",
				    (long)ev[i].ident, ev[i].flags);
				continue;
			}
			atomic_fetch_add(&pc_count[id], 1);
			atomic_fetch_add(&pc_total, 1);
		}
	}
	return (NULL);
}

ATF_TC(producers_consumers);
ATF_TC_HEAD(producers_consumers, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "8 threads trigger 1024 EV_ONESHOT user events (each once) while 4 "
	    "threads consume from the same queue: every ident is received "
	    "exactly once in total, and all knotes are gone afterwards");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(producers_consumers, tc)
{
	static struct kevent ch[PC_IDENTS];
	struct timespec zero = { 0, 0 };
	pthread_t prod[PC_PRODUCERS], cons[PC_CONSUMERS];
	long long base, deadline;
	struct kevent ev;
	int i;

	pc_kq = kev_kqueue();
	base = knotes();
	for (i = 0; i < PC_IDENTS; i++)
		EV_SET(&ch[i], 10000 + i, EVFILT_USER, EV_ADD | EV_ONESHOT, 0,
		    0, (void *)(intptr_t)(i + 1));
	ATF_REQUIRE_EQ(kevent(pc_kq, ch, PC_IDENTS, NULL, 0, &zero), 0);
	ATF_REQUIRE_EQ(knotes(), base + PC_IDENTS);

	for (i = 0; i < PC_CONSUMERS; i++)
		ATF_REQUIRE(pthread_create(&cons[i], NULL, pc_consumer,
		    NULL) == 0);
	for (i = 0; i < PC_PRODUCERS; i++)
		ATF_REQUIRE(pthread_create(&prod[i], NULL, pc_producer,
		    (void *)(intptr_t)i) == 0);
	for (i = 0; i < PC_PRODUCERS; i++)
		ATF_REQUIRE(pthread_join(prod[i], NULL) == 0);
	deadline = mono_ns() + 10 * SEC;
	while (atomic_load(&pc_total) < PC_IDENTS && mono_ns() < deadline)
		usleep(1000);
	/* Give duplicates, if any, a moment to show up. */
	usleep(100000);
	atomic_store(&pc_stop, 1);
	for (i = 0; i < PC_CONSUMERS; i++)
		ATF_REQUIRE(pthread_join(cons[i], NULL) == 0);

	REQUIRE_NO_WORKER_FAILURE();
	for (i = 0; i < PC_IDENTS; i++)
		ATF_REQUIRE_EQ_MSG(atomic_load(&pc_count[i]), 1,
		    "ident %d received %d times", i,
		    atomic_load(&pc_count[i]));
	ATF_REQUIRE_EQ(atomic_load(&pc_total), PC_IDENTS);
	ATF_REQUIRE_EQ(kwait(pc_kq, &ev, 1, 0), 0);
	expect_knotes(base);
	ATF_REQUIRE(close(pc_kq) == 0);
}

/*
 * Many threads, each with its own queue, sharing pipes.
 */
#define	MQ_THREADS	8
#define	MQ_PIPES	4
#define	MQ_ROUNDS	300

static int mq_pipes[MQ_PIPES][2];
static pthread_barrier_t mq_barrier;

static void *
mq_thread(void *arg)
{
	struct kevent ch[MQ_PIPES + 1], ev[MQ_PIPES + 4];
	struct timespec zero = { 0, 0 };
	int i, kq, n, r, seen;

	(void)arg;
	kq = kqueue();
	if (kq < 0) {
		worker_fail("kqueue: errno", errno, 0);
		pthread_barrier_wait(&mq_barrier);
		pthread_barrier_wait(&mq_barrier);
		return (NULL);
	}
	for (i = 0; i < MQ_PIPES; i++)
		EV_SET(&ch[i], mq_pipes[i][0], EVFILT_READ, EV_ADD, 0, 0,
		    (void *)(intptr_t)(i + 1));
	EV_SET(&ch[MQ_PIPES], 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0,
	    (void *)(intptr_t)100);
	if (kevent(kq, ch, MQ_PIPES + 1, NULL, 0, &zero) != 0)
		worker_fail("register: errno", errno, 0);
	/* Nothing is readable until every thread has registered. */
	pthread_barrier_wait(&mq_barrier);
	pthread_barrier_wait(&mq_barrier);
	for (r = 0; r < MQ_ROUNDS && atomic_load(&nfail) == 0; r++) {
		if (kev_change(kq, 1, EVFILT_USER, EV_KEEPUDATA, NOTE_TRIGGER, 0,
		    NULL) != 0)
			worker_fail("trigger: errno", errno, r);
		n = kwait(kq, ev, MQ_PIPES + 4, 2000);
		if (n != MQ_PIPES + 1) {
			worker_fail("events per round: n, round", n, r);
			break;
		}
		seen = 0;
		for (i = 0; i < n; i++) {
			if (ev[i].udata == (void *)(intptr_t)100 &&
			    ev[i].filter == EVFILT_USER)
				seen |= 1 << MQ_PIPES;
			else if (ev[i].filter == EVFILT_READ &&
			    (intptr_t)ev[i].udata >= 1 &&
			    (intptr_t)ev[i].udata <= MQ_PIPES &&
			    ev[i].ident == (uintptr_t)mq_pipes[
			    (intptr_t)ev[i].udata - 1][0])
				seen |= 1 << ((intptr_t)ev[i].udata - 1);
		}
		if (seen != (1 << (MQ_PIPES + 1)) - 1)
			worker_fail("events missing: mask, round", seen, r);
	}
	close(kq);
	return (NULL);
}

ATF_TC(many_queues);
ATF_TC_HEAD(many_queues, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "8 threads, each with its own queue watching the same 4 readable "
	    "pipes plus its own user event, each see all 5 events on every "
	    "one of 300 rounds");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(many_queues, tc)
{
	pthread_t t[MQ_THREADS];
	long long base;
	int i;

	base = knotes();
	for (i = 0; i < MQ_PIPES; i++)
		ATF_REQUIRE(pipe(mq_pipes[i]) == 0);
	ATF_REQUIRE(pthread_barrier_init(&mq_barrier, NULL,
	    MQ_THREADS + 1) == 0);
	for (i = 0; i < MQ_THREADS; i++)
		ATF_REQUIRE(pthread_create(&t[i], NULL, mq_thread, NULL) == 0);
	pthread_barrier_wait(&mq_barrier);
	for (i = 0; i < MQ_PIPES; i++)
		ATF_REQUIRE_EQ(write(mq_pipes[i][1], "x", 1), 1);
	pthread_barrier_wait(&mq_barrier);
	for (i = 0; i < MQ_THREADS; i++)
		ATF_REQUIRE(pthread_join(t[i], NULL) == 0);
	REQUIRE_NO_WORKER_FAILURE();
	/* Every thread closed its queue: no knote is left. */
	expect_knotes(base);
}

/*
 * A thread blocked in kevent() with no timeout.
 */
static volatile sig_atomic_t wd_fired;

static void
wd_handler(int signo)
{
	(void)signo;
	wd_fired = 1;
}

struct waker {
	pthread_t	target;
	int		kq;
	int		wfd;		/* write end to write to, or -1 */
	atomic_int	done;		/* the target is out of kevent() */
	int		error;
};

static void *
waker_thread(void *arg)
{
	struct waker *w = arg;
	long long deadline;

	usleep(100000);
	if (w->wfd >= 0) {
		if (write(w->wfd, "w", 1) != 1)
			w->error = errno;
	} else if (kev_change(w->kq, 5, EVFILT_USER, EV_ADD | EV_CLEAR,
	    NOTE_TRIGGER, 0, (void *)5) != 0)
		w->error = errno;
	/* Watchdog: break the target out if it was not woken. */
	deadline = mono_ns() + 5 * SEC;
	while (!atomic_load(&w->done) && mono_ns() < deadline)
		usleep(1000);
	while (!atomic_load(&w->done)) {
		pthread_kill(w->target, SIGUSR1);
		usleep(100000);
	}
	return (NULL);
}

static void
check_wake_null_timeout(int use_pipe)
{
	struct sigaction sa;
	struct waker w;
	struct kevent ev;
	pthread_t t;
	long long t0, el;
	int n, err, p[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wd_handler;
	sigemptyset(&sa.sa_mask);
	ATF_REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	w.target = pthread_self();
	w.kq = kev_kqueue();
	w.wfd = -1;
	atomic_init(&w.done, 0);
	w.error = 0;
	if (use_pipe) {
		ATF_REQUIRE(pipe(p) == 0);
		KEV_CHANGE(w.kq, p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)5);
		w.wfd = p[1];
	}
	t0 = mono_ns();
	ATF_REQUIRE(pthread_create(&t, NULL, waker_thread, &w) == 0);
	n = kevent(w.kq, NULL, 0, &ev, 1, NULL);
	err = errno;
	el = mono_ns() - t0;
	atomic_store(&w.done, 1);
	ATF_REQUIRE(pthread_join(t, NULL) == 0);
	ATF_REQUIRE_EQ_MSG(w.error, 0, "waker failed: %s",
	    strerror(w.error));
	ATF_REQUIRE_MSG(!wd_fired && n == 1, "blocked kevent() not woken "
	    "(n=%d errno=%d after %lld ms, watchdog %d)", n,
	    n < 0 ? err : 0, el / MS, (int)wd_fired);
	ATF_REQUIRE_EQ(ev.udata, (void *)5);
	if (use_pipe) {
		ATF_REQUIRE_EQ(ev.ident, (uintptr_t)p[0]);
		ATF_REQUIRE_EQ(ev.filter, EVFILT_READ);
	} else {
		ATF_REQUIRE_EQ(ev.ident, 5);
		ATF_REQUIRE_EQ(ev.filter, EVFILT_USER);
	}
	ATF_REQUIRE(el >= 90 * MS);
	ATF_REQUIRE(close(w.kq) == 0);
}

ATF_TC(wake_null_timeout_register);
ATF_TC_HEAD(wake_null_timeout_register, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A thread blocked in kevent() with a NULL timeout on an empty "
	    "queue is woken when another thread registers and triggers a user "
	    "event on that queue");
}
ATF_TC_BODY(wake_null_timeout_register, tc)
{
	check_wake_null_timeout(0);
}

ATF_TC(wake_null_timeout_pipe);
ATF_TC_HEAD(wake_null_timeout_pipe, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A thread blocked in kevent() with a NULL timeout is woken when "
	    "another thread writes to a watched pipe");
}
ATF_TC_BODY(wake_null_timeout_pipe, tc)
{
	check_wake_null_timeout(1);
}

/*
 * Two scanners on one level-triggered knote.
 */
#define	LV_ROUNDS	200

static int lv_kq, lv_fd;

static void *
lv_scanner(void *arg)
{
	struct kevent ev[2];
	int n, r;

	(void)arg;
	for (r = 0; r < LV_ROUNDS; r++) {
		n = kwait(lv_kq, ev, 2, 2000);
		if (n != 1 || ev[0].ident != (uintptr_t)lv_fd ||
		    ev[0].filter != EVFILT_READ) {
			worker_fail("level knote not seen: n, round", n, r);
			break;
		}
	}
	return (NULL);
}

ATF_TC(level_two_scanners);
ATF_TC_HEAD(level_two_scanners, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Two threads scanning one queue concurrently both see a "
	    "level-triggered readable pipe on every call");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(level_two_scanners, tc)
{
	pthread_t t[2];
	int i, p[2];

	lv_kq = kev_kqueue();
	ATF_REQUIRE(pipe(p) == 0);
	lv_fd = p[0];
	ATF_REQUIRE_EQ(write(p[1], "z", 1), 1);
	KEV_CHANGE(lv_kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	for (i = 0; i < 2; i++)
		ATF_REQUIRE(pthread_create(&t[i], NULL, lv_scanner, NULL) == 0);
	for (i = 0; i < 2; i++)
		ATF_REQUIRE(pthread_join(t[i], NULL) == 0);
	REQUIRE_NO_WORKER_FAILURE();
	ATF_REQUIRE(close(lv_kq) == 0);
}

/*
 * Registration churn.
 */
#define	CH_USER		64
#define	CH_PIPES	8
#define	CH_CHURNERS	4
#define	CH_SCANNERS	2

static int ch_kq;
static int ch_pipes[CH_PIPES][2];
static atomic_int ch_stop;
static atomic_long ch_ops, ch_events;

static void *
ch_churner(void *arg)
{
	struct kevent kev;
	struct timespec zero = { 0, 0 };
	unsigned seed;
	int r, op, id;
	unsigned short fl;

	seed = (unsigned)(uintptr_t)arg * 7919u + 1;
	while (!atomic_load(&ch_stop)) {
		op = rand_r(&seed) % 6;
		if (rand_r(&seed) % 3 == 0) {
			id = rand_r(&seed) % CH_PIPES;
			fl = op < 3 ? EV_ADD : op == 3 ? EV_DELETE :
			    op == 4 ? EV_DISABLE : EV_ENABLE;
			EV_SET(&kev, ch_pipes[id][0], EVFILT_READ, fl, 0, 0,
			    (void *)(intptr_t)(1000 + id));
		} else {
			id = rand_r(&seed) % CH_USER;
			switch (op) {
			case 0:
				EV_SET(&kev, id, EVFILT_USER,
				    EV_ADD | EV_CLEAR, NOTE_TRIGGER, 0,
				    (void *)(intptr_t)id);
				break;
			case 1:
				EV_SET(&kev, id, EVFILT_USER, EV_ADD, 0, 0,
				    (void *)(intptr_t)id);
				break;
			case 2:
				EV_SET(&kev, id, EVFILT_USER, EV_DELETE, 0, 0,
				    NULL);
				break;
			case 3:
				EV_SET(&kev, id, EVFILT_USER, EV_KEEPUDATA,
				    NOTE_TRIGGER, 0, NULL);
				break;
			case 4:
				EV_SET(&kev, id, EVFILT_USER, EV_DISABLE, 0, 0,
				    (void *)(intptr_t)id);
				break;
			default:
				EV_SET(&kev, id, EVFILT_USER,
				    EV_ENABLE | EV_KEEPUDATA, 0, 0, NULL);
				break;
			}
		}
		r = kevent(ch_kq, &kev, 1, NULL, 0, &zero);
		if (r != 0 && errno != ENOENT)
			worker_fail("churn change: errno, flags", errno,
			    kev.flags);
		atomic_fetch_add(&ch_ops, 1);
	}
	return (NULL);
}

static void *
ch_scanner(void *arg)
{
	struct kevent ev[32];
	int i, n;
	intptr_t u;

	(void)arg;
	while (!atomic_load(&ch_stop)) {
		n = kwait(ch_kq, ev, 32, 10);
		if (n < 0) {
			worker_fail("scanner kevent: errno", errno, 0);
			break;
		}
		for (i = 0; i < n; i++) {
			u = (intptr_t)ev[i].udata;
			if (ev[i].flags & EV_ERROR)
				worker_fail("EV_ERROR in scan: ident, data",
				    (long)ev[i].ident, (long)ev[i].data);
			else if (ev[i].filter == EVFILT_USER) {
				if (ev[i].ident >= CH_USER ||
				    u != (intptr_t)ev[i].ident)
					worker_fail("bad user event: ident, "
					    "udata", (long)ev[i].ident, u);
			} else if (ev[i].filter == EVFILT_READ) {
				if (u < 1000 || u >= 1000 + CH_PIPES ||
				    ev[i].ident !=
				    (uintptr_t)ch_pipes[u - 1000][0])
					worker_fail("bad read event: ident, "
					    "udata", (long)ev[i].ident, u);
			} else
				worker_fail("unexpected filter",
				    ev[i].filter, 0);
		}
		atomic_fetch_add(&ch_events, n);
	}
	return (NULL);
}

ATF_TC(churn);
ATF_TC_HEAD(churn, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "4 threads add, delete, enable, disable and trigger the same user "
	    "idents and pipe registrations for 1 s while 2 threads scan: no "
	    "crash, no bad event, and after deleting everything the knote "
	    "count returns to its baseline and the queue still works");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(churn, tc)
{
	pthread_t c[CH_CHURNERS], s[CH_SCANNERS];
	struct kevent ev, evs[4];
	long long base0, base;
	int i;

	base0 = knotes();
	ch_kq = kev_kqueue();
	for (i = 0; i < CH_PIPES; i++) {
		ATF_REQUIRE(pipe(ch_pipes[i]) == 0);
		ATF_REQUIRE_EQ(write(ch_pipes[i][1], "c", 1), 1);
	}
	base = knotes();
	ATF_REQUIRE_EQ(base, base0);
	for (i = 0; i < CH_SCANNERS; i++)
		ATF_REQUIRE(pthread_create(&s[i], NULL, ch_scanner, NULL) == 0);
	for (i = 0; i < CH_CHURNERS; i++)
		ATF_REQUIRE(pthread_create(&c[i], NULL, ch_churner,
		    (void *)(intptr_t)i) == 0);
	usleep(1000000);
	atomic_store(&ch_stop, 1);
	for (i = 0; i < CH_CHURNERS; i++)
		ATF_REQUIRE(pthread_join(c[i], NULL) == 0);
	for (i = 0; i < CH_SCANNERS; i++)
		ATF_REQUIRE(pthread_join(s[i], NULL) == 0);
	REQUIRE_NO_WORKER_FAILURE();
	ATF_REQUIRE_MSG(atomic_load(&ch_ops) > 1000,
	    "only %ld changes in 1 s", atomic_load(&ch_ops));
	ATF_REQUIRE_MSG(atomic_load(&ch_events) > 0, "no event was scanned");

	/* Delete everything that may be left. */
	for (i = 0; i < CH_USER; i++)
		if (kev_change(ch_kq, i, EVFILT_USER, EV_DELETE, 0, 0, NULL) != 0)
			ATF_REQUIRE_EQ(errno, ENOENT);
	for (i = 0; i < CH_PIPES; i++)
		if (kev_change(ch_kq, ch_pipes[i][0], EVFILT_READ, EV_DELETE, 0, 0,
		    NULL) != 0)
			ATF_REQUIRE_EQ(errno, ENOENT);
	expect_knotes(base);
	ATF_REQUIRE_EQ(kwait(ch_kq, &ev, 1, 50), 0);

	/* The queue is still consistent and usable. */
	KEV_CHANGE(ch_kq, ch_pipes[0][0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(ch_kq, 3, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, NULL);
	ATF_REQUIRE_EQ(knotes(), base + 2);
	ATF_REQUIRE_EQ(kwait(ch_kq, evs, 4, 1000), 2);
	ATF_REQUIRE(close(ch_kq) == 0);
	expect_knotes(base0);
}

/*
 * kevent() and cancellation, as FreeBSD's libthr has them: a call with no
 * room for events cannot block and is not a cancellation point; one with
 * room acts on a pending request at its entry.
 */
struct cancel_arg {
	int		 ca_kq;
	atomic_int	 ca_cancelled;
	atomic_int	 ca_after_changes;
	atomic_int	 ca_after_collect;
};

static void *
cancel_thread(void *arg)
{
	struct timespec zero = { 0, 0 };
	struct cancel_arg *ca = arg;
	struct kevent kev;
	int old;

	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	while (atomic_load(&ca->ca_cancelled) == 0)
		usleep(1000);
	(void)pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	EV_SET(&kev, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	if (kevent(ca->ca_kq, &kev, 1, NULL, 0, NULL) == 0)
		atomic_store(&ca->ca_after_changes, 1);
	(void)kevent(ca->ca_kq, NULL, 0, &kev, 1, &zero);
	atomic_store(&ca->ca_after_collect, 1);
	return (NULL);
}

ATF_TC(cancel_points);
ATF_TC_HEAD(cancel_points, tc)
{
	atf_tc_set_md_var(tc, "descr", "With a cancel request pending, "
	    "kevent() of changes only (no event list) returns and applies "
	    "them, as on FreeBSD, and the next kevent() that could collect "
	    "acts on the request at its entry");
}
ATF_TC_BODY(cancel_points, tc)
{
	struct timespec zero = { 0, 0 };
	struct cancel_arg ca;
	struct kevent kev;
	pthread_t t;
	void *ret;

	ATF_REQUIRE((ca.ca_kq = kqueue()) >= 0);
	atomic_init(&ca.ca_cancelled, 0);
	atomic_init(&ca.ca_after_changes, 0);
	atomic_init(&ca.ca_after_collect, 0);
	EV_SET(&kev, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	ATF_REQUIRE_EQ(0, kevent(ca.ca_kq, &kev, 1, NULL, 0, NULL));
	ATF_REQUIRE_EQ(0, pthread_create(&t, NULL, cancel_thread, &ca));
	ATF_REQUIRE_EQ(0, pthread_cancel(t));
	atomic_store(&ca.ca_cancelled, 1);
	ATF_REQUIRE_EQ(0, pthread_join(t, &ret));
	ATF_CHECK(ret == PTHREAD_CANCELED);
	ATF_CHECK_EQ(1, atomic_load(&ca.ca_after_changes));
	ATF_CHECK_EQ(0, atomic_load(&ca.ca_after_collect));
	/* The trigger was applied, and its event was not taken. */
	ATF_REQUIRE_EQ(1, kevent(ca.ca_kq, NULL, 0, &kev, 1, &zero));
	ATF_CHECK_EQ(1, kev.ident);
	ATF_REQUIRE_EQ(0, close(ca.ca_kq));
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, producers_consumers);
	ATF_TP_ADD_TC(tp, many_queues);
	ATF_TP_ADD_TC(tp, wake_null_timeout_register);
	ATF_TP_ADD_TC(tp, wake_null_timeout_pipe);
	ATF_TP_ADD_TC(tp, level_two_scanners);
	ATF_TP_ADD_TC(tp, churn);
	ATF_TP_ADD_TC(tp, cancel_points);
	return (atf_no_error());
}
