/*
 * syscost: what the pieces of an event cost on this machine, the numbers
 * bench/README.md reasons with: a system call that does nothing, the
 * block-and-restore of the signal mask a masked busy poll makes per wait,
 * a clock read, an eventfd write and read, and a kevent_wait() on a ring
 * with nothing to report (its fixed cost, with one host drain).  Medians
 * of several rounds, ns per operation.
 *
 *	build/bench/syscost [iterations]
 */
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define	ROUNDS	5

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e9 + ts.tv_nsec);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static int efd, kq;
static uint32_t ringstate;

static void
op_syscall(void)
{

	(void)syscall(SYS_getppid);
}

static void
op_sigmask(void)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
op_clock(void)
{

	(void)now_ns();
}

static void
op_eventfd(void)
{
	uint64_t v = 1;

	if (write(efd, &v, sizeof(v)) != sizeof(v) ||
	    read(efd, &v, sizeof(v)) != sizeof(v))
		abort();
}

static void
op_kevent_wait(void)
{
	static const struct timespec zero = { 0, 0 };

	(void)kevent_wait(kq, ringstate, &zero, NULL);
}

static const struct {
	const char	*name;
	void		(*fn)(void);
} ops[] = {
	{ "getppid() (a system call doing nothing)", op_syscall },
	{ "pthread_sigmask() block + restore", op_sigmask },
	{ "clock_gettime(CLOCK_MONOTONIC)", op_clock },
	{ "eventfd write() + read()", op_eventfd },
	{ "kevent_wait(), empty ring, zero timeout", op_kevent_wait },
};

int
main(int argc, char **argv)
{
	struct kevent ch;
	struct evring r;
	double t0, ns[ROUNDS];
	size_t o;
	int i, j, iters;

	iters = argc > 1 ? atoi(argv[1]) : 100000;
	if (iters <= 0)
		iters = 100000;
	if ((efd = eventfd(0, EFD_NONBLOCK)) < 0 || (kq = kqueue()) < 0 ||
	    kevent_ring_attach(kq, 4096) != 0 || kevent_ring_map(kq, &r) != 0)
		return (1);
	/* One idle host descriptor, so that the wait drains the host. */
	EV_SET(&ch, efd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	if (kevent(kq, &ch, 1, NULL, 0, NULL) != 0)
		return (1);
	(void)evring_peek(&r, &ringstate);
	for (o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		for (i = 0; i < ROUNDS; i++) {
			t0 = now_ns();
			for (j = 0; j < iters; j++)
				ops[o].fn();
			ns[i] = (now_ns() - t0) / iters;
		}
		qsort(ns, ROUNDS, sizeof(ns[0]), cmp_double);
		printf("%8.1f ns  %s\n", ns[ROUNDS / 2], ops[o].name);
	}
	return (0);
}
