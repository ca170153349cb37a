/*
 * t_read: EVFILT_READ on the host's own descriptors -- pipes, AF_UNIX and
 * TCP sockets (including a listening socket), FIFOs, ttys, eventfds and
 * regular files -- with kevent(2) semantics: data is the number of bytes
 * readable (pending connections on a listening socket), EV_EOF marks the
 * peer's close, NOTE_LOWAT is honoured, EV_CLEAR reports each change once.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/eventfd.h>
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
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "h_evring.h"

/* Write exactly n bytes of 'x'. */
static void
write_n(int fd, size_t n)
{
	char buf[256];

	ATF_REQUIRE(n <= sizeof(buf));
	memset(buf, 'x', n);
	ATF_REQUIRE_EQ((ssize_t)n, write(fd, buf, n));
}

static void
read_n(int fd, size_t n)
{
	char buf[256];

	ATF_REQUIRE(n <= sizeof(buf));
	ATF_REQUIRE_EQ((ssize_t)n, read(fd, buf, n));
}

/* A TCP listener on 127.0.0.1 with an ephemeral port. */
static int
tcp_listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int s;

	ATF_REQUIRE((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = 0;
	ATF_REQUIRE_EQ(0, bind(s, (struct sockaddr *)sin, sizeof(*sin)));
	ATF_REQUIRE_EQ(0, listen(s, 16));
	ATF_REQUIRE_EQ(0, getsockname(s, (struct sockaddr *)sin, &len));
	return (s);
}

static int
tcp_connect(const struct sockaddr_in *sin)
{
	int c;

	ATF_REQUIRE((c = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	ATF_REQUIRE_EQ(0, connect(c, (const struct sockaddr *)sin,
	    sizeof(*sin)));
	return (c);
}

/* A connected TCP pair over the loopback: *cp client, *sp server side. */
static void
tcp_pair(int *cp, int *sp)
{
	struct sockaddr_in sin;
	int l;

	l = tcp_listener(&sin);
	*cp = tcp_connect(&sin);
	ATF_REQUIRE((*sp = accept(l, NULL, NULL)) >= 0);
	ATF_REQUIRE_EQ(0, close(l));
}

ATF_TC(pipe_data);
ATF_TC_HEAD(pipe_data, tc)
{
	atf_tc_set_md_var(tc, "descr", "A pipe's read end is not reported "
	    "while empty; after a write it is, with data = bytes readable");
}
ATF_TC_BODY(pipe_data, tc)
{
	struct kevent ev;
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 50);

	write_n(p[1], 5);
	ev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK_EQ(5, ev.data);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);

	write_n(p[1], 7);
	ev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK_EQ(12, ev.data);
}

ATF_TC(pipe_level);
ATF_TC_HEAD(pipe_level, tc)
{
	atf_tc_set_md_var(tc, "descr", "Without EV_CLEAR a readable pipe is "
	    "reported by every kevent() call, with the current byte count, "
	    "until it is drained");
}
ATF_TC_BODY(pipe_level, tc)
{
	struct kevent ev;
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	write_n(p[1], 10);

	ev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK_EQ(10, ev.data);
	ev = KEV_ONE(kq, 0, p[0], EVFILT_READ);
	ATF_CHECK_EQ(10, ev.data);
	read_n(p[0], 4);
	ev = KEV_ONE(kq, 0, p[0], EVFILT_READ);
	ATF_CHECK_EQ(6, ev.data);
	read_n(p[0], 6);
	KEV_NONE(kq, 50);
}

ATF_TC(pipe_clear);
ATF_TC_HEAD(pipe_clear, tc)
{
	atf_tc_set_md_var(tc, "descr", "With EV_CLEAR a pipe is reported once "
	    "per write, not again until new data arrives");
}
ATF_TC_BODY(pipe_clear, tc)
{
	struct kevent ev;
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_NONE(kq, 0);

	write_n(p[1], 3);
	ev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK_EQ(3, ev.data);
	/* Data still unread, but nothing new: no second report. */
	KEV_NONE(kq, 50);

	write_n(p[1], 4);
	ev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK_EQ(7, ev.data);
	KEV_NONE(kq, 50);
}

ATF_TC(pipe_eof);
ATF_TC_HEAD(pipe_eof, tc)
{
	atf_tc_set_md_var(tc, "descr", "Closing a pipe's write end reports "
	    "EV_EOF on the read end, with data = bytes still unread");
}
ATF_TC_BODY(pipe_eof, tc)
{
	struct kevent ev;
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	write_n(p[1], 2);
	ATF_REQUIRE_EQ(0, close(p[1]));

	ev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK(ev.flags & EV_EOF);
	ATF_CHECK_EQ(2, ev.data);
	read_n(p[0], 2);
	ev = KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	ATF_CHECK(ev.flags & EV_EOF);
	ATF_CHECK_EQ(0, ev.data);
}

ATF_TC(unix_stream);
ATF_TC_HEAD(unix_stream, tc)
{
	atf_tc_set_md_var(tc, "descr", "AF_UNIX stream socketpair: data = bytes "
	    "readable; the peer's close sets EV_EOF, and data is 0 once "
	    "drained");
}
ATF_TC_BODY(unix_stream, tc)
{
	struct kevent ev;
	int kq, s[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 50);

	write_n(s[1], 9);
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_READ);
	ATF_CHECK_EQ(9, ev.data);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);

	ATF_REQUIRE_EQ(0, close(s[1]));
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_READ);
	ATF_CHECK(ev.flags & EV_EOF);
	ATF_CHECK_EQ(9, ev.data);

	read_n(s[0], 9);
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_READ);
	ATF_CHECK(ev.flags & EV_EOF);
	ATF_CHECK_EQ(0, ev.data);
}

