/*
 * evring: extensions beyond FreeBSD's kqueue ABI.
 *
 * 1. The introspection counters behind evring_stat(3), which tests and
 *    benchmarks use to prove sharing and measure kernel memory.
 * 2. The mmap'd event ring: a queue can deliver its events into memory
 *    shared with the program instead of through kevent(2).  The kernel
 *    writes a record (a struct kevent) and advances a write index; the
 *    program reads records and advances a read index, with no system call
 *    while events flow.  kevent_wait() sleeps only when the program has
 *    seen everything.  doc/ring.md is the design; the comments here are
 *    the contract.
 */
#ifndef _SYS_EVRING_H_
#define	_SYS_EVRING_H_

#ifdef _KERNEL
#include <sys/ktypes.h>
#else
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#if defined(__GLIBC__) && !defined(__sigset_t_defined)
#include <bits/types/sigset_t.h>	/* strict ISO C hides sigset_t */
#endif
#endif
#include <sys/event.h>

#define	EVRING_STAT_HOSTREG		0	/* host fd registrations now */
#define	EVRING_STAT_HOSTREG_TOTAL	1	/* host fd registrations ever */
#define	EVRING_STAT_VNODEWATCH		2	/* host vnode watches now */
#define	EVRING_STAT_KQUEUES		3	/* open queues */
#define	EVRING_STAT_KNOTES		4	/* knotes on all queues */
#define	EVRING_STAT_FILES		5	/* descriptors the kernel tracks */
#define	EVRING_STAT_KMEM		6	/* kernel bytes allocated now */
#define	EVRING_STAT_KMEM_KNOTE		7	/* of which knotes */
#define	EVRING_STAT_KMEM_FILE		8	/* of which descriptors */
#define	EVRING_STAT_KMEM_KQUEUE		9	/* of which queues */
#define	EVRING_STAT_KMEM_EVRING		10	/* of which rings' private state */
#define	EVRING_STAT_RINGS		11	/* rings attached now */
#define	EVRING_STAT_RING_WAKEUPS	12	/* kevent_wait() sleepers woken */
#define	EVRING_STAT_RING_POSTS		13	/* records written into rings */
#define	EVRING_STAT_HOST_BACKEND	14	/* 1 epoll, 2 io_uring, 0 none yet */
#define	EVRING_STAT_HOST_CQES		15	/* io_uring completions taken */
#define	EVRING_STAT_HOST_QUERIES	16	/* readiness re-checks asked of
						   the host */
#define	EVRING_STAT_HOST_REPORTS	17	/* readiness reports the host
						   delivered */
#define	EVRING_STAT_HOST_FDCMP		18	/* descriptors compared while
						   looking for another number
						   of a closed one's file */

/*
 * The ring.
 *
 * One mapping holds a header page and, from er_recoff on, an array of
 * entries records, each a struct kevent exactly as kevent() returns it.
 * Indices are free-running 32-bit counters: record i lives at
 * recs[i & mask], the ring is empty when read == write and full when
 * write - read == entries.  Every ring starts at EVRING_INDEX_START, just
 * below 2^32, so that every program crosses the wrap within its first 16
 * records: a consumer must take the indices from the header, never assume
 * 0.
 *
 * Cache line 0 is written by the kernel only, line 1 by the program only,
 * line 2 is constant.  The program's view of the header page is writable
 * (it must write eh_read); the records are mapped read-only.
 *
 * The kernel keeps its own copy of everything it needs and reads exactly
 * one field from this memory: eh_read, once per reap, and it validates it.
 * A read index is valid when it lies between the last index the kernel
 * reaped and the write index (in unsigned 32-bit arithmetic); anything
 * else counts as no progress, sets EVRING_F_BADINDEX and makes
 * kevent_wait() fail with EOVERFLOW until the program stores a valid value
 * again.  Nothing the program writes here can affect another queue or the
 * kernel's own state.
 */
#define	EVRING_VERSION		1
#define	EVRING_MINENTRIES	1
#define	EVRING_MAXENTRIES	65536	/* io_uring's completion-ring limit */
#define	EVRING_INDEX_START	0xfffffff0u
#define	EVRING_CACHELINE	64

