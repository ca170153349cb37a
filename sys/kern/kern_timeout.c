/*
 * The timing wheel (sys/sys/kwheel.h): Varghese and Lauck's hierarchical
 * wheel with cascading, as in BSD's callout(9) and Linux's classic timer
 * wheel, with exact deadlines.
 *
 * A timer whose tick is delta ticks ahead of the wheel's goes to the level
 * k with KW_LEVELSIZE^k <= delta < KW_LEVELSIZE^(k+1), in the bucket its
 * tick's digit k names.  Level 0 then holds the next KW_LEVELSIZE ticks
 * one per bucket, and the buckets of level k past the current one are
 * whole stretches of KW_LEVELSIZE^k ticks still to come.  (A timer placed
 * in level k's current bucket is a whole turn of that level ahead: the
 * bucket was cascaded when the wheel entered it.)  When the wheel reaches
 * the first tick of a level k bucket, that bucket is cascaded: its timers
 * are placed again, each lower than before.
 *
 * The wheel is not ticked.  kwheel_expire() is called at a time of the
 * owner's choosing and moves the wheel straight to the tick of that time,
 * stopping only at the ticks where a level 0 bucket has timers or a bucket
 * must be cascaded; so an hour with nothing due costs a few steps, not
 * fifty million ticks.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>	/* KASSERT */
#include <sys/kwheel.h>

#define	KW_MASK		(KW_LEVELSIZE - 1)

static inline uint64_t
kw_rotr(uint64_t m, int s)
{

	return ((m >> s) | (m << ((KW_LEVELSIZE - s) & KW_MASK)));
}

/* The bucket's timers, moved onto *local; the bucket is left empty. */
static void
kw_take(struct kwheel *w, int b, struct kwbucket *local)
{
	struct kwbucket *head = &w->w_bucket[b];

	local->lh_first = head->lh_first;
	if (local->lh_first != NULL)
		local->lh_first->kw_link.le_prev = &local->lh_first;
	LIST_INIT(head);
	w->w_map[b >> KW_LEVELBITS] &= ~(1ULL << (b & KW_MASK));
}

void
kwheel_init(struct kwheel *w, long long now)
{
	int i;

	w->w_tick = now >> KW_TICKSHIFT;
	w->w_next = KW_NEVER;
	w->w_count = 0;
	for (i = 0; i < KW_LEVELS; i++)
		w->w_map[i] = 0;
	for (i = 0; i < KW_LEVELS * KW_LEVELSIZE; i++)
		LIST_INIT(&w->w_bucket[i]);
}

void
kwheel_add(struct kwheel *w, struct kwtimer *t, long long deadline)
{
	long long tick, delta;
	int k, b;

	KASSERT(t->kw_bucket == KW_IDLE, ("kwheel_add: armed"));
	if (deadline < 0)
		deadline = 0;
	tick = deadline >> KW_TICKSHIFT;
	delta = tick - w->w_tick;
	if (delta < KW_LEVELSIZE) {
		k = 0;
		if (delta < 0)		/* due: the bucket looked at next */
			tick = w->w_tick;
	} else {
		k = (63 - __builtin_clzll((unsigned long long)delta)) /
		    KW_LEVELBITS;
		if (k >= KW_LEVELS) {	/* cascaded again until it fits */
			k = KW_LEVELS - 1;
			tick = w->w_tick +
			    (1LL << (KW_LEVELBITS * KW_LEVELS)) - 1;
		}
	}
	b = k * KW_LEVELSIZE + (int)((tick >> (k * KW_LEVELBITS)) & KW_MASK);
	LIST_INSERT_HEAD(&w->w_bucket[b], t, kw_link);
	w->w_map[k] |= 1ULL << (b & KW_MASK);
	t->kw_bucket = b;
	t->kw_deadline = deadline;
	w->w_count++;
	if (deadline < w->w_next)
		__atomic_store_n(&w->w_next, deadline, __ATOMIC_RELAXED);
}

/*
 * Disarm t.  Also for a timer kwheel_expire() holds on its own list: the
 * bucket the timer names is then another's or empty, and is looked at
 * only to keep its bit true.
 */
void
kwheel_remove(struct kwheel *w, struct kwtimer *t)
{
	int b = t->kw_bucket;

	if (b == KW_IDLE)
		return;
	LIST_REMOVE(t, kw_link);
	if (LIST_EMPTY(&w->w_bucket[b]))
		w->w_map[b >> KW_LEVELBITS] &= ~(1ULL << (b & KW_MASK));
	t->kw_bucket = KW_IDLE;
	w->w_count--;
}

