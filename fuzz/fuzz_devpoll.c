/*
 * fuzz_devpoll: libFuzzer harness for /dev/poll (sys/kern/sys_devpoll.c).
 *
 * Each input is a program over a fresh /dev/poll instance and a small pool
 * of real descriptors (pipes, a socket pair, an eventfd, a regular file,
 * a kqueue, a second /dev/poll instance, and numbers that are not open).
 * Ops, one byte each plus operands: write pollfd arrays (any fd, any
 * events, POLLREMOVE included), write raw lengths and bad pointers,
 * DP_POLL (never waiting) and DP_ISPOLLED with good and bad arguments,
 * unknown requests, changes to the pool (data in and out, closes, number
 * reuse), and attaching and detaching an event ring.  Invariants checked
 * after every call: results within bounds, revents only what was asked for
 * plus POLLERR/POLLHUP/POLLNVAL, and when the instance is closed every
 * knote, queue and host registration it made is gone.
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

#define	EVRING_DEVPOLL_NO_MACROS
#include <sys/devpoll.h>

#define	NPOOL	12

static int pool[NPOOL];

static void
pool_open(void)
{
	int p[2], s[2];

	if (pipe2(p, O_NONBLOCK) != 0)
		abort();
	pool[0] = p[0];
	pool[1] = p[1];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s) != 0)
		abort();
	pool[2] = s[0];
	pool[3] = s[1];
	pool[4] = eventfd(0, EFD_NONBLOCK);
	pool[5] = open("/dev/null", O_RDWR);
	pool[6] = kqueue();
	pool[7] = evring_devpoll_open();
	pool[8] = open("/proc/self/exe", O_RDONLY);
	pool[9] = -1;
	pool[10] = 1000;	/* not open */
	pool[11] = 0x7fffffff;
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
pick_fd(struct input *in, int dp)
{
	uint8_t b = in8(in);

	if (b < 200)
		return (pool[b % NPOOL]);
	if (b < 220)
		return (dp);
	return ((int)(int8_t)in8(in));	/* small, negative, or unknown */
}

static void
check_poll(const struct pollfd *fds, int n, int nfds)
{

	CHECK(n >= 0 && n <= nfds);
	for (int i = 0; i < n; i++) {
		CHECK(fds[i].revents != 0);
		CHECK((fds[i].revents & ~(fds[i].events | POLLERR | POLLHUP |
		    POLLNVAL | POLLRDNORM | POLLWRNORM | POLLWRBAND |
		    POLLRDHUP)) == 0);
		CHECK(fds[i].fd >= 0);
	}
}

