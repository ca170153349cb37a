/*
 * The kqueue core: registration, activation, scan, and the filters whose
 * sources are the kernel itself (user, timer, process).
 *
 * Knotes are per (queue, identifier): a descriptor watched for read and
 * write on one queue is one knote with two slots, one hash entry, one link
 * on the descriptor's knlist and at most one link on the active list.
 *
 * Lock order:
 *	kq_reglock			registration, scan, knote teardown
 *					(an EVFILT_USER trigger, enable or
 *					disable takes kq_lock alone:
 *					kqueue_register_user())
 *	  -> file_watch_lock		host watch changes (kern_descrip.c)
 *	  -> knlist lock		an event source's list of knotes
 *	    -> kq_lock			knote state, the active list, sleepers
 *	      -> ktask_lock, host callout lock (inside hypercalls)
 * Upcalls from the host enter holding only the host poll lock and take a
 * knlist lock, then kq_lock.  Callouts enter holding nothing and take
 * kq_lock.  f_attach/f_detach run with kq_reglock alone, so they may make
 * hypercalls that wait for an upcall or a callout to finish, except a
 * filter's whose source lives under kq_lock (f_locked: timers), which run
 * in the hold of kq_lock that (un)links their slot; f_event runs
 * under kq_lock (and the knlist lock from knote()) and must not sleep.
 * knote() never recurses: a queue that becomes non-empty notifies the
 * knotes watching it through a deferred task (kern_task.c).
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/file.h>
#include <sys/evring.h>
#include <sys/kwheel.h>
#include <sys/epoch.h>

#define	KQ_NEVENTS	64	/* events handled per lock hold */
#define	KQ_HASHSIZE	16	/* initial hash buckets */

/* Flags a registration keeps; action flags are not stored. */
#define	EV_KEPT		(EV_ONESHOT | EV_CLEAR | EV_DISPATCH | EV_RECEIPT)
#define	EV_SETTABLE	(EV_ADD | EV_DELETE | EV_ENABLE | EV_DISABLE | \
			    EV_KEEPUDATA | EV_FORCEONESHOT | EV_KEPT | \
			    EV_FE_SETFLAGS)

struct kq_sleeper {
	struct kq_sleeper	*sl_next;
	struct hc_sleeper	*sl_hs;
	int			sl_woken;
};

struct kq_drop {
	struct knote	*kd_kn;
	int		kd_slot;
};

/* A queue's timers and one of them (EVFILT_TIMER, below). */
struct kqtimers {
	struct kwheel		kt_wheel;
	struct hc_callout	*kt_callout;	/* fires them when no thread
						   is in the kernel */
	long long		kt_armed;	/* its deadline; KW_NEVER when
						   idle.  Atomic reads */
};

struct ktimer {
	struct kwtimer		kt_entry;	/* its deadline: next expiry */
	struct knote		*kt_kn;
	long long		kt_period;	/* ns; 0 when one-shot */
};

static long long kq_nkqueues;
static long long kq_nknotes_total;

static const struct filterops user_filtops;
static const struct filterops timer_filtops;
static const struct filterops proc_filtops;

/* The filter table, indexed by ~filter (EVFILT_READ is -1: index 0). */
static const struct filterops *const sysfilt_ops[EVFILT_SYSCOUNT] = {
	[~EVFILT_READ] = &file_filtops[KN_FD_READ],
	[~EVFILT_WRITE] = &file_filtops[KN_FD_WRITE],
	[~EVFILT_VNODE] = &file_filtops[KN_FD_VNODE],
	[~EVFILT_PROC] = &proc_filtops,
	[~EVFILT_PROCDESC] = &file_filtops[KN_FD_PROCDESC],
	[~EVFILT_EMPTY] = &file_filtops[KN_FD_EMPTY],
	[~EVFILT_SIGNAL] = &sig_filtops,
	[~EVFILT_TIMER] = &timer_filtops,
	[~EVFILT_USER] = &user_filtops,
	[~EVFILT_EXCEPT] = &file_filtops[KN_FD_EXCEPT],
};

const struct filterops *
kqueue_fops(int filter)
{

	if (filter >= 0 || ~filter >= EVFILT_SYSCOUNT)
		return (NULL);
	return (sysfilt_ops[~filter]);
}

static unsigned long
knote_size(int nslots)
{

	return (sizeof(struct knote) +
	    (unsigned long)nslots * sizeof(struct knslot));
}

/*
 * What a knote of the class is allocated with: its slots and, for the
 * classes whose filter keeps state, that state after the one slot
 * (knote_ext()), so that a timer costs one allocation, not two.
 */
static unsigned long
knote_allocsize(int class, int nslots)
{

	return (knote_size(nslots) +
	    (class == KNC_TIMER ? sizeof(struct ktimer) : 0));
}

/*
 * Knotes of the classes other than descriptors come from, and go back to,
 * a small cache on their queue, as UMA's per-CPU buckets do in a BSD
 * kernel: a program that arms a one-shot timer per request, or adds and
 * deletes user events, would otherwise allocate and free a knote for
 * every event.  The cache holds up to KQ_KNCACHE_MIN plus an eighth of
 * the queue's knotes.  Under kq_reglock, which every registration and
 * drop holds.
 */
#define	KQ_KNCACHE_MIN	16

static struct knote *
knote_alloc(struct kqueue *kq, int class)
{
	struct knote *kn;

	KQ_REG_OWNED(kq);
	if (class != KNC_FD &&
	    (kn = SLIST_FIRST(&kq->kq_kncache[class])) != NULL) {
		SLIST_REMOVE_HEAD(&kq->kq_kncache[class], kn_link);
		kq->kq_nkncache--;
		memset(kn, 0, knote_allocsize(class, 1));
		return (kn);
	}
	return (kmalloc(knote_allocsize(class, 1), M_KNOTE, HC_M_ZERO));
}

static void
knote_recycle(struct kqueue *kq, struct knote *kn)
{

	KQ_REG_OWNED(kq);
	if (kn->kn_class != KNC_FD &&
	    kq->kq_nkncache < KQ_KNCACHE_MIN + kq->kq_nknotes / 8) {
		SLIST_INSERT_HEAD(&kq->kq_kncache[kn->kn_class], kn, kn_link);
		kq->kq_nkncache++;
		return;
	}
	kfree(kn, knote_allocsize(kn->kn_class, kn->kn_nslots), M_KNOTE);
}

/* A queue's cache, emptied when it closes and when it is freed. */
static void
knote_cache_drain(struct kqueue *kq)
{
	struct knote *kn;
	int class;

	for (class = 0; class < KNC_MARKER; class++)
		while ((kn = SLIST_FIRST(&kq->kq_kncache[class])) != NULL) {
			SLIST_REMOVE_HEAD(&kq->kq_kncache[class], kn_link);
			kq->kq_nkncache--;
			kfree(kn, knote_allocsize(class, 1), M_KNOTE);
		}
}

static void *
knote_ext(struct knote *kn)
{

	KASSERT(kn->kn_class != KNC_FD, ("knote_ext: a descriptor knote"));
	return ((char *)kn + knote_size(1));
}

long long
kqueue_stat_knotes(void)
{

	return (__atomic_load_n(&kq_nknotes_total, __ATOMIC_RELAXED));
}

long long
kqueue_stat_kqueues(void)
{

	return (__atomic_load_n(&kq_nkqueues, __ATOMIC_RELAXED));
}

void
kern_event_forkchild(void)
{

	kq_nkqueues = 0;
	kq_nknotes_total = 0;
}

/*
 * Event sources.
 */
void
knlist_init(struct knlist *kl, struct hc_mtx *lock)
{

	SLIST_INIT(&kl->kl_list);
	kl->kl_lock = lock;
}

void
knlist_add(struct knlist *kl, struct knote *kn)
{

	hc_mtx_lock(kl->kl_lock);
	SLIST_INSERT_HEAD(&kl->kl_list, kn, kn_selnext);
	hc_mtx_unlock(kl->kl_lock);
}

/*
 * Where kl links to kn, or NULL if kn is not on kl.  A source's list has
 * a knote per queue watching it, so the walk is short; a singly linked
 * list saves a pointer in every knote.
 */
static struct knote **
knlist_find(struct knlist *kl, struct knote *kn)
{
	struct knote *it, **prevp;

	KNL_ASSERT_LOCKED(kl);
	SLIST_FOREACH_PREVPTR(it, prevp, &kl->kl_list, kn_selnext)
		if (it == kn)
			return (prevp);
	return (NULL);
}

/* Safe on a knote that knlist_teardown() already took off the list. */
void
knlist_remove(struct knlist *kl, struct knote *kn)
{
	struct knote **prevp;

	hc_mtx_lock(kl->kl_lock);
	if ((prevp = knlist_find(kl, kn)) != NULL)
		SLIST_REMOVE_PREVPTR(prevp, kn, kn_selnext);
	hc_mtx_unlock(kl->kl_lock);
}

/*
 * Tell every knote on a source's list that the source changed.  Each
 * filter slot judges the hint with f_event() and is activated if it says
 * so; the queue's consumer is woken in the same path.
 */
void
knote(struct knlist *kl, long long hint)
{

	hc_mtx_lock(kl->kl_lock);
	knote_locked(kl, hint);
	hc_mtx_unlock(kl->kl_lock);
}

static void knote_activate(struct knote *kn, int slot);

void
knote_locked(struct knlist *kl, long long hint)
{
	struct knote *kn;
	struct knslot *ks;
	struct kqueue *kq;
	int i;

	KNL_ASSERT_LOCKED(kl);
	SLIST_FOREACH(kn, &kl->kl_list, kn_selnext) {
		kq = kn->kn_kq;
		KQ_LOCK(kq);
		for (i = 0; i < kn->kn_nslots; i++) {
			ks = &kn->kn_slot[i];
			if (ks->ks_filter == 0 || (ks->ks_status & KS_DROPPING))
				continue;
			if (kqueue_fops(ks->ks_filter)->f_event(kn, ks, hint))
				knote_activate(kn, i);
		}
		KQ_UNLOCK(kq);
	}
}

/*
 * The source is going away (a watched queue closed, a device detached):
 * every knote on it is detached and reports EV_EOF once, with vnode_note
 * (NOTE_REVOKE) added for vnode filters.  Afterwards no knote refers to the
 * source, and f_event is never called for these knotes again.
 */
void
knlist_teardown(struct knlist *kl, unsigned vnode_note)
{
	struct knote *kn;
	struct knslot *ks;
	struct kqueue *kq;
	int i;

	hc_mtx_lock(kl->kl_lock);
	while ((kn = SLIST_FIRST(&kl->kl_list)) != NULL) {
		kq = kn->kn_kq;
		KQ_LOCK(kq);
		kn->kn_status |= KN_DETACHED;
		for (i = 0; i < kn->kn_nslots; i++) {
			ks = &kn->kn_slot[i];
			if (ks->ks_filter == 0 || (ks->ks_status & KS_DROPPING))
				continue;
			ks->ks_flags |= EV_EOF | EV_ONESHOT;
			if (ks->ks_filter == EVFILT_VNODE)
				ks->ks_fflags |= vnode_note & ks->ks_sfflags;
			knote_activate(kn, i);
		}
		KQ_UNLOCK(kq);
		SLIST_REMOVE_HEAD(&kl->kl_list, kn_selnext);
	}
	hc_mtx_unlock(kl->kl_lock);
}

/*
 * Activation.
 */
static void kqueue_notify_task(void *arg);

/*
 * Make the queue's host descriptor readable exactly while it has pending
 * events: knotes on the active list or, with a ring, unread records as of
 * the last reap (a ring queue may stay readable until the next kernel entry
 * after the program consumed everything; see kern_evring.c).
 */
void
kqueue_set_hostready(struct kqueue *kq)
{
	int ready;

	KQ_OWNED(kq);
	ready = kq->kq_count > 0 || kq->kq_ringunread > 0;
	/*
	 * Once close() has begun, the host descriptor is about to be
	 * released and its number may name another object: never write it.
	 */
	if (ready == kq->kq_hostready || (kq->kq_state & KQ_CLOSING))
		return;
	kq->kq_hostready = ready;
	hc_kqfd_set(kq->kq_fd, kq->kq_hostready);
}

/*
 * Host drains, numbered.  A front end's wait takes the next number before
 * it drains the host (kern_host_poll()), and the upcall stamps the host
 * bits it delivers with the number current when the host sampled them
 * (kern_drain_stamp(), kern_init.c), so bits stamped with a wait's own
 * number were sampled after that wait began: the program cannot have
 * consumed the descriptor since, so they are as current as epoll's own
 * report, and the wait's re-check can use them instead of asking the host
 * again (sys_file.c filt_hbits()).  A ring's reaps take numbers too
 * (kern_upcall_fresh()).
 */
