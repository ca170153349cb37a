/*
 * fuzz_kevent: libFuzzer harness for kevent() change lists (kern_event.c).
 *
 * Stands in for an epoll_ctl harness until the epoll front end lands:
 * epoll_ctl's argument space (op, fd, events, data) maps onto exactly
 * these registrations, so the input is a sequence of kevent() calls whose
 * changes take any ident (descriptors from a pool of real ones, numbers
 * that are not open, raw values), any filter, any flags and fflags, and
 * data and udata from the input, with event lists of any size (none
 * included) and a zero timeout.  Between calls the pool changes (data,
 * closes, reuse) and the queue may get a ring.  Invariants: no crash, every
 * EV_ERROR carries a positive errno, returned events are in bounds, and
 * closing the queue and the pool leaves no knote, queue or host
 * registration behind.
 */
#define	_GNU_SOURCE
#include <sys/types.h>
#include <sys/event.h>
#include <sys/eventfd.h>
#include <sys/evring.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_input.h"

#define	NPOOL	10
#define	NCHG	8

static int pool[NPOOL];

static void
pool_open(void)
{
	int p[2], s[2];

	if (pipe2(p, O_NONBLOCK) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s) != 0)
		abort();
	pool[0] = p[0];
	pool[1] = p[1];
	pool[2] = s[0];
	pool[3] = s[1];
	pool[4] = eventfd(0, EFD_NONBLOCK);
	pool[5] = open("/proc/self/exe", O_RDONLY);
	pool[6] = kqueue();
	pool[7] = open("/dev/null", O_RDWR);
	pool[8] = 999;		/* not open */
	pool[9] = -1;
	for (int i = 0; i < 8; i++)
		if (pool[i] < 0)
			abort();
}

static void
pool_close(void)
{

	for (int i = 0; i < 8; i++)
		if (pool[i] >= 0)
			close(pool[i]);
}

/* Filters, weighted to the supported ones, and some that are not. */
static const short filters[] = {
	EVFILT_READ, EVFILT_WRITE, EVFILT_EXCEPT, EVFILT_VNODE, EVFILT_TIMER,
	EVFILT_USER, EVFILT_SIGNAL, EVFILT_PROC, EVFILT_READ, EVFILT_WRITE,
	EVFILT_AIO, EVFILT_FS, 0, 1, -20, EVFILT_EMPTY,
};

static void
make_change(struct input *in, struct kevent *kev, int kq)
{
	uint8_t b = in8(in);
	short filter = filters[in8(in) % (sizeof(filters) /
	    sizeof(filters[0]))];
	uintptr_t ident;

	if (b < 160)
		ident = (uintptr_t)(b % NPOOL == 9 ? kq : pool[b % NPOOL]);
	else if (b < 200)
		ident = b % 16;
	else
		ident = (uintptr_t)(intptr_t)(int32_t)in32(in);
	if (filter == EVFILT_SIGNAL)	/* never the sanitizer's signals */
		ident = (b & 1) ? SIGUSR1 : SIGWINCH;
	if (filter == EVFILT_PROC)
		ident = (b & 1) ? (uintptr_t)getpid() : 0x3fffffff;
	kev->ident = ident;
	kev->filter = filter;
	kev->flags = (unsigned short)(in8(in) | (in8(in) & 0xf3) << 8);
	kev->fflags = in32(in);
	/* Timers: short periods, so a run does not idle. */
	kev->data = filter == EVFILT_TIMER ? (intptr_t)(in8(in) % 50) :
	    (intptr_t)(int32_t)in32(in);
	if (filter == EVFILT_TIMER)
		kev->fflags &= NOTE_MSECONDS | NOTE_USECONDS | NOTE_NSECONDS |
		    0x100;
	kev->udata = (void *)(uintptr_t)in32(in);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc;
	(void)argv;
	/* Writes into pipes and sockets whose reader the input closed. */
	signal(SIGPIPE, SIG_IGN);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct kevent chg[NCHG], evs[NCHG * 2];
	struct timespec zero = { 0, 0 };
	long long knotes, kqueues, hostreg;
	int kq, n, nchg, nevs, ops = 0, ringed = 0;
	char buf[64];

	knotes = evring_stat(EVRING_STAT_KNOTES);
	kqueues = evring_stat(EVRING_STAT_KQUEUES);
	hostreg = evring_stat(EVRING_STAT_HOSTREG);
	pool_open();
	kq = kqueue();
	CHECK(kq >= 0);
	while (in.left > 0 && ops++ < 128) {
		switch (in8(&in) % 8) {
		default:
			nchg = in8(&in) % (NCHG + 1);
			for (int i = 0; i < nchg; i++)
				make_change(&in, &chg[i], kq);
			nevs = in8(&in) % (NCHG * 2 + 1);
			n = kevent(kq, chg, nchg, evs, nevs, &zero);
			CHECK(n <= nevs);
			if (n < 0) {
				CHECK(errno > 0);
				break;
			}
			for (int i = 0; i < n; i++)
				if (evs[i].flags & EV_ERROR)
					CHECK(evs[i].data >= 0);
			break;
		case 4:
			(void)write(pool[in8(&in) & 1 ? 1 : 3], "xyz",
			    1 + in8(&in) % 3);
			break;
		case 5:
			(void)read(pool[in8(&in) & 1 ? 0 : 2], buf,
			    sizeof(buf));
			break;
		case 6: {
			int k = in8(&in) % 5;

			if (pool[k] >= 0) {
				close(pool[k]);
				pool[k] = -1;
			}
			break;
		}
		case 7:
			if (!ringed)
				ringed = kevent_ring_attach(kq, 16) == 0;
			else {
				CHECK(kevent_ring_detach(kq) == 0);
				ringed = 0;
			}
			break;
		}
	}
	CHECK(close(kq) == 0);
	pool_close();
	CHECK(evring_stat(EVRING_STAT_KNOTES) == knotes);
	CHECK(evring_stat(EVRING_STAT_KQUEUES) == kqueues);
	CHECK(evring_stat(EVRING_STAT_HOSTREG) == hostreg);
	return (0);
}
