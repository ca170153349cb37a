/*
 * t_write: EVFILT_WRITE on pipes, AF_UNIX sockets and regular files:
 * data is the space writable, a full pipe is not reported, draining it
 * reports it again, the peer's close sets EV_EOF, EV_CLEAR reports a
 * change once, and a regular file is always writable.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h_evring.h"

static void
set_nonblock(int fd)
{
	int fl;

	ATF_REQUIRE((fl = fcntl(fd, F_GETFL)) != -1);
	ATF_REQUIRE(fcntl(fd, F_SETFL, fl | O_NONBLOCK) != -1);
}

/* Write to a non-blocking fd until EAGAIN; returns the bytes written. */
static size_t
fill(int fd)
{
	static char buf[4096];
	size_t total = 0;
	ssize_t n;

	memset(buf, 'z', sizeof(buf));
	for (;;) {
		n = write(fd, buf, sizeof(buf));
		if (n == -1) {
			ATF_REQUIRE_EQ_MSG(EAGAIN, errno, "write: %s",
			    strerror(errno));
			break;
		}
		total += n;
		ATF_REQUIRE_MSG(total < 64 * 1024 * 1024, "never filled");
	}
	return (total);
}

/* Read a non-blocking fd until EAGAIN; returns the bytes read. */
static size_t
drain(int fd)
{
	static char buf[4096];
	size_t total = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1) {
			ATF_REQUIRE_EQ(EAGAIN, errno);
			break;
		}
		ATF_REQUIRE(n > 0);
		total += n;
	}
	return (total);
}

ATF_TC(pipe_empty);
ATF_TC_HEAD(pipe_empty, tc)
{
	atf_tc_set_md_var(tc, "descr", "An empty pipe's write end is writable "
	    "with data = free space (at most the pipe's size); it shrinks by "
	    "what is written");
}
ATF_TC_BODY(pipe_empty, tc)
{
	struct kevent ev;
	intptr_t empty;
	int kq, p[2], sz;
	char buf[100];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE((sz = fcntl(p[1], F_GETPIPE_SZ)) > 0);
	KEV_CHANGE(kq, p[1], EVFILT_WRITE, EV_ADD, 0, 0, NULL);

	ev = KEV_ONE(kq, 1000, p[1], EVFILT_WRITE);
	empty = ev.data;
	ATF_CHECK_MSG(empty > 0 && empty <= sz, "data %ld, pipe size %d",
	    (long)empty, sz);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);

	memset(buf, 'a', sizeof(buf));
	ATF_REQUIRE_EQ(100, write(p[1], buf, sizeof(buf)));
	ev = KEV_ONE(kq, 1000, p[1], EVFILT_WRITE);
	ATF_CHECK_EQ_MSG(empty - 100, ev.data, "empty %ld, after 100: %ld",
	    (long)empty, (long)ev.data);
}

ATF_TC(pipe_full);
ATF_TC_HEAD(pipe_full, tc)
{
	atf_tc_set_md_var(tc, "descr", "A pipe filled until EAGAIN is not "
	    "writable; drained, it is writable again");
}
ATF_TC_BODY(pipe_full, tc)
{
	struct kevent ev;
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	set_nonblock(p[0]);
	set_nonblock(p[1]);
	KEV_CHANGE(kq, p[1], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	(void)KEV_ONE(kq, 1000, p[1], EVFILT_WRITE);

	ATF_REQUIRE(fill(p[1]) > 0);
	KEV_NONE(kq, 100);

	ATF_REQUIRE(drain(p[0]) > 0);
	ev = KEV_ONE(kq, 1000, p[1], EVFILT_WRITE);
	ATF_CHECK(ev.data > 0);
	/* Level-triggered: still writable on the next call. */
	(void)KEV_ONE(kq, 0, p[1], EVFILT_WRITE);
}

ATF_TC(pipe_reader_closed);
ATF_TC_HEAD(pipe_reader_closed, tc)
{
	atf_tc_set_md_var(tc, "descr", "Closing a pipe's read end reports "
	    "EV_EOF on the write end's write filter");
}
ATF_TC_BODY(pipe_reader_closed, tc)
{
	struct kevent ev;
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[1], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	ev = KEV_ONE(kq, 1000, p[1], EVFILT_WRITE);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);
	ATF_REQUIRE_EQ(0, close(p[0]));
	ev = KEV_ONE(kq, 1000, p[1], EVFILT_WRITE);
	ATF_CHECK(ev.flags & EV_EOF);
}

ATF_TC(socket_peer_closed);
ATF_TC_HEAD(socket_peer_closed, tc)
{
	atf_tc_set_md_var(tc, "descr", "AF_UNIX stream socket: writable with "
	    "data > 0; after the peer closes the write filter reports EV_EOF");
}
ATF_TC_BODY(socket_peer_closed, tc)
{
	struct kevent ev;
	int kq, s[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	KEV_CHANGE(kq, s[0], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_WRITE);
	ATF_CHECK(ev.data > 0);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);

	ATF_REQUIRE_EQ(0, close(s[1]));
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_WRITE);
	ATF_CHECK(ev.flags & EV_EOF);
}

