/*
 * t_close: closing watched descriptors and queues, and descriptor reuse.
 *
 * Knotes belong to the descriptor number (BSD semantics): close(fd), or
 * dup2() over fd, removes fd's knotes from every queue even while a dup()
 * keeps the open file alive; a reused number never receives the old
 * object's events; a closed descriptor holds no hidden reference to its
 * object; a closed kqueue is freed and its number reusable; nothing leaks
 * over many open/register/close rounds.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/close_range.h>

#include "h_evring.h"

ATF_TC(close_removes_knote);
ATF_TC_HEAD(close_removes_knote, tc)
{
	atf_tc_set_md_var(tc, "descr", "close() of a watched pipe read end "
	    "removes its knote (EVRING_STAT_KNOTES drops back); EV_DELETE on "
	    "the closed number then fails with EBADF");
}
ATF_TC_BODY(close_removes_knote, tc)
{
	struct kevent ch;
	long long k0;
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(k0 + 1, KEV_STAT(EVRING_STAT_KNOTES));

	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_CHECK_EQ(k0, KEV_STAT(EVRING_STAT_KNOTES));

	EV_SET(&ch, p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_REQUIRE_ERRNO(EBADF, kevent(kq, &ch, 1, NULL, 0, NULL) == -1);
	KEV_NONE(kq, 0);
}

ATF_TC(reuse_no_stale_events);
ATF_TC_HEAD(reuse_no_stale_events, tc)
{
	atf_tc_set_md_var(tc, "descr", "A watched pipe read end is closed "
	    "(a dup keeps the old pipe alive) and its number reused by a new "
	    "pipe: the old pipe becoming readable reports nothing, the new "
	    "number is unregistered, and registering it sees only new data");
}
ATF_TC_BODY(reuse_no_stale_events, tc)
{
	struct kevent ev;
	char buf[16];
	int a[2], b[2], d, kq;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(a));
	ATF_REQUIRE((d = dup(a[0])) >= 0);
	KEV_CHANGE(kq, a[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(0, close(a[0]));

	ATF_REQUIRE_EQ(0, pipe(b));
	ATF_REQUIRE_EQ_MSG(a[0], b[0], "new pipe got %d, not the freed %d",
	    b[0], a[0]);

	/* The old object becomes readable: nothing for the reused number. */
	ATF_REQUIRE_EQ(5, write(a[1], "old!!", 5));
	KEV_NONE(kq, 0);
	KEV_NONE(kq, 100);
	/* The new object too: the number carries no registration. */
	ATF_REQUIRE_EQ(3, write(b[1], "new", 3));
	KEV_NONE(kq, 100);

	KEV_CHANGE(kq, b[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ev = KEV_ONE(kq, 1000, b[0], EVFILT_READ);
	ATF_CHECK_EQ_MSG(3, ev.data, "data %ld: 5 would be the old pipe's",
	    (long)ev.data);

	/* The old pipe did get its data. */
	ATF_REQUIRE_EQ(5, read(d, buf, sizeof(buf)));
	ATF_REQUIRE_EQ(3, read(b[0], buf, sizeof(buf)));
	KEV_NONE(kq, 50);
}

ATF_TC(dup_then_close);
ATF_TC_HEAD(dup_then_close, tc)
{
	atf_tc_set_md_var(tc, "descr", "dup() then close(original): the "
	    "original's knote is removed though the file stays open through "
	    "the dup; writes report nothing, and the dup has no knote");
}
ATF_TC_BODY(dup_then_close, tc)
{
	struct kevent ch;
	char buf[8];
	long long k0;
	int d, kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE((d = dup(p[0])) >= 0);
	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_CHECK_EQ(k0, KEV_STAT(EVRING_STAT_KNOTES));

	ATF_REQUIRE_EQ(2, write(p[1], "hi", 2));
	KEV_NONE(kq, 0);
	KEV_NONE(kq, 100);

	EV_SET(&ch, d, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	ATF_REQUIRE_ERRNO(ENOENT, kevent(kq, &ch, 1, NULL, 0, NULL) == -1);
	ATF_REQUIRE_EQ(2, read(d, buf, sizeof(buf)));
}

ATF_TC(close_dup_keeps_original);
ATF_TC_HEAD(close_dup_keeps_original, tc)
{
	atf_tc_set_md_var(tc, "descr", "With knotes on both a descriptor and "
	    "its dup, closing the dup removes only the dup's knote; the "
	    "original still reports");
}
ATF_TC_BODY(close_dup_keeps_original, tc)
{
	struct kevent ev;
	long long k0;
	int d, kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE((d = dup(p[0])) >= 0);
	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq, d, EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_CHECK_EQ(k0 + 2, KEV_STAT(EVRING_STAT_KNOTES));

	ATF_REQUIRE_EQ(0, close(d));
	ATF_CHECK_EQ(k0 + 1, KEV_STAT(EVRING_STAT_KNOTES));
	ATF_REQUIRE_EQ(4, write(p[1], "four", 4));
	ev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK_EQ(4, ev.data);
}

ATF_TC(dup2_over_watched);
ATF_TC_HEAD(dup2_over_watched, tc)
{
	atf_tc_set_md_var(tc, "descr", "dup2() over a watched descriptor "
	    "removes its knotes: the number now naming another pipe reports "
	    "nothing, and the replaced pipe has lost its only reader (EPIPE)");
}
ATF_TC_BODY(dup2_over_watched, tc)
{
	struct kevent ev;
	long long k0;
	int kq, p[2], q[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE_EQ(0, pipe(q));
	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(k0 + 1, KEV_STAT(EVRING_STAT_KNOTES));

	ATF_REQUIRE_EQ(p[0], dup2(q[0], p[0]));
	ATF_CHECK_EQ(k0, KEV_STAT(EVRING_STAT_KNOTES));

	ATF_REQUIRE_EQ(1, write(q[1], "q", 1));
	KEV_NONE(kq, 0);
	KEV_NONE(kq, 100);
	ATF_REQUIRE_ERRNO(EPIPE, write(p[1], "p", 1) == -1);

	/* Registered afresh, the number reports the pipe it now names. */
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK_EQ(1, ev.data);
}

ATF_TC(no_hidden_reference);
ATF_TC_HEAD(no_hidden_reference, tc)
{
	atf_tc_set_md_var(tc, "descr", "A watched pipe read end, once closed, "
	    "is really gone: the kernel holds no reference, so write() on the "
	    "write end fails with EPIPE");
}
ATF_TC_BODY(no_hidden_reference, tc)
{
	int kq, p[2], kq2;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE((kq2 = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq2, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_CHANGE(kq, p[1], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	/* Before the close, the pipe has a reader. */
	ATF_REQUIRE_EQ(1, write(p[1], "x", 1));
	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_REQUIRE_ERRNO(EPIPE, write(p[1], "y", 1) == -1);
}

ATF_TC(kqueue_close_frees);
ATF_TC_HEAD(kqueue_close_frees, tc)
{
	atf_tc_set_md_var(tc, "descr", "Closing a kqueue frees it and its "
	    "knotes and host registrations (EVRING_STAT_KQUEUES, KNOTES, "
	    "HOSTREG drop back); its number is reused by the next kqueue(), "
	    "which starts empty and works");
}
ATF_TC_BODY(kqueue_close_frees, tc)
{
	struct kevent ev;
	long long h0, k0, q0;
	int kq, kq2, p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	q0 = KEV_STAT(EVRING_STAT_KQUEUES);
	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	h0 = KEV_STAT(EVRING_STAT_HOSTREG);

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_CHECK_EQ(q0 + 1, KEV_STAT(EVRING_STAT_KQUEUES));
	KEV_CHANGE(kq, 7, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_CHANGE(kq, 7, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(1, write(p[1], "z", 1));
	ATF_CHECK_EQ(k0 + 2, KEV_STAT(EVRING_STAT_KNOTES));
	ATF_CHECK_EQ(h0 + 1, KEV_STAT(EVRING_STAT_HOSTREG));

	ATF_REQUIRE_EQ(0, close(kq));
	ATF_CHECK_EQ(q0, KEV_STAT(EVRING_STAT_KQUEUES));
	ATF_CHECK_EQ(k0, KEV_STAT(EVRING_STAT_KNOTES));
	ATF_CHECK_EQ(h0, KEV_STAT(EVRING_STAT_HOSTREG));

	ATF_REQUIRE((kq2 = kqueue()) >= 0);
	ATF_CHECK_EQ(kq, kq2);
	/* Nothing of the old queue's (pending user event, readable pipe). */
	KEV_NONE(kq2, 50);
	KEV_CHANGE(kq2, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_CHANGE(kq2, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	ev = KEV_ONE(kq2, 0, 1, EVFILT_USER);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);
}

ATF_TC(kevent_closed_kqueue);
ATF_TC_HEAD(kevent_closed_kqueue, tc)
{
	atf_tc_set_md_var(tc, "descr", "kevent() on a closed kqueue descriptor "
	    "fails with EBADF, with and without a change list");
}
ATF_TC_BODY(kevent_closed_kqueue, tc)
{
	struct timespec zero = { 0, 0 };
	struct kevent ch, ev;
	int kq;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, close(kq));
	ATF_REQUIRE_EQ(-1, fcntl(kq, F_GETFD));
	ATF_REQUIRE_ERRNO(EBADF, kevent(kq, NULL, 0, &ev, 1, &zero) == -1);
	EV_SET(&ch, 1, EVFILT_USER, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_ERRNO(EBADF, kevent(kq, &ch, 1, NULL, 0, &zero) == -1);
}

ATF_TC(kevent_not_kqueue);
ATF_TC_HEAD(kevent_not_kqueue, tc)
{
	atf_tc_set_md_var(tc, "descr", "kevent() on a descriptor that is not a "
	    "kqueue (a pipe, a watched pipe) or on -1 fails with EBADF");
}
ATF_TC_BODY(kevent_not_kqueue, tc)
{
	struct timespec zero = { 0, 0 };
	struct kevent ev;
	int kq, p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE_ERRNO(EBADF, kevent(p[0], NULL, 0, &ev, 1, &zero) == -1);
	ATF_REQUIRE_ERRNO(EBADF, kevent(-1, NULL, 0, &ev, 1, &zero) == -1);

	/* A descriptor the kernel tracks (watched) is still no kqueue. */
	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_ERRNO(EBADF, kevent(p[0], NULL, 0, &ev, 1, &zero) == -1);
}

#define	NLOOP	1000

ATF_TC(no_leak);
ATF_TC_HEAD(no_leak, tc)
{
	atf_tc_set_md_var(tc, "descr", "1000 rounds of open, register, fire, "
	    "close (pipes, socketpairs, regular files with READ and VNODE) "
	    "leave EVRING_STAT_KNOTES, FILES, HOSTREG and VNODEWATCH at their "
	    "starting values");
}
ATF_TC_BODY(no_leak, tc)
{
	char dir[] = "/tmp/t_close.XXXXXX", path[PATH_MAX];
	struct kevent evs[4];
	long long f0, h0, k0, v0;
	int fd, i, kq, n, p[2];

	ATF_REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f", dir);
	ATF_REQUIRE((kq = kqueue()) >= 0);
	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	f0 = KEV_STAT(EVRING_STAT_FILES);
	h0 = KEV_STAT(EVRING_STAT_HOSTREG);
	v0 = KEV_STAT(EVRING_STAT_VNODEWATCH);

	for (i = 0; i < NLOOP; i++) {
		switch (i % 3) {
		case 0:
			ATF_REQUIRE_EQ(0, pipe(p));
			KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
			KEV_CHANGE(kq, p[1], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
			ATF_REQUIRE_EQ(1, write(p[1], "x", 1));
			break;
		case 1:
			ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0,
			    p));
			KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
			KEV_CHANGE(kq, p[0], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
			ATF_REQUIRE_EQ(1, write(p[1], "x", 1));
			break;
		default:
			ATF_REQUIRE((fd = open(path, O_RDWR | O_CREAT |
			    O_TRUNC, 0600)) >= 0);
			KEV_CHANGE(kq, fd, EVFILT_READ, EV_ADD, 0, 0, NULL);
			KEV_CHANGE(kq, fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
			    NOTE_WRITE, 0, NULL);
			ATF_REQUIRE_EQ(1, write(fd, "x", 1));
			p[0] = fd;
			p[1] = -1;
			break;
		}
		n = kev_wait(kq, evs, 4, 1000);
		ATF_REQUIRE_MSG(n >= 1, "round %d: kevent returned %d", i, n);
		ATF_REQUIRE_EQ(0, close(p[0]));
		if (p[1] != -1)
			ATF_REQUIRE_EQ(0, close(p[1]));
	}
	KEV_NONE(kq, 0);
	ATF_CHECK_EQ(k0, KEV_STAT(EVRING_STAT_KNOTES));
	ATF_CHECK_EQ(f0, KEV_STAT(EVRING_STAT_FILES));
	ATF_CHECK_EQ(h0, KEV_STAT(EVRING_STAT_HOSTREG));
	ATF_CHECK_EQ(v0, KEV_STAT(EVRING_STAT_VNODEWATCH));
	unlink(path);
	rmdir(dir);
}

/*
 * The io_uring host backend's poll requests hold their files, unlike
 * epoll's registrations: the cases below pin down that a close evring
 * sees still closes the object at once, whoever registered it.
 */
static int
peer_sees_eof(int s)
{
	char c;

	return (recv(s, &c, 1, MSG_DONTWAIT) == 0);
}

struct owner_arg {
	int			fd;
	int			kq;
	pthread_barrier_t	barrier;
};

static void *
owner_thread(void *arg)
{
	struct owner_arg *oa = arg;
	struct kevent kev;

	oa->kq = kqueue();
	EV_SET(&kev, oa->fd, EVFILT_READ, EV_ADD, 0, 0, NULL);
	if (oa->kq < 0 || kevent(oa->kq, &kev, 1, NULL, 0, NULL) != 0)
		oa->kq = -1;
	pthread_barrier_wait(&oa->barrier);	/* registered */
	pthread_barrier_wait(&oa->barrier);	/* the main thread closed */
	return (NULL);
}

ATF_TC(close_other_thread_watch);
ATF_TC_HEAD(close_other_thread_watch, tc)
{
	atf_tc_set_md_var(tc, "descr", "A socket registered by another thread "
	    "(which owns its host registration) and closed here is closed "
	    "when close() returns: the peer reads end of file at once");
}
ATF_TC_BODY(close_other_thread_watch, tc)
{
	struct owner_arg oa;
	pthread_t t;
	int s[2];

	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	oa.fd = s[0];
	ATF_REQUIRE_EQ(0, pthread_barrier_init(&oa.barrier, NULL, 2));
	ATF_REQUIRE_EQ(0, pthread_create(&t, NULL, owner_thread, &oa));
	pthread_barrier_wait(&oa.barrier);
	ATF_REQUIRE(oa.kq >= 0);
	ATF_REQUIRE_EQ(0, close(s[0]));
	ATF_CHECK_MSG(peer_sees_eof(s[1]), "the closed socket is still open");
	pthread_barrier_wait(&oa.barrier);
	ATF_REQUIRE_EQ(0, pthread_join(t, NULL));
	ATF_CHECK_EQ(0, KEV_STAT(EVRING_STAT_HOSTREG));
	close(oa.kq);
	close(s[1]);
}

ATF_TC(close_frees_port);
ATF_TC_HEAD(close_frees_port, tc)
{
	atf_tc_set_md_var(tc, "descr", "A watched TCP listener's port is free "
	    "when close() returns: a new socket binds it without "
	    "SO_REUSEADDR");
}
ATF_TC_BODY(close_frees_port, tc)
{
	struct sockaddr_in sin;
	socklen_t len;
	int kq, l, l2;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE((l = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	ATF_REQUIRE_EQ(0, bind(l, (struct sockaddr *)&sin, sizeof(sin)));
	ATF_REQUIRE_EQ(0, listen(l, 4));
	len = sizeof(sin);
	ATF_REQUIRE_EQ(0, getsockname(l, (struct sockaddr *)&sin, &len));
	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, l, EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(0, close(l));
	ATF_REQUIRE((l2 = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	ATF_CHECK_MSG(bind(l2, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "bind: %s", strerror(errno));
	close(l2);
	close(kq);
}

ATF_TC(fclose_closes);
ATF_TC_HEAD(fclose_closes, tc)
{
	atf_tc_set_md_var(tc, "descr", "fclose() of a stream on a watched "
	    "socket, a close inside the C library, removes the knote and "
	    "closes the socket at once");
}
ATF_TC_BODY(fclose_closes, tc)
{
	long long k0;
	FILE *f;
	int kq, s[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	k0 = KEV_STAT(EVRING_STAT_KNOTES);
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE((f = fdopen(s[0], "r+")) != NULL);
	ATF_REQUIRE_EQ(0, fclose(f));
	ATF_CHECK_MSG(peer_sees_eof(s[1]), "the closed socket is still open");
	ATF_CHECK_EQ(k0, KEV_STAT(EVRING_STAT_KNOTES));
	KEV_NONE(kq, 0);
	close(s[1]);
	close(kq);
}

ATF_TC(pclose_closes_pipe);
ATF_TC_HEAD(pclose_closes_pipe, tc)
{
	atf_tc_set_md_var(tc, "descr", "pclose() of a watched popen() pipe "
	    "whose child writes without end returns: the read end is really "
	    "closed, so the child fails with EPIPE instead of blocking");
	atf_tc_set_md_var(tc, "timeout", "30");
}
ATF_TC_BODY(pclose_closes_pipe, tc)
{
	struct kevent ev;
	FILE *f;
	int kq;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE((f = popen("exec yes", "r")) != NULL);
	KEV_CHANGE(kq, fileno(f), EVFILT_READ, EV_ADD, 0, 0, NULL);
	ev = KEV_ONE(kq, 5000, (uintptr_t)fileno(f), EVFILT_READ);
	ATF_REQUIRE(ev.data > 0);
	/* A blocked pclose() ends the test with the timeout above. */
	ATF_CHECK(pclose(f) != -1);
	KEV_NONE(kq, 0);
	close(kq);
}

/*
 * Issue 15, item 4: a program that closes every descriptor (a daemon at
 * start-up) used to close the library's own too (its epoll instance, the
 * sleepers' eventfds), after which nothing was ever reported again.
 */
static void
closeall_then_watch(int how)
{
	struct timespec ts = { 0, 20000000 };
	struct kevent ev;
	int fd, kq, left, p[2];

	/* Make the host's descriptors: readiness, a sleeper, signals. */
	kq = kqueue();
	ATF_REQUIRE(kq >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq, SIGUSR2, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(0, kevent(kq, NULL, 0, &ev, 1, &ts));

	if (how == 0)
		closefrom(3);
	else
		ATF_REQUIRE_EQ(0, close_range(3, ~0U, 0));

	/* What is still open is the library's: not the program's. */
	for (fd = 3, left = 0; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) == -1)
			continue;
		left++;
		ATF_CHECK_MSG(close(fd) == -1 && errno == EBADF,
		    "close(%d) of a library descriptor: %s", fd,
		    strerror(errno));
		ATF_CHECK(fcntl(fd, F_GETFD) != -1);
	}
	ATF_CHECK(left > 0);

	/* And the library still works. */
	kq = kqueue();
	ATF_REQUIRE(kq >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_NONE(kq, 0);
	ATF_REQUIRE_EQ(1, write(p[1], "x", 1));
	KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_REQUIRE_EQ(0, close(p[1]));
	ATF_REQUIRE_EQ(0, close(kq));
}

ATF_TC(closefrom_keeps_library);
ATF_TC_HEAD(closefrom_keeps_library, tc)
{
	atf_tc_set_md_var(tc, "descr", "closefrom(3) leaves the library's "
	    "own descriptors open (a close() of one fails EBADF), and "
	    "readiness is reported afterwards");
}
ATF_TC_BODY(closefrom_keeps_library, tc)
{

	closeall_then_watch(0);
}

ATF_TC(close_range_keeps_library);
ATF_TC_HEAD(close_range_keeps_library, tc)
{
	atf_tc_set_md_var(tc, "descr", "close_range(3, ~0U, 0) leaves the "
	    "library's own descriptors open, and readiness is reported "
	    "afterwards");
}
ATF_TC_BODY(close_range_keeps_library, tc)
{

	closeall_then_watch(1);
}

/*
 * Issue 11, item 2: the library's own descriptors live at high numbers, so
 * a program is given the numbers Linux would give it.
 */
ATF_TC(numbers_are_the_programs);
ATF_TC_HEAD(numbers_are_the_programs, tc)
{
	atf_tc_set_md_var(tc, "descr", "kqueue(), pipe() and open() return "
	    "the lowest free numbers, one after another, while the library "
	    "makes its own descriptors (host readiness, a sleeper, the "
	    "signal eventfd, inotify) in between; those are at 960 or above "
	    "and close-on-exec");
}
ATF_TC_BODY(numbers_are_the_programs, tc)
{
	struct timespec ts = { 0, 10000000 };
	char path[] = "/tmp/t_close.XXXXXX";
	struct kevent ev;
	unsigned char before[1024];
	int base, fd, kq, p[2], tmp, x;

	/* What the test was started with is not the library's. */
	for (fd = 0; fd < 1024; fd++)
		before[fd] = fcntl(fd, F_GETFD) != -1;
	base = dup(0);
	ATF_REQUIRE(base >= 0);
	ATF_REQUIRE_EQ(0, close(base));
	kq = kqueue();
	ATF_REQUIRE_EQ(base, kq);
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE_EQ(base + 1, p[0]);
	ATF_REQUIRE_EQ(base + 2, p[1]);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq, SIGUSR2, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(0, kevent(kq, NULL, 0, &ev, 1, &ts));	/* sleeps */
	tmp = mkstemp(path);
	ATF_REQUIRE_EQ(base + 3, tmp);
	ATF_REQUIRE_EQ(0, unlink(path));
	KEV_CHANGE(kq, tmp, EVFILT_VNODE, EV_ADD, NOTE_WRITE, 0, NULL);
	x = dup(0);
	ATF_CHECK_EQ_MSG(base + 4, x, "dup() gave %d, not %d", x, base + 4);
	for (fd = base + 5; fd < 960; fd++)
		ATF_CHECK_MSG(before[fd] || fcntl(fd, F_GETFD) == -1,
		    "%d is open", fd);
	for (fd = 960; fd < 1024; fd++)
		if (!before[fd] && fcntl(fd, F_GETFD) != -1)
			ATF_CHECK_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	ATF_REQUIRE_EQ(0, close(x));
	ATF_REQUIRE_EQ(0, close(tmp));
	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_REQUIRE_EQ(0, close(p[1]));
	ATF_REQUIRE_EQ(0, close(kq));
}

/*
 * Issue 11 item 2, issue 12 item 6: no registration needs a descriptor of
 * its own, so a program at its descriptor limit can still add.
 */
ATF_TC(add_at_fd_limit);
ATF_TC_HEAD(add_at_fd_limit, tc)
{
	atf_tc_set_md_var(tc, "descr", "With RLIMIT_NOFILE lowered to the "
	    "descriptors a program has open right after its first kqueue(), "
	    "EV_ADD of a pipe succeeds and its event is reported");
}
ATF_TC_BODY(add_at_fd_limit, tc)
{
	struct timespec zero = { 0, 0 };
	struct rlimit rl, low;
	struct kevent ev;
	int kq, p[2];

	ATF_REQUIRE_EQ(0, pipe(p));
	kq = kqueue();
	ATF_REQUIRE(kq >= 0);
	ATF_REQUIRE_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	low = rl;
	low.rlim_cur = (rlim_t)kq + 1;	/* no new number fits */
	ATF_REQUIRE_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	ATF_REQUIRE(dup(0) == -1 && errno == EMFILE);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(1, write(p[1], "x", 1));
	ATF_REQUIRE_EQ(1, kevent(kq, NULL, 0, &ev, 1, &zero));
	ATF_CHECK_EQ((uintptr_t)p[0], ev.ident);
	ATF_REQUIRE_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ATF_REQUIRE_EQ(0, close(kq));
	ATF_REQUIRE_EQ(0, close(p[0]));
	ATF_REQUIRE_EQ(0, close(p[1]));
}

ATF_TP_ADD_TCS(tp)
{
	signal(SIGPIPE, SIG_IGN);
	ATF_TP_ADD_TC(tp, close_removes_knote);
	ATF_TP_ADD_TC(tp, reuse_no_stale_events);
	ATF_TP_ADD_TC(tp, dup_then_close);
	ATF_TP_ADD_TC(tp, close_dup_keeps_original);
	ATF_TP_ADD_TC(tp, dup2_over_watched);
	ATF_TP_ADD_TC(tp, no_hidden_reference);
	ATF_TP_ADD_TC(tp, kqueue_close_frees);
	ATF_TP_ADD_TC(tp, kevent_closed_kqueue);
	ATF_TP_ADD_TC(tp, kevent_not_kqueue);
	ATF_TP_ADD_TC(tp, no_leak);
	ATF_TP_ADD_TC(tp, close_other_thread_watch);
	ATF_TP_ADD_TC(tp, closefrom_keeps_library);
	ATF_TP_ADD_TC(tp, close_range_keeps_library);
	ATF_TP_ADD_TC(tp, numbers_are_the_programs);
	ATF_TP_ADD_TC(tp, add_at_fd_limit);
	ATF_TP_ADD_TC(tp, close_frees_port);
	ATF_TP_ADD_TC(tp, fclose_closes);
	ATF_TP_ADD_TC(tp, pclose_closes_pipe);
	return (atf_no_error());
}
