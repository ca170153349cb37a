/*
 * The event ring (kern_evring.c, <sys/evring.h>): attach and map errors,
 * map/unmap/detach/close in every order, every filter through the ring,
 * EV_CLEAR/EV_ONESHOT/EV_DISPATCH and level-triggered re-posting,
 * posting in the activation path with no call by the consumer, a 2-entry
 * ring delivering 10,000 knotes through the backlog, merging, the 32-bit
 * index wrap, wake-one and put-back, the minimum-wakeup property, the
 * backlog signal, kevent_wait()'s timeouts, EINTR and signal mask, an
 * untrusted read index, fork(), and several consumers claiming records.
 *
 * Worker threads never call ATF_REQUIRE (that would end the process from
 * the wrong thread); they record failures, which the main thread checks.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#define	MS	1000000LL
#define	SEC	1000000000LL

/* Built with ThreadSanitizer (GCC says so one way, Clang another). */
#if defined(__SANITIZE_THREAD__)
#define	T_TSAN	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define	T_TSAN	1
#endif
#endif

static long long
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * SEC + ts.tv_nsec);
}

static __attribute__((unused)) struct timespec
ms_ts(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * MS;
	return (ts);
}

static int
kq_open(void)
{
	int kq;

	kq = kqueue();
	ATF_REQUIRE_MSG(kq >= 0, "kqueue: %s", strerror(errno));
	return (kq);
}

/* A queue with a ring of entries attached and mapped into *r. */
static int
kq_ring(unsigned entries, struct evring *r)
{
	int kq;

	kq = kq_open();
	ATF_REQUIRE_MSG(kevent_ring_attach(kq, entries) == 0,
	    "kevent_ring_attach(%u): %s", entries, strerror(errno));
	ATF_REQUIRE_MSG(kevent_ring_map(kq, r) == 0, "kevent_ring_map: %s",
	    strerror(errno));
	ATF_REQUIRE_EQ(r->er_entries, entries);
	return (kq);
}

static int
kchange(int kq, uintptr_t ident, short filter, unsigned short flags,
    unsigned int fflags, intptr_t data, void *udata)
{
	struct kevent kev;

	EV_SET(&kev, ident, filter, flags, fflags, data, udata);
	return (kevent(kq, &kev, 1, NULL, 0, NULL));
}

#define	KCHANGE_OK(kq, id, filt, fl, ffl, d, ud) do {			\
	ATF_REQUIRE_MSG(kchange((kq), (id), (filt), (fl), (ffl), (d),	\
	    (ud)) == 0, "kevent change failed: %s", strerror(errno));	\
} while (0)

#define	TRIGGER(kq, id) \
	KCHANGE_OK((kq), (id), EVFILT_USER, EV_KEEPUDATA, NOTE_TRIGGER, 0, NULL)

static uint32_t
hdr_load(const uint32_t *p)
{

	return (atomic_load_explicit((_Atomic uint32_t *)(uintptr_t)p,
	    memory_order_acquire));
}

/*
 * Take the next record within ms milliseconds, entering the kernel only
 * through kevent_wait() when the ring looks empty.  1 with *kev filled,
 * 0 if none came.
 */
static int
ring_next(int kq, struct evring *r, struct kevent *kev, long ms)
{
	const struct kevent *rec;
	struct timespec ts;
	long long deadline = mono_ns() + ms * MS, left;
	uint32_t state;
	int n;

	for (;;) {
		if ((rec = evring_peek(r, &state)) != NULL) {
			*kev = *rec;
			evring_advance(r, 1);
			return (1);
		}
		left = deadline - mono_ns();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / SEC;
		ts.tv_nsec = left % SEC;
		n = kevent_wait(kq, state, &ts, NULL);
		ATF_REQUIRE_MSG(n >= 0, "kevent_wait: %s", strerror(errno));
		if (n == 0 && left == 0 && evring_peek(r, NULL) == NULL)
			return (0);
	}
}

static struct kevent
ring_one_at(const char *file, size_t line, int kq, struct evring *r,
    long ms, uintptr_t ident, short filter)
{
	struct kevent kev;

	memset(&kev, 0, sizeof(kev));
	if (!ring_next(kq, r, &kev, ms))
		atf_tc_fail_requirement(file, line,
		    "no record for ident=%lu filter=%d within %ld ms",
		    (unsigned long)ident, filter, ms);
	if (kev.ident != ident || kev.filter != filter)
		atf_tc_fail_requirement(file, line,
		    "expected ident=%lu filter=%d, got ident=%lu filter=%d "
		    "flags=%#x data=%ld", (unsigned long)ident, filter,
		    (unsigned long)kev.ident, kev.filter, kev.flags,
		    (long)kev.data);
	return (kev);
}

