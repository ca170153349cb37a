/*
 * evring kernel-private kqueue structures and the filter API.
 *
 * A knote here is per (queue, identifier): for descriptors it holds the
 * state of every filter watching that descriptor (read, write, except,
 * vnode) in "slots", so a descriptor costs one knote per queue however many
 * filters watch it, and a front end such as poll() or epoll gets the
 * combined readiness from one object.  doc/filters.md is the guide for
 * writing a filter against this API.
 */
#ifndef _SYS_EVENTVAR_H_
#define	_SYS_EVENTVAR_H_

#ifndef _KERNEL
#error "sys/eventvar.h is kernel-private; programs use <sys/event.h>"
#endif

#include <sys/ktypes.h>
#include <sys/queue.h>
#include <sys/event.h>
#include <sys/fail.h>
#include <sys/hostcall.h>
#include <sys/sysproto.h>

struct kqueue;
struct knote;
struct file;
struct kevring;
struct evring_waiter;

/*
 * A list of knotes attached to one event source (a descriptor, a signal
 * number, a process, a kqueue).  The source owns the list and its lock;
 * filters use only the knlist_* and knote() calls below on it.
 */
struct knlist {
	SLIST_HEAD(, knote)	kl_list;
	struct hc_mtx		*kl_lock;
};

/*
 * One filter's registration on a knote.  All fields are protected by the
 * queue lock of the knote's queue.
 */
struct knslot {
	uint16_t	ks_flags;	/* EV_* given at registration */
	uint16_t	ks_status;	/* KS_* */
	uint32_t	ks_sfflags;	/* fflags given at registration */
	uint32_t	ks_fflags;	/* fflags to report */
	int16_t		ks_filter;	/* EVFILT_* */
	uint16_t	ks_ringpos;	/* KS_INRING: its record's ring slot */
	union {
		int64_t	ksu_sdata;	/* data given at registration */
		void	*ksu_hook;	/* EVFILT_EMPTY: its poll (filt_empty) */
	} ks_u;
	int64_t		ks_data;	/* data to report */
	void		*ks_udata;
};
#define	ks_sdata	ks_u.ksu_sdata
#define	ks_hook		ks_u.ksu_hook

#define	KS_ACTIVE	0x0001	/* event has fired, waits for delivery */
#define	KS_DISABLED	0x0002	/* EV_DISABLE or EV_DISPATCH delivered */
#define	KS_TRIGGERED	0x0004	/* EVFILT_USER: NOTE_TRIGGER pending */
#define	KS_DROPPING	0x0008	/* EV_ONESHOT delivered, detach pending */
#define	KS_INRING	0x0010	/* a record of it is in the ring, unread */
#define	KS_PUTBACK	0x0020	/* a put-back record of it waits for room */
#define	KS_INFLIGHT	(KS_INRING | KS_PUTBACK)
#define	KS_INDROPS	0x0040	/* on its ring's deferred drops */

/* The highest signal number EVFILT_SIGNAL and EVRING_PROP_BACKLOGSIG take. */
#define	KSIG_MAXSIG	64

/* Slot numbers of the descriptor filters on a descriptor knote. */
#define	KN_FD_READ	0
#define	KN_FD_WRITE	1
#define	KN_FD_EXCEPT	2
#define	KN_FD_VNODE	3
#define	KN_FD_PROCDESC	4
#define	KN_FD_EMPTY	5
#define	KN_FD_NFILT	6

/* Knote classes: the namespace an identifier lives in on one queue. */
#define	KNC_FD		0	/* descriptor: read, write, except, vnode,
				   procdesc, empty */
#define	KNC_TIMER	1
#define	KNC_USER	2
#define	KNC_SIGNAL	3
#define	KNC_PROC	4
#define	KNC_MARKER	5	/* a scan's position in the active queue */

struct knote {
	SLIST_ENTRY(knote)	kn_link;	/* queue's hash chain */
	SLIST_ENTRY(knote)	kn_selnext;	/* source's knlist, if on it */
	TAILQ_ENTRY(knote)	kn_tqe;		/* queue's active list */
	struct kqueue		*kn_kq;
	uintptr_t		kn_ident;
	union {
		struct file	*p_fp;		/* KNC_FD: the descriptor */
		void		*p_v;		/* other classes: filter data */
	} kn_ptr;
	uint8_t			kn_class;	/* KNC_* */
	uint8_t			kn_status;	/* KN_* */
	uint8_t			kn_active;	/* slots with KS_ACTIVE, a mask */
	uint8_t			kn_nslots;	/* slots allocated */
	uint32_t		kn_slotmap;	/* KNC_FD: knote_slotidx() */
	struct knslot		kn_slot[];
};

