/*
 * The ring under many threads (issue 9): several producers posting
 * through kevent() while several consumers claim records with
 * evring_take() on two queues at once, every record accounted for; and
 * detach, unmap, close and fork() racing a busy-polling consumer and
 * posting producers; EVFILT_USER triggers, which take only kq_lock,
 * racing registrations of the same idents.  The lock-free paths these
 * exercise are the
 * descriptor table lookups, kevent_wait()'s answer without kq_lock, the
 * reap skipped while it has no work, and epoch reclamation of rings and
 * queues (doc/ring.md, "Who writes what").
 *
 * Worker threads never call ATF_REQUIRE (that would end the process from
 * the wrong thread); they count failures, which the main thread checks.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

/* Sanitizer builds run each case with fewer events (GCC, then Clang). */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define	T_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define	T_SANITIZED	1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define	T_TSAN		1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define	T_TSAN		1
#endif
#endif
#ifndef T_TSAN
#define	T_TSAN		0
#endif

#ifdef T_SANITIZED
#define	MP_EVENTS	60000L
#else
#ifndef MP_EVENTS
#define	MP_EVENTS	1000000L
#endif
#endif

#define	MP_QUEUES	2
#define	MP_PRODUCERS	8
#define	MP_CONSUMERS	4	/* two per queue */
#define	MP_IDENTS	48	/* per queue: CLEAR, DISPATCH, ONESHOT in turn */

/* How an ident is registered, by ident % 3. */
#define	MP_CLEAR	0
#define	MP_DISPATCH	1
#define	MP_ONESHOT	2

struct mp_queue {
	int		kq;
	struct evring	r;
	/* 1 from the producer's trigger until a consumer took the record. */
	atomic_int	pending[MP_IDENTS];
	atomic_long	taken;
};

struct mp {
	struct mp_queue	q[MP_QUEUES];
	long		events;		/* triggers in all */
	atomic_long	fired;		/* triggers made so far */
	atomic_long	consumed;	/* records taken, all queues */
	atomic_long	dups;		/* a record for an ident not pending */
	atomic_long	foreign;	/* a record that is no trigger of ours */
	atomic_long	errors;		/* a call failed */
	atomic_long	badtakes;	/* evring_take() said -1 */
	atomic_int	stop;
};

