/*
 * kevent() error paths, with FreeBSD's errno for each: EBADF (queue and
 * watched descriptor), ENOENT, EINVAL (filters, counts, timeouts), EFAULT
 * (NULL, unmapped and read-only user memory, which must never crash the
 * process nor lose a pending event) and EINTR.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "h_evring.h"

#define	MS	1000000LL
#define	SEC	1000000000LL

static long long
mono_ns(void)
{
	struct timespec ts;

	ATF_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return ((long long)ts.tv_sec * SEC + ts.tv_nsec);
}

static int
kwait(int kq, struct kevent *ev, int n, long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * MS;
	return (kevent(kq, NULL, 0, ev, n, &ts));
}

/* Expect kevent()'s result to be -1 with errno want. */
#define	REQUIRE_ERR(call, want) do {					\
	int r_;								\
	errno = 0;							\
	r_ = (call);							\
	ATF_REQUIRE_MSG(r_ == -1 && errno == (want),			\
	    "%s: returned %d errno %d (%s), want -1 errno %d (%s)",	\
	    #call, r_, errno, strerror(errno), (want), strerror(want));	\
} while (0)

/* A descriptor number that is not open. */
static int
closed_fd(void)
{
	int fd;

	fd = dup(0);
	ATF_REQUIRE(fd >= 0);
	ATF_REQUIRE(close(fd) == 0);
	return (fd);
}

/* The address of a page that is not mapped. */
static void *
unmapped_page(void)
{
	void *p;

	p = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ATF_REQUIRE(p != MAP_FAILED);
	ATF_REQUIRE(munmap(p, getpagesize()) == 0);
	return (p);
}

/* A queue with one level-triggered user event pending (ident 1). */
static int
kq_with_pending(unsigned short extra)
{
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD | extra, NOTE_TRIGGER, 0,
	    (void *)0x99);
	return (kq);
}

/* The pending event of kq_with_pending() is still there. */
static void
expect_pending(int kq)
{
	struct kevent ev;

	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 1000), 1,
	    "pending event lost after a failed kevent()");
	ATF_REQUIRE_EQ(ev.ident, 1);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_USER);
	ATF_REQUIRE_EQ(ev.udata, (void *)0x99);
}

ATF_TC(bad_kq);
ATF_TC_HEAD(bad_kq, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "kevent() on -1, on a closed descriptor, on a huge number, on a "
	    "pipe and on a closed kqueue fails with EBADF");
}
ATF_TC_BODY(bad_kq, tc)
{
	struct kevent ev;
	struct timespec zero = { 0, 0 };
	int bad, kq, p[2];

	REQUIRE_ERR(kevent(-1, NULL, 0, &ev, 1, &zero), EBADF);
	bad = closed_fd();
	REQUIRE_ERR(kevent(bad, NULL, 0, &ev, 1, &zero), EBADF);
	REQUIRE_ERR(kevent(1 << 24, NULL, 0, &ev, 1, &zero), EBADF);
	ATF_REQUIRE(pipe(p) == 0);
	REQUIRE_ERR(kevent(p[0], NULL, 0, &ev, 1, &zero), EBADF);
	EV_SET(&ev, 1, EVFILT_USER, EV_ADD, 0, 0, NULL);
	REQUIRE_ERR(kevent(p[1], &ev, 1, NULL, 0, &zero), EBADF);
	kq = kev_kqueue();
	ATF_REQUIRE(close(kq) == 0);
	REQUIRE_ERR(kevent(kq, NULL, 0, &ev, 1, &zero), EBADF);
}