ATF_TC(tcp_listen_backlog);
ATF_TC_HEAD(tcp_listen_backlog, tc)
{
	atf_tc_set_md_var(tc, "descr", "A listening TCP socket is readable "
	    "with data = pending connections: 3 after three connects, 2 after "
	    "one accept");
}
ATF_TC_BODY(tcp_listen_backlog, tc)
{
	struct sockaddr_in sin;
	struct kevent ev;
	int c[3], i, kq, l, s, tries;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	l = tcp_listener(&sin);
	KEV_CHANGE(kq, l, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 50);

	for (i = 0; i < 3; i++)
		c[i] = tcp_connect(&sin);

	/*
	 * The server side queues a connection when the handshake's last ACK
	 * arrives, which may trail connect() a little: allow up to 1 s for
	 * the count to reach 3.
	 */
	for (tries = 0; tries < 100; tries++) {
		ev = KEV_ONE(kq, 1000, l, EVFILT_READ);
		if (ev.data == 3)
			break;
		ATF_REQUIRE(ev.data >= 1 && ev.data < 3);
		usleep(10000);
	}
	ATF_REQUIRE_EQ_MSG(3, ev.data, "data %ld", (long)ev.data);

	ATF_REQUIRE((s = accept(l, NULL, NULL)) >= 0);
	ev = KEV_ONE(kq, 1000, l, EVFILT_READ);
	ATF_CHECK_EQ(2, ev.data);
	ATF_REQUIRE_EQ(0, close(s));
	for (i = 0; i < 2; i++) {
		ATF_REQUIRE((s = accept(l, NULL, NULL)) >= 0);
		ATF_REQUIRE_EQ(0, close(s));
	}
	KEV_NONE(kq, 50);
	for (i = 0; i < 3; i++)
		close(c[i]);
}

ATF_TC(tcp_shutdown_eof);
ATF_TC_HEAD(tcp_shutdown_eof, tc)
{
	atf_tc_set_md_var(tc, "descr", "A TCP peer's shutdown(SHUT_WR) sets "
	    "EV_EOF on the receiver's read filter; data before it is counted");
}
ATF_TC_BODY(tcp_shutdown_eof, tc)
{
	struct kevent ev;
	int c, kq, s;

	ATF_REQUIRE((kq = kqueue()) >= 0);
	tcp_pair(&c, &s);
	KEV_CHANGE(kq, s, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 50);

	write_n(c, 4);
	ev = KEV_ONE(kq, 1000, s, EVFILT_READ);
	ATF_CHECK_EQ(4, ev.data);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);
	read_n(s, 4);
	KEV_NONE(kq, 50);

	ATF_REQUIRE_EQ(0, shutdown(c, SHUT_WR));
	ev = KEV_ONE(kq, 1000, s, EVFILT_READ);
	ATF_CHECK(ev.flags & EV_EOF);
	ATF_CHECK_EQ(0, ev.data);
	close(c);
	close(s);
}

