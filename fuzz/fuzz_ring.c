/*
 * fuzz_ring: libFuzzer harness for the event ring's untrusted header
 * (sys/kern/kern_evring.c, doc/ring.md "What the kernel trusts").
 *
 * The program's view of a ring's header page is writable, and the kernel
 * must survive whatever the program stores there.  Each input drives one
 * queue with EV_CLEAR EVFILT_USER registrations through a sequence of
 * operations: triggers, enables and disables (kevent()), put-backs,
 * kevent_wait() with the read index the program stored, legitimate
 * consumption (advancing eh_read, evring_take()), stores of arbitrary or
 * nearly right values into eh_read, eh_claim or any other word of the
 * header page, remapping, detaching, re-attaching with another size, and
 * kevent() on the detached queue.  Invariants:
 *
 *  - nothing crashes (ASan, UBSan);
 *  - kevent_wait() fails only with EOVERFLOW (kevent_wait(2): the read
 *    index is invalid) or, with no ring, ENXIO; a read index between the
 *    last one the kernel accepted and the write index it then reported is
 *    accepted, and one farther from it than any valid index can be is
 *    refused;
 *  - an accepted call reports at most the ring's entries, and never more
 *    records than were posted: the write index it implies, and the
 *    kernel's count of records written (EVRING_STAT_RING_POSTS), stay
 *    within the triggers and put-backs made, plus one per registration
 *    pending when the ring was attached;
 *  - the unread records are this queue's, one per registration at most;
 *  - after EOVERFLOW the kernel has republished eh_write and
 *    EVRING_F_BADINDEX, and storing that eh_write into eh_read recovers;
 *  - at the end, after recovering (or re-attaching), the queue still
 *    works: a registration triggered then arrives as one record, and
 *    closing the queue leaves no knote, queue or ring behind.
 */
#define	_GNU_SOURCE
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_input.h"

#define	NUSER	6		/* idents 0..NUSER-1; NUSER is the probe */
#define	UDATA(id) ((void *)(uintptr_t)(0x100 + (id)))

/*
 * What the harness knows of the kernel's ring.  good_rd is the last read
 * index the kernel accepted and good_wr the write index it implied then;
 * the kernel's own reaped index is at most good_rd unless a kernel entry
 * has since seen another value in eh_read (dirty), which it may have
 * accepted.  budget bounds the records this attachment may write.
 */
struct ring_state {
	int		kq;
	int		attached;
	int		mapped;		/* r is a mapping (maybe stale) */
	struct evring	r;
	uint32_t	entries;
	uint32_t	good_rd;
	uint32_t	good_wr;
	int		dirty;
	uint64_t	budget;		/* this attachment */
	uint64_t	total_budget;	/* all attachments of this input */
};