ATF_TC(socket_full);
ATF_TC_HEAD(socket_full, tc)
{
	atf_tc_set_md_var(tc, "descr", "An AF_UNIX stream socket whose send "
	    "buffer is full is not writable; when the peer drains it, it is");
}
ATF_TC_BODY(socket_full, tc)
{
	int kq, s[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	set_nonblock(s[0]);
	set_nonblock(s[1]);
	KEV_CHANGE(kq, s[0], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	(void)KEV_ONE(kq, 1000, s[0], EVFILT_WRITE);
	ATF_REQUIRE(fill(s[0]) > 0);
	KEV_NONE(kq, 100);
	ATF_REQUIRE(drain(s[1]) > 0);
	(void)KEV_ONE(kq, 1000, s[0], EVFILT_WRITE);
}

ATF_TC(pipe_clear);
ATF_TC_HEAD(pipe_clear, tc)
{
	atf_tc_set_md_var(tc, "descr", "EV_CLEAR on a pipe's write filter: "
	    "writable is reported once, not again while nothing changes, and "
	    "again after the full pipe is drained");
}
ATF_TC_BODY(pipe_clear, tc)
{
	struct kevent evs[8];
	struct kevent ev;
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	set_nonblock(p[0]);
	set_nonblock(p[1]);
	KEV_CHANGE(kq, p[1], EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, NULL);

	(void)KEV_ONE(kq, 1000, p[1], EVFILT_WRITE);
	KEV_NONE(kq, 50);

	ATF_REQUIRE(fill(p[1]) > 0);
	/* Whatever the writes themselves reported is consumed here. */
	(void)kev_wait(kq, evs, 8, 50);
	KEV_NONE(kq, 50);

	ATF_REQUIRE(drain(p[0]) > 0);
	ev = KEV_ONE(kq, 1000, p[1], EVFILT_WRITE);
	ATF_CHECK(ev.data > 0);
	KEV_NONE(kq, 50);
}

ATF_TC(regular_file);
ATF_TC_HEAD(regular_file, tc)
{
	atf_tc_set_md_var(tc, "descr", "A regular file is always writable, "
	    "reported by every kevent() call");
}
ATF_TC_BODY(regular_file, tc)
{
	char dir[] = "/tmp/t_write.XXXXXX", path[PATH_MAX];
	int fd, i, kq;

	ATF_REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/file", dir);
	ATF_REQUIRE((fd = open(path, O_RDWR | O_CREAT, 0600)) >= 0);
	unlink(path);
	rmdir(dir);

	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, fd, EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	for (i = 0; i < 3; i++) {
		(void)KEV_ONE(kq, 0, fd, EVFILT_WRITE);
		ATF_REQUIRE_EQ(5, write(fd, "hello", 5));
	}
	KEV_CHANGE(kq, fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
	KEV_NONE(kq, 0);
}

ATF_TC(connect_refused);
ATF_TC_HEAD(connect_refused, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A non-blocking connect() to a closed port: the write filter "
	    "reports EV_EOF with ECONNREFUSED in fflags, and the program's "
	    "getsockopt(SO_ERROR) afterwards still returns ECONNREFUSED once "
	    "(regression: the kernel's read of the error used to clear it)");
}
ATF_TC_BODY(connect_refused, tc)
{
	struct sockaddr_in sin;
	struct kevent ev;
	socklen_t len;
	int kq, s, l, err;

	/* A port that was just bound and closed refuses connections. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE((l = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	ATF_REQUIRE(bind(l, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	len = sizeof(sin);
	ATF_REQUIRE(getsockname(l, (struct sockaddr *)&sin, &len) == 0);
	ATF_REQUIRE(close(l) == 0);

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
	    0)) >= 0);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		atf_tc_skip("loopback connect to a closed port succeeded");
	ATF_REQUIRE_EQ(errno, EINPROGRESS);
	KEV_CHANGE(kq, s, EVFILT_WRITE, EV_ADD, 0, 0, NULL);
	ev = KEV_ONE(kq, 2000, s, EVFILT_WRITE);
	ATF_CHECK_MSG(ev.flags & EV_EOF, "flags %#x", ev.flags);
	ATF_CHECK_EQ_MSG(ev.fflags, ECONNREFUSED, "fflags %u", ev.fflags);
	/* Level-triggered: reported again, with the error again. */
	ev = KEV_ONE(kq, 0, s, EVFILT_WRITE);
	ATF_CHECK_EQ_MSG(ev.fflags, ECONNREFUSED, "fflags %u", ev.fflags);
	err = 0;
	len = sizeof(err);
	ATF_REQUIRE(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0);
	ATF_CHECK_EQ_MSG(err, ECONNREFUSED, "SO_ERROR %d", err);
	ATF_REQUIRE(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0);
	ATF_CHECK_EQ_MSG(err, 0, "SO_ERROR %d the second time", err);
	ATF_REQUIRE(close(s) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TP_ADD_TCS(tp)
{
	signal(SIGPIPE, SIG_IGN);
	ATF_TP_ADD_TC(tp, pipe_empty);
	ATF_TP_ADD_TC(tp, pipe_full);
	ATF_TP_ADD_TC(tp, pipe_reader_closed);
	ATF_TP_ADD_TC(tp, socket_peer_closed);
	ATF_TP_ADD_TC(tp, socket_full);
	ATF_TP_ADD_TC(tp, pipe_clear);
	ATF_TP_ADD_TC(tp, regular_file);
	ATF_TP_ADD_TC(tp, connect_refused);
	return (atf_no_error());
}
