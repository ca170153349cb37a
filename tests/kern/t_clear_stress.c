/*
 * t_clear_stress: EV_CLEAR deliveries counted against the edges the test
 * itself causes, from several threads at once.
 *
 * One collector thread stays parked in kevent() on a queue.  Actor threads
 * each own sockets, pipes and eventfds registered EV_CLEAR on that queue,
 * and make one edge at a time on each: a write into an empty descriptor,
 * an EV_ADD|EV_CLEAR re-registration of a readable one (FreeBSD's
 * kqueue_register() reports a ready knote again when it is modified), a
 * delete and re-add of a readable one, and an EV_ADD|EV_CLEAR of
 * EVFILT_WRITE on an idle one.  Each edge must be delivered exactly once:
 * the actor waits until the collector has counted it, drains what it
 * wrote (reading causes no EV_CLEAR edge), and every count is compared
 * with the edges made, during the run and after it settles.  A duplicate
 * (issue: the parked collector and a later call both getting one edge)
 * shows as a count above the edges; a lost edge as a count that never
 * arrives.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h_evring.h"

#define	NACTORS		4
#define	NPERACTOR	6	/* two each of socketpair, pipe, eventfd */
#define	NEDGES		150	/* per descriptor */

enum kind { K_SOCKET, K_PIPE, K_EVENTFD };

struct target {
	enum kind	t_kind;
	int		t_rd;		/* watched for EVFILT_READ */
	int		t_wr;		/* written; watched for EVFILT_WRITE */
	unsigned	t_edges_rd;	/* edges made (actor only) */
	unsigned	t_edges_wr;
	unsigned	t_got_rd;	/* deliveries (collector, atomic) */
	unsigned	t_got_wr;
};

static struct target targets[NACTORS * NPERACTOR];
static int kq;
static volatile int stop;
static char failure[256];

static void
fail_once(const char *fmt, const struct target *t, unsigned a, unsigned b)
{

	if (failure[0] == '\0')
		snprintf(failure, sizeof(failure), fmt,
		    (int)(t - targets), t->t_kind, a, b);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
}

static void *
collector(void *arg)
{
	struct kevent ev[32];
	struct target *t;
	int i, n;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		n = kev_wait(kq, ev, 32, 50);
		for (i = 0; i < n; i++) {
			t = ev[i].udata;
			if (ev[i].flags & EV_ERROR) {
				fail_once("target %d (kind %d): EV_ERROR "
				    "%u %u", t, (unsigned)ev[i].data, 0);
				continue;
			}
			if (ev[i].filter == EVFILT_READ)
				__atomic_add_fetch(&t->t_got_rd, 1,
				    __ATOMIC_RELEASE);
			else
				__atomic_add_fetch(&t->t_got_wr, 1,
				    __ATOMIC_RELEASE);
		}
	}
	return (NULL);
}

static void
change(struct target *t, int fd, short filter, unsigned short flags)
{
	struct kevent ch;

	EV_SET(&ch, fd, filter, flags, 0, 0, t);
	if (kevent(kq, &ch, 1, NULL, 0, NULL) != 0)
		fail_once("target %d (kind %d): kevent change failed, "
		    "errno %u %u", t, (unsigned)errno, flags);
}

static void
make_readable(struct target *t)
{
	uint64_t one = 1;

	if (t->t_kind == K_EVENTFD)
		(void)write(t->t_wr, &one, sizeof(one));
	else
		(void)write(t->t_wr, "x", 1);
}

