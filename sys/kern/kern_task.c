/*
 * Deferred kernel work, run with no lock held.
 *
 * knote() must never recurse into itself: when an event makes a kqueue
 * non-empty, the knotes watching that kqueue (in other queues, or in the
 * same one) are notified from here rather than from inside the activation.
 * Every kernel entry runs the pending tasks before it looks at its queue, so
 * a zero-timeout kevent() made after a nested queue fired still sees it; a
 * host callout runs them when no thread enters the kernel.  A cycle of
 * queues watching each other terminates because a queue only schedules its
 * watchers when it goes from empty to non-empty.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/epoch.h>

static struct hc_mtx *ktask_lock;
static struct ktask *ktask_head, **ktask_tail = &ktask_head;
static int ktask_npending;
static int ktask_ninflight __exclusive_cache_line;	/* queued or running */
static struct hc_callout *ktask_callout;	/* made by ktask_prepare() */

/*
 * Chains.  A task queued from outside a task starts a chain, numbered in
 * order (ktask_chains); a task queued by a running task joins the chain
 * of the one that queued it (a nested queue notifying the next level).  A
 * kernel entry waits for the chains that were started before it, not for
 * every task in flight: with many threads entering and queueing, a moment
 * with nothing in flight anywhere may never come, and waiting for one
 * starved every thread (t_ring_mp:mpmc_exact stalled in the TSan build,
 * all its threads spinning here).  ktask_oldest, the least chain queued
 * or running, tells a waiter without ktask_lock when its chains are done;
 * ktask_changes moves whenever a task is queued, taken, finished or
 * cancelled, so that a waiter that found nothing to take looks again
 * only when something moved.  All three change under ktask_lock.
 */
#define	KTASK_NONE	(~0ULL)
static unsigned long long ktask_chains;
static unsigned long long ktask_oldest = KTASK_NONE;
static unsigned ktask_changes;

/* A task being run: on its runner's stack, listed while it runs. */
struct ktask_running {
	struct ktask_running	*kr_next;
	unsigned long long	 kr_chain;
};
static struct ktask_running *ktask_running;

/* ktask_oldest again, after a task left the queue and the running. */
static void
ktask_oldest_update(void)
{
	struct ktask_running *kr;
	struct ktask *t;
	unsigned long long oldest = KTASK_NONE;

	for (t = ktask_head; t != NULL; t = t->kt_next)
		if (t->kt_chain < oldest)
			oldest = t->kt_chain;
	for (kr = ktask_running; kr != NULL; kr = kr->kr_next)
		if (kr->kr_chain < oldest)
			oldest = kr->kr_chain;
	__atomic_store_n(&ktask_oldest, oldest, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ktask_changes, 1, __ATOMIC_RELEASE);
}

/* A task of chain is queued, or joins chain.  Under ktask_lock. */
static void
ktask_oldest_lower(unsigned long long chain)
{

	if (chain < ktask_oldest)
		__atomic_store_n(&ktask_oldest, chain, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ktask_changes, 1, __ATOMIC_RELEASE);
}

static void ktask_run(int wait, int max);

/* The callout runs whatever is queued, and waits for nothing. */
static void
ktask_callout_fn(void *arg __unused)
{

	ktask_run(0, INT_MAX);
}

int
ktask_sysinit(void)
{

	/* Again after a start that failed: keep the lock it made. */
	return (ktask_lock != NULL ? 0 : hc_mtx_init(&ktask_lock,
	    "ktask_lock"));
}

/*
 * Make the callout that runs tasks when no thread enters the kernel (and
 * with it the host's callout thread).  Called by what makes tasks
 * possible: a knote watching a queue (kq_task), a ring attached (its
 * task), so that a shortage fails that registration with ENOMEM rather
 * than a task later, and a program that never watches a queue or maps a
 * ring has no callout thread for it.
 */