/*
 * A descriptor knote's slot map: four bits per KN_FD_* filter holding its
 * slot's index plus one (0: not registered), so that the header stays one
 * cache line however many descriptor filters there are.  Changed holding
 * both queue locks, read holding either.
 */
_Static_assert(KN_FD_NFILT * 4 <= 32, "kn_slotmap has four bits a filter");
_Static_assert(sizeof(struct knote) == 64, "a knote header is a cache line");

static inline int
knote_slotidx(const struct knote *kn, int filt)
{

	return ((int)(kn->kn_slotmap >> (4 * filt)) & 0xf);
}

static inline void
knote_setslotidx(struct knote *kn, int filt, int idx)
{

	kn->kn_slotmap = (kn->kn_slotmap & ~(0xfu << (4 * filt))) |
	    ((uint32_t)idx << (4 * filt));
}
#define	kn_fp	kn_ptr.p_fp

#define	KN_QUEUED	0x01	/* on the queue's active list */
#define	KN_DETACHED	0x02	/* its source is gone: reports EOF */
#define	KN_EXCL		0x04	/* an activation wakes one sleeper
				   (EPOLLEXCLUSIVE) */
#define	KN_DISPATCHALL	0x08	/* a per-knote collection disables every
				   slot (EPOLLONESHOT) */
#define	KN_INFLUX	0x10	/* a slot's f_attach or f_detach runs
				   without kq_lock: only kq_reglock
				   holders may touch its slots */

/*
 * Hints passed to f_event() through knote().  The high bits say what
 * kind of change the source reports; the low bits carry its detail.
 */
#define	KNH_POLL	0x100000000LL	/* low bits: HC_POLL* readiness */
#define	KNH_VNODE	0x200000000LL	/* low bits: NOTE_* vnode notes */
#define	KNH_SIGNAL	0x400000000LL	/* low bits: count<<8 | signo */
#define	KNH_EXIT	0x800000000LL	/* process exit, status in the source */
#define	KNH_KQUEUE	0x1000000000LL	/* a watched kqueue changed */
#define	KNH_DETAIL(h)	((h) & 0xffffffffLL)

/* f_touch() types */
#define	EVENT_REGISTER	1
#define	EVENT_PROCESS	2

/*
 * A filter.  f_attach() and f_detach() run with the queue's registration
 * lock held but not its queue lock, and may sleep; f_event() and f_touch()
 * run with the queue lock held (and, from knote(), the source's knlist
 * lock) and must not sleep or take a queue lock.  f_event(kn, ks, 0) is a
 * re-check of the condition at delivery time; other hints come from the
 * source.  It updates ks_data/ks_fflags and returns nonzero when the event
 * should be reported.
 */
struct filterops {
	int	f_class;		/* KNC_*: which namespace ident is in */
	int	f_slot;			/* KNC_FD: KN_FD_* slot */
	int	f_flags;		/* EV_* flags the filter always sets */
	/*
	 * KNC_FD: the host readiness (HC_POLL*) the filter needs watched on
	 * a host descriptor; the core registers it (file_watch()) once
	 * f_attach succeeds.
	 */
	int	f_hostevents;
	int	(*f_attach)(struct knote *kn, struct knslot *ks);
	void	(*f_detach)(struct knote *kn, struct knslot *ks);
	int	(*f_event)(struct knote *kn, struct knslot *ks, long long hint);
	/*
	 * Optional: apply a registration to an existing knote (EVENT_REGISTER)
	 * or shape a delivery (EVENT_PROCESS), with the queue lock held.
	 */
	void	(*f_touch)(struct knote *kn, struct knslot *ks,
		    struct kevent *kev, int type);
	/*
	 * Optional: apply EV_ADD on an existing knote to its source, like
	 * f_attach (no queue lock), for sources that must be re-armed (a
	 * running timer).  Without it the core stores fflags and data.
	 */
	int	(*f_modify)(struct knote *kn, struct knslot *ks,
		    const struct kevent *kev);
	/*
	 * For sources kept under the queue lock (a timer on its queue's
	 * wheel): f_attach and f_detach run with kq_lock held, in the hold
	 * the core takes anyway, so they must not sleep or call the host;
	 * once f_detach returns the source cannot activate the knote.
	 * f_prepare, optional, makes beforehand, with kq_reglock alone, what
	 * the filter keeps on the queue (the wheel).
	 */
	int	f_locked;
	int	(*f_prepare)(struct kqueue *kq);
};