static void
ring_none_at(const char *file, size_t line, int kq, struct evring *r,
    long ms)
{
	struct kevent kev;

	if (ring_next(kq, r, &kev, ms))
		atf_tc_fail_requirement(file, line,
		    "unexpected record ident=%lu filter=%d flags=%#x data=%ld",
		    (unsigned long)kev.ident, kev.filter, kev.flags,
		    (long)kev.data);
}

#define	RING_ONE(kq, r, ms, id, filt)					\
	ring_one_at(__FILE__, __LINE__, (kq), (r), (ms), (id), (filt))
#define	RING_NONE(kq, r, ms)						\
	ring_none_at(__FILE__, __LINE__, (kq), (r), (ms))

/* The first failure a worker saw, for the main thread to report. */
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[256];
static atomic_int nfail;

static __attribute__((unused)) void
worker_fail(const char *msg, int err)
{

	pthread_mutex_lock(&fail_lock);
	if (atomic_fetch_add(&nfail, 1) == 0)
		snprintf(fail_msg, sizeof(fail_msg), "%s: %s", msg,
		    err ? strerror(err) : "-");
	pthread_mutex_unlock(&fail_lock);
}

static __attribute__((unused)) void
check_workers(void)
{

	pthread_mutex_lock(&fail_lock);
	if (atomic_load(&nfail) != 0)
		atf_tc_fail("worker: %s", fail_msg);
	pthread_mutex_unlock(&fail_lock);
}

/*
 * Attach and map.
 */
ATF_TC(attach_errors);
ATF_TC_HEAD(attach_errors, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "kevent_ring_attach() takes a power of two from "
	    "EVRING_MINENTRIES to EVRING_MAXENTRIES (EINVAL otherwise), "
	    "fails EBUSY on a second attach and EBADF on a descriptor that "
	    "is not a queue; kevent_wait() and kevent_ring_map() without a "
	    "ring fail ENXIO");
}
ATF_TC_BODY(attach_errors, tc)
{
	static const unsigned bad[] = { 0, 3, 6, 100, 1000,
	    EVRING_MAXENTRIES + 1, EVRING_MAXENTRIES * 2, 0x80000000u,
	    0xffffffffu };
	struct evring r;
	long long v;
	size_t i;
	int kq, p[2];

	kq = kq_open();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ATF_REQUIRE_MSG(kevent_ring_attach(kq, bad[i]) == -1 &&
		    errno == EINVAL, "entries %u: errno %d", bad[i], errno);
	}
	errno = 0;
	ATF_REQUIRE(kevent_wait(kq, 0, NULL, NULL) == -1 && errno == ENXIO);
	ATF_REQUIRE(kevent_ring_map(kq, &r) == -1 && errno == ENXIO);
	ATF_REQUIRE(kevent_ring_detach(kq) == -1 && errno == ENXIO);
	ATF_REQUIRE(kevent_ring_putback(kq, NULL) == -1 && errno == ENXIO);
	ATF_REQUIRE(kqueue_getprop(kq, EVRING_PROP_ENTRIES, &v) == 0 &&
	    v == 0);

	ATF_REQUIRE(kevent_ring_attach(kq, 1) == 0);
	ATF_REQUIRE(kevent_ring_attach(kq, 4) == -1 && errno == EBUSY);
	ATF_REQUIRE(kevent_ring_detach(kq) == 0);
	ATF_REQUIRE(kevent_ring_attach(kq, EVRING_MAXENTRIES) == 0);
	ATF_REQUIRE(kqueue_getprop(kq, EVRING_PROP_ENTRIES, &v) == 0 &&
	    v == EVRING_MAXENTRIES);
	ATF_REQUIRE(kevent_ring_map(kq, &r) == 0);
	ATF_REQUIRE_EQ(r.er_hdr->eh_entries, EVRING_MAXENTRIES);
	ATF_REQUIRE(kevent_ring_unmap(&r) == 0);
	ATF_REQUIRE(close(kq) == 0);

	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(kevent_ring_attach(p[0], 8) == -1 && errno == EBADF);
	ATF_REQUIRE(kevent_ring_attach(-1, 8) == -1 && errno == EBADF);
	ATF_REQUIRE(kevent_ring_attach(kq, 8) == -1 && errno == EBADF);
	ATF_REQUIRE(kevent_wait(p[0], 0, NULL, NULL) == -1 &&
	    errno == EBADF);
	ATF_REQUIRE(close(p[0]) == 0 && close(p[1]) == 0);
}

