/*
 * fuzz_epoll_ctl: libFuzzer harness for the epoll front end
 * (sys/kern/sys_epoll.c, through evring_epoll_ctl() and friends).
 *
 * Each input is a program over a fresh epoll instance and a pool of real
 * descriptors (pipes, a socket pair, an eventfd, a regular file that epoll
 * refuses, a second epoll instance for nesting, a kqueue, a /dev/poll
 * instance, the instance itself, numbers that are not open).  Ops: the
 * whole epoll_ctl argument space -- any op (valid or not), any fd, an
 * event pointer that is valid (any events bits, any data), NULL or bad --
 * epoll_wait with any maxevents and no waiting, nesting instances into
 * each other (loops included), and changes to the pool (data, closes,
 * dup2 over watched numbers).  Invariants: every failure is an errno
 * epoll_ctl(2) documents, epoll_wait() stays within maxevents, and closing
 * everything leaves no knote, queue or host registration behind.
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

#define	EVRING_NO_RENAME
#include <evring/epoll.h>
#define	EVRING_DEVPOLL_NO_MACROS
#include <sys/devpoll.h>

#define	NPOOL	12

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
	pool[5] = open("/proc/self/exe", O_RDONLY);	/* EPERM */
	pool[6] = evring_epoll_create1(0);		/* to nest */
	pool[7] = kqueue();
	pool[8] = evring_devpoll_open();
	pool[9] = 998;		/* not open */
	pool[10] = -1;
	pool[11] = 0;		/* the instance, set per input */
	for (int i = 0; i < 9; i++)
		if (pool[i] < 0)
			abort();
}

static void
pool_close(void)
{

	for (int i = 0; i < 9; i++)
		if (pool[i] >= 0)
			close(pool[i]);
}

static int
pick_fd(struct input *in)
{
	uint8_t b = in8(in);

	if (b < 240)
		return (pool[b % NPOOL]);
	return ((int)(int8_t)in8(in));
}

static int
ctl_errno_ok(int e)
{

	return (e == EBADF || e == EEXIST || e == EINVAL || e == ENOENT ||
	    e == ENOMEM || e == EPERM || e == ELOOP || e == EFAULT ||
	    e == ENOSPC);
}

static void
one_op(struct input *in, int ep)
{
	struct epoll_event ev, evs[16];
	char buf[64];
	int op, fd, r, n, k;

	switch (in8(in) % 10) {
	default:	/* epoll_ctl */
		k = in8(in);
		op = k < 200 ? 1 + k % 3 : (int)(int8_t)in8(in);
		fd = pick_fd(in);
		ev.events = in32(in);
		ev.data.u64 = (uint64_t)in32(in) << 32 | in32(in);
		switch (in8(in) % 8) {
		case 0:
			r = evring_epoll_ctl(ep, op, fd, NULL);
			break;
		case 1:
			r = evring_epoll_ctl(ep, op, fd,
			    (struct epoll_event *)16);
			break;
		case 2:		/* nested: the inner instance's own set */
			r = evring_epoll_ctl(pool[6], op, fd, &ev);
			break;
		default:
			r = evring_epoll_ctl(ep, op, fd, &ev);
			break;
		}
		CHECK(r == 0 || (r == -1 && ctl_errno_ok(errno)));
		break;
	case 5:
	case 6:		/* epoll_wait, never waiting */
		n = (int)(in8(in) % 18) - 1;
		r = evring_epoll_wait(in8(in) & 1 ? pool[6] : ep, evs, n, 0);
		if (n <= 0)
			CHECK(r == -1 && errno == EINVAL);
		else
			CHECK(r >= 0 && r <= n);
		break;
	case 7:		/* data in, data out */
		fd = pool[in8(in) % 5];
		if (fd == pool[4]) {
			uint64_t one = 1;
			(void)write(fd, &one, sizeof(one));
		} else if (in8(in) & 1)
			(void)write(fd, "abcdefgh", 1 + in8(in) % 8);
		else
			(void)read(fd, buf, sizeof(buf));
		break;
	case 8:		/* a close, or a dup2 over a watched number */
		k = in8(in) % 5;
		if (pool[k] < 0)
			break;
		if (in8(in) & 1) {
			close(pool[k]);
			pool[k] = -1;
		} else {
			int q[2];

			if (pipe2(q, O_NONBLOCK) != 0)
				abort();
			dup2(q[in8(in) & 1], pool[k]);
			close(q[0]);
			close(q[1]);
		}
		break;
	case 9:		/* a fresh instance nested in the set */
		fd = evring_epoll_create1(in8(in) & 1 ? EPOLL_CLOEXEC :
		    (int)in8(in));
		if (fd >= 0) {
			ev.events = EPOLLIN;
			ev.data.fd = fd;
			(void)evring_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			(void)evring_epoll_ctl(fd, EPOLL_CTL_ADD, ep, &ev);
			close(fd);
		} else
			CHECK(errno == EINVAL);
		break;
	}
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
	long long knotes, kqueues, hostreg;
	int ep, ops = 0;

	knotes = evring_stat(EVRING_STAT_KNOTES);
	kqueues = evring_stat(EVRING_STAT_KQUEUES);
	hostreg = evring_stat(EVRING_STAT_HOSTREG);
	pool_open();
	ep = evring_epoll_create1(0);
	CHECK(ep >= 0);
	pool[11] = ep;
	while (in.left > 0 && ops++ < 256)
		one_op(&in, ep);
	CHECK(close(ep) == 0);
	pool_close();
	CHECK(evring_stat(EVRING_STAT_KNOTES) == knotes);
	CHECK(evring_stat(EVRING_STAT_KQUEUES) == kqueues);
	CHECK(evring_stat(EVRING_STAT_HOSTREG) == hostreg);
	return (0);
}