struct kqueue {
	struct hc_mtx		*kq_lock;	/* knote state, active list */
	struct hc_mtx		*kq_reglock;	/* the set of knotes */
	TAILQ_HEAD(, knote)	kq_head;	/* knotes with active slots */
	int			kq_count;	/* knotes on kq_head */
	int			kq_state;	/* KQ_* */
	int			kq_fd;		/* its host descriptor */
	int			kq_nknotes;
	int			kq_hostready;	/* host descriptor signalled */
	int			kq_nonblock;	/* the program's O_NONBLOCK on
						   the descriptor; atomic */
	struct file		*kq_fp;		/* its descriptor; its f_knlist
						   holds knotes watching us */
	SLIST_HEAD(, knote)	*kq_hash;	/* (ident, class) -> knote;
						   changed under kq_reglock
						   and kq_lock, read under
						   either */
	unsigned long		kq_hashmask;
	struct kq_sleeper	*kq_sleepers;	/* threads in kevent() */
	struct ktask		*kq_task;	/* deferred notice to watchers */
	/* The event ring (kern_evring.c); all under kq_lock. */
	struct kevring		*kq_ring;	/* NULL when none is attached;
						   read lock-free in an epoch
						   section (kern_evring.c) */
	TAILQ_HEAD(, evring_waiter) kq_ringwait; /* threads in kevent_wait() */
	struct ktask		*kq_rtask;	/* deferred drops, backlog signal */
	uint32_t		kq_minwake;	/* EVRING_PROP_MINWAKE */
	int			kq_backlogsig;	/* EVRING_PROP_BACKLOGSIG */
	int			kq_sigpending;	/* backlog signal to raise */
	int			kq_ringunread;	/* unread records at the last
						   reap (atomic reads) */
	uint32_t		kq_ringwrite;	/* write index at the last
						   publish (atomic reads) */
	uint32_t		kq_busypoll;	/* EVRING_PROP_BUSYPOLL, us */
	int			kq_ndrops;	/* deferred drops (atomic reads) */
	/*
	 * Nonzero when a reap may have more to do than mark consumed
	 * records' slots free: a level-triggered, merged or descriptor
	 * record in flight, a backlog, put-back records, a bad read index.
	 * Set under kq_lock by what creates the work; cleared by an update
	 * that leaves nothing unread and nothing waiting.  A consumer
	 * that finds it clear need not take kq_lock to reap (the next post
	 * reaps for itself).  Atomic reads.
	 */
	int			kq_ringneedreap;
	/*
	 * The knote kqueue_collect_knotes() is delivering, and the host's
	 * poll bits once a re-check of it has read them (kq_recheck_have), so
	 * that its other slots and the front end's report share one read
	 * (sys_file.c).  Under kq_lock.
	 */
	struct knote		*kq_recheck_kn;
	int			kq_recheck_have;
	unsigned		kq_recheck_bits;
	/*
	 * A kevent() call's or a front end's wait: the drain sequence its
	 * own host drain was given (kern_host_poll()); host bits stamped
	 * with it were sampled after the call began (sys_file.c
	 * filt_query()).  Atomic.
	 */
	uint32_t		kq_drainseq;
	/*
	 * A ring's: kern_drain_next() drawn by the last reap that found
	 * records consumed; bits sampled before it may be stale
	 * (kern_upcall_fresh()).  Written under kq_lock; atomic.
	 */
	uint64_t		kq_reapseq;
	/* A front end's queue (epoll, /dev/poll); NULL for kqueue(). */
	const struct kq_personality *kq_pers;
	void			*kq_pdata;	/* the front end's state */
	/*
	 * Its EVFILT_TIMER wheel, made at the first timer (kern_event.c);
	 * set under both locks, read lock-free, freed with the queue.
	 */
	struct kqtimers		*kq_timers;
	/*
	 * Free knotes of the classes other than descriptors, for the next
	 * registration (knote_alloc()); under kq_reglock.  Counted as
	 * M_KNOTE memory while kept, freed with the queue.
	 */
	SLIST_HEAD(, knote)	kq_kncache[KNC_MARKER];
	int			kq_nkncache;
	/* The last nesting walk through it (sys_epoll.c ep_depth()). */
	uint32_t		kq_nestgen;
};