ATF_TC(bad_watched_fd);
ATF_TC_HEAD(bad_watched_fd, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD of EVFILT_READ/EVFILT_WRITE on a descriptor that is not "
	    "open fails with EBADF, as errno (nevents 0) and as EV_ERROR");
}
ATF_TC_BODY(bad_watched_fd, tc)
{
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	uintptr_t bad[3];
	unsigned i;
	int kq;

	kq = kev_kqueue();
	bad[0] = (uintptr_t)closed_fd();
	bad[1] = (uintptr_t)-1;
	bad[2] = 1 << 24;
	for (i = 0; i < 3; i++) {
		REQUIRE_ERR(kev_change(kq, bad[i], EVFILT_READ, EV_ADD, 0, 0,
		    NULL), EBADF);
		REQUIRE_ERR(kev_change(kq, bad[i], EVFILT_WRITE, EV_ADD, 0, 0,
		    NULL), EBADF);
		EV_SET(&ch, bad[i], EVFILT_READ, EV_ADD, 0, 0, (void *)7);
		memset(&ev, 0, sizeof(ev));
		ATF_REQUIRE_EQ(kevent(kq, &ch, 1, &ev, 1, &zero), 1);
		ATF_REQUIRE(ev.flags & EV_ERROR);
		ATF_REQUIRE_EQ(ev.data, EBADF);
		ATF_REQUIRE_EQ(ev.ident, bad[i]);
		ATF_REQUIRE_EQ(ev.filter, EVFILT_READ);
		ATF_REQUIRE_EQ(ev.udata, (void *)7);
	}
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(missing_knote);
ATF_TC_HEAD(missing_knote, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_DELETE, EV_ENABLE and EV_DISABLE of a knote that does not "
	    "exist fail with ENOENT, for every filter");
}
ATF_TC_BODY(missing_knote, tc)
{
	static const unsigned short ops[] = { EV_DELETE, EV_ENABLE,
	    EV_DISABLE };
	struct {
		uintptr_t	ident;
		short		filter;
	} k[6];
	unsigned i, j;
	int kq, s[2];

	kq = kev_kqueue();
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
	k[0].ident = s[0]; k[0].filter = EVFILT_READ;
	k[1].ident = s[1]; k[1].filter = EVFILT_WRITE;
	k[2].ident = 3; k[2].filter = EVFILT_USER;
	k[3].ident = 3; k[3].filter = EVFILT_TIMER;
	k[4].ident = SIGUSR1; k[4].filter = EVFILT_SIGNAL;
	k[5].ident = getpid(); k[5].filter = EVFILT_PROC;
	/* A registration of another filter on the same ident does not count. */
	KEV_CHANGE(kq, s[0], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	for (i = 0; i < 6; i++)
		for (j = 0; j < 3; j++)
			REQUIRE_ERR(kev_change(kq, k[i].ident, k[i].filter, ops[j],
			    0, 0, NULL), ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(unknown_filter);
ATF_TC_HEAD(unknown_filter, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_ADD on a pipe with an unknown or unsupported filter (-100, "
	    "EVFILT_AIO, EVFILT_FS, EVFILT_LIO, EVFILT_SENDFILE, -14, -16, "
	    "positive) or one a pipe does not have (EVFILT_PROCDESC, "
	    "EVFILT_EMPTY) fails with EINVAL");
}
ATF_TC_BODY(unknown_filter, tc)
{
	static const short filters[] = { -100, EVFILT_AIO, EVFILT_PROCDESC,
	    EVFILT_FS, EVFILT_LIO, EVFILT_SENDFILE, EVFILT_EMPTY, -14, -16,
	    1, 100, -32768 };
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	unsigned i;
	int kq, p[2];

	kq = kev_kqueue();
	ATF_REQUIRE(pipe(p) == 0);
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		REQUIRE_ERR(kev_change(kq, p[0], filters[i], EV_ADD, 0, 0, NULL),
		    EINVAL);
		EV_SET(&ch, p[0], filters[i], EV_ADD, 0, 0, NULL);
		ATF_REQUIRE_EQ(kevent(kq, &ch, 1, &ev, 1, &zero), 1);
		ATF_REQUIRE(ev.flags & EV_ERROR);
		ATF_REQUIRE_EQ_MSG(ev.data, EINVAL, "filter %d: data %ld",
		    filters[i], (long)ev.data);
		ATF_REQUIRE_EQ(ev.filter, filters[i]);
	}
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(filter_zero);
ATF_TC_HEAD(filter_zero, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A change with filter 0 is either rejected with EINVAL or skipped "
	    "(FreeBSD skips it); either way it registers nothing and the "
	    "changes after it are applied");
}
ATF_TC_BODY(filter_zero, tc)
{
	struct kevent ch[2], ev[2];
	struct timespec zero = { 0, 0 };
	int kq, n;

	kq = kev_kqueue();
	EV_SET(&ch[0], 1, 0, EV_ADD, NOTE_TRIGGER, 0, NULL);
	EV_SET(&ch[1], 2, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, NULL);
	memset(ev, 0, sizeof(ev));
	n = kevent(kq, ch, 2, ev, 2, &zero);
	if (n == 1 && (ev[0].flags & EV_ERROR)) {
		/* Rejected. */
		ATF_REQUIRE_EQ(ev[0].data, EINVAL);
		ATF_REQUIRE_EQ(ev[0].ident, 1);
		n = kwait(kq, ev, 2, 1000);
	}
	/* Skipped (or rejected above): only ident 2 is registered. */
	ATF_REQUIRE_EQ_MSG(n, 1, "kevent returned %d", n);
	ATF_REQUIRE_EQ(ev[0].ident, 2);
	ATF_REQUIRE_EQ(ev[0].filter, EVFILT_USER);
	ATF_REQUIRE_EQ(ev[0].flags & EV_ERROR, 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(negative_counts);
ATF_TC_HEAD(negative_counts, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Negative nchanges or nevents fails with EINVAL");
}
ATF_TC_BODY(negative_counts, tc)
{
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	int kq;

	kq = kev_kqueue();
	EV_SET(&ch, 1, EVFILT_USER, EV_ADD, 0, 0, NULL);
	REQUIRE_ERR(kevent(kq, &ch, -1, &ev, 1, &zero), EINVAL);
	REQUIRE_ERR(kevent(kq, NULL, 0, &ev, -1, &zero), EINVAL);
	REQUIRE_ERR(kevent(kq, &ch, 1, &ev, -5, &zero), EINVAL);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(bad_timeout);
ATF_TC_HEAD(bad_timeout, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A timeout with tv_nsec >= 1000000000, negative tv_nsec or "
	    "negative tv_sec fails with EINVAL instead of waiting");
}
ATF_TC_BODY(bad_timeout, tc)
{
	struct kevent ev;
	struct timespec ts;
	long long t0;
	int kq;

	kq = kev_kqueue();
	t0 = mono_ns();
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000000;
	REQUIRE_ERR(kevent(kq, NULL, 0, &ev, 1, &ts), EINVAL);
	ts.tv_sec = 1;
	ts.tv_nsec = 2000000000L;
	REQUIRE_ERR(kevent(kq, NULL, 0, &ev, 1, &ts), EINVAL);
	ts.tv_sec = 0;
	ts.tv_nsec = -1;
	REQUIRE_ERR(kevent(kq, NULL, 0, &ev, 1, &ts), EINVAL);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	REQUIRE_ERR(kevent(kq, NULL, 0, &ev, 1, &ts), EINVAL);
	ATF_REQUIRE(mono_ns() - t0 < 2 * SEC);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(null_changelist);
ATF_TC_HEAD(null_changelist, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A NULL or unmapped changelist with nchanges > 0 fails with EFAULT");
}
ATF_TC_BODY(null_changelist, tc)
{
	struct kevent ev;
	struct timespec zero = { 0, 0 };
	int kq;

	kq = kev_kqueue();
	REQUIRE_ERR(kevent(kq, NULL, 1, NULL, 0, &zero), EFAULT);
	REQUIRE_ERR(kevent(kq, NULL, 1, &ev, 1, &zero), EFAULT);
	REQUIRE_ERR(kevent(kq, unmapped_page(), 2, NULL, 0, &zero), EFAULT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(null_eventlist);
ATF_TC_HEAD(null_eventlist, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A NULL eventlist with nevents > 0 and an event pending fails with "
	    "EFAULT, does not crash, and does not lose the event");
}
ATF_TC_BODY(null_eventlist, tc)
{
	struct timespec zero = { 0, 0 };
	int kq;

	kq = kq_with_pending(EV_CLEAR);
	REQUIRE_ERR(kevent(kq, NULL, 0, NULL, 1, &zero), EFAULT);
	REQUIRE_ERR(kevent(kq, NULL, 0, NULL, 4, &zero), EFAULT);
	expect_pending(kq);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(unmapped_eventlist);
ATF_TC_HEAD(unmapped_eventlist, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "An unmapped eventlist with an event pending fails with EFAULT, "
	    "does not crash, and does not lose the event");
}
ATF_TC_BODY(unmapped_eventlist, tc)
{
	struct timespec zero = { 0, 0 };
	int kq;

	kq = kq_with_pending(EV_CLEAR);
	REQUIRE_ERR(kevent(kq, NULL, 0, unmapped_page(), 1, &zero), EFAULT);
	expect_pending(kq);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(readonly_eventlist);
ATF_TC_HEAD(readonly_eventlist, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A read-only eventlist with an EV_CLEAR event pending fails with "
	    "EFAULT, and the event is not lost: the next kevent() with a good "
	    "buffer gets it");
}
ATF_TC_BODY(readonly_eventlist, tc)
{
	struct timespec zero = { 0, 0 };
	void *ro;
	int kq;

	ro = mmap(NULL, getpagesize(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	ATF_REQUIRE(ro != MAP_FAILED);
	kq = kq_with_pending(EV_CLEAR);
	REQUIRE_ERR(kevent(kq, NULL, 0, ro, 1, &zero), EFAULT);
	expect_pending(kq);
	/* Nothing was written through the read-only mapping either. */
	ATF_REQUIRE_EQ(((const unsigned char *)ro)[0], 0);
	ATF_REQUIRE(munmap(ro, getpagesize()) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(readonly_eventlist_oneshot);
ATF_TC_HEAD(readonly_eventlist_oneshot, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A read-only eventlist with an EV_ONESHOT event pending fails with "
	    "EFAULT and neither loses the event nor deletes its knote");
}
ATF_TC_BODY(readonly_eventlist_oneshot, tc)
{
	struct timespec zero = { 0, 0 };
	void *ro;
	int kq;

	ro = mmap(NULL, getpagesize(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	ATF_REQUIRE(ro != MAP_FAILED);
	kq = kq_with_pending(EV_ONESHOT);
	REQUIRE_ERR(kevent(kq, NULL, 0, ro, 1, &zero), EFAULT);
	expect_pending(kq);
	ATF_REQUIRE(munmap(ro, getpagesize()) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(middle_page_eventlist);
ATF_TC_HEAD(middle_page_eventlist, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "An eventlist whose middle page is read-only, with three "
	    "EV_ONESHOT events pending, fails with EFAULT, as FreeBSD's "
	    "kevent() does, and consumes nothing: the next kevent() with a "
	    "good buffer gets all three, and nothing was written (issue 15)");
}
ATF_TC_BODY(middle_page_eventlist, tc)
{
	struct timespec zero = { 0, 0 };
	struct kevent kev, ev[8], *list;
	size_t ps = (size_t)getpagesize();
	char *p;
	int kq, i, n;

	p = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ATF_REQUIRE(p != MAP_FAILED);
	ATF_REQUIRE(mprotect(p + ps, ps, PROT_READ) == 0);
	ATF_REQUIRE((kq = kqueue()) >= 0);
	for (i = 1; i <= 3; i++) {
		EV_SET(&kev, (uintptr_t)i, EVFILT_USER, EV_ADD | EV_ONESHOT,
		    NOTE_TRIGGER, 0, NULL);
		ATF_REQUIRE(kevent(kq, &kev, 1, NULL, 0, NULL) == 0);
	}
	/* The list starts two entries before the read-only page. */
	list = (struct kevent *)(void *)(p + ps - 2 * sizeof(*list));
	memset(p, 0, ps);
	REQUIRE_ERR(kevent(kq, NULL, 0, list,
	    (int)((2 * ps + 2 * sizeof(*list)) / sizeof(*list)), &zero),
	    EFAULT);
	ATF_REQUIRE_EQ(0, list[0].filter);
	ATF_REQUIRE_EQ(0, list[1].filter);
	n = kevent(kq, NULL, 0, ev, 8, &zero);
	ATF_REQUIRE_EQ_MSG(3, n, "%d of the 3 events left", n);
	ATF_REQUIRE(munmap(p, 3 * ps) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(unmapped_timeout);
ATF_TC_HEAD(unmapped_timeout, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "An unmapped timeout pointer fails with EFAULT");
}
ATF_TC_BODY(unmapped_timeout, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	REQUIRE_ERR(kevent(kq, NULL, 0, &ev, 1, unmapped_page()), EFAULT);
	ATF_REQUIRE(close(kq) == 0);
}

static _Atomic int nsig;
static volatile int waiter_done;

static void
count_handler(int signo)
{
	(void)signo;
	nsig++;
}

struct kicker {
	pthread_t	target;
	int		sent;
};

/* Signal the target every 50 ms until it is out of kevent() (max ~4 s). */
static void *
kicker_thread(void *arg)
{
	struct kicker *k = arg;
	int i;

	for (i = 0; i < 80; i++) {
		usleep(50000);
		if (__atomic_load_n(&waiter_done, __ATOMIC_SEQ_CST))
			break;
		pthread_kill(k->target, SIGUSR1);
		k->sent++;
	}
	return (NULL);
}

static void
check_eintr(int saflags)
{
	struct sigaction sa;
	struct kicker k;
	struct kevent ev;
	struct timespec ts = { 10, 0 };
	pthread_t t;
	long long t0, el;
	int kq, n, err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_handler;
	sa.sa_flags = saflags;
	sigemptyset(&sa.sa_mask);
	ATF_REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	kq = kev_kqueue();
	k.target = pthread_self();
	k.sent = 0;
	waiter_done = 0;
	t0 = mono_ns();
	ATF_REQUIRE(pthread_create(&t, NULL, kicker_thread, &k) == 0);
	n = kevent(kq, NULL, 0, &ev, 1, &ts);
	err = errno;
	el = mono_ns() - t0;
	__atomic_store_n(&waiter_done, 1, __ATOMIC_SEQ_CST);
	ATF_REQUIRE(pthread_join(t, NULL) == 0);
	ATF_REQUIRE_MSG(n == -1 && err == EINTR,
	    "kevent returned %d errno %d after %lld ms and %d signals, "
	    "want -1 EINTR", n, err, el / MS, k.sent);
	ATF_REQUIRE(nsig >= 1);
	ATF_REQUIRE_MSG(el < 5 * SEC, "interrupted only after %lld ms",
	    el / MS);
	/* The queue still works. */
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, NULL);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 1000), 1);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(eintr);
ATF_TC_HEAD(eintr, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A thread blocked in kevent() with a 10 s timeout returns -1/EINTR "
	    "when a signal with a handler (no SA_RESTART) is delivered to it");
}
ATF_TC_BODY(eintr, tc)
{
	check_eintr(0);
}

ATF_TC(eintr_sa_restart);
ATF_TC_HEAD(eintr_sa_restart, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "kevent() is not restarted after a handler installed with "
	    "SA_RESTART: it returns -1/EINTR, as on FreeBSD");
}
ATF_TC_BODY(eintr_sa_restart, tc)
{
	check_eintr(SA_RESTART);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, bad_kq);
	ATF_TP_ADD_TC(tp, bad_watched_fd);
	ATF_TP_ADD_TC(tp, missing_knote);
	ATF_TP_ADD_TC(tp, unknown_filter);
	ATF_TP_ADD_TC(tp, filter_zero);
	ATF_TP_ADD_TC(tp, negative_counts);
	ATF_TP_ADD_TC(tp, bad_timeout);
	ATF_TP_ADD_TC(tp, null_changelist);
	ATF_TP_ADD_TC(tp, null_eventlist);
	ATF_TP_ADD_TC(tp, unmapped_eventlist);
	ATF_TP_ADD_TC(tp, readonly_eventlist);
	ATF_TP_ADD_TC(tp, readonly_eventlist_oneshot);
	ATF_TP_ADD_TC(tp, middle_page_eventlist);
	ATF_TP_ADD_TC(tp, unmapped_timeout);
	ATF_TP_ADD_TC(tp, eintr);
	ATF_TP_ADD_TC(tp, eintr_sa_restart);
	return (atf_no_error());
}
