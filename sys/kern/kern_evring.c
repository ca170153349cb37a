/*
 * The event ring: per-queue delivery into memory shared with the program.
 *
 * A queue with a ring attached no longer keeps ready knotes for kevent() to
 * collect: activating a knote (knote_activate(), knote_requeue()) posts its
 * record straight into the ring, in the activation path itself, through
 * knote_deliver(), the function kevent() scans use, so EV_CLEAR, EV_ONESHOT
 * and EV_DISPATCH mean the same through both.  The program reads records
 * and advances the read index with no system call; kevent_wait() sleeps
 * only when it has seen everything.
 *
 * What the kernel trusts.  The ring's memory has two views (hc_shm_*): the
 * kernel writes through its own, which the program cannot unmap, and keeps
 * a private copy of everything it needs (write index, reaped index, mask,
 * flags, and which slot each record in flight belongs to).  It loads one
 * field from shared memory, the program's read index, once per reap, and
 * accepts it only between the last reaped index and the write index.
 *
 * Invariants (all under kq_lock):
 *  - A slot has at most one record in flight: KS_INRING while its record
 *    is in the ring and unread, with kr_owner[ks_ringpos] naming it, or
 *    KS_PUTBACK while a put-back record of it waits for room.  Firing again
 *    meanwhile only sets KS_ACTIVE (the filter accumulates data and fflags
 *    in the knote); when the reap finds the record consumed it posts the
 *    slot again if it is still active.  So an unread record is a snapshot,
 *    and every activation after it merges into at most one following
 *    record (doc/ring.md).
 *  - Level-triggered slots stay KS_ACTIVE after their post; the reap that
 *    finds their record consumed re-posts them, with a re-check.
 *  - The kernel's backlog is the queue's active list (kq_head, kq_count):
 *    knotes with slots to post (kn_active) that found the ring full, in
 *    order.  While it is non-empty new posts queue behind it, and
 *    EVRING_F_BACKLOG is set.  Every reap flushes what fits.
 *  - Reaps happen at every post and every kernel entry for the queue
 *    (kevent_wait(), kevent(), putback, properties).
 *  - EV_ONESHOT slots posted into the ring are KS_DROPPING; the drop needs
 *    kq_reglock, which the activation path does not hold, so it is
 *    recorded in kr_drops and finished at the next kernel entry or by the
 *    queue's ring task (kern_task.c).
 *
 * Wakeups.  Each record posted wakes at most one thread sleeping in
 * kevent_wait(), the longest sleeping, and only while at least
 * EVRING_PROP_MINWAKE records are unread.  A chosen thread that returns
 * EINTR passes its wakeup on; one that times out after being chosen
 * returns the records instead.  So no record is stranded with sleepers.
 *
 * The post path makes no host system call unless a thread sleeps
 * (hc_wakeup()), the queue's host descriptor turns readable (once, until a
 * kevent_wait() finds nothing), the backlog appears with a signal
 * configured, or an EV_ONESHOT drop is deferred to the ring task.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/file.h>
#include <sys/evring.h>
#include <sys/epoch.h>

/* A record's ring slot is kept in its knote slot's ks_ringpos. */
_Static_assert(EVRING_MAXENTRIES - 1 <=
    (__typeof__(((struct knslot *)0)->ks_ringpos))~0,
    "ks_ringpos must hold every slot of the largest ring");

#define	EVRING_ARRAY_MIN 16	/* evring_array_grow()'s first size */
#define	EVRING_DROPS_HELD 64	/* knotes evring_finish_drops() frees at once */

/*
 * Which slot of which knote a record in flight belongs to: the knote's
 * address with the slot number in its low bits, or 0 once the record is
 * consumed or when it has no knote.  One word per ring entry, because a
 * ring is sized for every descriptor a queue watches (evbench -w scale).
 */
typedef uintptr_t evring_owner_t;
#define	EVRING_OWNER_SLOT	((uintptr_t)7)

static inline evring_owner_t
evring_owner(struct knote *kn, int slot)
{

	KASSERT(((uintptr_t)kn & EVRING_OWNER_SLOT) == 0 &&
	    (uintptr_t)slot <= EVRING_OWNER_SLOT,
	    ("evring_owner: a knote's address has its low bits set"));
	return (kn == NULL ? 0 : (uintptr_t)kn | (uintptr_t)slot);
}

static inline struct knote *
evring_owner_kn(evring_owner_t eo)
{

	return ((struct knote *)(eo & ~EVRING_OWNER_SLOT));
}

static inline int
evring_owner_slot(evring_owner_t eo)
{

	return ((int)(eo & EVRING_OWNER_SLOT));
}

/* A put-back record waiting for room in the ring. */
struct evring_pb {
	struct kevent	pb_kev;
	struct knote	*pb_kn;		/* its slot is KS_PUTBACK; or NULL */
	int		pb_slot;
};

/* An EV_ONESHOT slot posted into the ring, to be dropped. */
struct evring_drop {
	struct knote	*ed_kn;
	int		ed_slot;
};

struct kevring {
	epoch_context_t		kr_epoch;	/* the deferred free */
	struct evring_hdr	*kr_hdr;	/* the kernel's view */
	struct kevent		*kr_recs;	/* the kernel's view of records */
	struct hc_shm		*kr_shm;
	unsigned long		kr_size;
	uint32_t		kr_entries;
	uint32_t		kr_mask;
	uint32_t		kr_recoff;
	uint32_t		kr_write;	/* next index written */
	uint32_t		kr_reaped;	/* records before it are consumed */
	uint32_t		kr_flags;	/* EVRING_F_* */
	uint32_t		kr_flags_published; /* the flags last stored */
	uint32_t		kr_posted;	/* since the last publish */
	evring_owner_t		*kr_owner;	/* [entries] */
	struct evring_pb	*kr_pb;		/* [kr_pbcap], circular */
	uint32_t		kr_pbcap;	/* 0 or a power of two, at
						   most kr_entries */
	uint32_t		kr_pbhead;
	uint32_t		kr_npb;
	struct evring_drop	*kr_drops;	/* [kr_dropcap] */
	uint32_t		kr_dropcap;	/* a power of two, at most
						   kr_entries */
	uint32_t		kr_ndrops;
};

/*
 * The private arrays that not every ring needs in full (put-back records
 * waiting for room, deferred EV_ONESHOT drops) start at EVRING_ARRAY_MIN
 * elements and double on demand up to the ring's entries, the most either
 * can hold, because a ring is sized for every descriptor its queue
 * watches and should not carry them per entry (evbench -w scale).  The
 * next array for one of cap elements now, or NULL (kmalloc() failed, or
 * it cannot grow); *ncapp gets its size.  The caller copies and swaps
 * under kq_lock, holding kq_reglock across, which keeps the ring.
 */
static void *
evring_array_grow(uint32_t cap, uint32_t entries, size_t elsize,
    uint32_t *ncapp)
{
	uint32_t ncap;
	void *p;

	ncap = cap == 0 ? EVRING_ARRAY_MIN : cap * 2;
	if (ncap > entries)
		ncap = entries;
	if (ncap <= cap || (p = kmalloc(elsize * ncap, M_EVRING,
	    HC_M_ZERO)) == NULL)
		return (NULL);
	*ncapp = ncap;
	return (p);
}

/* The n-th put-back record waiting, oldest first. */
static inline struct evring_pb *
evring_pb_at(struct kevring *kr, uint32_t n)
{

	return (&kr->kr_pb[(kr->kr_pbhead + n) & (kr->kr_pbcap - 1)]);
}

/* A thread in kevent_wait(), on kq_ringwait until it is chosen. */
struct evring_waiter {
	TAILQ_ENTRY(evring_waiter) ew_link;
	struct hc_sleeper	*ew_hs;
	int			ew_woken;	/* chosen, and off the list */
};

