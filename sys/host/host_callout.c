/*
 * Callouts: one host thread, a binary min-heap of pending callouts ordered
 * by deadline, a mutex and a condition variable on CLOCK_MONOTONIC.
 *
 * Each callout records its heap index, so cancelling or moving one is
 * O(log n) however many are pending.  Functions run in the callout thread
 * with no lock held; hc_callout_stop() waits for a running function unless
 * it is that function calling.
 *
 * Everything a callout may need is taken when it is made: the thread is
 * started and the heap has room for every callout that exists, so that
 * hc_callout_reset(), which kernel code calls where it cannot fail (an
 * upcall, a thread leaving the kernel), never allocates.  A shortage is
 * then ENOMEM from hc_callout_init(), and the registration that wanted
 * the callout fails with it (kevent.2), instead of a panic later.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "host_impl.h"
#include "sys/fail.h"

struct hc_callout {
	void		(*c_fn)(void *);
	void		*c_arg;
	long long	c_deadline;
	long		c_index;	/* heap slot, -1 when not pending */
};

static struct host_lock host_co_lock =
    HOST_LOCK_INITIALIZER("host callout lock");
static pthread_cond_t host_co_cv;	/* the heap's top changed */
static pthread_cond_t host_co_donecv;	/* a function returned */
static int host_co_cvinit;
static struct hc_callout **host_co_heap;
static long host_co_n, host_co_cap;
static long host_co_made;		/* callouts that exist: room kept */
static struct hc_callout *host_co_running;	/* whose fn runs now */
static uintptr_t host_co_thread;		/* host_self() of the thread */
static int host_co_started;
static int host_co_waiters;		/* threads in hc_callout_stop() */

static void
host_co_cvsetup(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&host_co_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&host_co_donecv, NULL);
	host_co_cvinit = 1;
}

static void
host_co_place(long i, struct hc_callout *c)
{

	host_co_heap[i] = c;
	c->c_index = i;
}

static void
host_co_siftup(long i)
{
	struct hc_callout *c = host_co_heap[i];
	long p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (host_co_heap[p]->c_deadline <= c->c_deadline)
			break;
		host_co_place(i, host_co_heap[p]);
		i = p;
	}
	host_co_place(i, c);
}

static void
host_co_siftdown(long i)
{
	struct hc_callout *c = host_co_heap[i];
	long l, m;

	for (;;) {
		l = 2 * i + 1;
		if (l >= host_co_n)
			break;
		m = l;
		if (l + 1 < host_co_n &&
		    host_co_heap[l + 1]->c_deadline < host_co_heap[l]->c_deadline)
			m = l + 1;
		if (c->c_deadline <= host_co_heap[m]->c_deadline)
			break;
		host_co_place(i, host_co_heap[m]);
		i = m;
	}
	host_co_place(i, c);
}

static void
host_co_remove(struct hc_callout *c)
{
	struct hc_callout *last;
	long i = c->c_index;

	c->c_index = -1;
	last = host_co_heap[--host_co_n];
	if (last == c)
		return;
	host_co_place(i, last);
	if (i > 0 && host_co_heap[(i - 1) / 2]->c_deadline > last->c_deadline)
		host_co_siftup(i);
	else
		host_co_siftdown(i);
}

static void *
host_co_main(void *arg)
{
	struct hc_callout *c;
	struct timespec ts;
	void (*fn)(void *);
	void *fnarg;
	long long now;

	(void)arg;
	host_lock_acquire(&host_co_lock);
	host_co_thread = host_self();
	for (;;) {
		if (host_co_n == 0) {
			(void)host_lock_cvwait(&host_co_lock, &host_co_cv,
			    NULL);
			continue;
		}
		c = host_co_heap[0];
		now = hc_clock_monotonic();
		if (c->c_deadline > now) {
			ts.tv_sec = c->c_deadline / 1000000000LL;
			ts.tv_nsec = c->c_deadline % 1000000000LL;
			(void)host_lock_cvwait(&host_co_lock, &host_co_cv, &ts);
			continue;
		}
		host_co_remove(c);
		host_co_running = c;
		fn = c->c_fn;
		fnarg = c->c_arg;
		host_lock_release(&host_co_lock);
		/* c may be freed by fn itself: do not touch it afterwards. */
		fn(fnarg);
		host_lock_acquire(&host_co_lock);
		host_co_running = NULL;
		if (host_co_waiters > 0)
			pthread_cond_broadcast(&host_co_donecv);
	}
	return (NULL);
}