/* eh_flags */
#define	EVRING_F_BACKLOG	0x0001	/* events wait in the kernel: the ring
					   was full; any kernel entry for the
					   queue moves them in (in order) */
#define	EVRING_F_BADINDEX	0x0002	/* eh_read was invalid at the last
					   reap; kevent_wait() fails EOVERFLOW */
#define	EVRING_F_DETACHED	0x0004	/* the ring was detached: no more
					   records will come; the mapping is a
					   stale copy until unmapped */

struct evring_hdr {
	/* Cache line 0: written by the kernel. */
	uint32_t	eh_write;	/* index of the next record written */
	uint32_t	eh_flags;	/* EVRING_F_* */
	uint32_t	eh_pad0[EVRING_CACHELINE / 4 - 2];
	/* Cache line 1: written by the program. */
	uint32_t	eh_read;	/* index of the next record not consumed */
	uint32_t	eh_claim;	/* next record a claiming consumer takes
					   (evring_take()); the kernel ignores it */
	uint32_t	eh_pad1[EVRING_CACHELINE / 4 - 2];
	/* Cache line 2: constant while the ring is attached. */
	uint32_t	eh_version;	/* EVRING_VERSION */
	uint32_t	eh_entries;	/* records in the ring, a power of two */
	uint32_t	eh_mask;	/* eh_entries - 1 */
	uint32_t	eh_recsize;	/* sizeof(struct kevent) */
	uint32_t	eh_recoff;	/* offset of record 0 from the header */
	uint32_t	eh_size;	/* bytes in the mapping */
	uint32_t	eh_pad2[EVRING_CACHELINE / 4 - 6];
};

/*
 * Queue properties (kqueue_setprop(), kqueue_getprop()).  They belong to
 * the queue, not to a call, and survive detaching and re-attaching a ring.
 */
#define	EVRING_PROP_MINWAKE	1	/* records that must be unread before a
					   sleeper in kevent_wait() is woken;
					   1 (default) .. the ring's entries */
#define	EVRING_PROP_BACKLOGSIG	2	/* signal sent to the process when the
					   ring overflows into the kernel's
					   backlog; 0 (default) for none */
#define	EVRING_PROP_ENTRIES	3	/* read-only: the ring's entries, 0
					   when none is attached */
#define	EVRING_PROP_BACKLOG	4	/* read-only: knotes waiting in the
					   backlog now */
#define	EVRING_PROP_WAITERS	5	/* read-only: threads sleeping in
					   kevent_wait() and not yet woken */
#define	EVRING_PROP_BUSYPOLL	6	/* microseconds kevent_wait() polls
					   for events before it sleeps; 0
					   (default) .. EVRING_BUSYPOLL_MAX */

#define	EVRING_BUSYPOLL_MAX	1000000	/* one second */

#ifdef _KERNEL
_Static_assert(sizeof(struct evring_hdr) == 3 * EVRING_CACHELINE,
    "evring_hdr is three cache lines");
_Static_assert(offsetof(struct evring_hdr, eh_read) == EVRING_CACHELINE,
    "eh_read starts cache line 1");
_Static_assert(offsetof(struct evring_hdr, eh_version) ==
    2 * EVRING_CACHELINE, "constants start cache line 2");
#endif