static void
one_op(struct input *in, int dp, int *ringed)
{
	struct pollfd pf[16], out[16];
	struct dvpoll dvp;
	char buf[64];
	int n, k, fd;
	ssize_t r;

	switch (in8(in) % 12) {
	case 0:
	case 1:		/* a pollfd array */
		k = 1 + in8(in) % 8;
		for (int i = 0; i < k; i++) {
			pf[i].fd = pick_fd(in, dp);
			pf[i].events = (short)in16(in);
			pf[i].revents = (short)in16(in);
		}
		r = evring_devpoll_write(dp, pf, (size_t)k * sizeof(pf[0]));
		/*
		 * An entry the host refuses to watch (EINVAL for its own
		 * epoll descriptor, reached through a raw number) fails the
		 * write, as a failed VOP_POLL fails it on illumos.
		 */
		CHECK(r == (ssize_t)(k * sizeof(pf[0])) ||
		    (r == -1 && errno != EFAULT && errno != EBADF));
		break;
	case 2:		/* a length that is not a multiple */
		k = in8(in) % 40;
		memset(buf, 0, sizeof(buf));
		r = evring_devpoll_write(dp, buf, (size_t)k);
		CHECK(k % sizeof(struct pollfd) == 0 ? r == k :
		    (r == -1 && errno == EINVAL));
		break;
	case 3:
	case 4:		/* DP_POLL, never waiting */
		n = in8(in) % 17;
		dvp.dp_fds = out;
		dvp.dp_nfds = (nfds_t)n;
		dvp.dp_timeout = 0;
		k = evring_devpoll_ioctl(dp, DP_POLL, &dvp);
		CHECK(k >= 0);
		if (!*ringed)
			check_poll(out, k, n);
		else
			CHECK(k == 0);
		break;
	case 5:		/* DP_ISPOLLED */
		memset(&pf[0], 0, sizeof(pf[0]));
		pf[0].fd = pick_fd(in, dp);
		k = evring_devpoll_ioctl(dp, DP_ISPOLLED, &pf[0]);
		CHECK(k == 0 || k == 1);
		break;
	case 6:		/* bad pointers and requests */
		switch (in8(in) % 5) {
		case 0:
			CHECK(evring_devpoll_write(dp, (void *)16, 8) == -1 &&
			    errno == EFAULT);
			break;
		case 1:
			CHECK(evring_devpoll_ioctl(dp, DP_POLL, (void *)16) ==
			    -1 && errno == EFAULT);
			break;
		case 2:
			dvp.dp_fds = (struct pollfd *)16;
			dvp.dp_nfds = 1 + in8(in) % 4;
			dvp.dp_timeout = 0;
			CHECK(evring_devpoll_ioctl(dp, DP_POLL, &dvp) == -1 &&
			    errno == EFAULT);
			break;
		case 3:
			CHECK(evring_devpoll_ioctl(dp, DP_ISPOLLED,
			    (void *)16) == -1 && errno == EFAULT);
			break;
		case 4:
			CHECK(evring_devpoll_ioctl(dp, (unsigned long)in16(in) |
			    DPIOC << 8, &dvp) == -1);
			break;
		}
		break;
	case 7:		/* data into the pool */
		fd = pool[in8(in) % 6];
		if (fd == pool[4]) {
			uint64_t one = 1;
			(void)write(fd, &one, sizeof(one));
		} else
			(void)write(fd, "abcdefgh", 1 + in8(in) % 8);
		break;
	case 8:		/* data out of the pool */
		fd = pool[in8(in) % 6];
		(void)read(fd, buf, sizeof(buf));
		break;
	case 9:		/* a close, and maybe the number reused */
		k = in8(in) % 6;
		if (pool[k] >= 0) {
			close(pool[k]);
			if (in8(in) & 1)
				pool[k] = -1;
			else {
				int q[2];

				if (pipe2(q, O_NONBLOCK) != 0)
					abort();
				if (q[0] != pool[k]) {
					dup2(q[0], pool[k]);
					close(q[0]);
				}
				close(q[1]);
			}
		}
		break;
	case 10:	/* a ring on, or off */
		if (!*ringed)
			*ringed = kevent_ring_attach(dp, 8u << (in8(in) % 3))
			    == 0;
		else {
			CHECK(kevent_ring_detach(dp) == 0);
			*ringed = 0;
		}
		break;
	case 11:	/* the same through a kqueue: shared knotes */
	{
		struct kevent kev;
		struct timespec zero = { 0, 0 };

		EV_SET(&kev, pick_fd(in, dp), in8(in) & 1 ? EVFILT_READ :
		    EVFILT_WRITE, in8(in) & 1 ? EV_ADD : EV_DELETE, 0, 0,
		    NULL);
		(void)kevent(pool[6], &kev, 1, NULL, 0, NULL);
		(void)kevent(pool[6], NULL, 0, &kev, 1, &zero);
		break;
	}
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
	int dp, ringed = 0, ops = 0;

	knotes = evring_stat(EVRING_STAT_KNOTES);
	kqueues = evring_stat(EVRING_STAT_KQUEUES);
	hostreg = evring_stat(EVRING_STAT_HOSTREG);
	pool_open();
	dp = evring_devpoll_open();
	CHECK(dp >= 0);
	while (in.left > 0 && ops++ < 256)
		one_op(&in, dp, &ringed);
	CHECK(close(dp) == 0);
	pool_close();
	/* Nothing of the instance or the pool outlives them. */
	CHECK(evring_stat(EVRING_STAT_KNOTES) == knotes);
	CHECK(evring_stat(EVRING_STAT_KQUEUES) == kqueues);
	CHECK(evring_stat(EVRING_STAT_HOSTREG) == hostreg);
	return (0);
}