static uint64_t kern_drain_seq __exclusive_cache_line;

/* A number after every one handed out so far; its low 32 bits never 0. */
uint64_t
kern_drain_next(void)
{
	uint64_t seq;

	seq = __atomic_add_fetch(&kern_drain_seq, 1, __ATOMIC_ACQ_REL);
	if ((uint32_t)seq == 0)	/* 0 stamps nothing; skip it on wrap */
		seq = __atomic_add_fetch(&kern_drain_seq, 1,
		    __ATOMIC_ACQ_REL);
	return (seq);
}

uint32_t
kern_host_poll(void)
{
	uint32_t seq;

	seq = (uint32_t)kern_drain_next();
	hc_host_poll();
	return (seq);
}

/*
 * The number bits are stamped with is the one current when the host
 * sampled them, not when they are delivered: a drain that sampled a
 * descriptor before a wait took its number and delivered it after (the
 * dispatcher's, with the program's drain waiting for the host's lock)
 * must not pass for that wait's own.  Written only within drains, which
 * the host runs one at a time, as is kern_upcall_fp, the descriptor whose
 * readiness the upcall in progress delivers; read by any thread's posts
 * (kern_upcall_fresh()).
 */
static uint64_t kern_drain_sampled;
static struct file *kern_upcall_fp;

void
kern_drain_start(void)
{

	__atomic_store_n(&kern_drain_sampled,
	    __atomic_load_n(&kern_drain_seq, __ATOMIC_ACQUIRE),
	    __ATOMIC_RELAXED);
}

uint64_t
kern_drain_stamp(void)
{

	return (__atomic_load_n(&kern_drain_sampled, __ATOMIC_RELAXED));
}

void
kern_upcall_set(struct file *fp)
{

	__atomic_store_n(&kern_upcall_fp, fp, __ATOMIC_RELAXED);
}

/*
 * Whether fp's bits were sampled by the drain delivering them now, and
 * after every reap of kq's ring that could have found a record of fp
 * consumed (kern_evring.c evring_reap()).
 */
int
kern_upcall_fresh(struct file *fp, struct kqueue *kq)
{

	return (__atomic_load_n(&kern_upcall_fp, __ATOMIC_RELAXED) == fp &&
	    kern_drain_stamp() >= __atomic_load_n(&kq->kq_reapseq,
	    __ATOMIC_RELAXED));
}

/* Knotes watching this queue hear that it became non-empty, later. */
void
kqueue_notify_watchers(struct kqueue *kq)
{

	KQ_OWNED(kq);
	if (__atomic_load_n(&kq->kq_fp->f_nknotes, __ATOMIC_RELAXED) > 0 &&
	    (kq->kq_state & KQ_CLOSING) == 0) {
		fhold(kq->kq_fp);
		if (!ktask_enqueue(kq->kq_task))
			fdrop(kq->kq_fp);
	}
}

void
kqueue_wakeup(struct kqueue *kq)
{
	struct kq_sleeper *sl;

	KQ_OWNED(kq);
	for (sl = kq->kq_sleepers; sl != NULL; sl = sl->sl_next) {
		if (!sl->sl_woken) {
			sl->sl_woken = 1;
			hc_wakeup(sl->sl_hs);
		}
	}
}

/*
 * Sleep on kq until an activation wakes this thread (kqueue_wakeup()), the
 * deadline passes (ETIMEDOUT) or a handler runs (EINTR): for front ends
 * that scan a queue themselves (DP_POLL, epoll_wait()).  Called and
 * returns with kq_lock held and kq_reglock not held.  *hsp caches the
 * thread's sleeper between calls (NULL at first).
 */
int
kqueue_sleep(struct kqueue *kq, struct hc_sleeper **hsp, long long deadline,
    const void *sigmask)
{

	return (kqueue_sleep_woken(kq, hsp, deadline, sigmask, NULL));
}

/*
 * kqueue_sleep(), also telling (*wokenp) whether an activation on kq woke
 * this thread: a return of 0 without it is the host waking every sleeper
 * to drain its readiness, which a wake-one front end (EPOLLEXCLUSIVE)
 * answers by sleeping again.
 */
int
kqueue_sleep_woken(struct kqueue *kq, struct hc_sleeper **hsp,
    long long deadline, const void *sigmask, int *wokenp)
{
	struct kq_sleeper sl, **slp;
	int error;

	KQ_OWNED(kq);
	if (*hsp == NULL && (error = hc_sleeper_get(hsp)) != 0)
		return (error);
	sl.sl_hs = *hsp;
	sl.sl_woken = 0;
	sl.sl_next = kq->kq_sleepers;
	kq->kq_sleepers = &sl;
	KQ_UNLOCK(kq);
	if (deadline > 0 && hc_clock_monotonic() >= deadline)
		error = ETIMEDOUT;
	else
		error = hc_sleep(sl.sl_hs, deadline, sigmask);
	kern_now_reset();
	KQ_LOCK(kq);
	for (slp = &kq->kq_sleepers; *slp != &sl; slp = &(*slp)->sl_next)
		;
	*slp = sl.sl_next;
	/* A wakeup posted as we gave up must not linger. */
	if (sl.sl_woken && error != 0)
		hc_sleep_reset(sl.sl_hs);
	if (wokenp != NULL)
		*wokenp = sl.sl_woken;
	return (error);
}

/*
 * Wake one sleeper not yet woken: for EPOLLEXCLUSIVE knotes (KN_EXCL).  A
 * woken thread that leaves without collecting (EINTR, timeout) while the
 * queue still has events calls this again, so nothing is stranded.
 */
void
kqueue_wakeup_one(struct kqueue *kq)
{
	struct kq_sleeper *sl;

	KQ_OWNED(kq);
	for (sl = kq->kq_sleepers; sl != NULL; sl = sl->sl_next) {
		if (!sl->sl_woken) {
			sl->sl_woken = 1;
			hc_wakeup(sl->sl_hs);
			return;
		}
	}
}

/* The sleepers an activation of kn wakes: one for KN_EXCL, else all. */
static void
knote_wakeup(struct knote *kn)
{

	if (kn->kn_status & KN_EXCL)
		kqueue_wakeup_one(kn->kn_kq);
	else
		kqueue_wakeup(kn->kn_kq);
}

void
knote_enqueue(struct knote *kn)
{
	struct kqueue *kq = kn->kn_kq;

	KQ_OWNED(kq);
	if (kn->kn_status & KN_QUEUED)
		return;
	TAILQ_INSERT_TAIL(&kq->kq_head, kn, kn_tqe);
	kn->kn_status |= KN_QUEUED;
	KQ_COUNT_ADD(kq, 1);
	if (kq->kq_count == 1) {
		kqueue_set_hostready(kq);
		/* Knotes watching this queue hear of it without recursion. */
		kqueue_notify_watchers(kq);
	}
}

static void
knote_dequeue(struct knote *kn)
{
	struct kqueue *kq = kn->kn_kq;

	KQ_OWNED(kq);
	if ((kn->kn_status & KN_QUEUED) == 0)
		return;
	TAILQ_REMOVE(&kq->kq_head, kn, kn_tqe);
	kn->kn_status &= ~KN_QUEUED;
	KQ_COUNT_ADD(kq, -1);
	if (kq->kq_count == 0)
		kqueue_set_hostready(kq);
}

/*
 * Recompute which slots can be delivered and (de)queue the knote.  On a
 * queue with a ring they are posted now; evring_post() first reaps, then
 * skips a slot whose record is still in flight (at most one record per
 * slot in flight: it is posted again when that record is consumed).
 */
static void
knote_requeue(struct knote *kn)
{
	struct kqueue *kq = kn->kn_kq;
	struct knslot *ks;
	unsigned active = 0;
	int i;

	KQ_OWNED(kq);
	for (i = 0; i < kn->kn_nslots; i++) {
		ks = &kn->kn_slot[i];
		if (ks->ks_filter != 0 && (ks->ks_status & (KS_ACTIVE |
		    KS_DISABLED | KS_DROPPING)) == KS_ACTIVE)
			active |= 1u << i;
	}
	if (active == 0) {
		kn->kn_active = 0;
		knote_dequeue(kn);
		return;
	}
	if (kq->kq_ring != NULL) {
		/* In the backlog, kn_active is what is left to post. */
		kn->kn_active = (kn->kn_status & KN_QUEUED) ?
		    (uint8_t)active : 0;
		evring_post(kq, kn, active);
		return;
	}
	kn->kn_active = (uint8_t)active;
	knote_enqueue(kn);
	knote_wakeup(kn);
}

static void
knote_activate(struct knote *kn, int slot)
{
	struct knslot *ks = &kn->kn_slot[slot];

	KQ_OWNED(kn->kn_kq);
	ks->ks_status |= KS_ACTIVE;
	if (ks->ks_status & (KS_DISABLED | KS_DROPPING))
		return;
	/* The continuation: post straight into the ring, or queue. */
	if (kn->kn_kq->kq_ring != NULL) {
		evring_post(kn->kn_kq, kn, 1u << slot);
		return;
	}
	kn->kn_active |= 1u << slot;
	knote_enqueue(kn);
	if (kn->kn_kq->kq_sleepers != NULL)
		knote_wakeup(kn);
}

/*
 * The knote hash: (identifier, class) -> knote.  Every change holds
 * kq_reglock and kq_lock, so a lookup may hold either: registration holds
 * the first, and an EVFILT_USER trigger (kqueue_register_user()) only the
 * second, as FreeBSD's kqueue_register() looks knotes up under KQ_LOCK.
 */
static unsigned long
knote_hash(uintptr_t ident, int class)
{

	return ((unsigned long)((ident * 0x9e3779b97f4a7c15ULL) >> 32) ^
	    (unsigned long)class);
}

/* The head of kn's hash chain. */
static struct knote **
knote_hash_prevptr(struct kqueue *kq, struct knote *kn)
{
	struct knote *it, **prevp;

	SLIST_FOREACH_PREVPTR(it, prevp, &kq->kq_hash[knote_hash(kn->kn_ident,
	    kn->kn_class) & kq->kq_hashmask], kn_link)
		if (it == kn)
			return (prevp);
	hc_panic("knote_hash_prevptr: knote not in its chain");
}

/* Take kn off its hash chain.  Both queue locks held (KQ_HASH_READABLE). */
static void
knote_hash_insert(struct kqueue *kq, struct knote *kn)
{

	KQ_OWNED(kq);
	SLIST_INSERT_HEAD(&kq->kq_hash[knote_hash(kn->kn_ident,
	    kn->kn_class) & kq->kq_hashmask], kn, kn_link);
}

static void
knote_hash_remove(struct kqueue *kq, struct knote *kn)
{
	struct knote **prevp;

	prevp = knote_hash_prevptr(kq, kn);
	SLIST_REMOVE_PREVPTR(prevp, kn, kn_link);
}

struct knote *
knote_lookup(struct kqueue *kq, uintptr_t ident, int class)
{
	struct knote *kn;

	KQ_HASH_READABLE(kq);
	SLIST_FOREACH(kn, &kq->kq_hash[knote_hash(ident, class) &
	    kq->kq_hashmask], kn_link)
		if (kn->kn_ident == ident && kn->kn_class == class)
			return (kn);
	return (NULL);
}

static void
knote_hash_grow(struct kqueue *kq)
{
	SLIST_HEAD(, knote) *nh;
	struct knote *kn;
	unsigned long i, n, omask;

	void *oh;

	KQ_REG_OWNED(kq);
	omask = kq->kq_hashmask;
	n = (omask + 1) * 2;
	nh = kmalloc(sizeof(*nh) * n, M_KQUEUE, HC_M_ZERO);
	if (nh == NULL)
		return;		/* longer chains, still correct */
	KQ_LOCK(kq);
	for (i = 0; i <= omask; i++)
		while ((kn = SLIST_FIRST(&kq->kq_hash[i])) != NULL) {
			SLIST_REMOVE_HEAD(&kq->kq_hash[i], kn_link);
			SLIST_INSERT_HEAD(&nh[knote_hash(kn->kn_ident,
			    kn->kn_class) & (n - 1)], kn, kn_link);
		}
	oh = kq->kq_hash;
	kq->kq_hash = (void *)nh;
	kq->kq_hashmask = n - 1;
	KQ_UNLOCK(kq);
	kfree(oh, sizeof(*nh) * (omask + 1), M_KQUEUE);
}