ATF_TC(socket_lowat);
ATF_TC_HEAD(socket_lowat, tc)
{
	atf_tc_set_md_var(tc, "descr", "NOTE_LOWAT with data 10 on a socket: "
	    "5 bytes are not reported, 10 are");
}
ATF_TC_BODY(socket_lowat, tc)
{
	struct kevent ev;
	int kq, s[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	KEV_CHANGE(kq, s[0], EVFILT_READ, EV_ADD, NOTE_LOWAT, 10, NULL);

	write_n(s[1], 5);
	KEV_NONE(kq, 100);
	write_n(s[1], 5);
	ev = KEV_ONE(kq, 1000, s[0], EVFILT_READ);
	ATF_CHECK_EQ(10, ev.data);
	read_n(s[0], 3);
	/* 7 < 10 again: below the mark, not reported. */
	KEV_NONE(kq, 50);
}

ATF_TC(fifo);
ATF_TC_HEAD(fifo, tc)
{
	atf_tc_set_md_var(tc, "descr", "A FIFO opened O_RDONLY|O_NONBLOCK is "
	    "readable after its writer writes, and reports EV_EOF when the "
	    "writer closes");
}
ATF_TC_BODY(fifo, tc)
{
	char dir[] = "/tmp/t_read.XXXXXX", path[PATH_MAX];
	struct kevent ev;
	int kq, r, w;

	ATF_REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ATF_REQUIRE_EQ(0, mkfifo(path, 0600));
	ATF_REQUIRE((r = open(path, O_RDONLY | O_NONBLOCK)) >= 0);
	ATF_REQUIRE((w = open(path, O_WRONLY | O_NONBLOCK)) >= 0);
	unlink(path);
	rmdir(dir);

	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, r, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 50);

	write_n(w, 6);
	ev = KEV_ONE(kq, 1000, r, EVFILT_READ);
	ATF_CHECK_EQ(6, ev.data);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);
	read_n(r, 6);
	KEV_NONE(kq, 50);

	ATF_REQUIRE_EQ(0, close(w));
	ev = KEV_ONE(kq, 1000, r, EVFILT_READ);
	ATF_CHECK(ev.flags & EV_EOF);
}

ATF_TC(tty);
ATF_TC_HEAD(tty, tc)
{
	atf_tc_set_md_var(tc, "descr", "A pty slave (openpty) becomes readable "
	    "when the master writes");
}
ATF_TC_BODY(tty, tc)
{
	struct termios t;
	struct kevent ev;
	int kq, m, s;

	ATF_REQUIRE_EQ(0, openpty(&m, &s, NULL, NULL, NULL));
	ATF_REQUIRE_EQ(0, tcgetattr(s, &t));
	cfmakeraw(&t);
	ATF_REQUIRE_EQ(0, tcsetattr(s, TCSANOW, &t));

	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, s, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 50);

	write_n(m, 3);
	/* The host's line discipline hands input over asynchronously. */
	ev = KEV_ONE(kq, 1000, s, EVFILT_READ);
	ATF_CHECK(ev.data >= 1 && ev.data <= 3);
	ATF_CHECK_EQ(0, ev.flags & EV_EOF);
	close(m);
	close(s);
}

ATF_TC(eventfd);
ATF_TC_HEAD(eventfd, tc)
{
	atf_tc_set_md_var(tc, "descr", "An eventfd is not readable at 0, is "
	    "readable with data = 8 after a write, and not after the read");
}
ATF_TC_BODY(eventfd, tc)
{
	struct kevent ev;
	uint64_t v;
	int efd, kq;

	ATF_REQUIRE((efd = eventfd(0, EFD_NONBLOCK)) >= 0);
	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, efd, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 50);

	v = 3;
	ATF_REQUIRE_EQ(8, write(efd, &v, sizeof(v)));
	ev = KEV_ONE(kq, 1000, efd, EVFILT_READ);
	ATF_CHECK_EQ(8, ev.data);

	ATF_REQUIRE_EQ(8, read(efd, &v, sizeof(v)));
	ATF_REQUIRE_EQ(3, v);
	KEV_NONE(kq, 50);
}