static void
drain(struct target *t)
{
	char buf[64];

	if (t->t_kind == K_EVENTFD)
		(void)read(t->t_rd, buf, 8);
	else
		while (read(t->t_rd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
			continue;
}

/*
 * Wait until *got reaches want (5 s at most), then let the collector run
 * a while longer: a duplicate shows as a count above want.
 */
static void
await(struct target *t, unsigned *got, unsigned want, const char *what)
{
	unsigned n;
	int i;

	for (i = 0; i < 50000; i++) {
		n = __atomic_load_n(got, __ATOMIC_ACQUIRE);
		if (n >= want || __atomic_load_n(&stop, __ATOMIC_ACQUIRE))
			break;
		usleep(100);
	}
	if (n < want)
		fail_once(what[0] == 'r' ? "target %d (kind %d): read edge "
		    "lost: %u of %u delivered" : "target %d (kind %d): write "
		    "edge lost: %u of %u delivered", t, n, want);
	else if (n > want)
		fail_once(what[0] == 'r' ? "target %d (kind %d): read edge "
		    "delivered twice: %u for %u edges" : "target %d (kind %d): "
		    "write edge delivered twice: %u for %u edges", t, n, want);
}

static void
edge(struct target *t, int which)
{

	switch (which) {
	case 0:		/* a write into an empty descriptor */
		t->t_edges_rd++;
		make_readable(t);
		await(t, &t->t_got_rd, t->t_edges_rd, "read");
		drain(t);
		break;
	case 1:		/* re-registration of a readable descriptor */
		make_readable(t);
		t->t_edges_rd++;
		await(t, &t->t_got_rd, t->t_edges_rd, "read");
		t->t_edges_rd++;
		change(t, t->t_rd, EVFILT_READ, EV_ADD | EV_CLEAR);
		await(t, &t->t_got_rd, t->t_edges_rd, "read");
		drain(t);
		break;
	case 2:		/* delete and add again, readable */
		make_readable(t);
		t->t_edges_rd++;
		await(t, &t->t_got_rd, t->t_edges_rd, "read");
		change(t, t->t_rd, EVFILT_READ, EV_DELETE);
		t->t_edges_rd++;
		change(t, t->t_rd, EVFILT_READ, EV_ADD | EV_CLEAR);
		await(t, &t->t_got_rd, t->t_edges_rd, "read");
		drain(t);
		break;
	default:	/* EVFILT_WRITE on an idle descriptor */
		t->t_edges_wr++;
		change(t, t->t_wr, EVFILT_WRITE, EV_ADD | EV_CLEAR);
		await(t, &t->t_got_wr, t->t_edges_wr, "write");
		change(t, t->t_wr, EVFILT_WRITE, EV_DELETE);
		break;
	}
}

static void *
actor(void *arg)
{
	struct target *mine = arg;
	unsigned r;
	int i, k;

	for (r = 0; r < NEDGES; r++)
		for (k = 0; k < NPERACTOR; k++) {
			if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
				return (NULL);
			i = (int)((r + (unsigned)k) % 4);
			edge(&mine[k], i);
		}
	return (NULL);
}

static void
open_target(struct target *t, enum kind k)
{
	int fds[2];

	t->t_kind = k;
	switch (k) {
	case K_SOCKET:
		ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
		    0, fds) == 0);
		t->t_rd = fds[0];
		t->t_wr = fds[1];
		break;
	case K_PIPE:
		ATF_REQUIRE(pipe2(fds, O_NONBLOCK) == 0);
		t->t_rd = fds[0];
		t->t_wr = fds[1];
		break;
	case K_EVENTFD:
		ATF_REQUIRE((t->t_rd = eventfd(0, EFD_NONBLOCK)) >= 0);
		t->t_wr = t->t_rd;
		break;
	}
	change(t, t->t_rd, EVFILT_READ, EV_ADD | EV_CLEAR);
}

ATF_TC(parked_collector);
ATF_TC_HEAD(parked_collector, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "4 threads make EV_CLEAR edges (writes, re-registrations of "
	    "ready descriptors, EVFILT_WRITE adds on idle ones) on sockets, "
	    "pipes and eventfds while a collector is parked in kevent(): "
	    "every edge is delivered exactly once");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(parked_collector, tc)
{
	pthread_t ct, at[NACTORS];
	struct target *t;
	unsigned total = 0;
	int i;

	kq = kev_kqueue();
	for (i = 0; i < NACTORS * NPERACTOR; i++)
		open_target(&targets[i], (enum kind)(i % 3));
	ATF_REQUIRE(pthread_create(&ct, NULL, collector, NULL) == 0);
	for (i = 0; i < NACTORS; i++)
		ATF_REQUIRE(pthread_create(&at[i], NULL, actor,
		    &targets[i * NPERACTOR]) == 0);
	for (i = 0; i < NACTORS; i++)
		ATF_REQUIRE(pthread_join(at[i], NULL) == 0);
	/* Let any late duplicate arrive before the final count. */
	usleep(50000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	ATF_REQUIRE(pthread_join(ct, NULL) == 0);
	if (failure[0] != '\0')
		atf_tc_fail("%s", failure);
	for (i = 0; i < NACTORS * NPERACTOR; i++) {
		t = &targets[i];
		ATF_CHECK_EQ_MSG(t->t_got_rd, t->t_edges_rd,
		    "target %d (kind %d): %u read deliveries for %u edges", i,
		    t->t_kind, t->t_got_rd, t->t_edges_rd);
		ATF_CHECK_EQ_MSG(t->t_got_wr, t->t_edges_wr,
		    "target %d (kind %d): %u write deliveries for %u edges", i,
		    t->t_kind, t->t_got_wr, t->t_edges_wr);
		total += t->t_edges_rd + t->t_edges_wr;
	}
	ATF_REQUIRE(total >= NACTORS * NPERACTOR * NEDGES);
	/* Nothing is left to report once every edge was counted. */
	KEV_NONE(kq, 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, parked_collector);
	return (atf_no_error());
}
