/*
 * t_shared: the per-descriptor knote and the shared host registration,
 * proved through the evring_stat(3) counters.  However many queues and
 * filters watch a descriptor, the host is asked to watch it once; on one
 * queue every filter on a descriptor lives in one knote; the kernel's
 * memory per watched descriptor is small; and a readiness change reaches
 * every queue.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/eventfd.h>
#include <sys/evring.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <atf-c.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h_evring.h"

#define	NQ	3

/* Add or delete (flags) READ and WRITE for fd on kq, in one call. */
static void
readwrite(int kq, int fd, unsigned short flags)
{
	struct kevent ch[2];

	EV_SET(&ch[0], fd, EVFILT_READ, flags, 0, 0, NULL);
	EV_SET(&ch[1], fd, EVFILT_WRITE, flags, 0, 0, NULL);
	ATF_REQUIRE_EQ_MSG(0, kevent(kq, ch, 2, NULL, 0, NULL), "kevent: %s",
	    strerror(errno));
}

ATF_TC(hostreg_one_per_descriptor);
ATF_TC_HEAD(hostreg_one_per_descriptor, tc)
{
	atf_tc_set_md_var(tc, "descr", "A socket watched for READ and WRITE on "
	    "3 queues has exactly one host registration; deleting it from 2 "
	    "queues keeps that registration, deleting the last removes it");
}
ATF_TC_BODY(hostreg_one_per_descriptor, tc)
{
	long long h0, t0;
	int i, kq[NQ], s[2];

	for (i = 0; i < NQ; i++)
		ATF_REQUIRE((kq[i] = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	h0 = KEV_STAT(EVRING_STAT_HOSTREG);
	t0 = KEV_STAT(EVRING_STAT_HOSTREG_TOTAL);

	for (i = 0; i < NQ; i++)
		readwrite(kq[i], s[0], EV_ADD);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL) - t0);

	readwrite(kq[0], s[0], EV_DELETE);
	readwrite(kq[1], s[0], EV_DELETE);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL) - t0);

	/* One filter left on the last queue still needs the host. */
	KEV_CHANGE(kq[2], s[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	KEV_CHANGE(kq[2], s[0], EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(0, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL) - t0);
}

ATF_TC(hostreg_pipe_ends);
ATF_TC_HEAD(hostreg_pipe_ends, tc)
{
	atf_tc_set_md_var(tc, "descr", "A pipe's read end watched for READ and "
	    "its write end for WRITE, each on 3 queues: two descriptors, so "
	    "exactly two host registrations");
}
ATF_TC_BODY(hostreg_pipe_ends, tc)
{
	long long h0, t0;
	int i, kq[NQ], p[2];

	for (i = 0; i < NQ; i++)
		ATF_REQUIRE((kq[i] = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	h0 = KEV_STAT(EVRING_STAT_HOSTREG);
	t0 = KEV_STAT(EVRING_STAT_HOSTREG_TOTAL);
	for (i = 0; i < NQ; i++) {
		KEV_CHANGE(kq[i], p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
		KEV_CHANGE(kq[i], p[1], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	}
	ATF_CHECK_EQ(2, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	ATF_CHECK_EQ(2, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL) - t0);

	for (i = 0; i < NQ; i++)
		KEV_CHANGE(kq[i], p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
	for (i = 0; i < NQ; i++)
		KEV_CHANGE(kq[i], p[1], EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(0, KEV_STAT(EVRING_STAT_HOSTREG) - h0);
}

ATF_TC(knote_per_descriptor);
ATF_TC_HEAD(knote_per_descriptor, tc)
{
	atf_tc_set_md_var(tc, "descr", "READ and WRITE on one socket on one "
	    "queue make exactly one knote, which still reports the two "
	    "filters as separate events; another queue adds one more knote");
}
ATF_TC_BODY(knote_per_descriptor, tc)
{
	struct kevent evs[4];
	const struct kevent *e;
	long long k0;
	int kq, kq2, n, s[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE((kq2 = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	k0 = KEV_STAT(EVRING_STAT_KNOTES);

	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_KNOTES) - k0);
	KEV_CHANGE(kq, s[0], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_KNOTES) - k0);
	KEV_CHANGE(kq2, s[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_CHECK_EQ(2, KEV_STAT(EVRING_STAT_KNOTES) - k0);

	/* One knote, two events. */
	ATF_REQUIRE_EQ(4, write(s[1], "data", 4));
	memset(evs, 0, sizeof(evs));
	n = kev_wait(kq, evs, 4, 1000);
	if (n == 1) {
		/* Allow the second filter's report a moment to follow. */
		n += kev_wait(kq, evs + 1, 3, 100);
	}
	ATF_REQUIRE_EQ_MSG(2, n, "kevent returned %d events", n);
	ATF_REQUIRE((e = kev_find(evs, n, s[0], EVFILT_READ)) != NULL);
	ATF_CHECK_EQ(4, e->data);
	ATF_REQUIRE((e = kev_find(evs, n, s[0], EVFILT_WRITE)) != NULL);
	ATF_CHECK(e->data > 0);

	/* Deleting one filter keeps the knote for the other. */
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(2, KEV_STAT(EVRING_STAT_KNOTES) - k0);
	(void)KEV_ONE(kq, 0, s[0], EVFILT_WRITE);
	KEV_CHANGE(kq, s[0], EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
	ATF_CHECK_EQ(1, KEV_STAT(EVRING_STAT_KNOTES) - k0);
	ATF_REQUIRE_EQ(0, close(kq2));
	ATF_CHECK_EQ(0, KEV_STAT(EVRING_STAT_KNOTES) - k0);
}

#define	NSOCK	1000

ATF_TC(memory_per_descriptor);
ATF_TC_HEAD(memory_per_descriptor, tc)
{
	atf_tc_set_md_var(tc, "descr", "Kernel memory (knote + descriptor "
	    "bytes) for 1000 sockets watched for READ and WRITE on one queue "
	    "is below 256 bytes per socket, with one knote and one file each");
}
ATF_TC_BODY(memory_per_descriptor, tc)
{
	static struct kevent ch[2 * NSOCK];
	long long dfile, dknote, f0, k0, mf0, mk0;
	struct rlimit rl;
	double per;
	int i, kq, s[NSOCK];

	ATF_REQUIRE_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < NSOCK + 64) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < NSOCK + 64)
			atf_tc_skip("RLIMIT_NOFILE hard limit %llu too low",
			    (unsigned long long)rl.rlim_max);
		rl.rlim_cur = NSOCK + 64;
		ATF_REQUIRE_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}

	ATF_REQUIRE((kq = kqueue()) >= 0);
	for (i = 0; i < NSOCK; i++)
		ATF_REQUIRE((s[i] = socket(AF_INET, SOCK_DGRAM, 0)) >= 0);

	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	f0 = KEV_STAT(EVRING_STAT_FILES);
	mk0 = KEV_STAT(EVRING_STAT_KMEM_KNOTE);
	mf0 = KEV_STAT(EVRING_STAT_KMEM_FILE);

	for (i = 0; i < NSOCK; i++) {
		EV_SET(&ch[2 * i], s[i], EVFILT_READ, EV_ADD, 0, 0, NULL);
		EV_SET(&ch[2 * i + 1], s[i], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	}
	ATF_REQUIRE_EQ_MSG(0, kevent(kq, ch, 2 * NSOCK, NULL, 0, NULL),
	    "kevent: %s", strerror(errno));

	ATF_CHECK_EQ(NSOCK, KEV_STAT(EVRING_STAT_KNOTES) - k0);
	ATF_CHECK_EQ(NSOCK, KEV_STAT(EVRING_STAT_FILES) - f0);
	dknote = KEV_STAT(EVRING_STAT_KMEM_KNOTE) - mk0;
	dfile = KEV_STAT(EVRING_STAT_KMEM_FILE) - mf0;
	per = (double)(dknote + dfile) / NSOCK;
	printf("kernel bytes per watched socket (READ+WRITE, one queue): "
	    "%.1f (knote %.1f, file %.1f)\n", per, (double)dknote / NSOCK,
	    (double)dfile / NSOCK);
	ATF_CHECK_MSG(dknote > 0, "knote memory did not grow: %lld", dknote);
	ATF_CHECK_MSG(dfile > 0, "file memory did not grow: %lld", dfile);
	/*
	 * A 64-byte knote with two 40-byte slots, a 64-byte file, and up to
	 * a pointer per number in the descriptor table, which grew here.
	 */
	ATF_CHECK_MSG(per <= 216, "%.1f bytes per descriptor", per);

	/* Every socket is writable: the registrations are live. */
	{
		struct kevent evs[64];
		int n = kev_wait(kq, evs, 64, 1000);

		ATF_CHECK_EQ(64, n);
		for (i = 0; i < n; i++)
			ATF_CHECK_EQ(EVFILT_WRITE, evs[i].filter);
	}

	for (i = 0; i < NSOCK; i++)
		ATF_REQUIRE_EQ(0, close(s[i]));
	ATF_CHECK_EQ(0, KEV_STAT(EVRING_STAT_KNOTES) - k0);
}

ATF_TC(readiness_reaches_all);
ATF_TC_HEAD(readiness_reaches_all, tc)
{
	atf_tc_set_md_var(tc, "descr", "One write to a socket watched on 3 "
	    "queues is reported by all three, each with its own udata; drained, "
	    "by none");
}
ATF_TC_BODY(readiness_reaches_all, tc)
{
	struct kevent ev;
	char buf[8];
	int cookie[NQ], i, kq[NQ], s[2];

	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	for (i = 0; i < NQ; i++) {
		ATF_REQUIRE((kq[i] = kqueue()) >= 0);
		KEV_CHANGE(kq[i], s[0], EVFILT_READ, EV_ADD, 0, 0, &cookie[i]);
		KEV_NONE(kq[i], 0);
	}
	ATF_REQUIRE_EQ(6, write(s[1], "shared", 6));
	for (i = 0; i < NQ; i++) {
		ev = KEV_ONE(kq[i], 1000, s[0], EVFILT_READ);
		ATF_CHECK_EQ(6, ev.data);
		ATF_CHECK(ev.udata == &cookie[i]);
	}
	ATF_REQUIRE_EQ(6, read(s[0], buf, sizeof(buf)));
	for (i = 0; i < NQ; i++)
		KEV_NONE(kq[i], 20);
}

/*
 * The host is asked only for what the filters watch for.  A Unix socket
 * whose peer reads what it wrote becomes writable again each time, which
 * an edge-triggered host registration for everything reports each time.
 */
/*
 * s[0] writes a byte 20 times and s[1] reads it at once, emptying s[0]'s
 * send buffer each time; the host's readiness reports meanwhile.
 */
static long long
drain_send_buffer(const int s[2])
{
	long long r0;
	char c;
	int i;

	usleep(20000);
	r0 = KEV_STAT(EVRING_STAT_HOST_REPORTS);
	for (i = 0; i < 20; i++) {
		ATF_REQUIRE_EQ(1, write(s[0], "x", 1));
		ATF_REQUIRE_EQ(1, read(s[1], &c, 1));
		usleep(1000);
	}
	usleep(20000);
	return (KEV_STAT(EVRING_STAT_HOST_REPORTS) - r0);
}

ATF_TC(hostwant_follows_filters);
ATF_TC_HEAD(hostwant_follows_filters, tc)
{
	atf_tc_set_md_var(tc, "descr", "A socket watched only with "
	    "EVFILT_READ gets no host readiness report as its send buffer "
	    "empties again and again; adding EVFILT_WRITE widens the one "
	    "host registration, reports it writable at once, and then each "
	    "time it drains");
}
ATF_TC_BODY(hostwant_follows_filters, tc)
{
	long long t0;
	int kq, s[2];

	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	ATF_REQUIRE((kq = kqueue()) >= 0);
	t0 = KEV_STAT(EVRING_STAT_HOSTREG_TOTAL);
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	if (KEV_STAT(EVRING_STAT_HOST_BACKEND) == 2)
		atf_tc_skip("the io_uring backend watches for everything");
	ATF_CHECK_EQ(0, drain_send_buffer(s));
	KEV_NONE(kq, 0);

	KEV_CHANGE(kq, s[0], EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, NULL);
	ATF_CHECK_EQ(t0 + 1, KEV_STAT(EVRING_STAT_HOSTREG_TOTAL));
	KEV_ONE(kq, 1000, s[0], EVFILT_WRITE);
	ATF_CHECK(drain_send_buffer(s) > 0);
	KEV_ONE(kq, 1000, s[0], EVFILT_WRITE);
	/* The peer writes: the read filter hears of it. */
	ATF_REQUIRE_EQ(1, write(s[1], "y", 1));
	{
		struct kevent evs[2];
		int n;

		n = kev_wait(kq, evs, 2, 1000);
		ATF_REQUIRE(n >= 1);
		ATF_CHECK(evs[0].filter == EVFILT_READ ||
		    (n == 2 && evs[1].filter == EVFILT_READ));
	}
	ATF_REQUIRE_EQ(0, close(kq));
	ATF_REQUIRE_EQ(0, close(s[0]));
	ATF_REQUIRE_EQ(0, close(s[1]));
}

/*
 * A kevent() call that adds many descriptors asks the host about none of
 * them one by one: the host reports the ready ones when they are
 * registered, and one drain before the call's scan takes the reports.
 */
ATF_TC(register_batch_ready);
ATF_TC_HEAD(register_batch_ready, tc)
{
	atf_tc_set_md_var(tc, "descr", "Adding 200 eventfds, 10 of them "
	    "readable, in one kevent() call returns exactly those 10 from "
	    "the same call and again from the next (level-triggered), and "
	    "the registrations ask the host nothing one by one "
	    "(EVRING_STAT_HOST_QUERIES grows by the 10 delivered, not 200)");
}
ATF_TC_BODY(register_batch_ready, tc)
{
	enum { N = 200, NREADY = 10 };
	struct timespec zero = { 0, 0 };
	struct kevent ch[N], evs[N];
	unsigned char seen[N];
	long long q0, q1;
	uint64_t one = 1;
	int fds[N], i, kq, n, pass;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	for (i = 0; i < N; i++) {
		ATF_REQUIRE((fds[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
		if (i % (N / NREADY) == 0)
			ATF_REQUIRE_EQ(8, write(fds[i], &one, sizeof(one)));
		EV_SET(&ch[i], fds[i], EVFILT_READ, EV_ADD, 0, 0,
		    (void *)(intptr_t)i);
	}
	if (KEV_STAT(EVRING_STAT_HOST_BACKEND) == 2)
		atf_tc_skip("the io_uring backend is asked one by one");
	q0 = KEV_STAT(EVRING_STAT_HOST_QUERIES);
	for (pass = 0; pass < 2; pass++) {
		n = kevent(kq, pass == 0 ? ch : NULL, pass == 0 ? N : 0, evs,
		    N, &zero);
		ATF_REQUIRE_EQ_MSG(NREADY, n, "pass %d: %d events", pass, n);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < n; i++) {
			int k = (int)(intptr_t)evs[i].udata;

			ATF_REQUIRE(k >= 0 && k < N);
			ATF_CHECK_EQ(0, k % (N / NREADY));
			ATF_CHECK_EQ(EVFILT_READ, evs[i].filter);
			ATF_CHECK_EQ(0, seen[k]);
			seen[k] = 1;
		}
		if (pass == 0) {
			q1 = KEV_STAT(EVRING_STAT_HOST_QUERIES);
			ATF_CHECK_MSG(q1 - q0 <= 2 * NREADY, "%lld host "
			    "queries for %d registrations", q1 - q0, N);
		}
	}
	for (i = 0; i < N; i++)
		ATF_REQUIRE_EQ(0, close(fds[i]));
	ATF_REQUIRE_EQ(0, close(kq));
}

/*
 * kevent()'s re-check of a descriptor uses the readiness the host reported
 * during the call, which the program cannot have consumed since, and asks
 * the host only for the numbers it reports: none for an eventfd.
 */
struct late_writer {
	int	lw_fd;
	int	lw_n;
};

static void *
late_writer(void *arg)
{
	struct late_writer *lw = arg;
	uint64_t one = 1;
	int i;

	for (i = 0; i < lw->lw_n; i++) {
		usleep(5000);	/* the consumer is asleep in kevent() */
		if (write(lw->lw_fd, &one, sizeof(one)) != sizeof(one))
			break;
		usleep(5000);
	}
	return (NULL);
}

ATF_TC(kevent_fresh_bits);
ATF_TC_HEAD(kevent_fresh_bits, tc)
{
	atf_tc_set_md_var(tc, "descr", "An eventfd that becomes readable "
	    "while kevent() sleeps is delivered, 20 times over, with no "
	    "readiness re-check asked of the host for the delivery "
	    "(EVRING_STAT_HOST_QUERIES): none at all with EV_CLEAR, and "
	    "level-triggered only the next call's look at whether it is "
	    "still readable");
}
ATF_TC_BODY(kevent_fresh_bits, tc)
{
	struct timespec ts = { 5, 0 };
	struct late_writer lw;
	struct kevent kev;
	pthread_t t;
	long long q0, dq;
	uint64_t v;
	int i, kq, pass;

	for (pass = 0; pass < 2; pass++) {
		ATF_REQUIRE((kq = kqueue()) >= 0);
		ATF_REQUIRE((lw.lw_fd = eventfd(0, EFD_NONBLOCK)) >= 0);
		lw.lw_n = 20;
		KEV_CHANGE(kq, lw.lw_fd, EVFILT_READ,
		    EV_ADD | (pass == 0 ? EV_CLEAR : 0), 0, 0, NULL);
		if (KEV_STAT(EVRING_STAT_HOST_BACKEND) == 2)
			atf_tc_skip("stamped bits are the epoll backend's");
		q0 = KEV_STAT(EVRING_STAT_HOST_QUERIES);
		ATF_REQUIRE_EQ(0, pthread_create(&t, NULL, late_writer, &lw));
		for (i = 0; i < lw.lw_n; i++) {
			ATF_REQUIRE_EQ(1, kevent(kq, NULL, 0, &kev, 1, &ts));
			ATF_REQUIRE_EQ(lw.lw_fd, (int)kev.ident);
			ATF_REQUIRE_EQ(EVFILT_READ, kev.filter);
			ATF_REQUIRE_EQ(8, read(lw.lw_fd, &v, sizeof(v)));
		}
		ATF_REQUIRE_EQ(0, pthread_join(t, NULL));
		/*
		 * Asking for each delivery costs 20 more; a rare wakeup
		 * before the host's report is taken may still ask.
		 */
		dq = KEV_STAT(EVRING_STAT_HOST_QUERIES) - q0;
		ATF_CHECK_MSG(dq <= (pass == 0 ? 2 : lw.lw_n + 2),
		    "%s: %lld host queries for %d deliveries",
		    pass == 0 ? "EV_CLEAR" : "level", dq, lw.lw_n);
		ATF_REQUIRE_EQ(0, close(lw.lw_fd));
		ATF_REQUIRE_EQ(0, close(kq));
	}
}

/*
 * A collection re-checks its level-triggered knotes with one host call for
 * all of them (kqueue_resample()), not one each.
 */
ATF_TC(recheck_batched);
ATF_TC_HEAD(recheck_batched, tc)
{
	atf_tc_set_md_var(tc, "descr", "50 readable eventfds, "
	    "level-triggered: 10 kevent() calls each return all 50 once, "
	    "asking the host about them in one call each (at most 20 host "
	    "queries, where one per re-check costs 500); after 25 are read, "
	    "exactly the other 25 are returned");
}
ATF_TC_BODY(recheck_batched, tc)
{
	enum { N = 50 };
	struct timespec zero = { 0, 0 };
	struct kevent ch[N], evs[N + 1];
	unsigned char seen[N];
	long long q0;
	uint64_t v = 1;
	int fds[N], i, k, kq, n, pass;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	for (i = 0; i < N; i++) {
		ATF_REQUIRE((fds[i] = eventfd(0, EFD_NONBLOCK)) >= 0);
		ATF_REQUIRE_EQ(8, write(fds[i], &v, sizeof(v)));
		EV_SET(&ch[i], fds[i], EVFILT_READ, EV_ADD, 0, 0,
		    (void *)(intptr_t)i);
	}
	ATF_REQUIRE_EQ(0, kevent(kq, ch, N, NULL, 0, NULL));
	if (KEV_STAT(EVRING_STAT_HOST_BACKEND) == 2)
		atf_tc_skip("stamped bits are the epoll backend's");
	q0 = KEV_STAT(EVRING_STAT_HOST_QUERIES);
	for (pass = 0; pass < 11; pass++) {
		if (pass == 10)		/* read the even ones */
			for (i = 0; i < N; i += 2)
				ATF_REQUIRE_EQ(8, read(fds[i], &v, sizeof(v)));
		n = kevent(kq, NULL, 0, evs, N + 1, &zero);
		ATF_REQUIRE_EQ_MSG(pass == 10 ? N / 2 : N, n, "pass %d: %d",
		    pass, n);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < n; i++) {
			k = (int)(intptr_t)evs[i].udata;
			ATF_REQUIRE(k >= 0 && k < N && !seen[k]);
			ATF_REQUIRE(pass < 10 || k % 2 == 1);
			seen[k] = 1;
		}
		if (pass == 9)
			ATF_CHECK_MSG(KEV_STAT(EVRING_STAT_HOST_QUERIES) - q0 <=
			    20, "%lld host queries for 10 collections of %d",
			    KEV_STAT(EVRING_STAT_HOST_QUERIES) - q0, N);
	}
	for (i = 0; i < N; i++)
		ATF_REQUIRE_EQ(0, close(fds[i]));
	ATF_REQUIRE_EQ(0, close(kq));
}

ATF_TP_ADD_TCS(tp)
{
	signal(SIGPIPE, SIG_IGN);
	ATF_TP_ADD_TC(tp, hostreg_one_per_descriptor);
	ATF_TP_ADD_TC(tp, hostreg_pipe_ends);
	ATF_TP_ADD_TC(tp, hostwant_follows_filters);
	ATF_TP_ADD_TC(tp, register_batch_ready);
	ATF_TP_ADD_TC(tp, kevent_fresh_bits);
	ATF_TP_ADD_TC(tp, recheck_batched);
	ATF_TP_ADD_TC(tp, knote_per_descriptor);
	ATF_TP_ADD_TC(tp, memory_per_descriptor);
	ATF_TP_ADD_TC(tp, readiness_reaches_all);
	return (atf_no_error());
}