struct knslot *
knote_slot(struct knote *kn, const struct filterops *fops)
{
	int i;

	if (kn->kn_class == KNC_FD) {
		i = knote_slotidx(kn, fops->f_slot);
		return (i == 0 ? NULL : &kn->kn_slot[i - 1]);
	}
	return (kn->kn_slot[0].ks_filter != 0 ? &kn->kn_slot[0] : NULL);
}

static int
knote_empty(struct knote *kn)
{
	int i;

	for (i = 0; i < kn->kn_nslots; i++)
		if (kn->kn_slot[i].ks_filter != 0)
			return (0);
	return (1);
}

/* Take an empty knote off the hash and the queue.  Under kq_lock. */
static void
knote_unlink(struct kqueue *kq, struct knote *kn)
{

	KQ_OWNED(kq);
	KASSERT(knote_empty(kn), ("knote_unlink: slots in use"));
	knote_hash_remove(kq, kn);
	knote_dequeue(kn);
}

/* Free a knote knote_unlink() took off: off the source, and its memory. */
void
knote_release(struct kqueue *kq, struct knote *kn)
{

	KQ_REG_OWNED(kq);
	kq->kq_nknotes--;
	if (kn->kn_class == KNC_FD) {
		file_knote_detach(kn->kn_fp, kn);
		fdrop(kn->kn_fp);
	}
	__atomic_sub_fetch(&kq_nknotes_total, 1, __ATOMIC_RELAXED);
	knote_recycle(kq, kn);
}

/*
 * Remove one filter's registration, with kq_lock held, and hold it still
 * on return (a filter that is not f_locked drops it around f_detach).
 * Returns 1 if that was the knote's last slot: it is unlinked, and the
 * caller frees it with knote_release() once kq_lock is dropped.
 */
int
knote_drop_slot_hold(struct kqueue *kq, struct knote *kn, int slot)
{
	struct knslot *ks = &kn->kn_slot[slot];
	const struct filterops *fops = kqueue_fops(ks->ks_filter);
	int empty;

	KQ_REG_OWNED(kq);
	KQ_OWNED(kq);
	ks->ks_status |= KS_DROPPING;
	knote_requeue(kn);
	if (fops->f_locked)
		fops->f_detach(kn, ks);
	else {
		kn->kn_status |= KN_INFLUX;
		KQ_UNLOCK(kq);
		fops->f_detach(kn, ks);
		KQ_LOCK(kq);
		kn->kn_status &= ~KN_INFLUX;
	}
	/* The ring must not name a slot that is about to be reused. */
	if (kq->kq_ring != NULL)
		evring_slot_gone(kq, kn, slot);
	if (kn->kn_class == KNC_FD)
		knote_setslotidx(kn, fops->f_slot, 0);
	memset(ks, 0, sizeof(*ks));
	if ((empty = knote_empty(kn)))
		knote_unlink(kq, kn);
	return (empty);
}

/*
 * Remove one filter's registration; frees the knote with its last slot.
 * Called with kq_lock held, returns without it.
 */
void
knote_drop_slot_locked(struct kqueue *kq, struct knote *kn, int slot)
{

	if (knote_drop_slot_hold(kq, kn, slot)) {
		KQ_UNLOCK(kq);
		knote_release(kq, kn);
	} else
		KQ_UNLOCK(kq);
}

void
knote_drop_slot(struct kqueue *kq, struct knote *kn, int slot)
{

	KQ_LOCK(kq);
	knote_drop_slot_locked(kq, kn, slot);
}

/* Remove every registration on a knote, and with the last, the knote. */
static void
knote_drop(struct kqueue *kq, struct knote *kn)
{
	int i, j, used;

	KQ_REG_OWNED(kq);
	for (i = 0; i < kn->kn_nslots; i++) {
		if (kn->kn_slot[i].ks_filter == 0)
			continue;
		for (used = 0, j = 0; j < kn->kn_nslots; j++)
			used += kn->kn_slot[j].ks_filter != 0;
		knote_drop_slot(kq, kn, i);
		if (used == 1)
			return;		/* that was the last: kn is freed */
	}
}

/*
 * Give a descriptor knote one more slot.  The knote moves, so it is
 * relinked on every list it is on, with each list's lock held; nothing
 * else can hold a pointer to it, since kq_reglock is held.
 */
static struct knote *
knote_grow(struct kqueue *kq, struct knote *kn)
{
	struct knote *nkn, **prevp;
	struct hc_mtx *kl_lock = kn->kn_fp->f_knlist.kl_lock;
	int i, n = kn->kn_nslots;

	KQ_REG_OWNED(kq);
	nkn = kmalloc(knote_size(n + 1), M_KNOTE, HC_M_ZERO);
	if (nkn == NULL)
		return (NULL);
	hc_mtx_lock(kl_lock);
	KQ_LOCK(kq);
	/* The copy takes over kn's place, and its successors, in both lists. */
	memcpy(nkn, kn, knote_size(n));
	nkn->kn_nslots = n + 1;
	*knote_hash_prevptr(kq, kn) = nkn;
	if ((prevp = knlist_find(&kn->kn_fp->f_knlist, kn)) != NULL)
		*prevp = nkn;
	if (kn->kn_status & KN_QUEUED) {
		TAILQ_INSERT_BEFORE(kn, nkn, kn_tqe);
		TAILQ_REMOVE(&kq->kq_head, kn, kn_tqe);
	}
	if (kq->kq_ring != NULL)
		evring_knote_moved(kq, kn, nkn);
	if ((i = knote_slotidx(nkn, KN_FD_EMPTY)) != 0)
		filt_emptymoved(&nkn->kn_slot[i - 1], nkn);
	KQ_UNLOCK(kq);
	hc_mtx_unlock(kl_lock);
	kfree(kn, knote_size(n), M_KNOTE);
	return (nkn);
}

/*
 * A new knote for (kev->ident, the filter's class), counted on kq.  A
 * descriptor's is hashed and put on the descriptor's knlist here; another
 * class's is hashed by the caller, in the hold of kq_lock that fills its
 * slot (knote_attach_slot()).
 */
static int
knote_new(struct kqueue *kq, const struct filterops *fops,
    const struct kevent *kev, struct file *fp, struct knote **knp)
{
	struct knote *kn;
	int error;

	kn = knote_alloc(kq, fops->f_class);
	if (kn == NULL)
		return (ENOMEM);
	kn->kn_kq = kq;
	kn->kn_ident = kev->ident;
	kn->kn_class = (uint8_t)fops->f_class;
	kn->kn_nslots = 1;
	if (kq->kq_nknotes >= (int)kq->kq_hashmask * 2)
		knote_hash_grow(kq);
	kq->kq_nknotes++;
	__atomic_add_fetch(&kq_nknotes_total, 1, __ATOMIC_RELAXED);
	if (fops->f_class == KNC_FD) {
		KQ_LOCK(kq);
		knote_hash_insert(kq, kn);
		KQ_UNLOCK(kq);
		fhold(fp);
		kn->kn_fp = fp;
		if ((error = file_knote_attach(fp, kn)) != 0) {
			fdrop(fp);
			KQ_LOCK(kq);
			knote_hash_remove(kq, kn);
			KQ_UNLOCK(kq);
			kq->kq_nknotes--;
			__atomic_sub_fetch(&kq_nknotes_total, 1,
			    __ATOMIC_RELAXED);
			kfree(kn, knote_size(1), M_KNOTE);
			return (error);
		}
	}
	*knp = kn;
	return (0);
}

/*
 * Add a filter's registration to the knote for (ident, class), creating
 * the knote if needed, and have the host watch what the filter needs
 * (file_watch(); *hostreportp as it says).  Returns 0 with kq_lock held,
 * for the caller to apply the change in the same hold; on failure, without
 * it, and nothing of the registration remains.
 */
static int
knote_attach_slot(struct kqueue *kq, struct knote **knp,
    const struct filterops *fops, const struct kevent *kev, struct file *fp,
    int *hostreportp)
{
	struct knote *kn = *knp, *nkn;
	struct knslot *ks;
	int error, i, unhashed = 0, empty;

	KQ_REG_OWNED(kq);
	if (fops->f_prepare != NULL && (error = fops->f_prepare(kq)) != 0)
		return (error);
	if (kn == NULL) {
		if ((error = knote_new(kq, fops, kev, fp, &kn)) != 0)
			return (error);
		/* Others are hashed with their slot, in one hold below. */
		unhashed = fops->f_class != KNC_FD;
	}
	for (i = 0; i < kn->kn_nslots; i++)
		if (kn->kn_slot[i].ks_filter == 0)
			break;
	if (i == kn->kn_nslots) {
		if ((nkn = knote_grow(kq, kn)) == NULL)
			return (ENOMEM);
		kn = nkn;
	}
	*knp = kn;
	ks = &kn->kn_slot[i];
	KQ_LOCK(kq);
	if (unhashed)
		knote_hash_insert(kq, kn);
	ks->ks_filter = kev->filter;
	ks->ks_flags = (uint16_t)((kev->flags & EV_KEPT) | fops->f_flags);
	ks->ks_sfflags = kev->fflags;
	ks->ks_sdata = kev->data;
	ks->ks_udata = kev->udata;
	ks->ks_status = 0;
	if (fops->f_class == KNC_FD)
		knote_setslotidx(kn, fops->f_slot, i + 1);
	*hostreportp = 0;
	if (fops->f_locked)
		error = fops->f_attach(kn, ks);
	else {
		/* Not a trigger's to change until f_attach is done with it. */
		kn->kn_status |= KN_INFLUX;
		KQ_UNLOCK(kq);
		error = fops->f_attach(kn, ks);
		if (error == 0 && fops->f_class == KNC_FD &&
		    (error = file_watch(fp, (unsigned)fops->f_hostevents,
		    hostreportp)) != 0)
			fops->f_detach(kn, ks);
		KQ_LOCK(kq);
		kn->kn_status &= ~KN_INFLUX;
	}
	if (error != 0) {
		if (fops->f_class == KNC_FD)
			knote_setslotidx(kn, fops->f_slot, 0);
		memset(ks, 0, sizeof(*ks));
		if ((empty = knote_empty(kn)))
			knote_unlink(kq, kn);
		KQ_UNLOCK(kq);
		if (empty)
			knote_release(kq, kn);
		*knp = NULL;
		return (error);
	}
	return (0);
}

/*
 * A change to an existing registration, under kq_lock.  As on FreeBSD, any
 * change but a delete replaces udata (unless EV_KEEPUDATA) and reaches
 * f_touch, which is how EVFILT_USER is triggered with flags 0 or
 * EV_ENABLE; filter parameters change only on EV_ADD or a change that is
 * not a bare enable/disable (modify), so re-enabling keeps NOTE_LOWAT.
 * A second EV_ADD leaves EV_ONESHOT, EV_CLEAR, EV_DISPATCH and EV_RECEIPT
 * as they were, as FreeBSD's does, unless a front end asks to replace
 * them (EV_FE_SETFLAGS: epoll_ctl(EPOLL_CTL_MOD) changes EPOLLET and
 * EPOLLONESHOT).  f_modify, if the filter has one, ran before, without
 * kq_lock.
 */
static void
knote_modify(struct knote *kn, struct knslot *ks,
    const struct filterops *fops, const struct kevent *kev, int modify)
{

	KQ_OWNED(kn->kn_kq);
	if ((kev->flags & (EV_ADD | EV_FE_SETFLAGS)) ==
	    (EV_ADD | EV_FE_SETFLAGS))
		ks->ks_flags = (uint16_t)((ks->ks_flags & ~EV_KEPT) |
		    (kev->flags & EV_KEPT) | fops->f_flags);
	if ((kev->flags & EV_KEEPUDATA) == 0)
		ks->ks_udata = kev->udata;
	if (fops->f_touch != NULL)
		fops->f_touch(kn, ks, (struct kevent *)(uintptr_t)kev,
		    EVENT_REGISTER);
	else if (modify && fops->f_modify == NULL) {
		ks->ks_sfflags = kev->fflags;
		ks->ks_sdata = kev->data;
	}
}

/*
 * A change to an existing registration (knote_modify()), entered with
 * kq_lock held or not (locked); returns 0 with it held, or f_modify's
 * error without it.
 */
static int
knote_change(struct knote *kn, struct knslot *ks,
    const struct filterops *fops, const struct kevent *kev, int locked)
{
	struct kqueue *kq = kn->kn_kq;
	int error, modify;

	modify = (kev->flags & EV_ADD) != 0 ||
	    (kev->flags & (EV_ENABLE | EV_DISABLE)) == 0;
	if (modify && fops->f_modify != NULL) {
		if (locked) {
			KQ_UNLOCK(kq);
			locked = 0;
		}
		if ((error = fops->f_modify(kn, ks, kev)) != 0)
			return (error);
	}
	if (!locked)
		KQ_LOCK(kq);
	knote_modify(kn, ks, fops, kev, modify);
	return (0);
}

