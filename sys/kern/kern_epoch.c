/*
 * epoch(9) on ck_epoch: safe memory reclamation for lock-free readers
 * (sys/sys/epoch.h).
 *
 * One global epoch.  Records are per thread, found through the host's
 * per-thread pointer and registered on a thread's first section; at thread
 * exit the record waits out the grace period of what the thread deferred,
 * runs those callbacks, and goes back to ck's pool for the next new thread
 * (ck_epoch_recycle()), so records are bounded by the most threads ever
 * inside the kernel at once, and never freed.
 *
 * Deferred callbacks do not live on the deferring thread's record, where
 * they would wait for that thread to come back (the host's dispatcher
 * dropping the last reference of a closed file may not run again for a
 * long time).  They go on one global list; any thread that polls
 * (ktask_run_pending(), at every kernel entry: one load when there is
 * nothing to do) moves the list onto a shared reclaim record and lets ck
 * run what is past its grace period.  The reclaim record is never active
 * in a section; kern_epoch_reclaim_lock makes its users one at a time,
 * and a poller that finds it taken leaves the work to the holder.  So
 * polling never waits and is safe anywhere, even inside a section;
 * callbacks only free memory (sys/sys/epoch.h).
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/epoch.h>

struct kthread {
	ck_epoch_record_t	kt_record;
	uint32_t		kt_gen;		/* kern_epoch_gen when made */
	void			*kt_kq;		/* curthread_set_kq() */
	long long		 kt_now;	/* kern_now(); 0: not read */
	unsigned long long	 kt_taskchain;	/* curthread_taskchain() */
};

static ck_epoch_t kern_epoch __exclusive_cache_line;
/* Bumped in a fork child: records from before the fork are not used. */
static uint32_t kern_epoch_gen __exclusive_cache_line = 1;
/* Deferred callbacks that the reclaim record has not taken yet. */
static ck_stack_t kern_epoch_deferred;
static ck_epoch_record_t *kern_epoch_reclaim;
static struct hc_mtx *kern_epoch_reclaim_lock;

CK_STACK_CONTAINER(ck_epoch_entry_t, stack_entry, epoch_deferred_entry)

int
epoch_sysinit(void)
{
	int error;

	/* Again after a start that failed: keep what it made. */
	if (kern_epoch_reclaim != NULL)
		return (0);
	ck_epoch_init(&kern_epoch);
	ck_stack_init(&kern_epoch_deferred);
	if (kern_epoch_reclaim_lock == NULL &&
	    (error = hc_mtx_init(&kern_epoch_reclaim_lock,
	    "kern_epoch_reclaim_lock")) != 0)
		return (error);
	kern_epoch_reclaim = FAIL_POINT("kern:epoch_reclaim", ENOMEM) != 0 ?
	    NULL : hc_malloc(sizeof(*kern_epoch_reclaim), HC_M_ZERO);
	if (kern_epoch_reclaim == NULL)
		return (ENOMEM);
	ck_epoch_register(&kern_epoch, kern_epoch_reclaim, NULL);
	return (0);
}

/* The calling thread's record, made on first use; NULL if none can be. */
static struct kthread *
kthread_self(void)
{
	struct kthread *kt;
	ck_epoch_record_t *rec;

	kt = hc_curthread();
	if (__predict_true(kt != NULL && kt->kt_gen == kern_epoch_gen))
		return (kt);
	rec = ck_epoch_recycle(&kern_epoch, NULL);
	if (rec != NULL)
		kt = __containerof(rec, struct kthread, kt_record);
	else {
		/*
		 * Not kmalloc(): a record outlives its thread, in ck's
		 * pool, and belongs to no object the memory statistics
		 * account for (as the host's per-thread sleepers).
		 */
		kt = FAIL_POINT("kern:kthread", ENOMEM) != 0 ? NULL :
		    hc_malloc(sizeof(*kt), HC_M_ZERO);
		if (kt == NULL)
			return (NULL);
		ck_epoch_register(&kern_epoch, &kt->kt_record, NULL);
	}
	kt->kt_gen = kern_epoch_gen;
	kt->kt_kq = NULL;
	kt->kt_now = 0;
	kt->kt_taskchain = 0;
	if (hc_curthread_set(kt) != 0) {
		/* Back to the pool: the next new thread may have it. */
		ck_epoch_unregister(&kt->kt_record);
		return (NULL);
	}
	return (kt);
}

/*
 * The queue the calling thread is in kevent() or kevent_wait() for
 * (kqueue_enter()), or NULL: work it will see to as it leaves needs no
 * task.  A thread without a record is in none.
 */
