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
static int ktask_ninflight;	/* queued or running: a task that queues
				   another counts until after it did */
static struct hc_callout *ktask_callout;	/* made by ktask_prepare() */

static void
ktask_callout_fn(void *arg __unused)
{

	ktask_run_pending();
}

int
ktask_sysinit(void)
{

	return (hc_mtx_init(&ktask_lock));
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
}

/* Returns 1 if the task was queued now, 0 if it already was. */
int
ktask_enqueue(struct ktask *t)
{
	int first;

	hc_mtx_lock(ktask_lock);
	if (t->kt_queued) {
		hc_mtx_unlock(ktask_lock);
		return (0);
	}
	t->kt_queued = 1;
	t->kt_next = NULL;
	*ktask_tail = t;
	ktask_tail = &t->kt_next;
	__atomic_add_fetch(&ktask_ninflight, 1, __ATOMIC_RELAXED);
	first = __atomic_fetch_add(&ktask_npending, 1, __ATOMIC_RELEASE) == 0;
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
	__atomic_sub_fetch(&ktask_ninflight, 1, __ATOMIC_RELEASE);
	hc_mtx_unlock(ktask_lock);
	return (1);
}

/*
 * Run the pending tasks, and wait for those another thread is running
 * (the callout thread, another entry): a task may queue the next (a chain
 * of nested queues notifies one level per task), and a zero-timeout
 * kevent() at the top of the chain must see the whole chain done, not
 * find the queue empty while another thread is half way up.  Tasks are
 * short (a knote() call) and take no lock a caller of this holds: callers
 * hold none.
 */
void
ktask_run_pending(void)
{
	struct ktask *t;

	/* Memory this thread deferred whose readers have all gone. */
	epoch_poll();
	for (;;) {
		if (__atomic_load_n(&ktask_npending, __ATOMIC_ACQUIRE) == 0) {
			if (__atomic_load_n(&ktask_ninflight,
			    __ATOMIC_ACQUIRE) == 0)
				break;
			hc_cpu_relax();	/* another thread runs one */
			continue;
		}
		hc_mtx_lock(ktask_lock);
		t = ktask_head;
		if (t == NULL) {
			hc_mtx_unlock(ktask_lock);
			continue;
		}
		ktask_head = t->kt_next;
		if (ktask_head == NULL)
			ktask_tail = &ktask_head;
		t->kt_queued = 0;
		__atomic_sub_fetch(&ktask_npending, 1, __ATOMIC_RELAXED);
		hc_mtx_unlock(ktask_lock);
		/* The task owns a reference that keeps its argument alive. */
		t->kt_fn(t->kt_arg);
		/*
		 * After what it queued: pairs with the acquire load above,
		 * so a thread that finds none in flight sees all it did.
		 */
		__atomic_sub_fetch(&ktask_ninflight, 1, __ATOMIC_RELEASE);
	}
}