/*
 * Enable, disable, and report at once a registration whose condition
 * already holds: adding, modifying or re-enabling a knote on a ready
 * source must not wait for the source's next change.  EV_FORCEONESHOT
 * makes the registration EV_ONESHOT and activates it whatever its
 * condition, as FreeBSD's kqueue_register() does (an EV_ONESHOT slot is
 * delivered without a re-check, knote_deliver()).  Without probe the
 * condition is not looked at: the host reports it (kqueue_register()).
 * Under kq_lock.
 */
static void
knote_apply(struct knote *kn, struct knslot *ks,
    const struct filterops *fops, const struct kevent *kev, int probe)
{

	KQ_OWNED(kn->kn_kq);
	if (kev->flags & EV_DISABLE)
		ks->ks_status |= KS_DISABLED;
	if (kev->flags & EV_ENABLE)
		ks->ks_status &= ~KS_DISABLED;
	if (probe && (ks->ks_status & KS_DISABLED) == 0 &&
	    (kn->kn_status & KN_DETACHED) == 0 &&
	    fops->f_event(kn, ks, 0))
		ks->ks_status |= KS_ACTIVE;
	if (kev->flags & EV_FORCEONESHOT) {
		ks->ks_flags |= EV_ONESHOT;
		ks->ks_status |= KS_ACTIVE;
	}
	knote_requeue(kn);
}

/*
 * A change to an EVFILT_USER registration that exists and is not being
 * added, deleted or modified otherwise: a trigger, an enable or a
 * disable, which a ring's producer makes for every event.  It needs
 * kq_lock alone: the knote hash is readable under it, and a knote whose
 * slot another thread is attaching or detaching without kq_lock is
 * KN_INFLUX.  Returns EAGAIN when the change must take the registration
 * path instead (anything else, or a knote that is not there, going, or in
 * flux), which then does exactly what it did before.
 */
static int
kqueue_register_user(struct kqueue *kq, const struct kevent *kev)
{
	const struct filterops *fops = &user_filtops;
	struct knote *kn;
	struct knslot *ks;

	if ((kev->flags & ~(EV_KEEPUDATA | EV_ENABLE | EV_DISABLE)) != 0 ||
	    (kev->flags & (EV_ENABLE | EV_DISABLE)) ==
	    (EV_ENABLE | EV_DISABLE))
		return (EAGAIN);
	KQ_LOCK(kq);
	kn = (kq->kq_state & KQ_CLOSING) ? NULL :
	    knote_lookup(kq, kev->ident, KNC_USER);
	if (kn == NULL || (kn->kn_status & KN_INFLUX) ||
	    (ks = knote_slot(kn, fops)) == NULL ||
	    (ks->ks_status & KS_DROPPING)) {
		KQ_UNLOCK(kq);
		return (EAGAIN);
	}
	knote_modify(kn, ks, fops, kev,
	    (kev->flags & (EV_ENABLE | EV_DISABLE)) == 0);
	knote_apply(kn, ks, fops, kev, 1);
	KQ_UNLOCK(kq);
	return (0);
}

/*
 * The file a descriptor change names, held in *fpp: EV_ADD finds or makes
 * it, other changes only find it (*fpp NULL for a number the kernel does
 * not know).  A registration whose source went away (a watched queue
 * closed) outlives the number while it waits, disabled, to report EV_EOF,
 * so an EV_DELETE of a number no longer open also sets *vanishedp: it
 * fails EBADF unless it finds such a registration to remove.  A queue
 * does not watch itself (FreeBSD refuses it too): its readiness is its
 * own active list, under the lock a knote on it would take.
 */
static int
kqueue_register_fd(struct kqueue *kq, const struct kevent *kev,
    struct file **fpp, int *vanishedp, int *nestedp)
{
	struct file *fp = NULL;
	int error;

	if (kev->ident > (uintptr_t)INT_MAX)
		return (EBADF);
	if (kev->flags & EV_ADD)
		error = fd_lookup_host((int)kev->ident, &fp);
	else
		error = fd_lookup((int)kev->ident, &fp);
	if (error == EBADF && (kev->flags & EV_DELETE))
		*vanishedp = 1;		/* EBADF unless one is removed */
	if (error != 0)
		return (error);
	if (fp != NULL && fp->f_type == DTYPE_KQUEUE && fp->f_kq == kq) {
		fdrop(fp);
		return (EINVAL);
	}
	/*
	 * A kqueue watching a queue: no cycle through an epoll instance.
	 * The nesting lock stays held until the registration is made
	 * (ep_nest_done()); epoll_ctl() checks its own additions, holding
	 * it already.
	 */
	if (fp != NULL && fp->f_type == DTYPE_KQUEUE &&
	    (kev->flags & EV_ADD) && kq->kq_pers == NULL) {
		if ((error = ep_kevent_nest(kq, fp->f_kq)) != 0) {
			fdrop(fp);
			return (error);
		}
		*nestedp = 1;
	}
	*fpp = fp;
	return (0);
}

/*
 * Apply one change.  Descriptor lookups happen before kq_reglock is taken,
 * because finding a stale descriptor closes it, which takes the
 * registration locks of the queues watching it.
 *
 * A registration of a host descriptor is active at once if its condition
 * holds, as on FreeBSD.  With drainp, a caller that will drain the host
 * (kern_host_poll()) before anyone can look at the queue lets the host's
 * report of a new or widened registration (file_watch()) say so: the
 * registration then costs no host call to ask, and *drainp is set.  A
 * kevent() call with many changes drains once for them all.
 */
int
kqueue_register(struct kqueue *kq, const struct kevent *kev, int *drainp)
{
	const struct filterops *fops;
	struct file *fp = NULL;
	struct knote *kn;
	struct knslot *ks;
	int error = 0, vanished = 0, dropping = 0, locked = 0;
	int hostreport = 0, nested = 0;

	if (kev->filter == EVFILT_USER &&
	    kqueue_register_user(kq, kev) == 0)
		return (0);
	fops = kqueue_fops(kev->filter);
	if (fops == NULL)
		return (EINVAL);
	if ((kev->flags & ~EV_SETTABLE) != 0 ||
	    (kev->flags & (EV_ENABLE | EV_DISABLE)) ==
	    (EV_ENABLE | EV_DISABLE))
		return (EINVAL);
	if (fops->f_class == KNC_FD && (error = kqueue_register_fd(kq, kev,
	    &fp, &vanished, &nested)) != 0 && !vanished)
		return (error);

	KQ_REG_LOCK(kq);
	if (kq->kq_state & KQ_CLOSING) {
		error = EBADF;
		goto done;
	}
	kn = knote_lookup(kq, kev->ident, fops->f_class);
	if (vanished) {
		ks = kn != NULL && (kn->kn_status & KN_DETACHED) ?
		    knote_slot(kn, fops) : NULL;
		if (ks != NULL) {
			knote_drop_slot(kq, kn, (int)(ks - kn->kn_slot));
			error = 0;
		}
		goto done;
	}
	if (kn != NULL && fops->f_class == KNC_FD && kn->kn_fp != fp) {
		/* Left over from an object this number used to name. */
		knote_drop(kq, kn);
		kn = NULL;
	}
	ks = kn != NULL ? knote_slot(kn, fops) : NULL;
	/*
	 * The ring's activation path sets KS_DROPPING under kq_lock alone.
	 * A change that needs no f_modify keeps kq_lock from this look to
	 * the requeue: one round trip, where a ring's consumer and the
	 * host's upcalls contend for it.
	 */
	if (ks != NULL) {
		KQ_LOCK(kq);
		locked = 1;
		dropping = (ks->ks_status & KS_DROPPING) != 0;
	}
	if (ks != NULL && dropping) {
		KQ_UNLOCK(kq);
		locked = 0;
		/*
		 * An EV_ONESHOT event posted into a ring, whose detach was
		 * deferred (kern_evring.c): finish it, so that this change
		 * sees the registration gone, as it would after kevent().
		 */
		knote_drop_slot(kq, kn, (int)(ks - kn->kn_slot));
		kn = knote_lookup(kq, kev->ident, fops->f_class);
		ks = kn != NULL ? knote_slot(kn, fops) : NULL;
	}

	if (ks == NULL) {
		if ((kev->flags & EV_ADD) == 0) {
			error = ENOENT;
			goto done;
		}
		if ((error = knote_attach_slot(kq, &kn, fops, kev, fp,
		    &hostreport)) != 0)
			goto done;
		locked = 1;
		if (drainp == NULL)
			hostreport = 0;
		ks = knote_slot(kn, fops);
	} else if (kev->flags & EV_DELETE) {
		if (locked)
			KQ_UNLOCK(kq);
		knote_drop_slot(kq, kn, (int)(ks - kn->kn_slot));
		goto done;
	} else if ((error = knote_change(kn, ks, fops, kev, locked)) != 0)
		goto done;
	else
		locked = 1;
	if (!locked)
		KQ_LOCK(kq);
	knote_apply(kn, ks, fops, kev, !hostreport);
	KQ_UNLOCK(kq);
	if (hostreport)
		*drainp = 1;
done:
	KQ_REG_UNLOCK(kq);
	if (nested)
		ep_nest_done();
	if (fp != NULL)
		fdrop(fp);
	return (error);
}

/*
 * Deliver slot i of kn into *kev: the one place that builds a record and
 * applies EV_ONESHOT, EV_CLEAR and EV_DISPATCH, shared by kevent() scans
 * and ring posts so that the flags mean the same through both.  The
 * condition is judged now (f_event with hint 0): readiness is judged at
 * delivery, not trusted from activation; even a host readiness hint is
 * stale by the time it is posted, since the program may have read the
 * descriptor after the host sampled it.
 * Returns 0 when there is nothing to deliver (the slot is deactivated),
 * else KD_EVENT with KD_DROP (EV_ONESHOT: the slot is now KS_DROPPING and
 * the caller must have it dropped under kq_reglock) or KD_AGAIN (still
 * active: level-triggered, to be delivered again after this one).
 */
int
knote_deliver(struct knote *kn, int i, struct kevent *kev)
{
	struct knslot *ks = &kn->kn_slot[i];
	const struct filterops *fops;

	KQ_OWNED(kn->kn_kq);
	if (ks->ks_filter == 0 ||
	    (ks->ks_status & (KS_DISABLED | KS_DROPPING)))
		return (0);
	fops = kqueue_fops(ks->ks_filter);
	if ((kn->kn_status & KN_DETACHED) == 0 &&
	    !fops->f_event(kn, ks, 0) && (ks->ks_flags & EV_ONESHOT) == 0) {
		ks->ks_status &= ~KS_ACTIVE;
		return (0);
	}
	kev->ident = kn->kn_ident;
	kev->filter = ks->ks_filter;
	kev->flags = ks->ks_flags;
	kev->fflags = ks->ks_fflags;
	kev->data = (intptr_t)ks->ks_data;
	kev->udata = ks->ks_udata;
	if (fops->f_touch != NULL)
		fops->f_touch(kn, ks, kev, EVENT_PROCESS);
	if (ks->ks_flags & EV_ONESHOT) {
		ks->ks_status |= KS_DROPPING;
		ks->ks_status &= ~KS_ACTIVE;
		return (KD_EVENT | KD_DROP);
	}
	if (ks->ks_flags & EV_CLEAR) {
		ks->ks_data = 0;
		ks->ks_fflags = 0;
		ks->ks_status &= ~KS_ACTIVE;
	}
	if (ks->ks_flags & EV_DISPATCH)
		ks->ks_status |= KS_DISABLED;
	if ((ks->ks_status & (KS_ACTIVE | KS_DISABLED)) == KS_ACTIVE)
		return (KD_EVENT | KD_AGAIN);
	return (KD_EVENT);
}


/*
 * The end of a collect.  A collect takes each knote off the active list
 * while it delivers it, so a queue watching this one (poll() or another
 * queue on its descriptor) may have looked and found it empty meanwhile;
 * a knote put back (level-triggered) makes it non-empty again without
 * the 0 -> 1 step that tells watchers.  So they are told here, as Linux's
 * epoll wakes its pollers after a scan that leaves its ready list
 * non-empty.
 */
static void
kqueue_collect_requeued(struct kqueue *kq, int emptied)
{

	KQ_OWNED(kq);
	if (emptied && kq->kq_count > 0)
		kqueue_notify_watchers(kq);
	kqueue_set_hostready(kq);
}