void *
curthread_kq(void)
{
	struct kthread *kt = hc_curthread();

	return (kt != NULL && kt->kt_gen == kern_epoch_gen ? kt->kt_kq : NULL);
}

void
curthread_set_kq(void *kq)
{
	struct kthread *kt = kthread_self();

	if (kt != NULL) {
		kt->kt_kq = kq;
		kt->kt_now = 0;
	}
}

long long
kern_now(void)
{
	struct kthread *kt = hc_curthread();

	if (kt == NULL || kt->kt_gen != kern_epoch_gen || kt->kt_kq == NULL)
		return (hc_clock_monotonic());
	if (kt->kt_now == 0)
		kt->kt_now = hc_clock_monotonic();
	return (kt->kt_now);
}

unsigned long long
curthread_taskchain(void)
{
	struct kthread *kt = hc_curthread();

	return (kt != NULL && kt->kt_gen == kern_epoch_gen ?
	    kt->kt_taskchain : 0);
}

void
curthread_set_taskchain(unsigned long long chain)
{
	struct kthread *kt = kthread_self();

	if (kt != NULL)
		kt->kt_taskchain = chain;
}

void
kern_now_reset(void)
{
	struct kthread *kt = hc_curthread();

	if (kt != NULL && kt->kt_gen == kern_epoch_gen)
		kt->kt_now = 0;
}

int
epoch_enter(struct epoch_tracker *et)
{

	if ((et->et_td = kthread_self()) == NULL)
		return (ENOMEM);
	ck_epoch_begin(&et->et_td->kt_record, NULL);
	return (0);
}

void
epoch_exit(struct epoch_tracker *et)
{

	ck_epoch_end(&et->et_td->kt_record, NULL);
}

void
epoch_call(epoch_context_t *ctx, epoch_callback_t *fn)
{

	ctx->function = fn;
	ck_stack_push_upmc(&kern_epoch_deferred, &ctx->stack_entry);
	epoch_poll();
}

/*
 * Move the global list onto the reclaim record; its lock held.  Each is
 * filed under the global epoch current now, after it was unlinked (the
 * pop's compare-and-swap orders the look after the push).  The _strict
 * call counts with atomics: epoch_poll() reads the count without the
 * lock.
 */
static void
epoch_adopt(void)
{
	ck_stack_entry_t *se, *next;
	ck_epoch_entry_t *e;

	if (CK_STACK_ISEMPTY(&kern_epoch_deferred))
		return;
	se = ck_stack_batch_pop_upmc(&kern_epoch_deferred);
	for (; se != NULL; se = next) {
		next = CK_STACK_NEXT(se);
		e = epoch_deferred_entry(se);
		ck_epoch_call_strict(kern_epoch_reclaim, e, e->function);
	}
}

void
epoch_poll(void)
{

	if (__predict_true(CK_STACK_ISEMPTY(&kern_epoch_deferred)) &&
	    ck_pr_load_uint(&kern_epoch_reclaim->n_pending) == 0)
		return;
	/* Someone else is at it: what it leaves, a later poll takes. */
	if (!hc_mtx_trylock(kern_epoch_reclaim_lock))
		return;
	epoch_adopt();
	(void)ck_epoch_poll(kern_epoch_reclaim);
	hc_mtx_unlock(kern_epoch_reclaim_lock);
}

/*
 * Wait out the grace period of everything deferred so far, and run it, for
 * a caller that must see memory settled (the memory statistics).  With no
 * lock held and outside any section: it waits for other threads'
 * sections to end (pollers meanwhile find the lock taken and go on).
 */
void
epoch_drain(void)
{

	hc_mtx_lock(kern_epoch_reclaim_lock);
	epoch_adopt();
	ck_epoch_barrier(kern_epoch_reclaim);
	hc_mtx_unlock(kern_epoch_reclaim_lock);
}

/* The hu_threadexit upcall: the thread's record goes back to the pool. */
void
epoch_threadexit(void *td)
{
	struct kthread *kt = td;

	if (kt->kt_gen != kern_epoch_gen)
		return;		/* from before a fork: abandoned */
	KASSERT(ck_pr_load_uint(&kt->kt_record.active) == 0,
	    ("epoch_threadexit: inside a section"));
	ck_epoch_unregister(&kt->kt_record);
}

/*
 * In a fork child: records of threads that do not exist here may say
 * "active" forever, so the child starts a new epoch.  Like the rest of the
 * parent's kernel memory (fd_forkchild()), the old records and what they
 * deferred are abandoned.
 */
void
epoch_forkchild(void)
{

	kern_epoch_gen++;
	(void)epoch_sysinit();
}
