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
 * Deferred callbacks live on the deferring thread's record.  They run when
 * their grace period has passed and the thread defers again or polls
 * (ktask_run_pending(), at every kernel entry, looks at a counter before
 * it scans anything, so an entry with nothing deferred pays one load), or
 * when it exits.  Polling never waits, so it is safe anywhere, even inside
 * a section; callbacks only free memory (sys/sys/epoch.h).
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/epoch.h>

struct kthread {
	ck_epoch_record_t	kt_record;
	uint32_t		kt_gen;		/* kern_epoch_gen when made */
};

static ck_epoch_t kern_epoch;
/* Bumped in a fork child: records from before the fork are not used. */
static uint32_t kern_epoch_gen = 1;
/* Deferred by threads that have no record, for the next poller. */
static ck_stack_t kern_epoch_orphans;

CK_STACK_CONTAINER(ck_epoch_entry_t, stack_entry, epoch_orphan_entry)

int
epoch_sysinit(void)
{

	ck_epoch_init(&kern_epoch);
	ck_stack_init(&kern_epoch_orphans);
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
		kt = kmalloc(sizeof(*kt), M_TEMP, HC_M_ZERO);
		if (kt == NULL)
			return (NULL);
		ck_epoch_register(&kern_epoch, &kt->kt_record, NULL);
	}
	kt->kt_gen = kern_epoch_gen;
	if (hc_curthread_set(kt) != 0) {
		/* Back to the pool: the next new thread may have it. */
		ck_epoch_unregister(&kt->kt_record);
		return (NULL);
	}
	return (kt);
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
	struct kthread *kt;

	if ((kt = kthread_self()) != NULL) {
		ck_epoch_call(&kt->kt_record, ctx, fn);
		(void)ck_epoch_poll(&kt->kt_record);
		return;
	}
	/* No record: ck_epoch_call() would need one.  A poller adopts it. */
	ctx->function = fn;
	ck_stack_push_upmc(&kern_epoch_orphans, &ctx->stack_entry);
}

/* Take over what threads without a record deferred. */
static void
epoch_adopt(struct kthread *kt)
{
	ck_stack_entry_t *se, *next;
	ck_epoch_entry_t *e;

	if (__predict_true(CK_STACK_FIRST(&kern_epoch_orphans) == NULL))
		return;
	se = ck_stack_batch_pop_upmc(&kern_epoch_orphans);
	for (; se != NULL; se = next) {
		next = CK_STACK_NEXT(se);
		e = epoch_orphan_entry(se);
		ck_epoch_call(&kt->kt_record, e, e->function);
	}
}

void
epoch_poll(void)
{
	struct kthread *kt;

	kt = hc_curthread();
	if (kt == NULL || kt->kt_gen != kern_epoch_gen)
		return;		/* deferred nothing: epoch_call() made one */
	epoch_adopt(kt);
	if (ck_pr_load_uint(&kt->kt_record.n_pending) != 0)
		(void)ck_epoch_poll(&kt->kt_record);
}

/*
 * Wait out the grace period of everything this thread deferred, and run
 * it, for a caller that must see memory settled (the memory statistics).
 * With no lock held and outside any section: it waits for the sections of
 * other threads to end.
 */
void
epoch_drain(void)
{
	struct kthread *kt;

	if ((kt = kthread_self()) == NULL)
		return;
	KASSERT(ck_pr_load_uint(&kt->kt_record.active) == 0,
	    ("epoch_drain: inside a section"));
	epoch_adopt(kt);
	ck_epoch_barrier(&kt->kt_record);
}

/* The hu_threadexit upcall: run what the thread deferred, then pool it. */
void
epoch_threadexit(void *td)
{
	struct kthread *kt = td;

	if (kt->kt_gen != kern_epoch_gen)
		return;		/* from before a fork: abandoned */
	KASSERT(ck_pr_load_uint(&kt->kt_record.active) == 0,
	    ("epoch_threadexit: inside a section"));
	ck_epoch_barrier(&kt->kt_record);
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