static long long evring_nrings;
static long long evring_nwakeups;
static long long evring_nposts;

static void evring_task(void *arg);

long long
evring_stat_rings(void)
{

	return (__atomic_load_n(&evring_nrings, __ATOMIC_RELAXED));
}

long long
evring_stat_wakeups(void)
{

	return (__atomic_load_n(&evring_nwakeups, __ATOMIC_RELAXED));
}

long long
evring_stat_posts(void)
{

	return (__atomic_load_n(&evring_nposts, __ATOMIC_RELAXED));
}

void
evring_forkchild(void)
{

	/* The child has no queues, so no rings (kern_event_forkchild()). */
	evring_nrings = 0;
}

void
evring_kqinit(struct kqueue *kq)
{

	ktask_init(kq->kq_rtask, evring_task, kq->kq_fp);
}

static uint32_t
evring_unread(const struct kevring *kr)
{

	return (kr->kr_write - kr->kr_reaped);
}

static int
evring_canpost(const struct kevring *kr)
{

	return (evring_unread(kr) < kr->kr_entries &&
	    kr->kr_ndrops < kr->kr_dropcap);
}

/* KQ_CLOSING, read under kq_lock, where kqueue_close() sets it. */
static int
evring_closing(struct kqueue *kq)
{
	int closing;

	KQ_LOCK(kq);
	closing = (kq->kq_state & KQ_CLOSING) != 0;
	KQ_UNLOCK(kq);
	return (closing);
}

/* Run the ring task soon: deferred drops, the backlog signal. */
static void
evring_task_schedule(struct kqueue *kq)
{

	KQ_OWNED(kq);
	if (kq->kq_state & KQ_CLOSING)
		return;
	fhold(kq->kq_fp);
	/* Already queued: the queued task holds a reference, so not last. */
	if (!ktask_enqueue(kq->kq_rtask))
		fdrop(kq->kq_fp);
}

/* kq_ringneedreap: work for a reap, and a bad read index to report. */
#define	EVRING_NR_WORK		0x1	/* re-posts, or a freshness reap */
#define	EVRING_NR_BADINDEX	0x2	/* the last reap found it bad */
#define	EVRING_NR_BACKLOG	0x4	/* backlog or put-backs wait */

/* A reap will have work beyond freeing consumed slots (kq_ringneedreap). */
static void
evring_needreap(struct kqueue *kq, int bits)
{

	KQ_OWNED(kq);
	if ((kq->kq_ringneedreap | bits) != kq->kq_ringneedreap)
		ck_pr_store_int(&kq->kq_ringneedreap,
		    kq->kq_ringneedreap | bits);
}

/*
 * Backlog: the queue's active list.  kn_active holds the slots still to
 * post; a knote keeps its place when more of its slots join.
 */
static void
evring_backlog_add(struct kqueue *kq, struct knote *kn, unsigned bits)
{

	kn->kn_active |= (uint8_t)bits;
	evring_needreap(kq, EVRING_NR_WORK | EVRING_NR_BACKLOG);
	if (kn->kn_status & KN_QUEUED)
		return;
	TAILQ_INSERT_TAIL(&kq->kq_head, kn, kn_tqe);
	kn->kn_status |= KN_QUEUED;
	KQ_COUNT_ADD(kq, 1);
}

static void
evring_wake(struct kqueue *kq, int n, int *wokenp)
{
	struct evring_waiter *ew;
	int woken = 0;

	KQ_OWNED(kq);
	while (woken < n && (ew = TAILQ_FIRST(&kq->kq_ringwait)) != NULL) {
		TAILQ_REMOVE(&kq->kq_ringwait, ew, ew_link);
		ew->ew_woken = 1;
		hc_wakeup(ew->ew_hs);
		woken++;
	}
	if (woken > 0)
		__atomic_add_fetch(&evring_nwakeups, woken, __ATOMIC_RELAXED);
	if (wokenp != NULL)
		*wokenp += woken;
}

/*
 * Reap: take the program's read index and release the slots whose records
 * it consumed; a slot still active is queued to be posted again.
 */
static void
evring_reap(struct kqueue *kq, struct kevring *kr)
{
	evring_owner_t eo;
	struct knslot *ks;
	struct knote *kn;
	uint32_t rd, i;

	KQ_OWNED(kq);
	/*
	 * Load, then a load fence (acquire): pairs with the program's
	 * store-release of eh_read (evring_advance(), evring_take() in
	 * <sys/evring.h>), so its reads of the records before rd happen
	 * before we write over them.  This is the only load the kernel makes
	 * from the shared memory.
	 */
	rd = ck_pr_load_32(&kr->kr_hdr->eh_read);
	ck_pr_fence_load();
	if ((uint32_t)(rd - kr->kr_reaped) >
	    (uint32_t)(kr->kr_write - kr->kr_reaped)) {
		/* Backwards, past the write index, or garbage: no progress. */
		kr->kr_flags |= EVRING_F_BADINDEX;
		evring_needreap(kq, EVRING_NR_BADINDEX);
		return;
	}
	kr->kr_flags &= ~EVRING_F_BADINDEX;
	if (kq->kq_ringneedreap & EVRING_NR_BADINDEX)
		ck_pr_store_int(&kq->kq_ringneedreap,
		    kq->kq_ringneedreap & ~EVRING_NR_BADINDEX);
	/*
	 * The program read the descriptors of these records before it
	 * consumed them, at some time before now: host bits sampled before
	 * now may predate those reads (kern_upcall_fresh()).
	 */
	if (rd != kr->kr_reaped)
		ck_pr_store_64(&kq->kq_reapseq, kern_drain_next());
	for (i = kr->kr_reaped; i != rd; i++) {
		eo = kr->kr_owner[i & kr->kr_mask];
		if ((kn = evring_owner_kn(eo)) == NULL)
			continue;
		kr->kr_owner[i & kr->kr_mask] = 0;
		ks = &kn->kn_slot[evring_owner_slot(eo)];
		ks->ks_status &= ~KS_INRING;
		if ((ks->ks_status & (KS_ACTIVE | KS_DISABLED | KS_DROPPING |
		    KS_PUTBACK)) == KS_ACTIVE)
			evring_backlog_add(kq, kn, 1u << evring_owner_slot(eo));
	}
	/* Atomic: evring_wait_fast() reads it without kq_lock. */
	ck_pr_store_32(&kr->kr_reaped, rd);
}

/* Write one record at the write index (room checked by the caller). */
static void
evring_write(struct kevring *kr, const struct kevent *kev, struct knote *kn,
    int slot)
{
	uint32_t pos = kr->kr_write & kr->kr_mask;
	struct knslot *ks;

	kr->kr_recs[pos] = *kev;
	kr->kr_owner[pos] = evring_owner(kn, slot);
	if (kn != NULL) {
		ks = &kn->kn_slot[slot];
		ks->ks_ringpos = (uint16_t)pos;
		ks->ks_status |= KS_INRING;
	}
	kr->kr_write++;
	kr->kr_posted++;
}

/* Post slot i of kn (the caller checked evring_canpost()). */
static void
evring_post_slot(struct kqueue *kq, struct kevring *kr, struct knote *kn,
    int i)
{
	struct kevent kev;
	int r;

	r = knote_deliver(kn, i, &kev);
	if (r == 0)
		return;
	/* Re-posted when consumed, or its re-check wants a fresh reap. */
	if ((r & KD_AGAIN) || kn->kn_class == KNC_FD)
		evring_needreap(kq, EVRING_NR_WORK);
	evring_write(kr, &kev, kn, i);
	if (r & KD_DROP) {
		kr->kr_drops[kr->kr_ndrops].ed_kn = kn;
		kr->kr_drops[kr->kr_ndrops].ed_slot = i;
		kn->kn_slot[i].ks_status |= KS_INDROPS;
		kr->kr_ndrops++;
		ck_pr_store_int(&kq->kq_ndrops, (int)kr->kr_ndrops);
		/*
		 * A thread in kevent() or kevent_wait() for this queue that
		 * posted it (a timer it fired, a change it applied) finishes
		 * the drop as it leaves (evring_leave()) or before it sleeps
		 * (evring_sleep()): no task to wake a thread for.  Others
		 * (an upcall, a callout) schedule the task, and so does a
		 * post that fills the drops, which posts then wait for.
		 */
		if ((kr->kr_ndrops == 1 && curthread_kq() != kq) ||
		    kr->kr_ndrops == kr->kr_dropcap)
			evring_task_schedule(kq);
	}
}