int
ktask_prepare(void)
{
	struct hc_callout *c;
	int error = 0;

	if (__atomic_load_n(&ktask_callout, __ATOMIC_ACQUIRE) != NULL)
		return (0);
	hc_mtx_lock(ktask_lock);
	if (ktask_callout == NULL &&
	    (error = hc_callout_init(&c, ktask_callout_fn, NULL)) == 0)
		__atomic_store_n(&ktask_callout, c, __ATOMIC_RELEASE);
	hc_mtx_unlock(ktask_lock);
	return (error);
}

void
ktask_forkchild(void)
{

	/* The parent's tasks, locks and callout are not the child's. */
	ktask_head = NULL;
	ktask_tail = &ktask_head;
	ktask_npending = 0;
	ktask_ninflight = 0;
	ktask_running = NULL;
	ktask_oldest = KTASK_NONE;
	ktask_callout = NULL;
	(void)ktask_sysinit();
}

void
ktask_init(struct ktask *t, void (*fn)(void *), void *arg)
{

	t->kt_next = NULL;
	t->kt_fn = fn;
	t->kt_arg = arg;
	t->kt_queued = 0;
	t->kt_chain = 0;
}

/* Returns 1 if the task was queued now, 0 if it already was. */
int
ktask_enqueue(struct ktask *t)
{
	unsigned long long chain = curthread_taskchain();
	int first;

	hc_mtx_lock(ktask_lock);
	if (t->kt_queued) {
		/* Queued already: it is now in the older chain too. */
		if (chain != 0 && chain < t->kt_chain) {
			t->kt_chain = chain;
			ktask_oldest_lower(chain);
		}
		hc_mtx_unlock(ktask_lock);
		return (0);
	}
	t->kt_chain = chain != 0 ? chain :
	    __atomic_add_fetch(&ktask_chains, 1, __ATOMIC_RELAXED);
	t->kt_queued = 1;
	t->kt_next = NULL;
	*ktask_tail = t;
	ktask_tail = &t->kt_next;
	__atomic_add_fetch(&ktask_ninflight, 1, __ATOMIC_RELAXED);
	first = __atomic_fetch_add(&ktask_npending, 1, __ATOMIC_RELAXED) == 0;
	/* Last: a waiter that sees the change sees the task (ktask_run()). */
	ktask_oldest_lower(t->kt_chain);
	hc_mtx_unlock(ktask_lock);
	/* Every queuer prepared it; without, the next entry runs it. */
	KASSERT(ktask_callout != NULL, ("ktask_enqueue: not prepared"));
	if (first && ktask_callout != NULL)
		hc_callout_reset(ktask_callout, 0);
	return (1);
}

/* Returns 1 if the task was queued and is not any more. */
int
ktask_cancel(struct ktask *t)
{
	struct ktask **tp;

	hc_mtx_lock(ktask_lock);
	if (!t->kt_queued) {
		hc_mtx_unlock(ktask_lock);
		return (0);
	}
	for (tp = &ktask_head; *tp != t; tp = &(*tp)->kt_next)
		;
	*tp = t->kt_next;
	if (ktask_tail == &t->kt_next)
		ktask_tail = tp;
	t->kt_queued = 0;
	__atomic_sub_fetch(&ktask_npending, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&ktask_ninflight, 1, __ATOMIC_RELAXED);
	ktask_oldest_update();
	hc_mtx_unlock(ktask_lock);
	return (1);
}

/* Take the first queued task off the queue, listed as running (*kr). */
static struct ktask *
ktask_take(struct ktask_running *kr)
{
	struct ktask *t;

	hc_mtx_lock(ktask_lock);
	if ((t = ktask_head) != NULL) {
		ktask_head = t->kt_next;
		if (ktask_head == NULL)
			ktask_tail = &ktask_head;
		t->kt_queued = 0;
		__atomic_sub_fetch(&ktask_npending, 1, __ATOMIC_RELAXED);
		kr->kr_chain = t->kt_chain;
		kr->kr_next = ktask_running;
		ktask_running = kr;
		__atomic_add_fetch(&ktask_changes, 1, __ATOMIC_RELEASE);
	}
	hc_mtx_unlock(ktask_lock);
	return (t);
}