/*
 * Collect up to want events from the active list into kbuf, each through
 * knote_deliver() with a re-check, so two scans of one level-triggered
 * knote both see it while it holds, and neither sees it after it stops.  A
 * marker ends the pass so that requeued level-triggered knotes are not
 * reported twice in one call: it is the caller's, and stays on the queue
 * between the batches of one kevent() call (while no lock is held, so
 * other calls step over it) until the pass reaches it or the call ends.
 * EV_ONESHOT slots are marked and returned in drops, to be detached after
 * kq_lock is dropped.
 */
static void
kqueue_marker_remove(struct kqueue *kq, struct knote *marker)
{

	KQ_OWNED(kq);
	if (marker->kn_status & KN_QUEUED) {
		TAILQ_REMOVE(&kq->kq_head, marker, kn_tqe);
		marker->kn_status &= ~KN_QUEUED;
	}
}

/*
 * Before a collection re-checks the knotes at the head of the active list
 * one by one, have the host report their descriptors' readiness in one
 * call (hc_fd_resample()), under a new drain number for the queue: each
 * re-check then finds bits its own wait's drain stamped (sys_file.c
 * filt_hbits()) and asks the host for nothing but the numbers it reports.
 * A level-triggered knote is re-checked by the call after its delivery,
 * ready or not, so a busy queue saves a host call per event.  The walk
 * stops at the caller's marker.  Drops and retakes kq_lock; the caller
 * holds kq_reglock, so no knote leaves meanwhile.
 */
static void
kqueue_resample(struct kqueue *kq, struct knote *marker, int want)
{
	unsigned long long cookies[HC_RESAMPLE_MAX];
	struct knote *kn;
	struct file *fp;
	uint32_t seq;
	int n = 0, seen = 0, stale = 0;

	KQ_REG_OWNED(kq);
	KQ_OWNED(kq);
	if (kq->kq_count < 2)
		return;
	if (want > HC_RESAMPLE_MAX)
		want = HC_RESAMPLE_MAX;
	seq = __atomic_load_n(&kq->kq_drainseq, __ATOMIC_RELAXED);
	/* The knotes the collect will look at: no more (timers, users). */
	TAILQ_FOREACH(kn, &kq->kq_head, kn_tqe) {
		if (kn == marker || seen++ == want)
			break;
		if (kn->kn_class != KNC_FD)
			continue;
		/* Regular files and queues are not the host's to poll. */
		fp = kn->kn_fp;
		if (fp->f_type != DTYPE_HOST || fp->f_hosttype == HC_FT_REG ||
		    fp->f_hosttype == HC_FT_DIR)
			continue;
		/*
		 * All of them are asked about, the fresh ones too: they
		 * would be stale under the new drain number.
		 */
		cookies[n++] = FILE_COOKIE(fp);
		if (seq == 0 ||
		    __atomic_load_n(&fp->f_hseq, __ATOMIC_RELAXED) != seq)
			stale++;
	}
	/* One re-check costs what this would; none costs nothing. */
	if (stale < 2)
		return;
	__atomic_store_n(&kq->kq_drainseq, (uint32_t)kern_drain_next(),
	    __ATOMIC_RELAXED);
	KQ_UNLOCK(kq);
	hc_fd_resample(cookies, n);
	KQ_LOCK(kq);
}

static int
kqueue_collect(struct kqueue *kq, struct knote *marker, struct kevent *kbuf,
    int want, struct kq_drop *drops, int *ndropp)
{
	struct knote *kn;
	unsigned pending, requeue, bit;
	int emptied = 0, n = 0, nd = 0, i, r;

	KQ_REG_OWNED(kq);
	KQ_OWNED(kq);
	if (kq->kq_count == 0) {
		*ndropp = 0;
		return (0);
	}
	/* The first batch of a call sets the end of the whole call's pass. */
	if ((marker->kn_status & KN_QUEUED) == 0) {
		TAILQ_INSERT_TAIL(&kq->kq_head, marker, kn_tqe);
		marker->kn_status |= KN_QUEUED;
	}
	kqueue_resample(kq, marker, want);
	while (n < want) {
		/* Other calls' markers stay where they are. */
		kn = TAILQ_FIRST(&kq->kq_head);
		while (kn->kn_class == KNC_MARKER && kn != marker)
			kn = TAILQ_NEXT(kn, kn_tqe);
		if (kn == marker) {
			kqueue_marker_remove(kq, marker);
			break;
		}
		TAILQ_REMOVE(&kq->kq_head, kn, kn_tqe);
		kn->kn_status &= ~KN_QUEUED;
		KQ_COUNT_ADD(kq, -1);
		emptied |= kq->kq_count == 0;
		pending = kn->kn_active;
		kn->kn_active = 0;
		requeue = 0;
		while (pending != 0) {
			if (n == want)
				break;
			i = __builtin_ctz(pending);
			bit = 1u << i;
			pending &= ~bit;
			r = knote_deliver(kn, i, &kbuf[n]);
			if (r == 0)
				continue;
			n++;
			if (r & KD_DROP) {
				drops[nd].kd_kn = kn;
				drops[nd].kd_slot = i;
				nd++;
			} else if (r & KD_AGAIN)
				requeue |= bit;
		}
		if (pending != 0) {
			/* Out of room: what is left goes first next time. */
			kn->kn_active = pending | requeue;
			TAILQ_INSERT_HEAD(&kq->kq_head, kn, kn_tqe);
		} else if (requeue != 0) {
			kn->kn_active = requeue;
			TAILQ_INSERT_TAIL(&kq->kq_head, kn, kn_tqe);
		} else
			continue;
		kn->kn_status |= KN_QUEUED;
		KQ_COUNT_ADD(kq, 1);
	}
	kqueue_collect_requeued(kq, emptied);
	*ndropp = nd;
	return (n);
}

/*
 * Collect up to want whole descriptor knotes from the active list into
 * recs, for front ends that report one record per descriptor (epoll_wait(),
 * poll(), select()): each active slot goes through knote_deliver() with a
 * re-check, exactly as kqueue_collect() does, and the delivered slots of
 * one knote are summarised in one record.  A knote marked KN_DISPATCHALL
 * (EPOLLONESHOT) has every slot disabled once any is delivered.  The
 * records point at knotes and files that stay valid while the caller holds
 * kq_reglock; slots in kr_drops (EV_ONESHOT) must then be dropped with
 * knote_drop_slots().  The marker ends a pass as in kqueue_collect(); the
 * caller removes it with kqueue_marker_done() when its call ends.
 */
int
kqueue_collect_knotes(struct kqueue *kq, struct knote *marker,
    struct kq_knrec *recs, int want)
{
	struct kevent kev;
	struct knote *kn;
	struct knslot *ks;
	struct kq_knrec *kr;
	unsigned pending, requeue, bit;
	int emptied = 0, n = 0, i, r;

	KQ_REG_OWNED(kq);
	KQ_OWNED(kq);
	if (kq->kq_count == 0)
		return (0);
	if ((marker->kn_status & KN_QUEUED) == 0) {
		TAILQ_INSERT_TAIL(&kq->kq_head, marker, kn_tqe);
		marker->kn_status |= KN_QUEUED;
	}
	kqueue_resample(kq, marker, want);
	while (n < want) {
		kn = TAILQ_FIRST(&kq->kq_head);
		while (kn->kn_class == KNC_MARKER && kn != marker)
			kn = TAILQ_NEXT(kn, kn_tqe);
		if (kn == marker) {
			kqueue_marker_remove(kq, marker);
			break;
		}
		TAILQ_REMOVE(&kq->kq_head, kn, kn_tqe);
		kn->kn_status &= ~KN_QUEUED;
		KQ_COUNT_ADD(kq, -1);
		emptied |= kq->kq_count == 0;
		pending = kn->kn_active;
		kn->kn_active = 0;
		requeue = 0;
		kr = &recs[n];
		memset(kr, 0, sizeof(*kr));
		/* The slots' re-checks may share one read of the host. */
		kq->kq_recheck_kn = kn;
		kq->kq_recheck_have = 0;
		while (pending != 0) {
			i = __builtin_ctz(pending);
			bit = 1u << i;
			pending &= ~bit;
			r = knote_deliver(kn, i, &kev);
			if (r == 0)
				continue;
			if (kn->kn_class == KNC_FD)
				kr->kr_filters |= 1u <<
				    kqueue_fops(kev.filter)->f_slot;
			kr->kr_flags |= kev.flags;
			kr->kr_udata = kev.udata;
			if (r & KD_DROP)
				kr->kr_drops |= bit;
			else if (r & KD_AGAIN)
				requeue |= bit;
		}
		kr->kr_hasbits = kq->kq_recheck_have;
		kr->kr_hostbits = kq->kq_recheck_bits;
		kq->kq_recheck_kn = NULL;
		if (kr->kr_filters == 0 && kr->kr_drops == 0)
			continue;
		kr->kr_kn = kn;
		kr->kr_fp = kn->kn_class == KNC_FD ? kn->kn_fp : NULL;
		kr->kr_ident = kn->kn_ident;
		kr->kr_detached = (kn->kn_status & KN_DETACHED) != 0;
		if (kn->kn_class == KNC_FD &&
		    (i = knote_slotidx(kn, KN_FD_READ)) != 0)
			kr->kr_sfflags = kn->kn_slot[i - 1].ks_sfflags;
		n++;
		if (kn->kn_status & KN_DISPATCHALL) {
			/* EPOLLONESHOT: one report, then nothing until MOD. */
			for (i = 0; i < kn->kn_nslots; i++) {
				ks = &kn->kn_slot[i];
				if (ks->ks_filter != 0)
					ks->ks_status |= KS_DISABLED;
			}
			requeue = 0;
		}
		if (requeue != 0) {
			kn->kn_active = (uint8_t)requeue;
			TAILQ_INSERT_TAIL(&kq->kq_head, kn, kn_tqe);
			kn->kn_status |= KN_QUEUED;
			KQ_COUNT_ADD(kq, 1);
		}
	}
	kqueue_collect_requeued(kq, emptied);
	return (n);
}

void
kqueue_marker_done(struct kqueue *kq, struct knote *marker)
{

	KQ_OWNED(kq);
	kqueue_marker_remove(kq, marker);
}

/* Drop the slots of kn in mask (slot indexes); the last frees kn. */
void
knote_drop_slots(struct kqueue *kq, struct knote *kn, unsigned mask)
{
	int i, j, used;

	KQ_REG_OWNED(kq);
	while (mask != 0) {
		i = __builtin_ctz(mask);
		mask &= ~(1u << i);
		if (kn->kn_slot[i].ks_filter == 0)
			continue;
		for (used = 0, j = 0; j < kn->kn_nslots; j++)
			used += kn->kn_slot[j].ks_filter != 0;
		knote_drop_slot(kq, kn, i);
		if (used == 1)
			return;
	}
}

/*
 * A relative timeout as an absolute monotonic deadline: -1 for none (no
 * timeout, or one too long for the clock to reach), 0 for a poll.  The
 * caller has checked that it is a valid timespec.
 */
long long
kern_deadline(const struct timespec *ts)
{
	long long now;

	if (ts == NULL)
		return (-1);
	if (ts->tv_sec == 0 && ts->tv_nsec == 0)
		return (0);
	now = kern_now();
	if (ts->tv_sec >= (INT64_MAX - now) / 1000000000LL - 1)
		return (-1);
	return (now + ts->tv_sec * 1000000000LL + ts->tv_nsec);
}

/*
 * kqueue_sleep() for a thread that serves the queue's timers: no later
 * than the next one, which it then fires.  ETIMEDOUT only when the
 * caller's own deadline passed; 0 to look again (woken, a timer due).
 */
static int
kqueue_sleep_timers(struct kqueue *kq, struct hc_sleeper **hsp,
    long long deadline)
{
	long long sleepto = kqueue_timers_bound(kq, deadline);
	int error;

	error = kqueue_sleep(kq, hsp, sleepto, NULL);
	return (error == ETIMEDOUT && sleepto != deadline ? 0 : error);
}

/*
 * Drop the EV_ONESHOT slots a collect delivered, in the hold of kq_lock
 * the collect made, which ends here; the knotes emptied are freed after
 * it.  kq_reglock held.
 */
static void
kqueue_drop_delivered(struct kqueue *kq, struct kq_drop *drops, int nd)
{
	int i, nrel = 0;

	KQ_OWNED(kq);
	for (i = 0; i < nd; i++)
		if (knote_drop_slot_hold(kq, drops[i].kd_kn, drops[i].kd_slot))
			drops[nrel++].kd_kn = drops[i].kd_kn;
	KQ_UNLOCK(kq);
	for (i = 0; i < nrel; i++)
		knote_release(kq, drops[i].kd_kn);
}