/*
 * A front end that owns a queue (sys_devpoll.c, sys_epoll.c) gives it a
 * personality: kevent() refuses such a queue with EBADF (its knotes carry
 * the front end's conventions), while the ring calls work on it as on any
 * queue.  Hooks may be NULL.
 */
struct kq_personality {
	/*
	 * The queue's descriptor is the library's own, not the program's
	 * (poll()'s pooled queues): it is kept at a high number out of the
	 * program's way, and to the program it is not open.
	 */
	int	kp_internal;
	/*
	 * A descriptor knote of kq was dropped because its descriptor was
	 * closed (knote_fdclose()); kq_reglock is not held.
	 */
	void	(*kp_fdclose)(struct kqueue *kq, int fd);
	/*
	 * The same close, just before the knote kn is dropped, with
	 * kq_reglock held (epoll reads the registration to move it).
	 */
	void	(*kp_fdclosing)(struct kqueue *kq, struct knote *kn);
	/* The queue's memory goes (kqueue_free()): free kq_pdata. */
	void	(*kp_free)(struct kqueue *kq);
};

/*
 * kq_count changes under kq_lock, but kqueue_pending() reads it without
 * that lock (a watching queue's filter, under its own): the store is a
 * relaxed atomic for that reader.
 */
#define	KQ_COUNT_ADD(kq, n)						\
	__atomic_store_n(&(kq)->kq_count, (kq)->kq_count + (n),		\
	    __ATOMIC_RELAXED)

#define	KQ_CLOSING	0x01	/* close() in progress: no new work */