#ifndef _KERNEL
#ifdef __cplusplus
extern "C" {
#endif

/* The counter's value, or -1 with errno EINVAL for an unknown counter. */
long long evring_stat(int which);

/*
 * Failure points (evring_failpoint_set(3)), in test builds: arm them with
 * a spec as EVRING_FAILPOINTS takes, and list them with their counts.
 * evring_failpoint_list() fills at most n entries and returns how many
 * points there are.  Both fail with ENOSYS in a build without points.
 */
struct evring_failpoint {
	const char		*ef_name;	/* "host:eventfd:kqfd" */
	unsigned long long	 ef_hits;	/* evaluations ever */
	unsigned long long	 ef_fails;	/* of which failed */
	int			 ef_error;	/* the errno it fails with */
	int			 ef_armed;	/* not "off" */
};
int	evring_failpoint_set(const char *spec);
int	evring_failpoint_list(struct evring_failpoint *fps, int n);

/*
 * The program's handle on one mapping of a ring, filled by
 * kevent_ring_map().  It lives in the program's own memory, so the
 * constants it caches cannot be changed by a stray store into the shared
 * header.  Several threads may share one (evring_take() is made for that);
 * nothing in it changes after kevent_ring_map().
 */
struct evring {
	struct evring_hdr	*er_hdr;	/* the mapping */
	const struct kevent	*er_recs;	/* its records */
	uint32_t		er_entries;
	uint32_t		er_mask;
	size_t			er_size;	/* bytes mapped */
};

/*
 * Attach a ring of entries records (a power of two, EVRING_MINENTRIES to
 * EVRING_MAXENTRIES) to queue kq.  From then on kevent() on kq applies
 * changes but never returns events: they go to the ring.  -1 with errno
 * EINVAL (entries), EBUSY (a ring is attached), EBADF (not a queue),
 * ENOMEM.
 */
int	kevent_ring_attach(int kq, unsigned int entries);
/*
 * Detach kq's ring.  Knotes with records still in the ring keep their
 * state; level-triggered ones report again through kevent().  Sleepers in
 * kevent_wait() wake with ENXIO.  Mappings stay valid (a stale copy, with
 * EVRING_F_DETACHED set) until they are unmapped.  -1 with errno ENXIO if
 * no ring is attached.
 */
int	kevent_ring_detach(int kq);
/*
 * Map kq's ring into the program and fill *ring.  Each call makes a new
 * mapping of the same memory; unmap each with kevent_ring_unmap() (or
 * munmap(er_hdr, er_size)).  Unmapping, detaching and closing the queue
 * may happen in any order.  A fork() child does not inherit mappings.
 */
int	kevent_ring_map(int kq, struct evring *ring);
int	kevent_ring_unmap(struct evring *ring);
/*
 * Wait for the ring of kq to move past ringstate, the write index the
 * caller last saw (evring_peek() and evring_take() hand it out).
 *
 * Returns at once when the ring's write index differs from ringstate;
 * otherwise sleeps until a record is posted and at least
 * EVRING_PROP_MINWAKE records are unread, until timeout passes (NULL:
 * forever, zero: never sleep), or until a signal that sigmask (if not
 * NULL) leaves unblocked is caught (EINTR); the mask is applied atomically
 * with the sleep, as ppoll() does.  A call that finds records unread and
 * nothing waiting in the kernel returns their number without a lock;
 * otherwise it first moves records waiting in the kernel's backlog into
 * the ring and re-posts level-triggered events whose records were
 * consumed.
 *
 * A record wakes one sleeper, not all of them.  A woken thread that cannot
 * use what it took puts it back with kevent_ring_putback(), which wakes
 * another.  A thread chosen for a wakeup that returns EINTR passes the
 * wakeup on.
 *
 * Returns the number of unread records when the write index has moved
 * past ringstate, else 0 (the timeout passed, or kevent_ring_putback(kq,
 * NULL) woke the caller).  -1 with errno EINTR, EBADF (kq is not a queue,
 * or was closed while the caller slept), ENXIO (no ring attached),
 * EOVERFLOW (eh_read is invalid: see above), EINVAL (timeout), EFAULT.
 */
int	kevent_wait(int kq, unsigned int ringstate,
	    const struct timespec *timeout, const sigset_t *sigmask);
/*
 * Put back an event a woken thread took but cannot handle: it is posted
 * into the ring again and one more sleeper is woken.  If the event's knote
 * (ident and filter) has a record in flight already, the event merges into
 * that record.  The record is kev as given.  With kev NULL, wakes every
 * thread sleeping in kevent_wait() on kq (which then return 0 unless the
 * ring moved).  -1 with errno ENXIO (no ring), EINVAL (kev->filter),
 * EAGAIN (entries put-back records already wait for room), EFAULT.
 */
int	kevent_ring_putback(int kq, const struct kevent *kev);
/* Set or read a queue property (EVRING_PROP_*).  -1 with errno EINVAL. */
int	kqueue_setprop(int kq, int prop, long long value);
int	kqueue_getprop(int kq, int prop, long long *valuep);

#ifdef __cplusplus
}
#endif