/* Move put-back records, then the backlog, into the room there is. */
static void
evring_flush(struct kqueue *kq, struct kevring *kr)
{
	struct evring_pb *pb;
	struct knote *kn;
	unsigned pending, bit;
	int i;

	KQ_OWNED(kq);
	while (kr->kr_npb > 0 && evring_unread(kr) < kr->kr_entries) {
		pb = evring_pb_at(kr, 0);
		if (pb->pb_kn != NULL)
			pb->pb_kn->kn_slot[pb->pb_slot].ks_status &=
			    ~KS_PUTBACK;
		evring_write(kr, &pb->pb_kev, pb->pb_kn, pb->pb_slot);
		kr->kr_pbhead = (kr->kr_pbhead + 1) & (kr->kr_pbcap - 1);
		kr->kr_npb--;
	}
	while (kr->kr_npb == 0 && evring_canpost(kr)) {
		/* A kevent() call between batches leaves its marker here. */
		kn = TAILQ_FIRST(&kq->kq_head);
		while (kn != NULL && kn->kn_class == KNC_MARKER)
			kn = TAILQ_NEXT(kn, kn_tqe);
		if (kn == NULL)
			break;
		TAILQ_REMOVE(&kq->kq_head, kn, kn_tqe);
		kn->kn_status &= ~KN_QUEUED;
		KQ_COUNT_ADD(kq, -1);
		pending = kn->kn_active;
		kn->kn_active = 0;
		while (pending != 0 && evring_canpost(kr)) {
			i = __builtin_ctz(pending);
			bit = 1u << i;
			pending &= ~bit;
			/* Merged: posted again when its record is consumed. */
			if (kn->kn_slot[i].ks_status & KS_INFLIGHT)
				continue;
			evring_post_slot(kq, kr, kn, i);
		}
		if (pending != 0) {
			/* Out of room: what is left goes first next time. */
			kn->kn_active = (uint8_t)pending;
			TAILQ_INSERT_HEAD(&kq->kq_head, kn, kn_tqe);
			kn->kn_status |= KN_QUEUED;
			KQ_COUNT_ADD(kq, 1);
			break;
		}
	}
}

/*
 * Make what was posted visible, update the flags, and wake sleepers: one
 * per record posted while EVRING_PROP_MINWAKE records are unread.
 */
static void
evring_publish(struct kqueue *kq, struct kevring *kr, int *wokenp)
{
	uint32_t posted = kr->kr_posted, unread = evring_unread(kr);
	uint32_t oflags = kr->kr_flags & EVRING_F_BACKLOG;

	KQ_OWNED(kq);
	kr->kr_posted = 0;
	/* Put-back records waiting for room are backlog too. */
	if (kq->kq_count > 0 || kr->kr_npb > 0) {
		kr->kr_flags |= EVRING_F_BACKLOG;
		if (oflags == 0 && kq->kq_backlogsig != 0 &&
		    (kq->kq_state & KQ_CLOSING) == 0) {
			/* Raised by the ring task, with no lock held. */
			kq->kq_sigpending = kq->kq_backlogsig;
			evring_task_schedule(kq);
		}
	} else
		kr->kr_flags &= ~EVRING_F_BACKLOG;
	ck_pr_store_int(&kq->kq_ringunread, (int)unread);
	/* No fence: evring_wait_fast() and the busy poll only compare it
	   with ringstate; the program reads records by eh_write. */
	ck_pr_store_32(&kq->kq_ringwrite, kr->kr_write);
	/*
	 * Leave the consumer's cache alone when nothing changed.  Both
	 * kernel-written fields are stored again on every change, and on
	 * every reap while the read index is bad, so that the program's
	 * stray stores into them do not last: a program recovers by storing
	 * the republished eh_write into eh_read.  The flags are ordered
	 * before the write index by its release.
	 */
	if (posted == 0 && kr->kr_flags == kr->kr_flags_published &&
	    (kr->kr_flags & EVRING_F_BADINDEX) == 0)
		return;
	kr->kr_flags_published = kr->kr_flags;
	ck_pr_store_32(&kr->kr_hdr->eh_flags, kr->kr_flags);
	/*
	 * A store fence, then the store (release): pairs with the program's
	 * load-acquire of eh_write (evring_peek(), evring_ready(),
	 * evring_take()), so every record before kr_write is visible to it
	 * with the index.
	 */
	ck_pr_fence_store();
	ck_pr_store_32(&kr->kr_hdr->eh_write, kr->kr_write);
	if (posted == 0)
		return;
	__atomic_add_fetch(&evring_nposts, posted, __ATOMIC_RELAXED);
	/* Readable once; only a kevent_wait() that finds nothing clears it. */
	if (!kq->kq_hostready)
		kqueue_set_hostready(kq);
	if (unread == posted)
		kqueue_notify_watchers(kq);	/* it was empty */
	if (!TAILQ_EMPTY(&kq->kq_ringwait) && unread >= kq->kq_minwake)
		evring_wake(kq, (int)posted, wokenp);
}

static void
evring_update(struct kqueue *kq, struct kevring *kr, int *wokenp)
{

	evring_reap(kq, kr);
	evring_flush(kq, kr);
	evring_publish(kq, kr, wokenp);
	/* Nothing in flight and nothing waiting: no reap has work now. */
	if (kq->kq_ringneedreap && kq->kq_count == 0 && kr->kr_npb == 0 &&
	    (kr->kr_flags & EVRING_F_BADINDEX) == 0)
		ck_pr_store_int(&kq->kq_ringneedreap,
		    evring_unread(kr) == 0 ? 0 :
		    kq->kq_ringneedreap & EVRING_NR_WORK);
}

/*
 * Whether a kernel entry must take kq_lock to reap: there is a ring, and
 * a reap may re-post, flush or report something (kq_ringneedreap).
 * Without the lock; a stale answer costs the caller one lock round trip
 * at worst, or leaves the reap to the next post, which reaps first.
 */
static int
evring_mustreap(struct kqueue *kq)
{

	return (ck_pr_load_ptr(&kq->kq_ring) != NULL &&
	    ck_pr_load_int(&kq->kq_ringneedreap) != 0);
}

/*
 * The activation continuation: the slots in bits of kn became ready.  Post
 * them now, behind the backlog if there is one, each re-checked by its
 * filter (knote_deliver()).
 */
void
evring_post(struct kqueue *kq, struct knote *kn, unsigned bits)
{
	struct kevring *kr = kq->kq_ring;
	unsigned bit;
	int i;

	KQ_OWNED(kq);
	evring_reap(kq, kr);
	evring_flush(kq, kr);
	for (; bits != 0; bits &= ~bit) {
		i = __builtin_ctz(bits);
		bit = 1u << i;
		if (kn->kn_slot[i].ks_status & KS_INFLIGHT) {
			/* Merges; re-posted when consumed. */
			evring_needreap(kq, EVRING_NR_WORK);
			continue;
		}
		if (kn->kn_status & KN_QUEUED)
			kn->kn_active |= (uint8_t)bit;	/* keeps its place */
		else if (kq->kq_count == 0 && kr->kr_npb == 0 &&
		    evring_canpost(kr))
			evring_post_slot(kq, kr, kn, i);
		else
			evring_backlog_add(kq, kn, bit);
	}
	evring_publish(kq, kr, NULL);
}

