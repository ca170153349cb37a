/*
 * A hierarchical timing wheel: the kernel's timers, O(1) to arm and to
 * cancel however many are armed (kern_timeout.c).
 *
 * The wheel has KW_LEVELS levels of KW_LEVELSIZE buckets.  A bucket of
 * level 0 holds the timers of one tick (2^KW_TICKSHIFT ns); a bucket of
 * level k holds those of KW_LEVELSIZE^k ticks, and is cascaded into the
 * levels below when the wheel reaches its first tick.  A timer is
 * therefore moved at most once per level in its life, and one that is
 * cancelled before it fires (an idle connection's timeout that the next
 * request pushes back) is never moved at all.  Deadlines are exact: a tick
 * only says where a timer is kept, and kwheel_expire() fires a timer once
 * the time given is at or past its deadline, to the nanosecond.
 *
 * The wheel has no lock and no thread.  Its owner locks it and calls
 * kwheel_expire() when kwheel_next() says something is due; functions it
 * fires run with the owner's lock held (as callout_init_mtx(9)'s do).
 */
#ifndef _SYS_KWHEEL_H_
#define	_SYS_KWHEEL_H_

#include <sys/ktypes.h>
#include <sys/queue.h>

#define	KW_LEVELBITS	6
#define	KW_LEVELSIZE	(1 << KW_LEVELBITS)
#define	KW_LEVELS	8	/* 48 bits of ticks: every int64 deadline */
#define	KW_TICKSHIFT	16	/* a tick is 65.5 us */
#define	KW_NEVER	INT64_MAX

#define	KW_IDLE		(-1)	/* kw_bucket: not armed */

struct kwtimer {
	LIST_ENTRY(kwtimer)	kw_link;
	long long		kw_deadline;	/* monotonic ns */
	int			kw_bucket;	/* KW_IDLE, or level *
						   KW_LEVELSIZE + index */
};

LIST_HEAD(kwbucket, kwtimer);

struct kwheel {
	long long		w_tick;		/* processed up to this tick */
	long long		w_next;		/* nothing is due before this
						   (ns); atomic reads */
	unsigned		w_count;	/* armed timers */
	uint64_t		w_map[KW_LEVELS];	/* non-empty buckets */
	struct kwbucket		w_bucket[KW_LEVELS * KW_LEVELSIZE];
};

void	kwheel_init(struct kwheel *w, long long now);
void	kwheel_add(struct kwheel *w, struct kwtimer *t, long long deadline);
void	kwheel_remove(struct kwheel *w, struct kwtimer *t);
void	kwheel_expire(struct kwheel *w, long long now,
	    void (*fn)(struct kwtimer *, void *), void *arg);

static inline void
kwtimer_init(struct kwtimer *t)
{

	t->kw_bucket = KW_IDLE;
	t->kw_deadline = 0;
}

static inline int
kwtimer_armed(const struct kwtimer *t)
{

	return (t->kw_bucket != KW_IDLE);
}

/*
 * When the wheel next needs kwheel_expire(): a deadline, or the first tick
 * of a bucket to cascade; never later than either, possibly earlier (after
 * a cancel).  Safe to read without the owner's lock, as a hint.
 */
static inline long long
kwheel_next(const struct kwheel *w)
{

	return (__atomic_load_n(&w->w_next, __ATOMIC_RELAXED));
}

#endif /* !_SYS_KWHEEL_H_ */
