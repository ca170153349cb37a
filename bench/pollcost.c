/*
 * pollcost: what one poll() call costs on evring's knotes, against the
 * host's poll() and against the floor of any queue cached across calls.
 *
 * evring's poll() takes a queue from a pool and reuses the registrations
 * the previous call on it left (sys_generic.c); the floor of any such
 * cached design is one kevent() scan of a queue whose registrations
 * already exist, which the third column measures.  doc/frontends.md
 * quotes the numbers, with those of the earlier queue-per-call design.
 *
 *	build/bench/pollcost [iterations]
 */
#include <sys/event.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <evring/poll.h>

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e9 + ts.tv_nsec);
}

int
main(int argc, char **argv)
{
	static const int sizes[] = { 1, 8, 64 };
	struct pollfd pfd[64];
	struct kevent ch, ev[64];
	struct timespec zero = { 0, 0 };
	int p[64][2], i, j, k, kq, iters, n;
	double t0, host, ours, cached;

	iters = argc > 1 ? atoi(argv[1]) : 20000;
	for (i = 0; i < 64; i++) {
		if (pipe(p[i]) != 0)
			return (1);
		/* Every other pipe readable: half the answers are events. */
		if (i % 2 == 0 && write(p[i][1], "x", 1) != 1)
			return (1);
		pfd[i].fd = p[i][0];
		pfd[i].events = POLLIN;
	}
	printf("%6s %12s %12s %16s\n", "nfds", "host ns", "evring ns",
	    "cached-floor ns");
	for (k = 0; k < 3; k++) {
		n = sizes[k];
		t0 = now_ns();
		for (j = 0; j < iters; j++)
			(poll)(pfd, (nfds_t)n, 0);
		host = (now_ns() - t0) / iters;
		t0 = now_ns();
		for (j = 0; j < iters; j++)
			evring_poll(pfd, (nfds_t)n, 0);
		ours = (now_ns() - t0) / iters;
		kq = kqueue();
		for (i = 0; i < n; i++) {
			EV_SET(&ch, p[i][0], EVFILT_READ, EV_ADD, 0, 0, NULL);
			kevent(kq, &ch, 1, NULL, 0, NULL);
		}
		t0 = now_ns();
		for (j = 0; j < iters; j++)
			kevent(kq, NULL, 0, ev, 64, &zero);
		cached = (now_ns() - t0) / iters;
		close(kq);
		printf("%6d %12.0f %12.0f %16.0f\n", n, host, ours, cached);
	}
	return (0);
}