ATF_TC(header_layout);
ATF_TC_HEAD(header_layout, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "The mapped header carries the version, entries, mask, record "
	    "size and offset; indices start at EVRING_INDEX_START; the "
	    "records are read-only to the program and the read index "
	    "cache line is writable");
}
ATF_TC_BODY(header_layout, tc)
{
	struct evring r;
	int kq;

	kq = kq_ring(16, &r);
	ATF_REQUIRE_EQ(r.er_hdr->eh_version, EVRING_VERSION);
	ATF_REQUIRE_EQ(r.er_hdr->eh_entries, 16);
	ATF_REQUIRE_EQ(r.er_hdr->eh_mask, 15);
	ATF_REQUIRE_EQ(r.er_hdr->eh_recsize, sizeof(struct kevent));
	ATF_REQUIRE_EQ((const char *)r.er_recs - (const char *)r.er_hdr,
	    r.er_hdr->eh_recoff);
	ATF_REQUIRE(r.er_hdr->eh_recoff >= sizeof(struct evring_hdr));
	ATF_REQUIRE_EQ(r.er_size, r.er_hdr->eh_size);
	ATF_REQUIRE_EQ(hdr_load(&r.er_hdr->eh_write), EVRING_INDEX_START);
	ATF_REQUIRE_EQ(r.er_hdr->eh_read, EVRING_INDEX_START);
	ATF_REQUIRE_EQ(r.er_hdr->eh_claim, EVRING_INDEX_START);
	ATF_REQUIRE_EQ(r.er_hdr->eh_flags, 0);
	ATF_REQUIRE_EQ(offsetof(struct evring_hdr, eh_read), 64);
	ATF_REQUIRE_EQ(offsetof(struct evring_hdr, eh_version), 128);
	/* mprotect() to what it is must succeed; a probe via mincore. */
	ATF_REQUIRE(msync(r.er_hdr, r.er_size, MS_ASYNC) == 0);
	ATF_REQUIRE(kevent_ring_unmap(&r) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

/*
 * The basic flow.
 */
ATF_TC(user_basic);
ATF_TC_HEAD(user_basic, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "An EVFILT_USER trigger becomes one record, a struct kevent with "
	    "its ident, filter, flags, fflags, data and udata; kevent() on a "
	    "ring queue applies changes but returns no events");
}
ATF_TC_BODY(user_basic, tc)
{
	struct kevent kev, evs[4];
	struct timespec zero = { 0, 0 };
	struct evring r;
	int kq;

	kq = kq_ring(8, &r);
	KCHANGE_OK(kq, 7, EVFILT_USER, EV_ADD | EV_CLEAR, 0x12, 99,
	    (void *)0xabc);
	RING_NONE(kq, &r, 0);
	KCHANGE_OK(kq, 7, EVFILT_USER, EV_KEEPUDATA,
	    NOTE_TRIGGER | NOTE_FFOR | 0x100, 5, NULL);
	ATF_REQUIRE_EQ(hdr_load(&r.er_hdr->eh_write), EVRING_INDEX_START + 1);
	/* kevent() sees no events on a ring queue, and does not wait. */
	ATF_REQUIRE_EQ(kevent(kq, NULL, 0, evs, 4, NULL), 0);
	ATF_REQUIRE_EQ(kevent(kq, NULL, 0, evs, 4, &zero), 0);
	kev = RING_ONE(kq, &r, 1000, 7, EVFILT_USER);
	ATF_REQUIRE_EQ(kev.udata, (void *)0xabc);
	ATF_REQUIRE_EQ(kev.fflags, 0x112);
	ATF_REQUIRE_EQ(kev.data, 5);
	ATF_REQUIRE(kev.flags & EV_CLEAR);
	RING_NONE(kq, &r, 50);
	ATF_REQUIRE(kevent_ring_unmap(&r) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, attach_errors);
	ATF_TP_ADD_TC(tp, header_layout);
	ATF_TP_ADD_TC(tp, user_basic);
	return (atf_no_error());
}