struct mp_worker {
	struct mp	*w_mp;
	int		w_id;
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
mp_register(int kq, int ident)
{
	struct kevent kev;
	unsigned short flags = EV_ADD;

	switch (ident % 3) {
	case MP_CLEAR:
		flags |= EV_CLEAR;
		break;
	case MP_DISPATCH:
		flags |= EV_CLEAR | EV_DISPATCH;
		break;
	case MP_ONESHOT:
		flags |= EV_ONESHOT;
		break;
	}
	EV_SET(&kev, ident, EVFILT_USER, flags, 0, 0,
	    (void *)(uintptr_t)(ident + 1));
	return (kevent(kq, &kev, 1, NULL, 0, NULL));
}

/*
 * What a consumer does before the ident may fire again: a dispatched
 * knote is enabled again, a one-shot one registered again.
 */
static int
mp_rearm(int kq, int ident)
{
	struct kevent kev;

	switch (ident % 3) {
	case MP_DISPATCH:
		EV_SET(&kev, ident, EVFILT_USER, EV_ENABLE | EV_KEEPUDATA, 0,
		    0, NULL);
		return (kevent(kq, &kev, 1, NULL, 0, NULL));
	case MP_ONESHOT:
		return (mp_register(kq, ident));
	}
	return (0);
}

/*
 * Producers: pick an ident whose last trigger was consumed, mark it, fire
 * it.  So each trigger makes exactly one record, whatever the flags.
 */
static void *
mp_producer(void *arg)
{
	struct mp_worker *w = arg;
	struct mp *mp = w->w_mp;
	struct mp_queue *q;
	struct kevent kev;
	unsigned seed = (unsigned)w->w_id * 7919u + 1;
	int ident, expect, spins = 0;

	while (!atomic_load(&mp->stop)) {
		q = &mp->q[rand_r(&seed) % MP_QUEUES];
		ident = rand_r(&seed) % MP_IDENTS;
		expect = 0;
		if (!atomic_compare_exchange_strong(&q->pending[ident],
		    &expect, 1)) {
			if (++spins % 64 == 0)
				sched_yield();
			continue;
		}
		if (atomic_fetch_add(&mp->fired, 1) >= mp->events) {
			atomic_store(&q->pending[ident], 0);
			break;
		}
		EV_SET(&kev, ident, EVFILT_USER, EV_KEEPUDATA, NOTE_TRIGGER,
		    0, NULL);
		if (kevent(q->kq, &kev, 1, NULL, 0, NULL) != 0)
			atomic_fetch_add(&mp->errors, 1);
	}
	return (NULL);
}

/* Consumers: claim records, check each against what was fired, re-arm. */
static void *
mp_consumer(void *arg)
{
	struct mp_worker *w = arg;
	struct mp *mp = w->w_mp;
	struct mp_queue *q = &mp->q[w->w_id % MP_QUEUES];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct kevent kev;
	uint32_t state;
	int n, ident, expect;

	while (atomic_load(&mp->consumed) < mp->events &&
	    !atomic_load(&mp->stop)) {
		n = evring_take(&q->r, &kev, &state);
		if (n < 0) {
			atomic_fetch_add(&mp->badtakes, 1);
			break;
		}
		if (n == 0) {
			if (kevent_wait(q->kq, state, &ts, NULL) < 0 &&
			    errno != EINTR)
				atomic_fetch_add(&mp->errors, 1);
			continue;
		}
		ident = (int)kev.ident;
		if (kev.filter != EVFILT_USER || ident < 0 ||
		    ident >= MP_IDENTS ||
		    kev.udata != (void *)(uintptr_t)(ident + 1)) {
			atomic_fetch_add(&mp->foreign, 1);
			continue;
		}
		if (mp_rearm(q->kq, ident) != 0)
			atomic_fetch_add(&mp->errors, 1);
		expect = 1;
		if (!atomic_compare_exchange_strong(&q->pending[ident],
		    &expect, 0))
			atomic_fetch_add(&mp->dups, 1);
		atomic_fetch_add(&q->taken, 1);
		atomic_fetch_add(&mp->consumed, 1);
	}
	return (NULL);
}

static void
mp_run(unsigned entries)
{
	pthread_t prod[MP_PRODUCERS], cons[MP_CONSUMERS];
	struct mp_worker pw[MP_PRODUCERS], cw[MP_CONSUMERS];
	struct mp *mp;
	struct mp_queue *q;
	long long deadline;
	int i, j;

	mp = calloc(1, sizeof(*mp));
	ATF_REQUIRE(mp != NULL);
	mp->events = MP_EVENTS;
	for (i = 0; i < MP_QUEUES; i++) {
		q = &mp->q[i];
		ATF_REQUIRE((q->kq = kqueue()) >= 0);
		ATF_REQUIRE_MSG(kevent_ring_attach(q->kq, entries) == 0,
		    "attach %u: %s", entries, strerror(errno));
		ATF_REQUIRE(kevent_ring_map(q->kq, &q->r) == 0);
		/* One queue's consumers busy poll, the other's sleep. */
		if (i == 0)
			ATF_REQUIRE(kqueue_setprop(q->kq,
			    EVRING_PROP_BUSYPOLL, 50) == 0);
		for (j = 0; j < MP_IDENTS; j++)
			ATF_REQUIRE(mp_register(q->kq, j) == 0);
	}
	for (i = 0; i < MP_CONSUMERS; i++) {
		cw[i].w_mp = mp;
		cw[i].w_id = i;
		ATF_REQUIRE(pthread_create(&cons[i], NULL, mp_consumer,
		    &cw[i]) == 0);
	}
	for (i = 0; i < MP_PRODUCERS; i++) {
		pw[i].w_mp = mp;
		pw[i].w_id = i;
		ATF_REQUIRE(pthread_create(&prod[i], NULL, mp_producer,
		    &pw[i]) == 0);
	}
	/* Everything fired must be consumed: a lost record stops us here. */
	deadline = mono_ms() + 240 * 1000;
	while (atomic_load(&mp->consumed) < mp->events &&
	    atomic_load(&mp->badtakes) == 0 && mono_ms() < deadline)
		usleep(10000);
	atomic_store(&mp->stop, 1);
	for (i = 0; i < MP_PRODUCERS; i++)
		pthread_join(prod[i], NULL);
	for (i = 0; i < MP_CONSUMERS; i++)
		pthread_join(cons[i], NULL);

	ATF_CHECK_EQ_MSG(atomic_load(&mp->badtakes), 0,
	    "evring_take() returned -1 on a healthy ring %ld times",
	    atomic_load(&mp->badtakes));
	ATF_CHECK_EQ_MSG(atomic_load(&mp->errors), 0, "%ld calls failed",
	    atomic_load(&mp->errors));
	ATF_CHECK_EQ_MSG(atomic_load(&mp->dups), 0,
	    "%ld records for idents with no trigger pending (duplicates)",
	    atomic_load(&mp->dups));
	ATF_CHECK_EQ_MSG(atomic_load(&mp->foreign), 0,
	    "%ld records that no trigger made", atomic_load(&mp->foreign));
	ATF_CHECK_EQ_MSG(atomic_load(&mp->consumed), mp->events,
	    "ring of %u: %ld of %ld records consumed (lost: the rest)",
	    entries, atomic_load(&mp->consumed), mp->events);
	for (i = 0; i < MP_QUEUES; i++) {
		q = &mp->q[i];
		ATF_CHECK_MSG(atomic_load(&q->taken) > 0,
		    "queue %d delivered nothing", i);
		for (j = 0; j < MP_IDENTS; j++)
			ATF_CHECK_EQ_MSG(atomic_load(&q->pending[j]), 0,
			    "queue %d ident %d: fired, never delivered", i, j);
		ATF_REQUIRE(kevent_ring_unmap(&q->r) == 0);
		ATF_REQUIRE(close(q->kq) == 0);
	}
	free(mp);
}

ATF_TC(mpmc_exact);
ATF_TC_HEAD(mpmc_exact, tc)
{
	atf_tc_set_md_var(tc, "descr", "8 producers trigger EVFILT_USER "
	    "knotes (EV_CLEAR, EV_DISPATCH re-enabled, EV_ONESHOT re-added) "
	    "on two queues while 4 consumers claim records with "
	    "evring_take(), one queue busy polling: 10^6 triggers (fewer "
	    "under sanitizers) through rings of 2, 64 and 65,536 entries, "
	    "each delivered exactly once, nothing lost, and evring_take() "
	    "never -1 on the healthy ring");
	atf_tc_set_md_var(tc, "timeout", "900");
}
ATF_TC_BODY(mpmc_exact, tc)
{
	static const unsigned sizes[] = { 2, 64, 65536 };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		mp_run(sizes[i]);
}

/*
 * Teardown racing the hot path: a producer triggers, a consumer busy polls
 * and takes, and a third thread detaches and re-attaches the ring, maps
 * and unmaps views, forks (the child makes a queue of its own and exits),
 * and at the end closes the queue under them.  Every call must succeed or
 * fail with the errno its page documents; nothing may hang or touch freed
 * memory (ASan), or race (TSan).
 */
struct tear {
	int		kq;
	struct evring	r;
	atomic_int	stop;
	atomic_int	closed;
	atomic_long	bad;		/* an undocumented result */
	atomic_long	records;
	char		what[128];
};

static void
tear_bad(struct tear *t, const char *call, int err)
{

	if (atomic_fetch_add(&t->bad, 1) == 0)
		snprintf(t->what, sizeof(t->what), "%s: %s", call,
		    strerror(err));
}

static void *
tear_producer(void *arg)
{
	struct tear *t = arg;
	struct kevent kev;

	while (!atomic_load(&t->stop)) {
		EV_SET(&kev, 1, EVFILT_USER, EV_KEEPUDATA, NOTE_TRIGGER, 0,
		    NULL);
		if (kevent(t->kq, &kev, 1, NULL, 0, NULL) != 0 &&
		    !(errno == EBADF && atomic_load(&t->closed)))
			tear_bad(t, "kevent trigger", errno);
	}
	return (NULL);
}

static void *
tear_consumer(void *arg)
{
	struct tear *t = arg;
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	const struct kevent *rec;
	struct evring view;
	uint32_t state;

	/* A view of its own, which the teardown thread never unmaps. */
	if (kevent_ring_map(t->kq, &view) != 0) {
		tear_bad(t, "kevent_ring_map", errno);
		return (NULL);
	}
	while (!atomic_load(&t->stop)) {
		while ((rec = evring_peek(&view, &state)) != NULL) {
			if (rec->filter != EVFILT_USER)
				tear_bad(t, "record filter", EINVAL);
			evring_advance(&view, 1);
			atomic_fetch_add(&t->records, 1);
		}
		if (kevent_wait(t->kq, state, &ts, NULL) < 0) {
			/* A detached ring: look at the new one. */
			if (errno == ENXIO || errno == EOVERFLOW) {
				(void)kevent_ring_unmap(&view);
				while (kevent_ring_map(t->kq, &view) != 0) {
					if (errno == EBADF &&
					    atomic_load(&t->closed))
						return (NULL);
					if (errno != ENXIO) {
						tear_bad(t, "remap", errno);
						return (NULL);
					}
					sched_yield();
				}
				continue;
			}
			if (errno == EBADF && atomic_load(&t->closed))
				break;
			if (errno != EINTR)
				tear_bad(t, "kevent_wait", errno);
		}
	}
	(void)kevent_ring_unmap(&view);
	return (NULL);
}

ATF_TC(teardown_races);
ATF_TC_HEAD(teardown_races, tc)
{
	atf_tc_set_md_var(tc, "descr", "Detach and re-attach, map and "
	    "unmap, fork() and finally close, racing a busy-polling consumer "
	    "and a producer posting: every call succeeds or fails with a "
	    "documented errno (ENXIO, EBADF), records keep flowing between "
	    "rounds, and no hang, use after free or race");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(teardown_races, tc)
{
	pthread_t prod, cons;
	struct evring extra;
	struct kevent kev;
	struct tear *t;
	long before;
	pid_t pid;
	int i, status, rounds;

#ifdef T_SANITIZED
	rounds = 60;
#else
	rounds = 400;
#endif
	t = calloc(1, sizeof(*t));
	ATF_REQUIRE(t != NULL);
	ATF_REQUIRE((t->kq = kqueue()) >= 0);
	ATF_REQUIRE(kevent_ring_attach(t->kq, 16) == 0);
	ATF_REQUIRE(kqueue_setprop(t->kq, EVRING_PROP_BUSYPOLL, 100) == 0);
	EV_SET(&kev, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	ATF_REQUIRE(kevent(t->kq, &kev, 1, NULL, 0, NULL) == 0);
	ATF_REQUIRE(pthread_create(&cons, NULL, tear_consumer, t) == 0);
	ATF_REQUIRE(pthread_create(&prod, NULL, tear_producer, t) == 0);
	for (i = 0; i < rounds && atomic_load(&t->bad) == 0; i++) {
		before = atomic_load(&t->records);
		/* Let records flow in this round before tearing again. */
		for (int w = 0; w < 2000 &&
		    atomic_load(&t->records) == before; w++)
			usleep(100);
		switch (i % 4) {
		case 0:
			ATF_REQUIRE(kevent_ring_detach(t->kq) == 0);
			ATF_REQUIRE(kevent_ring_attach(t->kq,
			    (i / 4) % 2 ? 2 : 64) == 0);
			break;
		case 1:
			ATF_REQUIRE(kevent_ring_map(t->kq, &extra) == 0);
			ATF_REQUIRE(kevent_ring_detach(t->kq) == 0);
			ATF_REQUIRE(kevent_ring_unmap(&extra) == 0);
			ATF_REQUIRE(kevent_ring_attach(t->kq, 16) == 0);
			break;
		case 2:
			/*
			 * Not under TSan: a child forked while other threads
			 * allocate can block in its first malloc on a lock of
			 * TSan's own allocator (t_fork.c says more).
			 */
			if (T_TSAN || (i / 4) % 8 != 0)
				break;
			pid = fork();
			ATF_REQUIRE(pid >= 0);
			if (pid == 0) {
				/* The parent's queue is not the child's;
				   then its number is free for a new one. */
				if (kevent_wait(t->kq, 0, NULL, NULL) != -1 ||
				    errno != EBADF)
					_exit(1);
				i = kqueue();
				_exit(i >= 0 && kevent_ring_attach(i, 4) == 0 ?
				    0 : 2);
			}
			ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
			ATF_CHECK_MSG(WIFEXITED(status) &&
			    WEXITSTATUS(status) == 0, "fork child failed");
			break;
		case 3:
			ATF_REQUIRE(kevent_ring_map(t->kq, &extra) == 0);
			ATF_REQUIRE(kevent_ring_unmap(&extra) == 0);
			break;
		}
	}
	ATF_CHECK_MSG(atomic_load(&t->records) > 0, "no record ever came");
	/* Close under the consumer and the producer. */
	atomic_store(&t->closed, 1);
	ATF_REQUIRE(close(t->kq) == 0);
	usleep(20000);
	atomic_store(&t->stop, 1);
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	ATF_CHECK_EQ_MSG(atomic_load(&t->bad), 0, "%ld undocumented "
	    "results, first %s", atomic_load(&t->bad), t->what);
	free(t);
}

/*
 * EVFILT_USER changes that need only kq_lock (kqueue_register_user())
 * racing registrations of the same idents, which take kq_reglock and run
 * f_attach and f_detach without kq_lock.
 */
#define	UR_IDENTS	8

struct ureg {
	int		kq;
	atomic_int	stop;
	atomic_long	bad;
	atomic_long	triggers;
};

static void *
ureg_trigger(void *arg)
{
	struct ureg *u = arg;
	struct kevent kev;
	unsigned seed = 99;
	static const unsigned short how[] = { 0, EV_KEEPUDATA,
	    EV_ENABLE | EV_KEEPUDATA, EV_DISABLE | EV_KEEPUDATA };

	while (!atomic_load(&u->stop)) {
		EV_SET(&kev, rand_r(&seed) % UR_IDENTS, EVFILT_USER,
		    how[rand_r(&seed) % 4], NOTE_TRIGGER, 0, NULL);
		if (kevent(u->kq, &kev, 1, NULL, 0, NULL) == 0)
			atomic_fetch_add(&u->triggers, 1);
		else if (errno != ENOENT)
			atomic_fetch_add(&u->bad, 1);
	}
	return (NULL);
}

static void *
ureg_register(void *arg)
{
	struct ureg *u = arg;
	struct kevent kev;
	unsigned seed = 7;
	static const unsigned short how[] = { EV_ADD | EV_CLEAR,
	    EV_ADD | EV_ONESHOT, EV_ADD | EV_DISPATCH, EV_DELETE };

	while (!atomic_load(&u->stop)) {
		EV_SET(&kev, rand_r(&seed) % UR_IDENTS, EVFILT_USER,
		    how[rand_r(&seed) % 4], 0, 0, NULL);
		if (kevent(u->kq, &kev, 1, NULL, 0, NULL) != 0 &&
		    errno != ENOENT)
			atomic_fetch_add(&u->bad, 1);
	}
	return (NULL);
}

ATF_TC(user_trigger_vs_registration);
ATF_TC_HEAD(user_trigger_vs_registration, tc)
{
	atf_tc_set_md_var(tc, "descr", "Triggers, enables and disables of "
	    "EVFILT_USER knotes (which take only kq_lock) racing EV_ADD with "
	    "each flag and EV_DELETE of the same idents, with a consumer "
	    "collecting: every change returns 0 or ENOENT, nothing crashes "
	    "or races, and afterwards each registered ident fires exactly "
	    "once per trigger");
	atf_tc_set_md_var(tc, "timeout", "120");
}
ATF_TC_BODY(user_trigger_vs_registration, tc)
{
	struct timespec zero = { 0, 0 };
	struct kevent kev, evs[UR_IDENTS * 2];
	pthread_t th[4];
	struct ureg u;
	long long end;
	int i, n, seen[UR_IDENTS];

	memset(&u, 0, sizeof(u));
	ATF_REQUIRE((u.kq = kqueue()) >= 0);
	ATF_REQUIRE(pthread_create(&th[0], NULL, ureg_trigger, &u) == 0);
	ATF_REQUIRE(pthread_create(&th[1], NULL, ureg_trigger, &u) == 0);
	ATF_REQUIRE(pthread_create(&th[2], NULL, ureg_register, &u) == 0);
	ATF_REQUIRE(pthread_create(&th[3], NULL, ureg_register, &u) == 0);
#ifdef T_SANITIZED
	end = mono_ms() + 1500;
#else
	end = mono_ms() + 3000;
#endif
	while (mono_ms() < end)
		if (kevent(u.kq, NULL, 0, evs, UR_IDENTS * 2, &zero) < 0)
			atomic_fetch_add(&u.bad, 1);
	atomic_store(&u.stop, 1);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ATF_CHECK_EQ_MSG(atomic_load(&u.bad), 0, "%ld undocumented results",
	    atomic_load(&u.bad));
	ATF_CHECK_MSG(atomic_load(&u.triggers) > 0, "no trigger found a "
	    "registration");
	/* The queue is consistent: a fresh set fires once per trigger. */
	while (kevent(u.kq, NULL, 0, evs, UR_IDENTS * 2, &zero) > 0)
		;
	for (i = 0; i < UR_IDENTS; i++) {
		EV_SET(&kev, i, EVFILT_USER, EV_DELETE, 0, 0, NULL);
		(void)kevent(u.kq, &kev, 1, NULL, 0, NULL);
		EV_SET(&kev, i, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0,
		    (void *)(uintptr_t)(i + 1));
		ATF_REQUIRE(kevent(u.kq, &kev, 1, NULL, 0, NULL) == 0);
		EV_SET(&kev, i, EVFILT_USER, EV_KEEPUDATA, NOTE_TRIGGER, 0,
		    NULL);
		ATF_REQUIRE(kevent(u.kq, &kev, 1, NULL, 0, NULL) == 0);
	}
	memset(seen, 0, sizeof(seen));
	n = kevent(u.kq, NULL, 0, evs, UR_IDENTS * 2, &zero);
	ATF_REQUIRE_EQ(n, UR_IDENTS);
	for (i = 0; i < n; i++) {
		ATF_REQUIRE(evs[i].ident < UR_IDENTS);
		ATF_CHECK_EQ(evs[i].udata, (void *)(uintptr_t)(evs[i].ident +
		    1));
		seen[evs[i].ident]++;
	}
	for (i = 0; i < UR_IDENTS; i++)
		ATF_CHECK_EQ_MSG(seen[i], 1, "ident %d seen %d times", i,
		    seen[i]);
	ATF_REQUIRE_EQ(kevent(u.kq, NULL, 0, evs, UR_IDENTS * 2, &zero), 0);
	ATF_REQUIRE(close(u.kq) == 0);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, mpmc_exact);
	ATF_TP_ADD_TC(tp, teardown_races);
	ATF_TP_ADD_TC(tp, user_trigger_vs_registration);
	return (0);
}