/* A temporary regular file with n bytes, opened read-only. */
static int
tmpfile_n(char *dir, char *path, size_t pathlen, size_t n)
{
	char buf[256];
	int fd, w;

	ATF_REQUIRE(mkdtemp(dir) != NULL);
	snprintf(path, pathlen, "%s/file", dir);
	ATF_REQUIRE((w = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	ATF_REQUIRE(n <= sizeof(buf));
	memset(buf, 'f', n);
	ATF_REQUIRE_EQ((ssize_t)n, write(w, buf, n));
	ATF_REQUIRE_EQ(0, close(w));
	ATF_REQUIRE((fd = open(path, O_RDONLY)) >= 0);
	return (fd);
}

ATF_TC(regular_file);
ATF_TC_HEAD(regular_file, tc)
{
	atf_tc_set_md_var(tc, "descr", "A regular file is readable with data = "
	    "bytes from the offset to EOF; at EOF it is not reported; an "
	    "append through another descriptor makes it readable again, "
	    "visible to a zero-timeout kevent() right after the write");
}
ATF_TC_BODY(regular_file, tc)
{
	char dir[] = "/tmp/t_read.XXXXXX", path[PATH_MAX];
	struct kevent ev;
	int fd, kq, w;

	fd = tmpfile_n(dir, path, sizeof(path), 100);
	ATF_REQUIRE_EQ(30, lseek(fd, 30, SEEK_SET));

	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, fd, EVFILT_READ, EV_ADD, 0, 0, NULL);
	ev = KEV_ONE(kq, 0, fd, EVFILT_READ);
	ATF_CHECK_EQ(70, ev.data);

	read_n(fd, 70);
	KEV_NONE(kq, 0);

	ATF_REQUIRE((w = open(path, O_WRONLY | O_APPEND)) >= 0);
	write_n(w, 25);
	ev = KEV_ONE(kq, 0, fd, EVFILT_READ);
	ATF_CHECK_EQ(25, ev.data);
	read_n(fd, 25);
	KEV_NONE(kq, 0);

	close(w);
	close(fd);
	unlink(path);
	rmdir(dir);
}

ATF_TC(regular_file_other_process);
ATF_TC_HEAD(regular_file_other_process, tc)
{
	atf_tc_set_md_var(tc, "descr", "A regular file read to EOF becomes "
	    "readable again when another process appends to it; the change is "
	    "visible to a zero-timeout kevent() once the writer is done");
}
ATF_TC_BODY(regular_file_other_process, tc)
{
	char dir[] = "/tmp/t_read.XXXXXX", path[PATH_MAX];
	struct kevent ev;
	pid_t pid;
	int fd, kq, status;

	fd = tmpfile_n(dir, path, sizeof(path), 10);
	read_n(fd, 10);

	ATF_REQUIRE((kq = kqueue()) >= 0);
	KEV_CHANGE(kq, fd, EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 0);

	ATF_REQUIRE((pid = fork()) >= 0);
	if (pid == 0) {
		int w = open(path, O_WRONLY | O_APPEND);

		_exit(w >= 0 && write(w, "0123456789abc", 13) == 13 ? 0 : 1);
	}
	ATF_REQUIRE_EQ(pid, waitpid(pid, &status, 0));
	ATF_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ev = KEV_ONE(kq, 0, fd, EVFILT_READ);
	ATF_CHECK_EQ(13, ev.data);

	close(fd);
	unlink(path);
	rmdir(dir);
}

ATF_TC(udata);
ATF_TC_HEAD(udata, tc)
{
	atf_tc_set_md_var(tc, "descr", "udata given at registration comes back "
	    "verbatim, for two knotes with different cookies");
}
ATF_TC_BODY(udata, tc)
{
	struct kevent evs[4];
	const struct kevent *e;
	void *u0 = (void *)(uintptr_t)0xfeedface12345678ULL;
	void *u1 = (void *)(uintptr_t)0x1;
	int kq, p[2], q[2];

	if (sizeof(void *) < 8)
		u0 = (void *)(uintptr_t)0xfeedfaceUL;
	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	ATF_REQUIRE_EQ(0, pipe(q));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, u0);
	KEV_CHANGE(kq, q[0], EVFILT_READ, EV_ADD, 0, 0, u1);
	write_n(p[1], 1);
	write_n(q[1], 1);

	memset(evs, 0, sizeof(evs));
	ATF_REQUIRE_EQ(2, kev_wait(kq, evs, 4, 1000));
	ATF_REQUIRE((e = kev_find(evs, 2, p[0], EVFILT_READ)) != NULL);
	ATF_CHECK(e->udata == u0);
	ATF_REQUIRE((e = kev_find(evs, 2, q[0], EVFILT_READ)) != NULL);
	ATF_CHECK(e->udata == u1);
}