/* Lock assertions, compiled in under INVARIANTS. */
#ifdef INVARIANTS
#define	KASSERT(exp, msg) do {						\
	if (__predict_false(!(exp)))					\
		hc_panic msg;						\
} while (0)
#define	MTX_ASSERT_OWNED(m)	KASSERT(hc_mtx_owned(m), \
	    ("lock " #m " not owned at " __FILE__ ":" _KSTR(__LINE__)))
#define	MTX_ASSERT_NOTOWNED(m)	KASSERT(!hc_mtx_owned(m), \
	    ("lock " #m " owned at " __FILE__ ":" _KSTR(__LINE__)))
#else
#define	KASSERT(exp, msg)	do { } while (0)
#define	MTX_ASSERT_OWNED(m)	do { } while (0)
#define	MTX_ASSERT_NOTOWNED(m)	do { } while (0)
#endif
#define	_KSTR1(x)	#x
#define	_KSTR(x)	_KSTR1(x)
#define	KQ_LOCK(kq)		hc_mtx_lock((kq)->kq_lock)
#define	KQ_UNLOCK(kq)		hc_mtx_unlock((kq)->kq_lock)
#define	KQ_OWNED(kq)		MTX_ASSERT_OWNED((kq)->kq_lock)
#define	KQ_NOTOWNED(kq)		MTX_ASSERT_NOTOWNED((kq)->kq_lock)
#define	KQ_REG_LOCK(kq)		hc_mtx_lock((kq)->kq_reglock)
#define	KQ_REG_UNLOCK(kq)	hc_mtx_unlock((kq)->kq_reglock)
#define	KQ_REG_OWNED(kq)	MTX_ASSERT_OWNED((kq)->kq_reglock)
/* The knote hash: changed holding both locks, read holding either. */
#define	KQ_HASH_READABLE(kq)	KASSERT(hc_mtx_owned((kq)->kq_reglock) || \
	    hc_mtx_owned((kq)->kq_lock), ("knote hash read unlocked"))
#define	KNL_ASSERT_LOCKED(kl)	MTX_ASSERT_OWNED((kl)->kl_lock)

/*
 * A front end's change (select, poll, epoll): on an existing registration,
 * EV_ADD replaces its behaviour flags (EV_CLEAR, EV_DISPATCH, ...), where a
 * kevent() EV_ADD leaves them, as FreeBSD's does.  One of EV_SYSFLAGS,
 * which kevent() strips from a program's changes.
 */
#define	EV_FE_SETFLAGS	EV_FLAG1

/* The event-source API: the only calls a filter makes on a source. */
void	knlist_init(struct knlist *kl, struct hc_mtx *lock);
void	knlist_add(struct knlist *kl, struct knote *kn);
void	knlist_remove(struct knlist *kl, struct knote *kn);
void	knote(struct knlist *kl, long long hint);
void	knote_locked(struct knlist *kl, long long hint);
void	knlist_teardown(struct knlist *kl, unsigned vnode_note);


/* Deferred work run with no lock held (kern_task.c). */
struct ktask {
	struct ktask	*kt_next;
	void		(*kt_fn)(void *);
	void		*kt_arg;
	int		kt_queued;
	unsigned long long kt_chain;	/* kern_task.c: the chain it is in */
};
int	ktask_sysinit(void);
int	ktask_prepare(void);
void	ktask_forkchild(void);
void	ktask_init(struct ktask *t, void (*fn)(void *), void *arg);
int	ktask_enqueue(struct ktask *t);
int	ktask_cancel(struct ktask *t);
void	ktask_run_pending(void);
void	ktask_run_queued(void);

/* Kernel memory with per-type accounting (kern_malloc.c). */
#define	M_KQUEUE	0
#define	M_KNOTE		1
#define	M_FILE		2
#define	M_TEMP		3
#define	M_EVRING	4
#define	M_NTYPES	5
void	*kmalloc(unsigned long size, int type, int flags);
/*
 * Every call site of kmalloc() is a failure point (sys/fail.h) named
 * "kmalloc:TYPE:caller", e.g. "kmalloc:M_KNOTE:knote_alloc", which fails
 * the allocation as if memory were short.  kern_malloc.c defines the
 * function as (kmalloc) to step around the macro.
 */
#define	kmalloc(size, type, flags)					\
	(FAIL_POINT_SITE("kmalloc:" #type, __func__, ENOMEM) != 0 ?	\
	    (void *)0 : (kmalloc)((size), (type), (flags)))
void	kfree(void *p, unsigned long size, int type);
long long kmalloc_inuse(int type);

/* Filter tables and their sources. */
extern const struct filterops file_filtops[KN_FD_NFILT];
/* EVFILT_EMPTY, whose polls live on the queue's timer wheel. */
int	kqueue_timers_init(struct kqueue *kq);
int	filt_emptyattach(struct knote *kn, struct knslot *ks);
void	filt_emptydetach(struct knote *kn, struct knslot *ks);
int	filt_empty(struct knote *kn, struct knslot *ks, long long hint);
int	filt_emptymodify(struct knote *kn, struct knslot *ks,
	    const struct kevent *kev);
void	filt_emptymoved(struct knslot *ks, struct knote *nkn);
extern const struct filterops sig_filtops;
int	kern_sig_init(void);
void	kern_sig_forkchild(void);
void	kern_event_forkchild(void);
void	proc_exit_upcall(unsigned long long cookie, int status, int has);
long long kqueue_stat_knotes(void);
long long kqueue_stat_kqueues(void);

/*
 * Shared between the kqueue core and the ring (kern_event.c).
 * knote_deliver() is the one place that turns a slot into a record and
 * applies EV_ONESHOT, EV_CLEAR and EV_DISPATCH, for kevent() scans and
 * ring posts alike.
 */
#define	KD_EVENT	0x01	/* *kev holds an event */
#define	KD_DROP		0x02	/* EV_ONESHOT: slot is KS_DROPPING; the
				   caller drops it with kq_reglock held */
#define	KD_AGAIN	0x04	/* still active (level-triggered) */
int	knote_deliver(struct knote *kn, int slot, struct kevent *kev);
const struct filterops *kqueue_fops(int filter);
struct knote *knote_lookup(struct kqueue *kq, uintptr_t ident, int class);
struct knslot *knote_slot(struct knote *kn, const struct filterops *fops);
void	knote_drop_slot(struct kqueue *kq, struct knote *kn, int slot);
void	knote_drop_slot_locked(struct kqueue *kq, struct knote *kn, int slot);
int	knote_drop_slot_hold(struct kqueue *kq, struct knote *kn, int slot);
void	knote_release(struct kqueue *kq, struct knote *kn);
void	kqueue_notify_watchers(struct kqueue *kq);
uint64_t kern_drain_next(void);
uint32_t kern_host_poll(void);
void	kern_drain_start(void);
uint64_t kern_drain_stamp(void);
void	kern_upcall_set(struct file *fp);
int	kern_upcall_fresh(struct file *fp, struct kqueue *kq);
void	kqueue_set_hostready(struct kqueue *kq);
void	kqueue_wakeup(struct kqueue *kq);
void	knote_enqueue(struct knote *kn);

long long kern_deadline(const struct timespec *ts);

/* A queue's timers, fired by the threads that serve it (kern_event.c). */
void	kqueue_timers_run(struct kqueue *kq);
void	kqueue_timers_expire(struct kqueue *kq);
int	kqueue_timers_due(struct kqueue *kq, long long now);
long long kqueue_timers_bound(struct kqueue *kq, long long deadline);
void	kqueue_timers_leave(struct kqueue *kq);
void	kqueue_enter(struct kqueue *kq);
void	kqueue_leave(struct kqueue *kq);

/* Nesting across queue kinds (sys_epoll.c). */
int	ep_kevent_nest(struct kqueue *kq, struct kqueue *child);
void	ep_nest_done(void);

/* For front ends built on the core (sys_devpoll.c, sys_epoll.c). */
int	kqueue_create(const struct kq_personality *pers, void *pdata,
	    int *fdp);
int	kqueue_register(struct kqueue *kq, const struct kevent *kev,
	    int *drainp);
int	kqueue_sleep(struct kqueue *kq, struct hc_sleeper **hsp,
	    long long deadline, const void *sigmask);
int	kqueue_sleep_woken(struct kqueue *kq, struct hc_sleeper **hsp,
	    long long deadline, const void *sigmask, int *wokenp);

/*
 * One descriptor's delivery, for front ends that report per descriptor
 * (kqueue_collect_knotes()).  kr_kn and kr_fp are valid while the caller
 * holds kq_reglock.
 */
struct kq_knrec {
	struct knote	*kr_kn;
	struct file	*kr_fp;
	uintptr_t	kr_ident;
	void		*kr_udata;	/* of the last slot delivered */
	unsigned	kr_filters;	/* 1 << KN_FD_* of slots delivered */
	unsigned	kr_drops;	/* slot indexes for knote_drop_slots() */
	unsigned	kr_sfflags;	/* the read slot's registered fflags */
	unsigned	kr_flags;	/* EV_* of the slots delivered, OR'd */
	int		kr_detached;	/* the source is gone (KN_DETACHED) */
	int		kr_hasbits;	/* kr_hostbits is set */
	unsigned	kr_hostbits;	/* the host's poll bits its delivery
					   re-checks read (kq_recheck_kn) */
};
int	kqueue_collect_knotes(struct kqueue *kq, struct knote *marker,
	    struct kq_knrec *recs, int want);
void	kqueue_marker_done(struct kqueue *kq, struct knote *marker);
void	knote_drop_slots(struct kqueue *kq, struct knote *kn, unsigned mask);
void	kqueue_wakeup_one(struct kqueue *kq);

/* The ring's hooks in the core (kern_evring.c). */
void	evring_post(struct kqueue *kq, struct knote *kn, unsigned bits);
void	evring_slot_gone(struct kqueue *kq, struct knote *kn, int slot);
void	evring_knote_moved(struct kqueue *kq, struct knote *okn,
	    struct knote *nkn);
void	evring_enter(struct kqueue *kq);
void	evring_enter_drops(struct kqueue *kq);
void	evring_leave(struct kqueue *kq);
void	evring_close(struct kqueue *kq);
void	evring_kqinit(struct kqueue *kq);
void	evring_forkchild(void);
long long evring_stat_rings(void);
long long evring_stat_wakeups(void);
long long evring_stat_posts(void);

/* Upcall entry for signals (kern_sig.c). */
void	sig_deliver(int signo, unsigned count);

#endif /* !_SYS_EVENTVAR_H_ */