/*
 * Inline helpers for consuming a ring.  Two disciplines; a program uses
 * one of them per ring:
 *
 *  - One consumer thread: evring_peek() the next record, or
 *    evring_for_each() over every unread one, then evring_advance() past
 *    what it used.
 *  - Several consumer threads: evring_take() claims the next record
 *    (compare-and-swap on eh_claim), copies it out and releases it, in
 *    claim order, by advancing eh_read.
 *
 * Both hand out the write index they saw when the ring looked empty: pass
 * exactly that to kevent_wait(), so that a record posted after the look
 * makes kevent_wait() return at once instead of sleeping on it.
 *
 * The header's fields are plain uint32_t, the same layout for the kernel,
 * C and C++, accessed with the compiler's __atomic builtins (GCC and
 * Clang, in C and C++ alike), as liburing's barrier.h does.
 */
#if defined(__GNUC__)
#include <sched.h>

static inline void
_evring_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * The next unread record, or NULL when the ring is empty; *statep (if not
 * NULL) receives the write index seen.  Single consumer only.
 */
static inline const struct kevent *
evring_peek(const struct evring *r, uint32_t *statep)
{
	uint32_t rd, wr;

	/* Only this thread writes eh_read: its own last store. */
	rd = __atomic_load_n(&r->er_hdr->eh_read, __ATOMIC_RELAXED);
	/*
	 * Load-acquire: pairs with the kernel's store-release of eh_write
	 * after it wrote the record (evring_publish() in kern_evring.c), so
	 * every record before wr is visible here.
	 */
	wr = __atomic_load_n(&r->er_hdr->eh_write, __ATOMIC_ACQUIRE);
	if (statep != NULL)
		*statep = wr;
	if (rd == wr)
		return (NULL);
	return (&r->er_recs[rd & r->er_mask]);
}

/* Records unread now (single consumer); *firstp gets the first's index. */
static inline uint32_t
evring_ready(const struct evring *r, uint32_t *firstp)
{
	uint32_t rd, wr;

	rd = __atomic_load_n(&r->er_hdr->eh_read, __ATOMIC_RELAXED);
	/* Load-acquire: pairs with the kernel's store-release of eh_write. */
	wr = __atomic_load_n(&r->er_hdr->eh_write, __ATOMIC_ACQUIRE);
	if (firstp != NULL)
		*firstp = rd;
	return (wr - rd);
}

/* Record number idx (an index from evring_ready()). */
static inline const struct kevent *
evring_record(const struct evring *r, uint32_t idx)
{

	return (&r->er_recs[idx & r->er_mask]);
}

/*
 * The index past the last record posted; records before it may be read.
 * Load-acquire: pairs with the kernel's store-release of eh_write.
 */
static inline uint32_t
_evring_write_index(const struct evring *r)
{

	return (__atomic_load_n(&r->er_hdr->eh_write, __ATOMIC_ACQUIRE));
}

/*
 * Every unread record, oldest first (single consumer): idx (a uint32_t)
 * is each record's index, kev (a const struct kevent *) the record.  The
 * write index is read again before each record, as liburing's
 * io_uring_for_each_cqe() reads the tail, so records posted during the
 * loop are visited too.  The loop consumes nothing: evring_advance() past
 * the records used afterwards.
 */
#define	evring_for_each(r, idx, kev)					\
	for ((idx) = __atomic_load_n(&(r)->er_hdr->eh_read,		\
	    __ATOMIC_RELAXED);						\
	    (idx) != _evring_write_index(r) &&				\
	    ((kev) = evring_record((r), (idx)), 1);			\
	    (idx)++)

/* Consume n records (single consumer): they may be overwritten after. */
static inline void
evring_advance(const struct evring *r, uint32_t n)
{
	uint32_t rd;

	rd = __atomic_load_n(&r->er_hdr->eh_read, __ATOMIC_RELAXED);
	/*
	 * Store-release: pairs with the kernel's load-acquire of eh_read in
	 * its reap (evring_reap() in kern_evring.c), so our reads of these
	 * records happen before the kernel writes new ones over them.
	 */
	__atomic_store_n(&r->er_hdr->eh_read, rd + n, __ATOMIC_RELEASE);
}