struct writer_arg {
	int	fd;
	int	delay_ms;
};

static void *
writer_thread(void *arg)
{
	struct writer_arg *wa = arg;

	usleep(wa->delay_ms * 1000);
	if (write(wa->fd, "w", 1) != 1)
		abort();
	return (NULL);
}

ATF_TC(thread_wakeup);
ATF_TC_HEAD(thread_wakeup, tc)
{
	atf_tc_set_md_var(tc, "descr", "A write by another thread wakes the "
	    "owner blocked in kevent() with a 5 s timeout, long before the "
	    "timeout");
}
ATF_TC_BODY(thread_wakeup, tc)
{
	struct writer_arg wa;
	struct timespec t0;
	struct kevent ev;
	pthread_t t;
	double ms;
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);

	wa.fd = p[1];
	wa.delay_ms = 100;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ATF_REQUIRE_EQ(0, pthread_create(&t, NULL, writer_thread, &wa));
	ev = KEV_ONE(kq, 5000, p[0], EVFILT_READ);
	ms = kev_elapsed_ms(&t0);
	ATF_REQUIRE_EQ(0, pthread_join(t, NULL));
	ATF_CHECK_EQ(1, ev.data);
	printf("woken after %.1f ms\n", ms);
	ATF_CHECK_MSG(ms >= 90, "woke after %.1f ms, before the write", ms);
	ATF_CHECK_MSG(ms < 2000, "woke after %.1f ms", ms);
}

ATF_TC(zero_timeout_after_write);
ATF_TC_HEAD(zero_timeout_after_write, tc)
{
	atf_tc_set_md_var(tc, "descr", "Contract: a zero-timeout kevent() made "
	    "right after write() on a watched pipe reports it, and right after "
	    "the read that drains it does not (200 rounds, no sleeping)");
}
ATF_TC_BODY(zero_timeout_after_write, tc)
{
	struct kevent ev;
	int i, kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_NONE(kq, 0);
	for (i = 0; i < 200; i++) {
		write_n(p[1], 1 + i % 7);
		ev = KEV_ONE(kq, 0, p[0], EVFILT_READ);
		ATF_REQUIRE_EQ_MSG(1 + i % 7, ev.data, "round %d", i);
		read_n(p[0], 1 + i % 7);
		KEV_NONE(kq, 0);
	}
}

ATF_TP_ADD_TCS(tp)
{
	signal(SIGPIPE, SIG_IGN);
	ATF_TP_ADD_TC(tp, pipe_data);
	ATF_TP_ADD_TC(tp, pipe_level);
	ATF_TP_ADD_TC(tp, pipe_clear);
	ATF_TP_ADD_TC(tp, pipe_eof);
	ATF_TP_ADD_TC(tp, unix_stream);
	ATF_TP_ADD_TC(tp, tcp_listen_backlog);
	ATF_TP_ADD_TC(tp, tcp_shutdown_eof);
	ATF_TP_ADD_TC(tp, socket_lowat);
	ATF_TP_ADD_TC(tp, fifo);
	ATF_TP_ADD_TC(tp, tty);
	ATF_TP_ADD_TC(tp, eventfd);
	ATF_TP_ADD_TC(tp, regular_file);
	ATF_TP_ADD_TC(tp, regular_file_other_process);
	ATF_TP_ADD_TC(tp, udata);
	ATF_TP_ADD_TC(tp, thread_wakeup);
	ATF_TP_ADD_TC(tp, zero_timeout_after_write);
	return (atf_no_error());
}