static void
ktask_done(struct ktask_running *kr)
{
	struct ktask_running **krp;

	hc_mtx_lock(ktask_lock);
	for (krp = &ktask_running; *krp != kr; krp = &(*krp)->kr_next)
		;
	*krp = kr->kr_next;
	__atomic_sub_fetch(&ktask_ninflight, 1, __ATOMIC_RELAXED);
	ktask_oldest_update();
	hc_mtx_unlock(ktask_lock);
}

/* Spins for another thread's task before each yield of the CPU. */
#define	KTASK_SPINS	64

/*
 * Run queued tasks: with wait, until the chains started before the call
 * are done, waiting for the ones other threads run; without, at most
 * max of them (the callout: all there are).
 */
static void
ktask_run(int wait, int max)
{
	struct ktask_running kr;
	struct ktask *t;
	unsigned long long upto, prev;
	unsigned seen;
	int spins;

	/*
	 * Relaxed loads, here and in the spin below: what a task did that a
	 * caller looks at, it did under the lock of that queue, which the
	 * caller takes next; and a spin of acquire loads on one word starved
	 * the thread whose read-modify-write of it would end the spin (the
	 * TSan build orders an acquire load and an RMW of one word with a
	 * lock that favours readers).
	 */
	if (__atomic_load_n(&ktask_ninflight, __ATOMIC_RELAXED) == 0 ||
	    (!wait && max <= 0))
		return;
	upto = wait ? __atomic_load_n(&ktask_chains, __ATOMIC_RELAXED) :
	    KTASK_NONE;
	for (;;) {
		/*
		 * ktask_changes before ktask_oldest: a change made after this
		 * load ends the spin below, and one made before it is seen in
		 * ktask_oldest (the release that counts a change comes after
		 * the store of ktask_oldest).  The other way round, a task
		 * that finished between the two loads left a waiter spinning
		 * for a change that never came (t_nest:chain_zero_timeout hung
		 * in the TSan build).
		 */
		seen = __atomic_load_n(&ktask_changes, __ATOMIC_ACQUIRE);
		if (wait && __atomic_load_n(&ktask_oldest, __ATOMIC_RELAXED) >
		    upto)
			return;		/* every chain before us is done */
		t = NULL;
		/*
		 * Any queued task, of a later chain too: running it here
		 * costs less than the callout thread's wakeup.  The check
		 * above ends the call once its own chains are done.
		 */
		if (__atomic_load_n(&ktask_npending, __ATOMIC_RELAXED) > 0)
			t = ktask_take(&kr);
		if (t == NULL) {
			if (!wait)
				return;
			/* Another thread runs ours: until something moves. */
			for (spins = 1; __atomic_load_n(&ktask_changes,
			    __ATOMIC_RELAXED) == seen; spins++) {
				if (spins % KTASK_SPINS == 0)
					hc_thread_yield();
				else
					hc_cpu_relax();
			}
			continue;
		}
		/* What it queues joins its chain. */
		prev = curthread_taskchain();
		curthread_set_taskchain(kr.kr_chain);
		/* The task owns a reference that keeps its argument alive. */
		t->kt_fn(t->kt_arg);
		curthread_set_taskchain(prev);
		ktask_done(&kr);
		if (!wait && --max == 0)
			return;
	}
}

/*
 * Run the pending tasks, and wait for those another thread is running
 * (the callout thread, another entry), of the chains started before this
 * call: a task may queue the next (a chain of nested queues notifies one
 * level per task), and a zero-timeout kevent() at the top of the chain
 * must see the whole chain done, not find the queue empty while another
 * thread is half way up.  Tasks are short (a knote() call) and take no
 * lock a caller of this holds: callers hold none.
 */
void
ktask_run_pending(void)
{

	/* Memory this thread deferred whose readers have all gone. */
	epoch_poll();
	ktask_run(1, 0);
}

/*
 * For an entry that looks at no queue's state (a kevent() with no room
 * for events: triggers, registrations): run the tasks queued now, wait for
 * none.  A producer's trigger need not wait for a consumer's task.
 */
void
ktask_run_queued(void)
{

	epoch_poll();
	ktask_run(0, __atomic_load_n(&ktask_npending, __ATOMIC_RELAXED));
}