/*
 * Whether events wait in the kernel because the ring was full
 * (EVRING_F_BACKLOG): consuming records and calling kevent_wait() moves
 * them in.  Relaxed: the kernel sets the flag before its store-release of
 * eh_write, so it is at least as fresh as the last evring_peek(),
 * evring_ready() or evring_take(); a stale answer costs one call, never
 * an event.
 */
static inline int
evring_backlogged(const struct evring *r)
{

	return ((__atomic_load_n(&r->er_hdr->eh_flags, __ATOMIC_RELAXED) &
	    EVRING_F_BACKLOG) != 0);
}

/*
 * Several consumers: claim the next record, copy it into *kev and release
 * it.  Returns 1, or 0 when the ring is empty, with *statep (if not NULL)
 * the write index seen either way.  Records are released in the order
 * they were claimed, so a thread waits (briefly: a copy of 32 bytes) for
 * threads that claimed earlier records to release them.  Returns -1 only
 * when eh_claim or eh_read holds a value no evring_take() could have
 * stored (a stray store into the header), never on a healthy ring: once
 * no thread is inside evring_take(), storing eh_read into eh_claim
 * recovers.
 */
static inline int
evring_take(const struct evring *r, struct kevent *kev, uint32_t *statep)
{
	uint32_t *claim = &r->er_hdr->eh_claim;
	uint32_t *read = &r->er_hdr->eh_read;
	uint32_t c, rd, wr;
	unsigned spins;

	for (;;) {
		/*
		 * The read index first, then the claim: both only grow and
		 * the claim is never behind the read index, so a claim
		 * loaded after rd is at or past it.  (The other order let
		 * other threads claim and release past a claim loaded
		 * earlier, and the difference wrapped.)  Load-acquire keeps
		 * the claim's load after this one.
		 */
		rd = __atomic_load_n(read, __ATOMIC_ACQUIRE);
		c = __atomic_load_n(claim, __ATOMIC_RELAXED);
		/*
		 * Load-acquire: pairs with the kernel's store-release of
		 * eh_write, so record c is visible once c is before wr.
		 */
		wr = __atomic_load_n(&r->er_hdr->eh_write, __ATOMIC_ACQUIRE);
		if (statep != NULL)
			*statep = wr;
		/*
		 * The claim index is only ever in [read, read + entries]
		 * when every store to it came from here.  Beyond that, it
		 * is a stray store, and waiting on it would never end,
		 * unless the read index moved since we loaded it (then the
		 * two loads saw different moments): look again.
		 */
		if ((uint32_t)(c - rd) > r->er_entries) {
			if (__atomic_load_n(read, __ATOMIC_RELAXED) != rd)
				continue;
			return (-1);
		}
		if ((int32_t)(wr - c) <= 0)
			return (0);
		/*
		 * Relaxed: the claim only decides which thread owns record
		 * c; its contents are ordered by the acquire load of wr,
		 * and its slot cannot be reused before we release it below.
		 */
		if (__atomic_compare_exchange_n(claim, &c, c + 1, 1,
		    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	}
	*kev = r->er_recs[c & r->er_mask];
	/*
	 * Load-acquire: pairs with the store-release below made by the
	 * thread that claimed record c - 1, so the read index advances in
	 * claim order and each release carries the earlier ones.
	 */
	for (spins = 0; (rd = __atomic_load_n(read, __ATOMIC_ACQUIRE)) != c;
	    spins++) {
		if ((uint32_t)(c - rd) > r->er_entries)
			return (-1);	/* a stray store moved eh_read */
		if (spins < 256)
			_evring_cpu_relax();
		else
			(void)sched_yield();	/* its holder was preempted */
	}
	/*
	 * Store-release: pairs with the kernel's load-acquire of eh_read in
	 * its reap, so our copy of record c happens before the kernel reuses
	 * its slot, and with the next claimer's load-acquire just above.
	 */
	__atomic_store_n(read, c + 1, __ATOMIC_RELEASE);
	return (1);
}
#endif /* __GNUC__ */

#endif /* !_KERNEL */

#endif /* !_SYS_EVRING_H_ */