static uint32_t
hdr_load(const uint32_t *p)
{

	return (__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static void
hdr_store(uint32_t *p, uint32_t v)
{

	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* A kernel entry for the queue: it may reap whatever eh_read holds. */
static void
kernel_entry(struct ring_state *s)
{

	if (s->attached && hdr_load(&s->r.er_hdr->eh_read) != s->good_rd)
		s->dirty = 1;
}

static int
change(struct ring_state *s, int ident, unsigned short flags,
    unsigned int fflags)
{
	struct kevent kev;

	kernel_entry(s);
	EV_SET(&kev, ident, EVFILT_USER, flags, fflags, 0, UDATA(ident));
	return (kevent(s->kq, &kev, 1, NULL, 0, NULL));
}

static void
ring_map(struct ring_state *s)
{

	if (s->mapped)
		CHECK(kevent_ring_unmap(&s->r) == 0);
	CHECK(kevent_ring_map(s->kq, &s->r) == 0);
	s->mapped = 1;
	CHECK(s->r.er_entries == s->entries);
}

static void
ring_attach(struct ring_state *s, uint32_t entries)
{
	int r;

	r = kevent_ring_attach(s->kq, entries);
	if (s->attached) {
		CHECK(r == -1 && errno == EBUSY);
		return;
	}
	CHECK(r == 0);
	s->attached = 1;
	s->entries = entries;
	ring_map(s);
	/* A fresh ring: nothing has touched this header yet. */
	CHECK(s->r.er_hdr->eh_read == EVRING_INDEX_START);
	CHECK(s->r.er_hdr->eh_version == EVRING_VERSION);
	CHECK(s->r.er_hdr->eh_entries == entries);
	CHECK(s->r.er_hdr->eh_mask == entries - 1);
	s->good_rd = s->good_wr = EVRING_INDEX_START;
	s->dirty = 0;
	/* What was pending for kevent() moves in: one per registration. */
	s->budget = NUSER + 1;
	s->total_budget += s->budget;
}

/* The records between rd and wr: this queue's, one per ident at most. */
static void
check_records(struct ring_state *s, uint32_t rd, uint32_t wr)
{
	const struct kevent *kev;
	unsigned seen = 0;
	uint32_t i;

	for (i = rd; i != wr; i++) {
		kev = evring_record(&s->r, i);
		CHECK(kev->filter == EVFILT_USER);
		CHECK(kev->ident <= NUSER);
		CHECK(kev->udata == UDATA(kev->ident));
		CHECK((seen & (1u << kev->ident)) == 0);
		seen |= 1u << kev->ident;
	}
}

/*
 * kevent_wait() with ringstate the read index the program stored: it
 * returns exactly the unread count, write - read, when the read index is
 * valid.  Returns it, or -1 (EOVERFLOW).
 */
static int
ring_wait(struct ring_state *s)
{
	struct timespec zero = { 0, 0 };
	uint32_t rd, wr, lo;
	int n;

	if (!s->attached) {
		n = kevent_wait(s->kq, 0, &zero, NULL);
		CHECK(n == -1 && errno == ENXIO);
		return (-1);
	}
	rd = hdr_load(&s->r.er_hdr->eh_read);
	n = kevent_wait(s->kq, rd, &zero, NULL);
	/* A valid index lies at or after good_rd - entries, and at or before
	   the last index the budget allows. */
	lo = s->good_rd - s->entries;
	if (n < 0) {
		CHECK(errno == EOVERFLOW);
		CHECK(s->dirty ||
		    (uint32_t)(rd - s->good_rd) > s->good_wr - s->good_rd);
		/* Republished at the reap that refused it. */
		CHECK(hdr_load(&s->r.er_hdr->eh_flags) & EVRING_F_BADINDEX);
		wr = hdr_load(&s->r.er_hdr->eh_write);
		CHECK(wr - EVRING_INDEX_START <= s->budget);
		CHECK(wr - s->good_wr <= s->budget);
		return (-1);
	}
	CHECK((uint32_t)(rd - lo) <=
	    (uint32_t)(EVRING_INDEX_START + s->budget - lo));
	CHECK((uint32_t)n <= s->entries);
	wr = rd + (uint32_t)n;
	CHECK(wr - EVRING_INDEX_START <= s->budget);
	CHECK(wr - s->good_wr <= s->budget);	/* never goes back */
	check_records(s, rd, wr);
	s->good_rd = rd;
	s->good_wr = wr;
	s->dirty = 0;
	return (n);
}

/* The documented recovery: store the republished eh_write into eh_read. */
static int
ring_recover(struct ring_state *s)
{
	int n;

	if ((n = ring_wait(s)) >= 0)
		return (n);
	hdr_store(&s->r.er_hdr->eh_read, hdr_load(&s->r.er_hdr->eh_write));
	hdr_store(&s->r.er_hdr->eh_claim, hdr_load(&s->r.er_hdr->eh_read));
	n = ring_wait(s);
	CHECK(n >= 0);
	return (n);
}

/* A value for a header word: garbage, or near an index that matters. */
static uint32_t
scribble_value(struct ring_state *s, struct input *in)
{
	uint8_t b = in8(in);
	int32_t d = (int8_t)in8(in);

	switch (b % 5) {
	case 0:
		return (in32(in));
	case 1:
		return (s->good_rd + (uint32_t)d);
	case 2:
		return (s->good_wr + (uint32_t)d);
	case 3:
		return (hdr_load(&s->r.er_hdr->eh_write) + (uint32_t)d);
	default:
		return (s->good_rd + s->entries * (uint32_t)(d % 4));
	}
}

static void
scribble(struct ring_state *s, struct input *in)
{
	uint32_t *words = (uint32_t *)(void *)s->r.er_hdr;
	uint32_t nwords = (uint32_t)((const char *)s->r.er_recs -
	    (const char *)s->r.er_hdr) / 4;
	uint8_t b = in8(in);
	uint32_t v = scribble_value(s, in);

	if (b < 128)
		hdr_store(&s->r.er_hdr->eh_read, v);
	else if (b < 160)
		hdr_store(&s->r.er_hdr->eh_claim, v);
	else
		hdr_store(&words[in32(in) % nwords], v);
}

/* Consume up to k of the records the last accepted wait reported. */
static void
consume(struct ring_state *s, uint32_t k)
{
	uint32_t avail = s->good_wr - s->good_rd;

	if (k > avail)
		k = avail;
	hdr_store(&s->r.er_hdr->eh_read, s->good_rd + k);
	/* Within the window: the kernel must accept it. */
	CHECK(ring_wait(s) >= 0);
}

static void
take(struct ring_state *s)
{
	struct kevent kev;
	uint32_t state;
	int r;

	/* No thread is inside evring_take(): this repairs the claim. */
	hdr_store(&s->r.er_hdr->eh_claim, hdr_load(&s->r.er_hdr->eh_read));
	/*
	 * Only the result is checked: the record it copies is found by
	 * eh_write as the shared page holds it, which may be a stray store.
	 */
	r = evring_take(&s->r, &kev, &state);
	CHECK(r >= -1 && r <= 1);
}

static void
collect_detached(struct ring_state *s)
{
	struct timespec zero = { 0, 0 };
	struct kevent evs[NUSER * 2];
	unsigned seen = 0;
	int i, n;

	kernel_entry(s);
	n = kevent(s->kq, NULL, 0, evs, NUSER * 2, &zero);
	if (s->attached) {
		CHECK(n == 0);		/* events go to the ring */
		return;
	}
	CHECK(n >= 0 && n <= NUSER + 1);
	for (i = 0; i < n; i++) {
		CHECK(evs[i].filter == EVFILT_USER && evs[i].ident <= NUSER);
		CHECK(evs[i].udata == UDATA(evs[i].ident));
		CHECK((seen & (1u << evs[i].ident)) == 0);
		seen |= 1u << evs[i].ident;
	}
}

/* Recover, drain, and see a fresh trigger arrive as one record. */
static void
check_works(struct ring_state *s)
{
	const struct kevent *kev;
	uint32_t rd;
	int i, n;

	if (!s->attached)
		ring_attach(s, 4);
	n = ring_recover(s);
	for (i = 0; n > 0 && i < 64; i++) {
		hdr_store(&s->r.er_hdr->eh_read, s->good_wr);
		n = ring_wait(s);
		CHECK(n >= 0);
	}
	CHECK(n == 0);
	s->budget++;
	s->total_budget++;
	CHECK(change(s, NUSER, EV_ENABLE, 0) == 0);
	CHECK(change(s, NUSER, 0, NOTE_TRIGGER) == 0);
	rd = s->good_rd;
	n = ring_wait(s);
	CHECK(n == 1);
	kev = evring_record(&s->r, rd);
	CHECK(kev->ident == NUSER && kev->filter == EVFILT_USER);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct ring_state s;
	struct kevent kev;
	long long knotes, kqueues, rings, posts;
	int id, ops = 0, r;

	knotes = evring_stat(EVRING_STAT_KNOTES);
	kqueues = evring_stat(EVRING_STAT_KQUEUES);
	rings = evring_stat(EVRING_STAT_RINGS);
	posts = evring_stat(EVRING_STAT_RING_POSTS);
	memset(&s, 0, sizeof(s));
	s.kq = kqueue();
	CHECK(s.kq >= 0);
	for (id = 0; id <= NUSER; id++)
		CHECK(change(&s, id, EV_ADD | EV_CLEAR, 0) == 0);
	ring_attach(&s, 1u << (in8(&in) % 5));
	while (in.left > 0 && ops++ < 200) {
		switch (in8(&in) % 12) {
		case 0:
		case 1:		/* trigger */
			s.budget++;
			s.total_budget++;
			CHECK(change(&s, in8(&in) % NUSER, 0, NOTE_TRIGGER) ==
			    0);
			break;
		case 2:		/* enable or disable */
			id = in8(&in);
			CHECK(change(&s, (id >> 1) % NUSER,
			    (id & 1) ? EV_DISABLE : EV_ENABLE, 0) == 0);
			break;
		case 3:
		case 4:
			if (s.mapped)
				scribble(&s, &in);
			break;
		case 5:
			(void)ring_wait(&s);
			break;
		case 6:
			if (s.attached && !s.dirty)
				consume(&s, in8(&in) % 4);
			else if (s.attached)
				(void)ring_recover(&s);
			break;
		case 7:
			if (s.attached)
				take(&s);
			break;
		case 8:		/* put back a record of one of ours */
			id = in8(&in) % NUSER;
			EV_SET(&kev, id, EVFILT_USER, EV_CLEAR, 0, 0,
			    UDATA(id));
			kernel_entry(&s);
			r = kevent_ring_putback(s.kq, &kev);
			if (!s.attached)
				CHECK(r == -1 && errno == ENXIO);
			else if (r == 0) {
				s.budget++;
				s.total_budget++;
			} else
				CHECK(errno == EAGAIN || errno == ENOMEM);
			break;
		case 9:
			kernel_entry(&s);
			r = kevent_ring_detach(s.kq);
			if (!s.attached) {
				CHECK(r == -1 && errno == ENXIO);
				break;
			}
			CHECK(r == 0);
			s.attached = 0;
			/* The kernel's last store; no scribble since. */
			CHECK(hdr_load(&s.r.er_hdr->eh_flags) &
			    EVRING_F_DETACHED);
			break;
		case 10:
			ring_attach(&s, 1u << (in8(&in) % 5));
			break;
		case 11:
			if (in8(&in) & 1)
				collect_detached(&s);
			else if (s.attached)
				ring_map(&s);
			break;
		}
	}
	check_works(&s);
	CHECK(evring_stat(EVRING_STAT_RING_POSTS) - posts <=
	    (long long)s.total_budget);
	CHECK(close(s.kq) == 0);
	if (s.mapped)
		CHECK(kevent_ring_unmap(&s.r) == 0);
	CHECK(evring_stat(EVRING_STAT_KNOTES) == knotes);
	CHECK(evring_stat(EVRING_STAT_KQUEUES) == kqueues);
	CHECK(evring_stat(EVRING_STAT_RINGS) == rings);
	return (0);
}