static int
kqueue_scan(struct kqueue *kq, struct kevent *ulist, int maxevents,
    const struct timespec *tsp, int *retval)
{
	struct kevent kbuf[KQ_NEVENTS];
	struct kq_drop drops[KQ_NEVENTS];
	struct hc_sleeper *hs = NULL;
	struct knote marker;
	long long deadline;
	int error = 0, n, nd, total = 0, want;

	*retval = 0;
	if (maxevents == 0) {
		/* Nothing to collect, but what is due fires all the same. */
		kqueue_timers_expire(kq);
		return (0);
	}
	/*
	 * Prove the whole event list writable, every page of it, before
	 * consuming anything: a bad pointer or an unwritable page costs the
	 * caller EFAULT, as on FreeBSD, and not its events.
	 */
	if (hc_user_writable(ulist, (unsigned long)maxevents *
	    sizeof(struct kevent)) != (unsigned long)maxevents *
	    sizeof(struct kevent))
		return (EFAULT);
	deadline = kern_deadline(tsp);
	memset(&marker, 0, sizeof(marker));
	marker.kn_class = KNC_MARKER;
	for (;;) {
		KQ_REG_LOCK(kq);
		KQ_LOCK(kq);
		if (kq->kq_state & KQ_CLOSING) {
			KQ_UNLOCK(kq);
			KQ_REG_UNLOCK(kq);
			error = EBADF;
			break;
		}
		kqueue_timers_run(kq);
		if (kq->kq_ring != NULL) {
			/* Its events go to the ring: kevent() neither returns
			   nor waits for them (see kevent_wait()). */
			KQ_UNLOCK(kq);
			KQ_REG_UNLOCK(kq);
			break;
		}
		want = maxevents - total;
		if (want > KQ_NEVENTS)
			want = KQ_NEVENTS;
		n = kqueue_collect(kq, &marker, kbuf, want, drops, &nd);
		if (n == 0 && total == 0 && deadline != 0) {
			KQ_REG_UNLOCK(kq);
			error = kqueue_sleep_timers(kq, &hs, deadline);
			KQ_UNLOCK(kq);
			if (error == ETIMEDOUT) {
				error = 0;
				break;
			}
			if (error != 0)
				break;
			continue;
		}
		kqueue_drop_delivered(kq, drops, nd);
		KQ_REG_UNLOCK(kq);
		if (n > 0 && (error = hc_copyout(kbuf, &ulist[total],
		    (unsigned long)n * sizeof(struct kevent))) != 0)
			break;
		total += n;
		if (n < want || total == maxevents)
			break;
	}
	/* Only this thread changes marker, so its state can be read here. */
	if (marker.kn_status & KN_QUEUED) {
		KQ_LOCK(kq);
		kqueue_marker_remove(kq, &marker);
		KQ_UNLOCK(kq);
	}
	*retval = total;
	return (total > 0 && error == EFAULT ? 0 : error);
}

/*
 * Apply a kevent() call's changelist.  A change that fails, or asks for
 * EV_RECEIPT, is answered in the event list (*ueventsp, *neventsp move
 * past it, *nerrorsp counts it) while there is room; without room the
 * call ends there (*endp), returning that change's error, as FreeBSD's
 * does.  The host's reports of the registrations made say which hold
 * already (kqueue_register()): one drain at the end serves them all.
 */
static int
kqueue_apply_changes(struct kqueue *kq, const struct kevent *uchanges,
    int nchanges, struct kevent **ueventsp, int *neventsp, int *nerrorsp,
    int *endp)
{
	struct kevent kchanges[KQ_NEVENTS], *kev;
	int error = 0, i, n, drain = 0;

	while (nchanges > 0) {
		n = nchanges > KQ_NEVENTS ? KQ_NEVENTS : nchanges;
		if ((error = hc_copyin(uchanges, kchanges,
		    (unsigned long)n * sizeof(*kev))) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			kev = &kchanges[i];
			if (kev->filter == 0)	/* an unused entry, as BSD */
				continue;
			kev->flags &= ~EV_SYSFLAGS;
			error = kqueue_register(kq, kev, &drain);
			if (error == 0 && (kev->flags & EV_RECEIPT) == 0)
				continue;
			/* No room: the call ends here, with this error. */
			if (*neventsp == 0) {
				*endp = 1;
				goto out;
			}
			kev->flags = EV_ERROR;
			kev->data = error;
			if ((error = hc_copyout(kev, *ueventsp,
			    sizeof(*kev))) != 0)
				goto out;
			(*ueventsp)++;
			(*neventsp)--;
			(*nerrorsp)++;
		}
		nchanges -= n;
		uchanges += n;
	}
out:
	if (drain)
		hc_host_poll();
	return (error);
}