/* Room in the heap for one more callout, and the thread, under the lock. */
static int
host_co_reserve(void)
{
	struct hc_callout **nh;
	pthread_t t;
	long ncap;
	int error;

	if (!host_co_cvinit)
		host_co_cvsetup();
	if (host_co_made == host_co_cap) {
		ncap = host_co_cap == 0 ? 64 : host_co_cap * 2;
		nh = FAIL_POINT_CALL("host:callout_heap", ENOMEM, NULL,
		    realloc(host_co_heap, (size_t)ncap * sizeof(*nh)));
		if (nh == NULL)
			return (ENOMEM);
		host_co_heap = nh;
		host_co_cap = ncap;
	}
	if (!host_co_started) {
		if ((error = FAIL_POINT("host:thread:callout", ENOMEM)) != 0 ||
		    (error = host_thread_create(&t, host_co_main, NULL)) != 0)
			return (error);
		host_co_started = 1;
	}
	host_co_made++;
	return (0);
}

int
hc_callout_init(struct hc_callout **cp, void (*fn)(void *), void *arg)
{
	struct hc_callout *c;
	int error;

	c = FAIL_POINT_CALL("host:callout", ENOMEM, NULL,
	    malloc(sizeof(*c)));
	if (c == NULL)
		return (ENOMEM);
	host_lock_acquire(&host_co_lock);
	error = host_co_reserve();
	host_lock_release(&host_co_lock);
	if (error != 0) {
		free(c);
		return (error);
	}
	c->c_fn = fn;
	c->c_arg = arg;
	c->c_deadline = 0;
	c->c_index = -1;
	*cp = c;
	return (0);
}

void
hc_callout_reset(struct hc_callout *c, long long deadline)
{

	host_lock_acquire(&host_co_lock);
	if (c->c_index >= 0) {
		c->c_deadline = deadline;
		host_co_siftup(c->c_index);
		host_co_siftdown(c->c_index);
	} else {
		/* hc_callout_init() kept room for every callout. */
		c->c_deadline = deadline;
		host_co_place(host_co_n++, c);
		host_co_siftup(c->c_index);
	}
	/* Only a new earliest deadline changes what the thread waits for. */
	if (host_co_heap[0] == c)
		pthread_cond_signal(&host_co_cv);
	host_lock_release(&host_co_lock);
}

int
hc_callout_stop(struct hc_callout *c)
{
	int cancelled = 0;

	host_lock_acquire(&host_co_lock);
	if (c->c_index >= 0) {
		host_co_remove(c);
		cancelled = 1;
	}
	if (host_co_running == c && host_co_thread != host_self()) {
		host_co_waiters++;
		while (host_co_running == c) {
			(void)host_lock_cvwait(&host_co_lock,
			    &host_co_donecv, NULL);
		}
		host_co_waiters--;
		/*
		 * The function may have re-armed its own callout while we
		 * waited (a periodic timer does): cancel that too, or a
		 * callout destroyed after this call would stay in the heap.
		 */
		if (c->c_index >= 0) {
			host_co_remove(c);
			cancelled = 1;
		}
	}
	host_lock_release(&host_co_lock);
	return (cancelled);
}

void
hc_callout_destroy(struct hc_callout *c)
{

	if (c == NULL)
		return;
	(void)hc_callout_stop(c);
	host_lock_acquire(&host_co_lock);
	host_co_made--;
	host_lock_release(&host_co_lock);
	free(c);
}

void
host_callout_forkprepare(void)
{

	host_lock_acquire(&host_co_lock);
}

void
host_callout_forkparent(void)
{

	host_lock_release(&host_co_lock);
}

void
host_callout_forkchild(void)
{
	long i;

	host_lock_forkchild(&host_co_lock);
	/*
	 * The callout thread did not survive the fork, and a function it
	 * was running is not running here.  Every pending callout belongs
	 * to kernel state the child does not keep (the child has no queues,
	 * and hu_forkchild rebuilds the rest), so none may fire: running
	 * one would take a parent's lock that may have been held at the
	 * fork, and stall the child's own timers behind it for good.  The
	 * thread starts again with the child's first hc_callout_reset().
	 * Condition variables cannot be trusted after fork: make new ones.
	 */
	for (i = 0; i < host_co_n; i++)
		host_co_heap[i]->c_index = -1;
	host_co_n = 0;
	host_co_made = 0;	/* the parent's callouts are not the child's */
	host_co_running = NULL;
	host_co_thread = 0;
	host_co_waiters = 0;
	host_co_started = 0;
	if (host_co_cvinit)
		host_co_cvsetup();
}