/*
 * A slot is being cleared (its registration dropped): forget the ring's
 * references to it.  Its record, if unread, stays in the ring.
 */
void
evring_slot_gone(struct kqueue *kq, struct knote *kn, int slot)
{
	struct kevring *kr = kq->kq_ring;
	struct knslot *ks = &kn->kn_slot[slot];
	struct evring_pb *pb;
	uint32_t i;

	KQ_OWNED(kq);
	if (ks->ks_status & KS_INRING) {
		KASSERT(kr->kr_owner[ks->ks_ringpos] == evring_owner(kn, slot),
		    ("evring_slot_gone: owner mismatch"));
		kr->kr_owner[ks->ks_ringpos] = 0;
	}
	if (ks->ks_status & KS_PUTBACK) {
		for (i = 0; i < kr->kr_npb; i++) {
			pb = evring_pb_at(kr, i);
			if (pb->pb_kn == kn && pb->pb_slot == slot)
				pb->pb_kn = NULL;
		}
	}
	/* Not for a drop being finished: that left the array first. */
	if (ks->ks_status & KS_INDROPS) {
		for (i = 0; i < kr->kr_ndrops; ) {
			if (kr->kr_drops[i].ed_kn == kn &&
			    kr->kr_drops[i].ed_slot == slot)
				kr->kr_drops[i] = kr->kr_drops[--kr->kr_ndrops];
			else
				i++;
		}
		ck_pr_store_int(&kq->kq_ndrops, (int)kr->kr_ndrops);
	}
	ks->ks_status &= ~(KS_INFLIGHT | KS_INDROPS);
}

/* knote_grow() moved a knote: follow it. */
void
evring_knote_moved(struct kqueue *kq, struct knote *okn, struct knote *nkn)
{
	struct kevring *kr = kq->kq_ring;
	struct knslot *ks;
	uint32_t j;
	int i;

	KQ_OWNED(kq);
	for (i = 0; i < okn->kn_nslots; i++) {
		ks = &nkn->kn_slot[i];
		if (ks->ks_status & KS_INRING)
			kr->kr_owner[ks->ks_ringpos] = evring_owner(nkn, i);
		if (ks->ks_status & KS_PUTBACK)
			for (j = 0; j < kr->kr_npb; j++)
				if (evring_pb_at(kr, j)->pb_kn == okn)
					evring_pb_at(kr, j)->pb_kn = nkn;
		if (ks->ks_status & KS_INDROPS)
			for (j = 0; j < kr->kr_ndrops; j++)
				if (kr->kr_drops[j].ed_kn == okn)
					kr->kr_drops[j].ed_kn = nkn;
	}
}

/*
 * Grow the deferred drops if they filled up: while they are full, nothing
 * is posted (evring_canpost()), so a queue that posts more EV_ONESHOT
 * records between two kernel entries than there is room for gets more
 * room.  If that fails the posts just wait for the drops to be finished.
 * kq_reglock held.
 */
static void
evring_drops_grow(struct kqueue *kq)
{
	struct evring_drop *nd, *od;
	struct kevring *kr;
	uint32_t cap, ocap;

	KQ_LOCK(kq);
	kr = kq->kq_ring;
	ocap = kr != NULL && kr->kr_ndrops == kr->kr_dropcap ?
	    kr->kr_dropcap : 0;
	KQ_UNLOCK(kq);
	if (ocap == 0 || (nd = evring_array_grow(ocap, kr->kr_entries,
	    sizeof(*nd), &cap)) == NULL)
		return;
	KQ_LOCK(kq);
	memcpy(nd, kr->kr_drops, sizeof(*nd) * kr->kr_ndrops);
	od = kr->kr_drops;
	kr->kr_drops = nd;
	kr->kr_dropcap = cap;
	KQ_UNLOCK(kq);
	kfree(od, sizeof(*od) * ocap, M_EVRING);
}

/* Finish the deferred EV_ONESHOT drops.  kq_reglock held, not kq_lock. */
static void
evring_finish_drops(struct kqueue *kq)
{
	struct knote *rel[EVRING_DROPS_HELD];
	struct kevring *kr;
	struct knote *kn;
	int i, nrel = 0, slot;

	KQ_REG_OWNED(kq);
	KQ_LOCK(kq);
	if ((kr = kq->kq_ring) != NULL && kr->kr_ndrops == kr->kr_dropcap) {
		KQ_UNLOCK(kq);
		evring_drops_grow(kq);
		KQ_LOCK(kq);
	}
	/*
	 * Each drop starts in the hold that took it off the array, and the
	 * hold goes on to the next (a filter that is not f_locked drops it
	 * around its f_detach); the knotes emptied are freed without it, a
	 * batch at a time.
	 */
	while ((kr = kq->kq_ring) != NULL && kr->kr_ndrops > 0) {
		kr->kr_ndrops--;
		kn = kr->kr_drops[kr->kr_ndrops].ed_kn;
		slot = kr->kr_drops[kr->kr_ndrops].ed_slot;
		kn->kn_slot[slot].ks_status &= ~KS_INDROPS;
		ck_pr_store_int(&kq->kq_ndrops, (int)kr->kr_ndrops);
		/* kq_reglock keeps kn from being dropped or moved meanwhile. */
		if (knote_drop_slot_hold(kq, kn, slot))
			rel[nrel++] = kn;
		if (nrel == EVRING_DROPS_HELD) {
			KQ_UNLOCK(kq);
			for (i = 0; i < nrel; i++)
				knote_release(kq, rel[i]);
			nrel = 0;
			KQ_LOCK(kq);
		}
	}
	KQ_UNLOCK(kq);
	for (i = 0; i < nrel; i++)
		knote_release(kq, rel[i]);
}

/*
 * A kernel entry for the queue that is about to reap and flush under
 * kq_lock anyway: only the deferred drops, saving a lock round trip on
 * the event path.
 */
void
evring_enter_drops(struct kqueue *kq)
{

	if (ck_pr_load_ptr(&kq->kq_ring) == NULL)
		return;
	if (ck_pr_load_int(&kq->kq_ndrops) > 0) {
		KQ_REG_LOCK(kq);
		evring_finish_drops(kq);
		KQ_REG_UNLOCK(kq);
	}
}

/* A kernel entry for the queue: deferred drops, then reap and flush. */
void
evring_enter(struct kqueue *kq)
{

	evring_enter_drops(kq);
	if (ck_pr_load_ptr(&kq->kq_ring) == NULL || !evring_mustreap(kq))
		return;
	KQ_LOCK(kq);
	if (kq->kq_ring != NULL && (kq->kq_state & KQ_CLOSING) == 0)
		evring_update(kq, kq->kq_ring, NULL);
	KQ_UNLOCK(kq);
}

/*
 * A thread leaves the kernel for the queue (kqueue_leave()): it finishes
 * the drops of EV_ONESHOT records posted while it was inside, for which
 * no ring task was scheduled (evring_post_slot()).
 */
void
evring_leave(struct kqueue *kq)
{

	if (ck_pr_load_int(&kq->kq_ndrops) > 0)
		evring_enter(kq);
}

static void
evring_task(void *arg)
{
	struct file *fp = arg;
	struct kqueue *kq = fp->f_kq;
	int sig;

	KQ_REG_LOCK(kq);
	if (!evring_closing(kq))
		evring_finish_drops(kq);
	KQ_LOCK(kq);
	if (kq->kq_ring != NULL && (kq->kq_state & KQ_CLOSING) == 0)
		evring_update(kq, kq->kq_ring, NULL);
	sig = kq->kq_sigpending;
	kq->kq_sigpending = 0;
	KQ_UNLOCK(kq);
	KQ_REG_UNLOCK(kq);
	if (sig != 0)
		(void)hc_sig_raise(sig);
	fdrop(fp);
}