int
kern_kevent(int fd, const struct kevent *uchanges, int nchanges,
    struct kevent *uevents, int nevents, const struct timespec *utimeout,
    int *retval)
{
	struct timespec ts, *tsp = NULL;
	struct file *fp;
	struct kqueue *kq;
	int error = 0, nerrors = 0, ended = 0;

	*retval = 0;
	if (nchanges < 0 || nevents < 0)
		return (EINVAL);
	if (utimeout != NULL) {
		if ((error = hc_copyin(utimeout, &ts, sizeof(ts))) != 0)
			return (error);
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 ||
		    ts.tv_nsec >= 1000000000L)
			return (EINVAL);
		tsp = &ts;
	}
	if ((error = fd_lookup_kqueue(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	/* A front end's queue (epoll, /dev/poll) is not a kqueue. */
	if (kq->kq_pers != NULL) {
		fdrop(fp);
		return (EBADF);
	}

	kqueue_enter(kq);
	/*
	 * Every kernel entry reaps and flushes the backlog (the ring
	 * protocol), even one whose changes post nothing; reaping before
	 * the host's readiness is taken lets its posts skip the re-check
	 * (kern_upcall_fresh()).  Then let changes made before this call be
	 * seen by it.
	 */
	evring_enter(kq);
	/* Numbered: bits it stamps are current for this call's re-checks. */
	__atomic_store_n(&kq->kq_drainseq, kern_host_poll(), __ATOMIC_RELAXED);
	/* A call that collects nothing need not wait for others' tasks. */
	if (nevents > 0)
		ktask_run_pending();
	else
		ktask_run_queued();

	error = kqueue_apply_changes(kq, uchanges, nchanges, &uevents,
	    &nevents, &nerrors, &ended);
	if (error == 0 && !ended && nerrors != 0)
		*retval = nerrors;
	else if (error == 0 && !ended)
		error = kqueue_scan(kq, uevents, nevents, tsp, retval);
	kqueue_leave(kq);
	fdrop(fp);
	return (error);
}

/*
 * Queues.
 */
static void
kqueue_notify_task(void *arg)
{
	struct file *fp = arg;

	knote(&fp->f_knlist, KNH_KQUEUE);
	fdrop(fp);
}

int
kqueue_pending(struct kqueue *kq)
{

	return (__atomic_load_n(&kq->kq_count, __ATOMIC_RELAXED) +
	    __atomic_load_n(&kq->kq_ringunread, __ATOMIC_RELAXED));
}

int
kern_kqueue(int flags, int *fdp)
{

	if (flags != 0)
		return (EINVAL);
	return (kqueue_create(NULL, NULL, fdp));
}

/*
 * A new queue and its descriptor.  A front end (epoll, /dev/poll) passes
 * its personality and state, set before the descriptor is visible; on
 * failure pdata is the caller's to free.
 */
int
kqueue_create(const struct kq_personality *pers, void *pdata, int *fdp)
{
	struct kqueue *kq;
	struct file *fp;
	int error, fd;

	kq = kmalloc(sizeof(*kq), M_KQUEUE, HC_M_ZERO);
	if (kq == NULL)
		return (ENOMEM);
	kq->kq_pers = pers;
	kq->kq_pdata = pdata;
	TAILQ_INIT(&kq->kq_head);
	kq->kq_fd = -1;
	kq->kq_hashmask = KQ_HASHSIZE - 1;
	kq->kq_hash = kmalloc(sizeof(*kq->kq_hash) * KQ_HASHSIZE, M_KQUEUE,
	    HC_M_ZERO);
	kq->kq_task = kmalloc(sizeof(*kq->kq_task), M_KQUEUE, HC_M_ZERO);
	kq->kq_rtask = kmalloc(sizeof(*kq->kq_rtask), M_KQUEUE, HC_M_ZERO);
	TAILQ_INIT(&kq->kq_ringwait);
	kq->kq_minwake = 1;
	if (kq->kq_hash == NULL || kq->kq_task == NULL ||
	    kq->kq_rtask == NULL ||
	    hc_mtx_init(&kq->kq_lock, "kq_lock") != 0 ||
	    hc_mtx_init(&kq->kq_reglock, "kq_reglock") != 0) {
		error = ENOMEM;
		goto fail;
	}
	if ((error = hc_kqfd_create(&fd, pers != NULL && pers->kp_internal)) !=
	    0)
		goto fail;
	kq->kq_fd = fd;
	if ((error = fd_install_kqueue(fd, kq, &fp)) != 0)
		goto fail;
	kq->kq_fp = fp;
	ktask_init(kq->kq_task, kqueue_notify_task, fp);
	evring_kqinit(kq);
	__atomic_add_fetch(&kq_nkqueues, 1, __ATOMIC_RELAXED);
	*fdp = fd;
	return (0);
fail:
	if (kq->kq_fd >= 0)
		hc_fd_close(kq->kq_fd);
	kq->kq_fd = -1;
	kq->kq_pers = NULL;	/* pdata stays the caller's */
	kqueue_free(kq);
	return (error);
}

/*
 * close() on a queue: every thread sleeping on it wakes with EBADF, its
 * knotes go, and knotes in other queues watching it report EV_EOF.  The
 * memory goes when the last reference (a kevent() in progress, a watching
 * knote, a pending task) does.
 */
void
kqueue_close(struct kqueue *kq)
{
	struct knote *kn;
	unsigned long i;

	KQ_LOCK(kq);
	/* Atomic: evring_wait_fast() reads it without the lock. */
	__atomic_or_fetch(&kq->kq_state, KQ_CLOSING, __ATOMIC_RELAXED);
	kqueue_wakeup(kq);
	KQ_UNLOCK(kq);
	/* Ring sleepers wake with EBADF, and the ring goes first. */
	evring_close(kq);
	KQ_REG_LOCK(kq);
	for (i = 0; i <= kq->kq_hashmask; i++)
		while ((kn = SLIST_FIRST(&kq->kq_hash[i])) != NULL)
			knote_drop(kq, kn);
	knote_cache_drain(kq);
	KQ_REG_UNLOCK(kq);
	/* KQ_CLOSING keeps it from being armed again. */
	if (kq->kq_timers != NULL)
		(void)hc_callout_stop(kq->kq_timers->kt_callout);
	if (ktask_cancel(kq->kq_task))
		fdrop(kq->kq_fp);
	knlist_teardown(&kq->kq_fp->f_knlist, NOTE_REVOKE);
	__atomic_sub_fetch(&kq_nkqueues, 1, __ATOMIC_RELAXED);
}

void
kqueue_free(struct kqueue *kq)
{

	KASSERT(kq->kq_sleepers == NULL, ("kqueue_free: sleepers"));
	KASSERT(TAILQ_EMPTY(&kq->kq_ringwait), ("kqueue_free: ring sleepers"));
	KASSERT(kq->kq_ring == NULL, ("kqueue_free: ring attached"));
	if (kq->kq_pers != NULL && kq->kq_pers->kp_free != NULL)
		kq->kq_pers->kp_free(kq);
	if (kq->kq_lock != NULL)
		hc_mtx_destroy(kq->kq_lock);
	if (kq->kq_reglock != NULL)
		hc_mtx_destroy(kq->kq_reglock);
	knote_cache_drain(kq);
	if (kq->kq_timers != NULL) {
		KASSERT(kq->kq_timers->kt_wheel.w_count == 0,
		    ("kqueue_free: timers armed"));
		hc_callout_destroy(kq->kq_timers->kt_callout);
		kfree(kq->kq_timers, sizeof(*kq->kq_timers), M_KQUEUE);
	}
	kfree(kq->kq_hash, sizeof(*kq->kq_hash) * (kq->kq_hashmask + 1),
	    M_KQUEUE);
	kfree(kq->kq_task, sizeof(*kq->kq_task), M_KQUEUE);
	kfree(kq->kq_rtask, sizeof(*kq->kq_rtask), M_KQUEUE);
	kfree(kq, sizeof(*kq), M_KQUEUE);
}

/* The descriptor fp names is being closed: drop its knote on kq. */
void
knote_fdclose(struct kqueue *kq, struct file *fp)
{
	struct knote *kn;
	int dropped = 0;

	KQ_REG_LOCK(kq);
	kn = knote_lookup(kq, (uintptr_t)fp->f_fd, KNC_FD);
	if (kn != NULL && kn->kn_fp == fp) {
		if (kq->kq_pers != NULL && kq->kq_pers->kp_fdclosing != NULL)
			kq->kq_pers->kp_fdclosing(kq, kn);
		knote_drop(kq, kn);
		dropped = 1;
	}
	KQ_REG_UNLOCK(kq);
	/* A front end that remembers descriptors hears of the close. */
	if (dropped && kq->kq_pers != NULL &&
	    kq->kq_pers->kp_fdclose != NULL)
		kq->kq_pers->kp_fdclose(kq, fp->f_fd);
}

/*
 * EVFILT_USER: events the program triggers itself, from any thread.
 */
static int
filt_userattach(struct knote *kn __unused, struct knslot *ks)
{

	if (ks->ks_sfflags & NOTE_TRIGGER)
		ks->ks_status |= KS_TRIGGERED;
	ks->ks_sfflags &= NOTE_FFLAGSMASK;
	return (0);
}

static void
filt_userdetach(struct knote *kn __unused, struct knslot *ks __unused)
{
}

static int
filt_user(struct knote *kn __unused, struct knslot *ks,
    long long hint __unused)
{

	return ((ks->ks_status & KS_TRIGGERED) != 0);
}

static void
filt_usertouch(struct knote *kn __unused, struct knslot *ks,
    struct kevent *kev, int type)
{
	unsigned ffl;

	switch (type) {
	case EVENT_REGISTER:
		if (kev->fflags & NOTE_TRIGGER)
			ks->ks_status |= KS_TRIGGERED;
		ffl = kev->fflags & NOTE_FFLAGSMASK;
		switch (kev->fflags & NOTE_FFCTRLMASK) {
		case NOTE_FFAND:
			ks->ks_sfflags &= ffl;
			break;
		case NOTE_FFOR:
			ks->ks_sfflags |= ffl;
			break;
		case NOTE_FFCOPY:
			ks->ks_sfflags = ffl;
			break;
		default:
			break;
		}
		ks->ks_sdata = kev->data;
		break;
	case EVENT_PROCESS:
		kev->fflags = ks->ks_sfflags;
		kev->data = (intptr_t)ks->ks_sdata;
		if (ks->ks_flags & EV_CLEAR)
			ks->ks_status &= ~KS_TRIGGERED;
		break;
	}
}

static const struct filterops user_filtops = {
	.f_class = KNC_USER,
	.f_attach = filt_userattach,
	.f_detach = filt_userdetach,
	.f_event = filt_user,
	.f_touch = filt_usertouch,
};

/*
 * EVFILT_TIMER: data counts expirations since the last delivery.
 *
 * A queue's timers are on its own timing wheel (kern_timeout.c), under
 * kq_lock, and fire in the threads that use the queue: every kevent() and
 * kevent_wait() runs what is due before it collects, and sleeps no later
 * than the next deadline.  Firing a timer is then a count and an
 * activation under a lock already held, with no thread to wake.  A host
 * callout per queue fires them when no thread is in the kernel for the
 * queue when they are due (a ring consumer busy with its records, a queue
 * that another queue or poll() watches): every thread leaving the kernel
 * sees that it is armed no later than the wheel's next deadline
 * (kqueue_timers_leave()).
 */
#define	TIMER_MINPERIOD	10000LL		/* 10 us: no periodic spinning */

static void kqueue_timeout(void *arg);
static void filt_emptyexpire(struct knote *kn);

/* The queue's wheel, made at its first timer. */
int
kqueue_timers_init(struct kqueue *kq)
{
	struct kqtimers *kt;
	int error;

	KQ_REG_OWNED(kq);
	if (kq->kq_timers != NULL)
		return (0);
	kt = kmalloc(sizeof(*kt), M_KQUEUE, 0);
	if (kt == NULL)
		return (ENOMEM);
	if ((error = hc_callout_init(&kt->kt_callout, kqueue_timeout,
	    kq)) != 0) {
		kfree(kt, sizeof(*kt), M_KQUEUE);
		return (error);
	}
	kwheel_init(&kt->kt_wheel, hc_clock_monotonic());
	kt->kt_armed = KW_NEVER;
	KQ_LOCK(kq);
	/* Lock-free readers see an initialized wheel or none. */
	__atomic_store_n(&kq->kq_timers, kt, __ATOMIC_RELEASE);
	KQ_UNLOCK(kq);
	return (0);
}

static void
filt_timerexpire(struct kwtimer *e, void *arg)
{
	struct ktimer *kt = __containerof(e, struct ktimer, kt_entry);
	struct knote *kn = kt->kt_kn;
	struct knslot *ks = &kn->kn_slot[0];
	long long now = *(long long *)arg, next = e->kw_deadline, n = 1;

	if (kn->kn_class == KNC_FD) {
		filt_emptyexpire(kn);
		return;
	}
	if (kt->kt_period > 0) {
		if (now >= next)
			n += (now - next) / kt->kt_period;
		next += n * kt->kt_period;
		kwheel_add(&kn->kn_kq->kq_timers->kt_wheel, e, next);
	}
	ks->ks_data += n;
	if ((ks->ks_status & KS_DROPPING) == 0)
		knote_activate(kn, 0);
}

/* Fire the queue's timers that are due.  Under kq_lock. */
void
kqueue_timers_run(struct kqueue *kq)
{
	struct kqtimers *kt = kq->kq_timers;
	long long now;

	KQ_OWNED(kq);
	if (kt == NULL)
		return;
	now = kern_now();
	if (now >= kwheel_next(&kt->kt_wheel))
		kwheel_expire(&kt->kt_wheel, now, filt_timerexpire, &now);
}

/* Whether a timer may be due by now: a hint, without kq_lock. */
int
kqueue_timers_due(struct kqueue *kq, long long now)
{
	struct kqtimers *kt = __atomic_load_n(&kq->kq_timers,
	    __ATOMIC_ACQUIRE);

	return (kt != NULL && now >= kwheel_next(&kt->kt_wheel));
}

/* kqueue_timers_run() for a caller without kq_lock. */
void
kqueue_timers_expire(struct kqueue *kq)
{

	if (__atomic_load_n(&kq->kq_timers, __ATOMIC_RELAXED) == NULL ||
	    !kqueue_timers_due(kq, kern_now()))
		return;
	KQ_LOCK(kq);
	kqueue_timers_run(kq);
	KQ_UNLOCK(kq);
}

/*
 * The deadline a thread that serves the queue sleeps to: its own (-1:
 * none), or the next timer's if that comes first.
 */
long long
kqueue_timers_bound(struct kqueue *kq, long long deadline)
{
	struct kqtimers *kt = __atomic_load_n(&kq->kq_timers,
	    __ATOMIC_ACQUIRE);
	long long next;

	if (kt == NULL || deadline == 0)
		return (deadline);
	next = kwheel_next(&kt->kt_wheel);
	if (next == KW_NEVER || (deadline > 0 && deadline <= next))
		return (deadline);
	return (next > 0 ? next : 1);
}

/*
 * A thread leaves the kernel: the callout must fire the queue's timers
 * from now on, unless a thread comes back first (it then finds nothing
 * to do, and arms itself for the next).  An earlier deadline than the one
 * armed moves it; a later one does not, which costs at most a spurious
 * firing, and saves a host call for every timer cancelled or fired by a
 * thread.  Without kq_lock: nothing to do is the common case.
 */
void
kqueue_timers_leave(struct kqueue *kq)
{
	struct kqtimers *kt = __atomic_load_n(&kq->kq_timers,
	    __ATOMIC_ACQUIRE);
	long long next;

	if (kt == NULL || kwheel_next(&kt->kt_wheel) >=
	    __atomic_load_n(&kt->kt_armed, __ATOMIC_RELAXED))
		return;
	KQ_LOCK(kq);
	next = kwheel_next(&kt->kt_wheel);
	if (next < kt->kt_armed && (kq->kq_state & KQ_CLOSING) == 0) {
		__atomic_store_n(&kt->kt_armed, next, __ATOMIC_RELAXED);
		hc_callout_reset(kt->kt_callout, next);
	}
	KQ_UNLOCK(kq);
}

/*
 * A thread enters the kernel for the queue (kevent(), kevent_wait()), and
 * leaves it: what was left for it to see to as it leaves is done (the
 * ring's drops, evring_leave(); the timers' callout,
 * kqueue_timers_leave()).
 */
void
kqueue_enter(struct kqueue *kq)
{

	curthread_set_kq(kq);
}

void
kqueue_leave(struct kqueue *kq)
{

	curthread_set_kq(NULL);
	evring_leave(kq);
	kqueue_timers_leave(kq);
}

/* The callout: no thread was in the kernel for the queue in time. */
static void
kqueue_timeout(void *arg)
{
	struct kqueue *kq = arg;
	struct kqtimers *kt = kq->kq_timers;
	long long next;

	KQ_LOCK(kq);
	__atomic_store_n(&kt->kt_armed, KW_NEVER, __ATOMIC_RELAXED);
	if ((kq->kq_state & KQ_CLOSING) == 0) {
		kqueue_timers_run(kq);
		next = kwheel_next(&kt->kt_wheel);
		if (next != KW_NEVER) {
			__atomic_store_n(&kt->kt_armed, next,
			    __ATOMIC_RELAXED);
			hc_callout_reset(kt->kt_callout, next);
		}
	}
	KQ_UNLOCK(kq);
}

/* Translate a registration into a first expiry and a period. */
static int
timer_params(unsigned fflags, long long data, int oneshot,
    long long *nextp, long long *periodp)
{
	long long unit, ns, now;
	unsigned units;

	if (fflags & ~(NOTE_SECONDS | NOTE_MSECONDS | NOTE_USECONDS |
	    NOTE_NSECONDS | NOTE_ABSTIME))
		return (EINVAL);
	if (data < 0)
		return (EINVAL);
	units = fflags & (NOTE_SECONDS | NOTE_MSECONDS | NOTE_USECONDS |
	    NOTE_NSECONDS);
	switch (units) {
	case NOTE_SECONDS:
		unit = 1000000000LL;
		break;
	case 0:
	case NOTE_MSECONDS:
		unit = 1000000LL;
		break;
	case NOTE_USECONDS:
		unit = 1000LL;
		break;
	case NOTE_NSECONDS:
		unit = 1;
		break;
	default:
		return (EINVAL);
	}
	if (data > INT64_MAX / 4 / unit)
		ns = INT64_MAX / 4;
	else
		ns = data * unit;
	now = kern_now();
	if (fflags & NOTE_ABSTIME) {
		*nextp = now + (ns - hc_clock_realtime());
		*periodp = 0;
		return (0);
	}
	*nextp = now + ns;
	*periodp = oneshot ? 0 : (ns < TIMER_MINPERIOD ? TIMER_MINPERIOD : ns);
	return (0);
}

static int
filt_timerattach(struct knote *kn, struct knslot *ks)
{
	struct kqueue *kq = kn->kn_kq;
	struct ktimer *kt;
	long long next;
	int error;

	KASSERT(kn->kn_class == KNC_TIMER, ("filt_timerattach: class"));
	KQ_OWNED(kq);
	kt = knote_ext(kn);
	error = timer_params(ks->ks_sfflags, ks->ks_sdata,
	    (ks->ks_flags & EV_ONESHOT) != 0, &next, &kt->kt_period);
	if (error != 0)
		return (error);
	kwtimer_init(&kt->kt_entry);
	kt->kt_kn = kn;
	kn->kn_ptr.p_v = kt;
	kwheel_add(&kq->kq_timers->kt_wheel, &kt->kt_entry, next);
	return (0);
}

/*
 * Under kq_lock, so the timer cannot fire after: expiry takes it too.  Its
 * state goes with the knote (knote_ext()).
 */
static void
filt_timerdetach(struct knote *kn, struct knslot *ks __unused)
{
	struct ktimer *kt = kn->kn_ptr.p_v;

	KQ_OWNED(kn->kn_kq);
	kwheel_remove(&kn->kn_kq->kq_timers->kt_wheel, &kt->kt_entry);
	kn->kn_ptr.p_v = NULL;
}

/* Re-adding a timer restarts it with the new period and a zero count. */
static int
filt_timermodify(struct knote *kn, struct knslot *ks, const struct kevent *kev)
{
	struct kqueue *kq = kn->kn_kq;
	struct ktimer *kt = kn->kn_ptr.p_v;
	long long next, period;
	int error;

	/* Only EV_ADD replaces the kept flags; another change keeps them. */
	error = timer_params(kev->fflags, kev->data,
	    ((kev->flags & EV_ADD) ? kev->flags : ks->ks_flags) & EV_ONESHOT,
	    &next, &period);
	if (error != 0)
		return (error);
	KQ_LOCK(kq);
	kwheel_remove(&kq->kq_timers->kt_wheel, &kt->kt_entry);
	ks->ks_sfflags = kev->fflags;
	ks->ks_sdata = kev->data;
	ks->ks_data = 0;
	ks->ks_status &= ~KS_ACTIVE;
	kt->kt_period = period;
	knote_requeue(kn);
	kwheel_add(&kq->kq_timers->kt_wheel, &kt->kt_entry, next);
	KQ_UNLOCK(kq);
	return (0);
}

static int
filt_timer(struct knote *kn __unused, struct knslot *ks,
    long long hint __unused)
{

	return (ks->ks_data != 0);
}

static const struct filterops timer_filtops = {
	.f_class = KNC_TIMER,
	.f_flags = EV_CLEAR,
	.f_locked = 1,
	.f_prepare = kqueue_timers_init,
	.f_attach = filt_timerattach,
	.f_detach = filt_timerdetach,
	.f_event = filt_timer,
	.f_modify = filt_timermodify,
};

/*
 * EVFILT_EMPTY: a socket's send queue is empty (data 0); FreeBSD's
 * filt_soempty(), evaluated at every acknowledgement.  Linux wakes a
 * socket's pollers when its send queue drains only if a writer found it
 * full, so the host cannot report the moment it empties.  The filter polls
 * instead, on the queue's timer wheel: once at registration, then while
 * the queue holds data, from EMPTY_POLL_MIN doubling to EMPTY_POLL_MAX.
 * A host report of write space (which comes for a Unix socket each time
 * the peer reads) makes it look at once.  With EV_CLEAR the event is
 * reported again only after the queue held data and emptied: a TCP
 * socket's count of acknowledged bytes (which only grows) says whether
 * that happened since the last report, so a write acknowledged between
 * two looks is not missed, and such a registration looks every
 * EMPTY_WATCH once it has reported; for another socket the queue seen
 * holding data, or a report of write space after the registration's
 * first, says so.
 */
#define	EMPTY_POLL_MIN	50000LL		/* 50 us */
#define	EMPTY_POLL_MAX	10000000LL	/* 10 ms */
#define	EMPTY_WATCH	20000000LL	/* 20 ms */

struct kempty {
	struct ktimer	ke_timer;	/* the next look; kt_kn its knote */
	long long	ke_delay;	/* the next poll's interval */
	long long	ke_acked;	/* TCP bytes acknowledged at the last
					   report */
	int		ke_state;	/* KE_* */
};
#define	KE_REPORTED	0x1	/* reported at least once */
#define	KE_CHANGED	0x2	/* held data, or drained, since the last */
#define	KE_HOSTFIRST	0x4	/* the host's first report is still due */

static void filt_emptyarm(struct kqueue *kq, struct kempty *ke,
    long long delay);

int
filt_emptyattach(struct knote *kn, struct knslot *ks)
{
	struct file *fp = kn->kn_fp;
	struct kempty *ke;

	if (fp->f_type != DTYPE_HOST || (fp->f_hosttype != HC_FT_SOCKET &&
	    fp->f_hosttype != HC_FT_LISTEN))
		return (EINVAL);
	ke = kmalloc(sizeof(*ke), M_KNOTE, HC_M_ZERO);
	if (ke == NULL)
		return (ENOMEM);
	kwtimer_init(&ke->ke_timer.kt_entry);
	ke->ke_timer.kt_kn = kn;
	ke->ke_delay = EMPTY_POLL_MIN;
	ke->ke_state = KE_HOSTFIRST;
	/* The data given at registration means nothing to this filter. */
	ks->ks_hook = ke;
	/* The first look, whatever the host reports (a listener: nothing). */
	KQ_LOCK(kn->kn_kq);
	filt_emptyarm(kn->kn_kq, ke, 0);
	KQ_UNLOCK(kn->kn_kq);
	return (0);
}

void
filt_emptydetach(struct knote *kn, struct knslot *ks)
{
	struct kqueue *kq = kn->kn_kq;
	struct kempty *ke = ks->ks_hook;

	KQ_LOCK(kq);
	if (kwtimer_armed(&ke->ke_timer.kt_entry))
		kwheel_remove(&kq->kq_timers->kt_wheel, &ke->ke_timer.kt_entry);
	KQ_UNLOCK(kq);
	kfree(ke, sizeof(*ke), M_KNOTE);
	ks->ks_hook = NULL;
}

/* The knote moved (knote_grow()): the poll names the new one. */
void
filt_emptymoved(struct knslot *ks, struct knote *nkn)
{
	struct kempty *ke = ks->ks_hook;

	KQ_OWNED(nkn->kn_kq);
	ke->ke_timer.kt_kn = nkn;
}

/* Look again at time now + delay.  Under kq_lock. */
static void
filt_emptyarm(struct kqueue *kq, struct kempty *ke, long long delay)
{

	KQ_OWNED(kq);
	if (kwtimer_armed(&ke->ke_timer.kt_entry))
		kwheel_remove(&kq->kq_timers->kt_wheel, &ke->ke_timer.kt_entry);
	kwheel_add(&kq->kq_timers->kt_wheel, &ke->ke_timer.kt_entry,
	    kern_now() + delay);
}

/*
 * A look is due (filt_timerexpire()).  It is made here, not left to the
 * delivery: an EV_ONESHOT knote once active is delivered without one.
 */
static void
filt_emptyexpire(struct knote *kn)
{
	struct knslot *ks;
	int i;

	i = knote_slotidx(kn, KN_FD_EMPTY);
	if (i == 0)
		return;
	ks = &kn->kn_slot[i - 1];
	if ((ks->ks_status & (KS_DROPPING | KS_DISABLED)) == 0 &&
	    filt_empty(kn, ks, 0))
		knote_activate(kn, i - 1);
}

int
filt_empty(struct knote *kn, struct knslot *ks, long long hint)
{
	struct kqueue *kq = kn->kn_kq;
	struct kempty *ke = ks->ks_hook;
	long long acked, unsent;
	int clear;

	/*
	 * While f_attach runs (KN_INFLUX) ks_hook still holds the data the
	 * program gave, not the poll; the attach makes the first look.
	 */
	if (kn->kn_status & KN_INFLUX)
		return (0);
	if (hint & KNH_POLL) {
		if ((KNH_DETAIL(hint) & (HC_POLLOUT | HC_POLLHUP |
		    HC_POLLERR)) == 0)
			return (0);
		/* Write space after the first report: the queue drained. */
		if (ke->ke_state & KE_HOSTFIRST)
			ke->ke_state &= ~KE_HOSTFIRST;
		else
			ke->ke_state |= KE_CHANGED;
		/* Looked at now, for the same reason as filt_emptyexpire(). */
		hint = 0;
	}
	if (hint != 0)
		return (0);
	clear = (ks->ks_flags & EV_CLEAR) != 0;
	acked = -1;
	if (hc_fd_sendq(kn->kn_fp->f_fd, &unsent, clear ? &acked : NULL) != 0)
		return (0);
	if (unsent > 0) {
		ks->ks_data = unsent;
		ke->ke_state |= KE_CHANGED;
		filt_emptyarm(kq, ke, ke->ke_delay);
		if ((ke->ke_delay *= 2) > EMPTY_POLL_MAX)
			ke->ke_delay = EMPTY_POLL_MAX;
		return (0);
	}
	ks->ks_data = 0;
	ke->ke_delay = EMPTY_POLL_MIN;
	/* The look that activated it decided; the delivery's agrees. */
	if (ks->ks_status & KS_ACTIVE)
		return (1);
	if (clear && acked >= 0) {
		filt_emptyarm(kq, ke, EMPTY_WATCH);
		if ((ke->ke_state & KE_REPORTED) && acked == ke->ke_acked)
			return (0);	/* nothing acknowledged since */
		ke->ke_acked = acked;
	} else {
		if (kwtimer_armed(&ke->ke_timer.kt_entry))
			kwheel_remove(&kq->kq_timers->kt_wheel,
			    &ke->ke_timer.kt_entry);
		if (clear && (ke->ke_state & (KE_REPORTED | KE_CHANGED)) ==
		    KE_REPORTED)
			return (0);	/* empty all along since */
	}
	ke->ke_state = (ke->ke_state | KE_REPORTED) & ~KE_CHANGED;
	return (1);
}

/* Only fflags change: the data given means nothing here (ks_hook). */
int
filt_emptymodify(struct knote *kn, struct knslot *ks,
    const struct kevent *kev)
{
	struct kqueue *kq = kn->kn_kq;

	KQ_LOCK(kq);
	ks->ks_sfflags = kev->fflags;
	KQ_UNLOCK(kq);
	return (0);
}

/*
 * EVFILT_PROC: NOTE_EXIT, with the wait status in data when the host can
 * read it (for children).  Linux cannot report fork and exec to an
 * unprivileged process, so NOTE_FORK, NOTE_EXEC and NOTE_TRACK fail at
 * registration with EOPNOTSUPP rather than never firing.
 */
struct kproc {
	struct knlist		kp_knlist;
	struct hc_mtx		*kp_lock;
	struct hc_pwatch	*kp_watch;
	int			kp_status;
	int			kp_exited;
};

void
proc_exit_upcall(unsigned long long cookie, int status, int has)
{
	struct kproc *kp = (struct kproc *)(uintptr_t)cookie;

	hc_mtx_lock(kp->kp_lock);
	kp->kp_status = has ? status : 0;
	/*
	 * filt_proc() may also run from registration without kp_lock: the
	 * release publishes kp_status to its acquire load of kp_exited.
	 */
	__atomic_store_n(&kp->kp_exited, 1, __ATOMIC_RELEASE);
	knote_locked(&kp->kp_knlist, KNH_EXIT);
	hc_mtx_unlock(kp->kp_lock);
}

static int
filt_procattach(struct knote *kn, struct knslot *ks)
{
	struct kproc *kp;
	int error;

	if (ks->ks_sfflags & (NOTE_FORK | NOTE_EXEC | NOTE_TRACK))
		return (EOPNOTSUPP);
	if (kn->kn_ident == 0 || kn->kn_ident > (uintptr_t)INT_MAX)
		return (ESRCH);
	kp = kmalloc(sizeof(*kp), M_KNOTE, HC_M_ZERO);
	if (kp == NULL)
		return (ENOMEM);
	if ((error = hc_mtx_init(&kp->kp_lock, "knlist")) != 0) {
		kfree(kp, sizeof(*kp), M_KNOTE);
		return (error);
	}
	knlist_init(&kp->kp_knlist, kp->kp_lock);
	kn->kn_ptr.p_v = kp;
	knlist_add(&kp->kp_knlist, kn);
	error = hc_proc_watch((int)kn->kn_ident,
	    (unsigned long long)(uintptr_t)kp, &kp->kp_watch);
	if (error != 0) {
		knlist_remove(&kp->kp_knlist, kn);
		hc_mtx_destroy(kp->kp_lock);
		kfree(kp, sizeof(*kp), M_KNOTE);
		kn->kn_ptr.p_v = NULL;
	}
	return (error);
}

static void
filt_procdetach(struct knote *kn, struct knslot *ks __unused)
{
	struct kproc *kp = kn->kn_ptr.p_v;

	/* After this no upcall can name kp. */
	hc_proc_unwatch(kp->kp_watch);
	knlist_remove(&kp->kp_knlist, kn);
	hc_mtx_destroy(kp->kp_lock);
	kfree(kp, sizeof(*kp), M_KNOTE);
	kn->kn_ptr.p_v = NULL;
}

static int
filt_proc(struct knote *kn, struct knslot *ks, long long hint __unused)
{
	struct kproc *kp = kn->kn_ptr.p_v;

	/* kp_exited only goes 0 -> 1, under kp_lock, before knote(). */
	if (!__atomic_load_n(&kp->kp_exited, __ATOMIC_ACQUIRE) ||
	    (ks->ks_sfflags & NOTE_EXIT) == 0)
		return (0);
	ks->ks_fflags |= NOTE_EXIT;
	ks->ks_data = kp->kp_status;
	ks->ks_flags |= EV_EOF | EV_ONESHOT;
	return (1);
}

static const struct filterops proc_filtops = {
	.f_class = KNC_PROC,
	.f_flags = EV_CLEAR,		/* as FreeBSD's filt_procattach() */
	.f_attach = filt_procattach,
	.f_detach = filt_procdetach,
	.f_event = filt_proc,
};