/* Place again every timer of the buckets that begin at the current tick. */
static void
kw_cascade(struct kwheel *w)
{
	struct kwbucket local;
	struct kwtimer *t;
	int k, b;

	for (k = KW_LEVELS - 1; k > 0; k--) {
		if ((w->w_tick & ((1LL << (k * KW_LEVELBITS)) - 1)) != 0)
			continue;
		b = k * KW_LEVELSIZE +
		    (int)((w->w_tick >> (k * KW_LEVELBITS)) & KW_MASK);
		if (LIST_EMPTY(&w->w_bucket[b]))
			continue;
		kw_take(w, b, &local);
		while ((t = LIST_FIRST(&local)) != NULL) {
			LIST_REMOVE(t, kw_link);
			t->kw_bucket = KW_IDLE;
			w->w_count--;
			kwheel_add(w, t, t->kw_deadline);
		}
	}
}

/*
 * Fire the current tick's timers that are due by now.  Those of the tick
 * that are not yet due go back.  fn may disarm any timer (kwheel_remove()
 * handles one on the local list) and arm any, but not one due by now.
 */
static void
kw_fire(struct kwheel *w, long long now,
    void (*fn)(struct kwtimer *, void *), void *arg)
{
	struct kwbucket local;
	struct kwtimer *t;
	int b = (int)(w->w_tick & KW_MASK);

	if (LIST_EMPTY(&w->w_bucket[b]))
		return;
	kw_take(w, b, &local);
	while ((t = LIST_FIRST(&local)) != NULL) {
		LIST_REMOVE(t, kw_link);
		t->kw_bucket = KW_IDLE;
		w->w_count--;
		if (t->kw_deadline > now)
			kwheel_add(w, t, t->kw_deadline);
		else
			fn(t, arg);
	}
}

/* The next tick after the current one where a bucket needs looking at. */
static long long
kw_nexttick(const struct kwheel *w)
{
	long long best = KW_NEVER, t;
	uint64_t m;
	int k, c, off, sh;

	for (k = 0; k < KW_LEVELS; k++) {
		if ((m = w->w_map[k]) == 0)
			continue;
		sh = k * KW_LEVELBITS;
		c = (int)((w->w_tick >> sh) & KW_MASK);
		off = __builtin_ctzll(kw_rotr(m, (c + 1) & KW_MASK)) + 1;
		t = ((w->w_tick >> sh) + off) << sh;
		if (t < best)
			best = t;
	}
	return (best);
}

/*
 * A lower bound of the earliest deadline: exact for level 0, whose first
 * non-empty bucket holds the nearest tick's timers; the first tick of a
 * higher level's next bucket otherwise (its timers are no earlier, and the
 * wheel must cascade it then anyway).
 */
static long long
kw_scan(const struct kwheel *w)
{
	const struct kwtimer *t;
	long long best = KW_NEVER, tick;
	uint64_t m;
	int k, c, off, sh;

	if ((m = w->w_map[0]) != 0) {
		c = (int)(w->w_tick & KW_MASK);
		off = __builtin_ctzll(kw_rotr(m, c));
		LIST_FOREACH(t, &w->w_bucket[(c + off) & KW_MASK], kw_link)
			if (t->kw_deadline < best)
				best = t->kw_deadline;
	}
	for (k = 1; k < KW_LEVELS; k++) {
		if ((m = w->w_map[k]) == 0)
			continue;
		sh = k * KW_LEVELBITS;
		c = (int)((w->w_tick >> sh) & KW_MASK);
		off = __builtin_ctzll(kw_rotr(m, (c + 1) & KW_MASK)) + 1;
		tick = (w->w_tick >> sh) + off;
		if (tick > (KW_NEVER >> (sh + KW_TICKSHIFT)))
			continue;
		if ((tick << (sh + KW_TICKSHIFT)) < best)
			best = tick << (sh + KW_TICKSHIFT);
	}
	return (best);
}

/*
 * Fire every timer due by now, in the order of their ticks (not exactly of
 * their deadlines within one tick), and move the wheel to now's tick.
 */
void
kwheel_expire(struct kwheel *w, long long now,
    void (*fn)(struct kwtimer *, void *), void *arg)
{
	long long nowtick = now >> KW_TICKSHIFT, t;

	for (;;) {
		kw_fire(w, now, fn, arg);
		if (w->w_tick >= nowtick)
			break;
		t = kw_nexttick(w);
		w->w_tick = t < nowtick ? t : nowtick;
		kw_cascade(w);
	}
	__atomic_store_n(&w->w_next, kw_scan(w), __ATOMIC_RELAXED);
}