/*
 * Attach and detach.
 */
static void
evring_free_now(struct kevring *kr)
{

	hc_shm_free(kr->kr_shm);
	kfree(kr->kr_owner, sizeof(*kr->kr_owner) * kr->kr_entries, M_EVRING);
	kfree(kr->kr_pb, sizeof(*kr->kr_pb) * kr->kr_pbcap, M_EVRING);
	kfree(kr->kr_drops, sizeof(*kr->kr_drops) * kr->kr_dropcap, M_EVRING);
	kfree(kr, sizeof(*kr), M_EVRING);
}

static void
evring_free_cb(epoch_context_t *ctx)
{

	evring_free_now(epoch_container(ctx, struct kevring, kr_epoch));
}

/*
 * A detached ring goes when no lock-free reader (evring_wait_fast()) can
 * still be looking at it.
 */
static void
evring_free(struct kevring *kr)
{

	if (kr != NULL)
		epoch_call(&kr->kr_epoch, evring_free_cb);
}

static int
evring_alloc(uint32_t entries, struct kevring **krp)
{
	struct kevring *kr;
	struct evring_hdr *h;
	unsigned long ps = hc_pagesize(), recs;
	void *kva;
	int error;

	kr = kmalloc(sizeof(*kr), M_EVRING, HC_M_ZERO);
	if (kr == NULL)
		return (ENOMEM);
	kr->kr_entries = entries;
	kr->kr_mask = entries - 1;
	kr->kr_owner = kmalloc(sizeof(*kr->kr_owner) * entries, M_EVRING,
	    HC_M_ZERO);
	kr->kr_drops = evring_array_grow(0, entries, sizeof(*kr->kr_drops),
	    &kr->kr_dropcap);
	if (kr->kr_owner == NULL || kr->kr_drops == NULL) {
		evring_free_now(kr);
		return (ENOMEM);
	}
	/* Touched now, not page by page as records are first posted. */
	memset(kr->kr_owner, 0, sizeof(*kr->kr_owner) * entries);
	/* The header page is the program's to write; records start after. */
	kr->kr_recoff = (uint32_t)((sizeof(struct evring_hdr) + ps - 1) /
	    ps * ps);
	recs = ((unsigned long)entries * sizeof(struct kevent) + ps - 1) /
	    ps * ps;
	kr->kr_size = kr->kr_recoff + recs;
	if ((error = hc_shm_alloc(kr->kr_size, &kr->kr_shm, &kva)) != 0) {
		kr->kr_shm = NULL;
		evring_free_now(kr);
		return (error);
	}
	h = kva;
	kr->kr_hdr = h;
	kr->kr_recs = (struct kevent *)(void *)((char *)kva + kr->kr_recoff);
	kr->kr_write = kr->kr_reaped = EVRING_INDEX_START;
	/* No program view exists yet: plain stores are enough. */
	h->eh_write = EVRING_INDEX_START;
	h->eh_read = EVRING_INDEX_START;
	h->eh_claim = EVRING_INDEX_START;
	h->eh_flags = 0;
	h->eh_version = EVRING_VERSION;
	h->eh_entries = entries;
	h->eh_mask = entries - 1;
	h->eh_recsize = sizeof(struct kevent);
	h->eh_recoff = kr->kr_recoff;
	h->eh_size = (uint32_t)kr->kr_size;
	*krp = kr;
	return (0);
}

/*
 * Detach the queue's ring; kq_reglock held.  Returns the ring, for the
 * caller to free, or NULL if none was attached.  Records the program has
 * not consumed stay in its (now stale) mapping; their slots stop being in
 * flight, and slots still active go on the active list, where kevent()
 * finds them.  Put-back records not yet in the ring are dropped.
 */
static struct kevring *
evring_detach_locked(struct kqueue *kq)
{
	struct kevring *kr;
	evring_owner_t eo;
	struct evring_pb *pb;
	struct knslot *ks;
	struct knote *kn;
	uint32_t i, n;

	KQ_REG_OWNED(kq);
	KQ_LOCK(kq);
	if ((kr = kq->kq_ring) == NULL) {
		KQ_UNLOCK(kq);
		return (NULL);
	}
	evring_reap(kq, kr);
	for (i = kr->kr_reaped; i != kr->kr_write; i++) {
		eo = kr->kr_owner[i & kr->kr_mask];
		if ((kn = evring_owner_kn(eo)) == NULL)
			continue;
		kr->kr_owner[i & kr->kr_mask] = 0;
		ks = &kn->kn_slot[evring_owner_slot(eo)];
		ks->ks_status &= ~KS_INRING;
		if ((ks->ks_status & (KS_ACTIVE | KS_DISABLED |
		    KS_DROPPING)) == KS_ACTIVE)
			evring_backlog_add(kq, kn, 1u << evring_owner_slot(eo));
	}
	for (n = 0; n < kr->kr_npb; n++) {
		pb = evring_pb_at(kr, n);
		if ((kn = pb->pb_kn) == NULL)
			continue;
		ks = &kn->kn_slot[pb->pb_slot];
		ks->ks_status &= ~KS_PUTBACK;
		if ((ks->ks_status & (KS_ACTIVE | KS_DISABLED |
		    KS_DROPPING)) == KS_ACTIVE)
			evring_backlog_add(kq, kn, 1u << pb->pb_slot);
	}
	kr->kr_npb = 0;
	kr->kr_flags = (kr->kr_flags & ~EVRING_F_BACKLOG) | EVRING_F_DETACHED;
	ck_pr_fence_store();
	ck_pr_store_32(&kr->kr_hdr->eh_flags, kr->kr_flags);
	/*
	 * No poster can reach the ring after this; a lock-free reader
	 * that still has it is in an epoch section, and evring_free()
	 * waits for that.
	 */
	ck_pr_store_ptr(&kq->kq_ring, NULL);
	ck_pr_store_int(&kq->kq_ringunread, 0);
	ck_pr_store_32(&kq->kq_ringwrite, 0);
	ck_pr_store_int(&kq->kq_ndrops, 0);
	/* Sleepers wake and find no ring (or the queue closing). */
	evring_wake(kq, INT_MAX, NULL);
	kqueue_set_hostready(kq);
	if (kq->kq_count > 0)
		kqueue_notify_watchers(kq);
	KQ_UNLOCK(kq);
	/* Deferred drops: the ring is private to us now. */
	for (i = 0; i < kr->kr_ndrops; i++)
		knote_drop_slot(kq, kr->kr_drops[i].ed_kn,
		    kr->kr_drops[i].ed_slot);
	kr->kr_ndrops = 0;
	__atomic_sub_fetch(&evring_nrings, 1, __ATOMIC_RELAXED);
	return (kr);
}

/* close() on the queue: kqueue_close() set KQ_CLOSING already. */
void
evring_close(struct kqueue *kq)
{
	struct kevring *kr;

	KQ_LOCK(kq);
	evring_wake(kq, INT_MAX, NULL);
	KQ_UNLOCK(kq);
	KQ_REG_LOCK(kq);
	kr = evring_detach_locked(kq);
	KQ_REG_UNLOCK(kq);
	evring_free(kr);
	if (ktask_cancel(kq->kq_rtask))
		fdrop(kq->kq_fp);
}

int
kern_kevent_ring_attach(int fd, unsigned int entries)
{
	struct kevring *kr = NULL;
	struct kqueue *kq;
	struct file *fp;
	int error;

	if (entries < EVRING_MINENTRIES || entries > EVRING_MAXENTRIES ||
	    (entries & (entries - 1)) != 0)
		return (EINVAL);
	if ((error = fd_lookup_kqueue(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	if ((error = ktask_prepare()) != 0 ||
	    (error = evring_alloc(entries, &kr)) != 0) {
		fdrop(fp);
		return (error);
	}
	KQ_REG_LOCK(kq);
	KQ_LOCK(kq);
	if (kq->kq_state & KQ_CLOSING)
		error = EBADF;
	else if (kq->kq_ring != NULL)
		error = EBUSY;
	else if (kq->kq_minwake > entries)
		error = EINVAL;
	else {
		/*
		 * A store fence, then the pointer: pairs with the load
		 * fence in evring_wait_fast(), so a lock-free reader that
		 * finds the ring sees it initialized.
		 */
		ck_pr_fence_store();
		ck_pr_store_ptr(&kq->kq_ring, kr);
		__atomic_add_fetch(&evring_nrings, 1, __ATOMIC_RELAXED);
		/* What waited for kevent() is now backlog: post it in order. */
		evring_update(kq, kr, NULL);
		/* Threads in kevent() stop waiting: events go to the ring. */
		kqueue_wakeup(kq);
		kr = NULL;
	}
	KQ_UNLOCK(kq);
	KQ_REG_UNLOCK(kq);
	evring_free(kr);
	fdrop(fp);
	return (error);
}

int
kern_kevent_ring_detach(int fd)
{
	struct kevring *kr = NULL;
	struct kqueue *kq;
	struct file *fp;
	int error = 0;

	if ((error = fd_lookup_kqueue(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	KQ_REG_LOCK(kq);
	if (evring_closing(kq))
		error = EBADF;
	else if ((kr = evring_detach_locked(kq)) == NULL)
		error = ENXIO;
	KQ_REG_UNLOCK(kq);
	evring_free(kr);
	fdrop(fp);
	return (error);
}

int
kern_kevent_ring_map(int fd, void **addrp, unsigned long *sizep,
    unsigned int *entriesp, unsigned int *recoffp)
{
	struct kevring *kr;
	struct kqueue *kq;
	struct file *fp;
	void *uva = NULL;
	int error;

	if ((error = fd_lookup_kqueue(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	/* kq_reglock keeps the ring attached while we map it. */
	KQ_REG_LOCK(kq);
	kr = kq->kq_ring;
	if (evring_closing(kq))
		error = EBADF;
	else if (kr == NULL)
		error = ENXIO;
	else if ((error = hc_shm_map(kr->kr_shm, kr->kr_recoff, &uva)) == 0) {
		*addrp = uva;
		*sizep = kr->kr_size;
		*entriesp = kr->kr_entries;
		*recoffp = kr->kr_recoff;
	}
	KQ_REG_UNLOCK(kq);
	fdrop(fp);
	return (error);
}

/*
 * Busy polling: before it sleeps, a kevent_wait() caller polls the host for
 * readiness and watches the queue's write index for up to us microseconds,
 * as Linux's epoll busy poll does for a socket's receive queue.  An event
 * that comes within that time is taken without the sleep and the wakeup,
 * which on a two-thread hand-off cost more than the event itself.  Called
 * and returning without kq_lock; the caller looks again under it.  The
 * clock is read every few turns.  Signals (hostcall.h, hc_spin_begin()):
 * a counted spin compares a count of handler calls on every turn; a masked
 * one (the caller gave a sigmask) looks at the pending signals once
 * EVRING_BUSYPOLL_SIGNAL_NS have passed since the last look: that is a
 * system call, which would double the cost of an event caught in a few
 * turns, and counting turns instead would not bound the delay of a signal
 * (a turn that drains the host through epoll is itself a system call).
 */
#define	EVRING_BUSYPOLL_CLOCK	16	/* turns between clock reads */
#define	EVRING_BUSYPOLL_SIGNAL_NS 10000LL /* between signal looks */

static void
evring_busypoll(struct kqueue *kq, uint32_t ringstate, uint32_t minwake,
    long long us, long long deadline, const void *maskp, struct hc_spin *sp)
{
	long long end, now, nextsig;
	unsigned int turn;

	if (hc_spin_begin(sp, maskp) != 0)
		return;		/* no spin without a way to see signals */
	now = hc_clock_monotonic();
	nextsig = now + EVRING_BUSYPOLL_SIGNAL_NS;
	end = now + us * 1000LL;
	if (deadline > 0 && deadline < end)
		end = deadline;
	for (turn = 1;; turn++) {
		hc_host_poll();
		ktask_run_pending();
		/* Detached (or closing): the caller finds no ring. */
		if (ck_pr_load_ptr(&kq->kq_ring) == NULL)
			break;
		if (ck_pr_load_32(&kq->kq_ringwrite) != ringstate &&
		    (uint32_t)ck_pr_load_int(&kq->kq_ringunread) >= minwake)
			break;
		if (sp->hs_counted && hc_spin_signalled(sp, maskp))
			break;
		if (turn % EVRING_BUSYPOLL_CLOCK == 0) {
			if ((now = hc_clock_monotonic()) >= end)
				break;
			/* A timer is due: the caller fires it under kq_lock. */
			if (kqueue_timers_due(kq, now))
				break;
			if (sp->hs_masked && now >= nextsig) {
				if (hc_spin_signalled(sp, maskp))
					break;
				nextsig = now + EVRING_BUSYPOLL_SIGNAL_NS;
			}
		}
		hc_cpu_relax();
	}
	/* Time has passed: what the caller fires next is by a new clock. */
	kern_now_reset();
}

/*
 * kevent_wait()'s answer when the caller has records to read, without
 * kq_lock: the write index moved past ringstate.  The ring is read in an
 * epoch section, since a detach may free it meanwhile (evring_free()).
 * Returns 1 with the unread count in *retval, or 0 when the caller must
 * look under the lock: no ring, the queue closing or with drops to
 * finish, nothing new or nothing unread (a reap may re-post what was
 * consumed), a backlog or put-backs to move in, or a read index found bad
 * (only a reap clears the verdict) or that looks bad now.
 */
static int
evring_wait_fast(struct kqueue *kq, uint32_t ringstate, int *retval)
{
	struct epoch_tracker et;
	struct kevring *kr;
	uint32_t w, rd, reaped;
	int fast = 0;

	if (epoch_enter(&et) != 0)
		return (0);
	kr = ck_pr_load_ptr(&kq->kq_ring);
	/* Pairs with the store fence before kern_kevent_ring_attach()
	   publishes the ring. */
	ck_pr_fence_load();
	if (kr != NULL &&
	    (ck_pr_load_int(&kq->kq_state) & KQ_CLOSING) == 0 &&
	    ck_pr_load_int(&kq->kq_ndrops) == 0 &&
	    (ck_pr_load_int(&kq->kq_ringneedreap) &
	    (EVRING_NR_BADINDEX | EVRING_NR_BACKLOG)) == 0) {
		w = ck_pr_load_32(&kq->kq_ringwrite);
		/*
		 * The count is a hint, bounded by the ring: the records
		 * are the program's to read by eh_write, and nothing is
		 * reaped here, so no fence is needed.
		 */
		rd = ck_pr_load_32(&kr->kr_hdr->eh_read);
		/*
		 * Valid as a reap judges it: between the reaped index and
		 * the write index.  Within entries of the write index is not
		 * enough: a read index moved back behind the reaped one
		 * would count records consumed long ago, or never written,
		 * as unread.  A reaped index loaded past w (a reap and a
		 * publish since) fails the first test: the lock decides.
		 */
		reaped = ck_pr_load_32(&kr->kr_reaped);
		if (w != ringstate && rd != w &&
		    (uint32_t)(w - reaped) <= kr->kr_entries &&
		    (uint32_t)(rd - reaped) <= (uint32_t)(w - reaped)) {
			*retval = (int)(w - rd);
			fast = 1;
		}
	}
	epoch_exit(&et);
	return (fast);
}

/*
 * kevent_wait()'s arguments: the timeout as an absolute deadline (-1:
 * forever, or as good as; 0: never sleep), the signal mask copied into
 * kmask (*maskpp NULL when none was given).
 */
static int
evring_wait_args(const struct timespec *utimeout, const void *usigmask,
    uint64_t *kmask, const void **maskpp, long long *deadlinep)
{
	struct timespec ts;
	int error;

	*maskpp = NULL;
	if (utimeout != NULL) {
		if ((error = hc_copyin(utimeout, &ts, sizeof(ts))) != 0)
			return (error);
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 ||
		    ts.tv_nsec >= 1000000000L)
			return (EINVAL);
	}
	if (usigmask != NULL) {
		if ((error = hc_copyin(usigmask, kmask, HC_SIGSET_SIZE)) != 0)
			return (error);
		*maskpp = kmask;
	}
	*deadlinep = kern_deadline(utimeout != NULL ? &ts : NULL);
	return (0);
}

/*
 * The busy poll a kevent_wait() makes before it sleeps, without kq_lock;
 * 1 with *retval set when it caught a record (answered without the lock
 * too).  Masked: every signal is blocked after it, so the sleep uses the
 * mask the caller runs with (or the one it gave).  Counted: the sleep ends
 * with EINTR at once if a handler ran during the spin.
 */
static int
evring_wait_spin(struct kqueue *kq, uint32_t ringstate, uint32_t minwake,
    uint32_t us, long long deadline, const void **maskpp, struct hc_spin *sp,
    int *retval)
{

	evring_busypoll(kq, ringstate, minwake, us, deadline, *maskpp, sp);
	if (sp->hs_masked && *maskpp == NULL)
		*maskpp = sp->hs_saved;
	return (evring_wait_fast(kq, ringstate, retval));
}

/*
 * Sleep once on the queue's wait list, kq_lock held before and after, no
 * later than the queue's next timer (which the caller then fires).
 * Returns EINTR (a signal: a chosen sleeper passes its wakeup on, so the
 * record that chose it is not stranded), or 0 to look again (woken, timed
 * out, a timer due, or spurious); *wokenp and *timedoutp say which.
 */
static int
evring_sleep(struct kqueue *kq, struct hc_sleeper *hs, long long deadline,
    const void *maskp, int *wokenp, int *timedoutp)
{
	struct evring_waiter ew;
	long long sleepto = kqueue_timers_bound(kq, deadline);
	int error;

	KQ_OWNED(kq);
	ew.ew_hs = hs;
	ew.ew_woken = 0;
	TAILQ_INSERT_TAIL(&kq->kq_ringwait, &ew, ew_link);
	/* A sleeping thread finishes nothing: drops it posted need the task. */
	if (kq->kq_ndrops > 0)
		evring_task_schedule(kq);
	KQ_UNLOCK(kq);
	error = hc_sleep(hs, sleepto, maskp);
	kern_now_reset();
	KQ_LOCK(kq);
	if (!ew.ew_woken)
		TAILQ_REMOVE(&kq->kq_ringwait, &ew, ew_link);
	else {
		*wokenp = 1;
		/* A wakeup posted as we gave up must not linger. */
		if (error != 0)
			hc_sleep_reset(hs);
	}
	if (error == EINTR) {
		if (ew.ew_woken)
			evring_wake(kq, 1, NULL);
		return (EINTR);
	}
	if (error == ETIMEDOUT && sleepto == deadline)
		*timedoutp = 1;	/* one last look, then return */
	return (0);		/* woken, timed out, or spurious */
}

/*
 * kevent_wait()'s start once the lock-free answer failed: the busy poll
 * at once when nothing needs kq_lock first (1 with *retval set when it
 * caught a record), then what every kernel entry does.  *spinusp is the
 * busy poll still to make under the lock's loop (0: none or done).
 */
static int
evring_wait_enter(struct kqueue *kq, uint32_t ringstate, long long deadline,
    uint32_t *spinusp, const void **maskpp, struct hc_spin *sp, int *retval)
{

	/* The busy poll this call makes before it sleeps, us; 0: none. */
	*spinusp = deadline != 0 ? ck_pr_load_32(&kq->kq_busypoll) : 0;
	/*
	 * Nothing for a reap to re-post, flush or report: spin at once,
	 * without kq_lock, which the posters want meanwhile.
	 */
	if (*spinusp > 0 && !evring_mustreap(kq) &&
	    ck_pr_load_int(&kq->kq_ndrops) == 0) {
		if (evring_wait_spin(kq, ringstate,
		    ck_pr_load_32(&kq->kq_minwake), *spinusp, deadline,
		    maskpp, sp, retval))
			return (1);
		*spinusp = 0;
	}
	/*
	 * Let changes made before this call be seen by it: the records the
	 * caller consumed first, so that the host's readiness, sampled
	 * after, may be posted without a re-check (kern_upcall_fresh()).
	 * A busy poll's first turn drains the host at once anyway, after
	 * the reap at the top of the loop.
	 */
	if (*spinusp == 0) {
		evring_enter(kq);
		hc_host_poll();
	} else
		evring_enter_drops(kq);	/* the loop below reaps */
	ktask_run_pending();
	return (0);
}

/*
 * kevent_wait().
 */
int
kern_kevent_wait(int fd, unsigned int ringstate,
    const struct timespec *utimeout, const void *usigmask, int *retval)
{
	uint64_t kmask[HC_SIGSET_SIZE / sizeof(uint64_t)];
	struct hc_sleeper *hs = NULL;
	struct hc_spin spin;
	struct kevring *kr;
	struct kqueue *kq;
	struct file *fp;
	const void *maskp;
	long long deadline;
	uint32_t spinus;
	int error, woken = 0, timedout = 0;

	*retval = 0;
	if ((error = evring_wait_args(utimeout, usigmask, kmask, &maskp,
	    &deadline)) != 0)
		return (error);
	if ((error = fd_lookup_kqueue(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	spin.hs_counted = spin.hs_masked = 0;
	/* The caller has records to read: no lock (the ring protocol). */
	if (evring_wait_fast(kq, ringstate, retval)) {
		fdrop(fp);
		return (0);
	}
	kqueue_enter(kq);
	if (evring_wait_enter(kq, ringstate, deadline, &spinus, &maskp,
	    &spin, retval))
		goto out;
	KQ_LOCK(kq);
	for (;;) {
		if (kq->kq_state & KQ_CLOSING) {
			error = EBADF;
			break;
		}
		if ((kr = kq->kq_ring) == NULL) {
			error = ENXIO;
			break;
		}
		kqueue_timers_run(kq);
		evring_update(kq, kr, NULL);
		if (kr->kr_flags & EVRING_F_BADINDEX) {
			error = EOVERFLOW;
			break;
		}
		if (kr->kr_write != ringstate) {
			/* Never sleep while records the caller has not seen
			   exist (Drepper). */
			*retval = (int)evring_unread(kr);
			break;
		}
		/*
		 * Poll before the descriptor's readiness is cleared below:
		 * an event that comes during the poll then costs no host
		 * write and read of it (the descriptor may stay readable
		 * for as long as the poll lasts, as until the next kernel
		 * entry after the program consumed the ring).
		 */
		if (spinus > 0) {	/* first pass only: before any sleep */
			KQ_UNLOCK(kq);
			if (evring_wait_spin(kq, ringstate,
			    ck_pr_load_32(&kq->kq_minwake), spinus, deadline,
			    &maskp, &spin, retval))
				goto out;
			spinus = 0;
			KQ_LOCK(kq);
			continue;
		}
		/* The caller has seen everything: so may poll() on us. */
		kqueue_set_hostready(kq);
		if (woken || timedout || deadline == 0 ||
		    (deadline > 0 && hc_clock_monotonic() >= deadline))
			break;
		if (hs == NULL && (error = hc_sleeper_get(&hs)) != 0)
			break;
		if ((error = evring_sleep(kq, hs, deadline, maskp, &woken,
		    &timedout)) != 0)
			break;
	}
	KQ_UNLOCK(kq);
out:
	hc_spin_end(&spin);
	kqueue_leave(kq);
	fdrop(fp);
	return (error);
}

/*
 * Room for one more put-back record.  The array grows on demand, up to
 * the ring's entries, because few programs put records back and a ring
 * sized for every descriptor of a queue should not carry an entry's worth
 * of it per descriptor.  Every put-back holds kq_reglock, as the ring's
 * detach does, so meanwhile the waiting records can only leave
 * (evring_flush()) and the ring cannot go.  ENOMEM if it must grow and
 * cannot; 0 otherwise, including when it is as large as it may be.
 */
static int
evring_pb_reserve(struct kqueue *kq)
{
	struct evring_pb *npb, *opb;
	struct kevring *kr;
	uint32_t cap, ocap, i;

	KQ_REG_OWNED(kq);
	KQ_LOCK(kq);
	kr = kq->kq_ring;
	ocap = kr != NULL && kr->kr_npb == kr->kr_pbcap &&
	    kr->kr_pbcap < kr->kr_entries ? kr->kr_pbcap : UINT32_MAX;
	KQ_UNLOCK(kq);
	if (ocap == UINT32_MAX)
		return (0);
	npb = evring_array_grow(ocap, kr->kr_entries, sizeof(*npb), &cap);
	if (npb == NULL)
		return (ENOMEM);
	KQ_LOCK(kq);
	for (i = 0; i < kr->kr_npb; i++)
		npb[i] = *evring_pb_at(kr, i);
	opb = kr->kr_pb;
	kr->kr_pb = npb;
	kr->kr_pbhead = 0;
	kr->kr_pbcap = cap;
	KQ_UNLOCK(kq);
	kfree(opb, sizeof(*opb) * ocap, M_EVRING);
	return (0);
}

/*
 * Put a record back (or, with no record, wake every sleeper).
 */
int
kern_kevent_ring_putback(int fd, const struct kevent *ukev)
{
	const struct filterops *fops = NULL;
	struct kevring *kr;
	struct evring_pb *pb;
	struct knslot *ks = NULL;
	struct knote *kn = NULL;
	struct kevent kev;
	struct kqueue *kq;
	struct file *fp;
	int error, pberror = 0, woken = 0;

	if (ukev != NULL) {
		if ((error = hc_copyin(ukev, &kev, sizeof(kev))) != 0)
			return (error);
		if ((fops = kqueue_fops(kev.filter)) == NULL)
			return (EINVAL);
	}
	if ((error = fd_lookup_kqueue(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	ktask_run_pending();
	evring_enter_drops(kq);
	KQ_REG_LOCK(kq);
	if (fops != NULL) {
		kn = knote_lookup(kq, kev.ident, fops->f_class);
		if (kn != NULL && (ks = knote_slot(kn, fops)) != NULL &&
		    (ks->ks_status & KS_DROPPING))
			ks = NULL;	/* going: the record stands alone */
		if (ks == NULL)
			kn = NULL;
		pberror = evring_pb_reserve(kq);
	}
	KQ_LOCK(kq);
	kr = kq->kq_ring;
	if (kq->kq_state & KQ_CLOSING)
		error = EBADF;
	else if (kr == NULL)
		error = ENXIO;
	else if (fops == NULL) {
		evring_update(kq, kr, NULL);
		evring_wake(kq, INT_MAX, NULL);
	} else {
		evring_reap(kq, kr);
		if (ks != NULL && (ks->ks_status & KS_INFLIGHT)) {
			/* A record of it is in flight: the event merges. */
		} else if (kr->kr_npb == kr->kr_pbcap)
			error = pberror != 0 ? pberror : EAGAIN;
		else {
			pb = evring_pb_at(kr, kr->kr_npb);
			pb->pb_kev = kev;
			pb->pb_kn = kn;
			pb->pb_slot = ks != NULL ? (int)(ks - kn->kn_slot) : 0;
			if (ks != NULL)
				ks->ks_status |= KS_PUTBACK;
			kr->kr_npb++;
			evring_needreap(kq, EVRING_NR_WORK | EVRING_NR_BACKLOG);
		}
		if (error == 0) {
			evring_flush(kq, kr);
			evring_publish(kq, kr, &woken);
			/* Another thread takes it, whatever MINWAKE says. */
			if (woken == 0)
				evring_wake(kq, 1, NULL);
		}
	}
	KQ_UNLOCK(kq);
	KQ_REG_UNLOCK(kq);
	fdrop(fp);
	return (error);
}

/*
 * Queue properties.
 */
int
kern_kqueue_setprop(int fd, int prop, long long value)
{
	struct kevring *kr;
	struct kqueue *kq;
	struct file *fp;
	int error = 0;

	if ((error = fd_lookup_kqueue(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	evring_enter(kq);
	KQ_LOCK(kq);
	kr = kq->kq_ring;
	switch (prop) {
	case EVRING_PROP_MINWAKE:
		if (value < 1 || value > (kr != NULL ? (long long)kr->kr_entries :
		    EVRING_MAXENTRIES)) {
			error = EINVAL;
			break;
		}
		/* Atomic: kevent_wait()'s lock-free spin reads it. */
		ck_pr_store_32(&kq->kq_minwake, (uint32_t)value);
		/* Records that were too few may be enough now. */
		if (kr != NULL && (kq->kq_state & KQ_CLOSING) == 0 &&
		    evring_unread(kr) >= kq->kq_minwake)
			evring_wake(kq, 1, NULL);
		break;
	case EVRING_PROP_BACKLOGSIG:
		if (value < 0 || value > KSIG_MAXSIG) {
			error = EINVAL;
			break;
		}
		kq->kq_backlogsig = (int)value;
		break;
	case EVRING_PROP_BUSYPOLL:
		if (value < 0 || value > EVRING_BUSYPOLL_MAX) {
			error = EINVAL;
			break;
		}
		/* Atomic: kevent_wait() reads it before it locks. */
		ck_pr_store_32(&kq->kq_busypoll, (uint32_t)value);
		break;
	default:
		error = EINVAL;		/* unknown, or read-only */
		break;
	}
	KQ_UNLOCK(kq);
	fdrop(fp);
	return (error);
}

int
kern_kqueue_getprop(int fd, int prop, long long *valuep)
{
	struct evring_waiter *ew;
	struct kevring *kr;
	struct kqueue *kq;
	struct file *fp;
	int error = 0;

	if ((error = fd_lookup_kqueue(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	evring_enter(kq);
	KQ_LOCK(kq);
	kr = kq->kq_ring;
	switch (prop) {
	case EVRING_PROP_MINWAKE:
		*valuep = kq->kq_minwake;
		break;
	case EVRING_PROP_BACKLOGSIG:
		*valuep = kq->kq_backlogsig;
		break;
	case EVRING_PROP_BUSYPOLL:
		*valuep = kq->kq_busypoll;
		break;
	case EVRING_PROP_ENTRIES:
		*valuep = kr != NULL ? kr->kr_entries : 0;
		break;
	case EVRING_PROP_BACKLOG:
		*valuep = kr != NULL ? kq->kq_count + (long long)kr->kr_npb : 0;
		break;
	case EVRING_PROP_WAITERS:
		*valuep = 0;
		TAILQ_FOREACH(ew, &kq->kq_ringwait, ew_link)
			(*valuep)++;
		break;
	default:
		error = EINVAL;
		break;
	}
	KQ_UNLOCK(kq);
	fdrop(fp);
	return (error);
}
