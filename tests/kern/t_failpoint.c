/*
 * Failure points (evring_failpoint_set(3)): every point compiled into the
 * library is made to fail, once and from the N-th hit on, under a workload
 * that reaches them all: queues of every front end (kqueue, a ring,
 * epoll, /dev/poll, poll and select), every filter, events, close.
 *
 * Each run is a fresh process (this program, executed again with
 * EVRING_FAILPOINTS in its environment and FP_WORKLOAD set), so points
 * reached while the library starts fail too and every run starts clean;
 * a crash or an abort is seen by the parent.  In the run, a call that
 * fails must fail with an errno its manual page documents; the workload
 * then disarms every point and retries the call, which must succeed, and
 * at the end every queue must have delivered exactly the events expected,
 * and the kernel's memory counters must be back to zero.  The ASan build
 * runs the same test, so LeakSanitizer checks each run's error paths.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#define	EVRING_DEVPOLL_NO_MACROS
#include <sys/devpoll.h>
#include <evring/epoll.h>
#include <evring/poll.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define	FP_MAX		256
#define	FAILSPEC_MAX	128
#define	DP_MANY		140
/*
 * Hits of a point failed one by one.  Under ThreadSanitizer a run costs
 * about a second and the walk took ten minutes, so that build fails only
 * the first hit alone (and still from the first and the middle hit on):
 * it is there for races on the error paths, which the normal and ASan
 * builds' full walk has already shown to be correct.
 */
#if defined(__SANITIZE_THREAD__)
#define	FP_NTH		1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define	FP_NTH		1
#endif
#endif
#ifndef FP_NTH
#define	FP_NTH		24
#endif
#define	WAIT_MS		10000	/* against a hang: events come at once */

/* ------------------------------------------------------------ workload */

static int wl_errors;
static int wl_failed_calls;

static void __attribute__((__format__(__printf__, 1, 2)))
wl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "workload: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	wl_errors++;
}

/*
 * A call failed: its errno must be one of those its manual page lists for
 * a shortage (a 0-terminated list); then disarm every point so that the
 * retry succeeds.
 */
static void
wl_failure(const char *what, int error, const int *allowed)
{
	int i;

	for (i = 0; allowed[i] != 0; i++)
		if (allowed[i] == error)
			break;
	if (allowed[i] == 0)
		wl_error("%s failed with undocumented errno %d (%s)", what,
		    error, strerror(error));
	wl_failed_calls++;
	if (evring_failpoint_set("*=off") != 0)
		wl_error("disarming: %s", strerror(errno));
}

/* Run call until it succeeds (at most twice); its result. */
#define	TRY(call, ...) __extension__ ({					\
	static const int _ok[] = { __VA_ARGS__, 0 };			\
	long _r;							\
	int _n;								\
	for (_n = 0; (_r = (long)(call)) < 0 && _n < 2; _n++)		\
		wl_failure(#call, errno, _ok);				\
	if (_r < 0)							\
		wl_error("%s failed after disarming: %s", #call,	\
		    strerror(errno));					\
	_r;								\
})

/*
 * The errnos each interface's manual page documents for a shortage:
 * kqueue.2, kevent.2, kevent_wait.2 (attach and map, wait),
 * evring_epoll.3 (create, the others), evring_devpoll.3, evring_poll.3.
 */
#define	E_KQUEUE	EMFILE, ENFILE, ENOMEM
#define	E_KEVENT	EMFILE, ENFILE, ENOMEM, ENOSPC
#define	E_RING		ENOMEM
#define	E_WAIT		ENOMEM, EMFILE, ENFILE
#define	E_EPCREATE	EMFILE, ENFILE, ENOMEM
#define	E_EPOLL		ENOMEM
#define	E_DEVPOLL	EMFILE, ENOMEM
#define	E_POLL		ENOMEM

static int
wl_change(int kq, uintptr_t ident, short filter, unsigned short flags,
    unsigned fflags, intptr_t data)
{
	struct kevent kev;

	EV_SET(&kev, ident, filter, flags, fflags, data, NULL);
	return (kevent(kq, &kev, 1, NULL, 0, NULL));
}

#define	CHANGE(kq, ident, filter, flags, fflags, data)			\
	TRY(wl_change((kq), (ident), (filter), (flags), (fflags), (data)),\
	    E_KEVENT)

/*
 * Collect from kq until the events of want[] (filters, one event each)
 * have all come, then check that nothing more is pending.
 */
static void
wl_collect(const char *name, int kq, const short *want, int nwant)
{
	struct kevent evs[16];
	struct timespec ts = { WAIT_MS / 1000, 0 }, zero = { 0, 0 };
	int got[16], i, j, n, left;

	memset(got, 0, sizeof(got));
	for (left = nwant; left > 0;) {
		n = (int)TRY(kevent(kq, NULL, 0, evs, 16, &ts), E_KEVENT);
		if (n <= 0) {
			wl_error("%s: %d events missing", name, left);
			return;
		}
		for (i = 0; i < n; i++) {
			for (j = 0; j < nwant; j++)
				if (evs[i].filter == want[j] && got[j] == 0)
					break;
			if (j == nwant) {
				wl_error("%s: unexpected event filter %d "
				    "ident %lu", name, evs[i].filter,
				    (unsigned long)evs[i].ident);
				continue;
			}
			if (evs[i].flags & EV_ERROR)
				wl_error("%s: filter %d: EV_ERROR %ld", name,
				    evs[i].filter, (long)evs[i].data);
			got[j] = 1;
			left--;
		}
	}
	n = (int)TRY(kevent(kq, NULL, 0, evs, 16, &zero), E_KEVENT);
	if (n != 0)
		wl_error("%s: %d events more than expected", name, n);
}

/* A socket whose connection was refused: EV_EOF with an error. */
static int
wl_refused_socket(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l, s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) != 0)
		return (-1);
	/* Bound but not listening: a connection to it is refused. */
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return (-1);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
	    errno != EINPROGRESS && errno != ECONNREFUSED) {
		close(s);
		s = -1;
	}
	close(l);
	return (s);
}

static void
wl_kqueue(void)
{
	static const short want[] = { EVFILT_READ, EVFILT_WRITE, EVFILT_USER,
	    EVFILT_TIMER, EVFILT_SIGNAL, EVFILT_VNODE, EVFILT_PROC,
	    EVFILT_READ, EVFILT_READ, EVFILT_EMPTY };
	char path[] = "/tmp/t_failpoint.XXXXXX";
	struct timespec ms = { 0, 1000000 };
	struct kevent kev;
	socklen_t len;
	int i, kq, soerr = 0, kq2, kq3, p[2], sp[2], file, sock, dupsock;
	pid_t pid;

	kq = (int)TRY(kqueue(), E_KQUEUE);
	kq2 = (int)TRY(kqueue(), E_KQUEUE);
	kq3 = (int)TRY(kqueue(), E_KQUEUE);
	if (kq < 0 || kq2 < 0 || kq3 < 0 || pipe(p) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0 ||
	    (file = mkstemp(path)) < 0 || (sock = wl_refused_socket()) < 0) {
		wl_error("kqueue workload: setup failed");
		return;
	}
	unlink(path);
	/*
	 * A wait on an empty queue sleeps, whatever the timing: the
	 * thread's sleeper is made here.
	 */
	if (TRY(kevent(kq, NULL, 0, &kev, 1, &ms), E_KEVENT) > 0)
		wl_error("kqueue: an event on an empty queue");
	/* A second number for the socket: the host's alias marks. */
	dupsock = dup(sock);

	CHANGE(kq, (uintptr_t)p[0], EVFILT_READ, EV_ADD | EV_ONESHOT, 0, 0);
	CHANGE(kq, (uintptr_t)p[1], EVFILT_WRITE, EV_ADD | EV_ONESHOT, 0, 0);
	CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_ONESHOT, 0, 0);
	CHANGE(kq, 2, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0, 1);
	signal(SIGUSR1, SIG_IGN);
	CHANGE(kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD | EV_ONESHOT, 0, 0);
	CHANGE(kq, (uintptr_t)file, EVFILT_VNODE, EV_ADD | EV_ONESHOT,
	    NOTE_WRITE, 0);
	CHANGE(kq, (uintptr_t)sock, EVFILT_READ, EV_ADD | EV_ONESHOT, 0, 0);
	/* An empty send queue, found by the filter's own poll. */
	CHANGE(kq, (uintptr_t)sp[0], EVFILT_EMPTY, EV_ADD | EV_ONESHOT, 0, 0);
	/*
	 * A queue in a queue: the kernel's task thread.  kq2 watches kq3
	 * (never readable), so the cycle check walks below kq2.
	 */
	CHANGE(kq2, 3, EVFILT_USER, EV_ADD | EV_ONESHOT, 0, 0);
	CHANGE(kq2, (uintptr_t)kq3, EVFILT_READ, EV_ADD, 0, 0);
	CHANGE(kq, (uintptr_t)kq2, EVFILT_READ, EV_ADD | EV_ONESHOT, 0, 0);
	/* Enough knotes that the queue's hash grows, then gone again. */
	for (i = 0; i < 40; i++)
		CHANGE(kq, 100 + (uintptr_t)i, EVFILT_USER, EV_ADD, 0, 0);
	for (i = 0; i < 40; i++)
		CHANGE(kq, 100 + (uintptr_t)i, EVFILT_USER, EV_DELETE, 0, 0);
	if ((pid = fork()) == 0)
		_exit(0);
	CHANGE(kq, (uintptr_t)pid, EVFILT_PROC, EV_ADD | EV_ONESHOT,
	    NOTE_EXIT, 0);

	/* The events. */
	if (write(p[1], "x", 1) != 1 || write(file, "x", 1) != 1)
		wl_error("kqueue workload: write failed");
	CHANGE(kq, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0);
	CHANGE(kq2, 3, EVFILT_USER, 0, NOTE_TRIGGER, 0);
	raise(SIGUSR1);
	wl_collect("kqueue", kq, want, (int)(sizeof(want) / sizeof(want[0])));
	(void)waitpid(pid, NULL, 0);
	/* The error the kernel read for EV_EOF is still the program's. */
	len = sizeof(soerr);
	if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
	    soerr != ECONNREFUSED)
		wl_error("kqueue: SO_ERROR %d after EV_EOF, expected %d",
		    soerr, ECONNREFUSED);

	close(dupsock);
	close(sock);
	close(sp[0]);
	close(sp[1]);
	close(file);
	close(p[0]);
	close(p[1]);
	close(kq3);
	close(kq2);
	close(kq);
}

static void
wl_ring(void)
{
	struct evring ring;
	struct timespec ts = { WAIT_MS / 1000, 0 };
	struct kevent kev;
	uint32_t state;
	int kq, n, got;

	kq = (int)TRY(kqueue(), E_KQUEUE);
	if (kq < 0)
		return;
	if (TRY(kevent_ring_attach(kq, 64), E_RING) < 0 ||
	    TRY(kevent_ring_map(kq, &ring), E_RING) < 0) {
		close(kq);
		return;
	}
	CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0);
	CHANGE(kq, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0);
	got = 0;
	state = 0;
	for (;;) {
		while (evring_take(&ring, &kev, &state) == 1) {
			if (kev.filter != EVFILT_USER || kev.ident != 1)
				wl_error("ring: unexpected event");
			got++;
		}
		if (got >= 1)
			break;
		n = (int)TRY(kevent_wait(kq, state, &ts, NULL), E_WAIT);
		if (n == 0) {
			wl_error("ring: event missing");
			break;
		}
	}
	if (got != 1)
		wl_error("ring: %d events, expected 1", got);
	kevent_ring_unmap(&ring);
	TRY(kevent_ring_detach(kq), E_RING);
	close(kq);
}

static void
wl_epoll(void)
{
	struct epoll_event ev, evs[4];
	int ep, ep0, ep2, ep3, p[2], n;

	ep = (int)TRY(evring_epoll_create1(EPOLL_CLOEXEC), E_EPCREATE);
	if (ep < 0 || pipe(p) != 0) {
		wl_error("epoll workload: setup failed");
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = p[0];
	TRY(evring_epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), E_EPOLL);
	ev.events = EPOLLOUT | EPOLLET;
	ev.data.fd = p[1];
	TRY(evring_epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev), E_EPOLL);
	if (write(p[1], "x", 1) != 1)
		wl_error("epoll workload: write failed");
	n = (int)TRY(evring_epoll_wait(ep, evs, 4, WAIT_MS), E_EPOLL);
	if (n == 1)	/* the two may come from two drains */
		n += (int)TRY(evring_epoll_wait(ep, evs + 1, 3, WAIT_MS),
		    E_EPOLL);
	if (n != 2)
		wl_error("epoll: %d events, expected 2", n);
	TRY(evring_epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), E_EPOLL);
	/*
	 * Instances in instances, ep0 > ep > ep2 > ep3: adding ep2 to ep
	 * walks the queues below ep2 (ep3) and above ep (ep0).
	 */
	ep0 = (int)TRY(evring_epoll_create1(EPOLL_CLOEXEC), E_EPCREATE);
	ep2 = (int)TRY(evring_epoll_create1(EPOLL_CLOEXEC), E_EPCREATE);
	ep3 = (int)TRY(evring_epoll_create1(EPOLL_CLOEXEC), E_EPCREATE);
	ev.events = EPOLLIN;
	ev.data.fd = ep;
	TRY(evring_epoll_ctl(ep0, EPOLL_CTL_ADD, ep, &ev), E_EPOLL);
	ev.data.fd = ep3;
	TRY(evring_epoll_ctl(ep2, EPOLL_CTL_ADD, ep3, &ev), E_EPOLL);
	ev.data.fd = ep2;
	TRY(evring_epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev), E_EPOLL);
	ev.data.fd = p[0];
	TRY(evring_epoll_ctl(ep2, EPOLL_CTL_ADD, p[0], &ev), E_EPOLL);
	/* p[0] is readable: ep2, then ep, are. */
	n = (int)TRY(evring_epoll_wait(ep, evs, 4, WAIT_MS), E_EPOLL);
	if (n != 2)
		wl_error("epoll: %d ready after nesting, expected 2", n);
	close(ep3);
	close(ep2);
	close(ep0);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void
wl_devpoll(void)
{
	struct pollfd pfd, out[4];
	struct dvpoll dvp;
	int dp, i, many[DP_MANY], p[2], n;

	dp = (int)TRY(evring_devpoll_open(), E_DEVPOLL);
	if (dp < 0 || pipe(p) != 0) {
		wl_error("devpoll workload: setup failed");
		return;
	}
	pfd.fd = p[0];
	pfd.events = POLLIN;
	pfd.revents = 0;
	TRY(evring_devpoll_write(dp, &pfd, sizeof(pfd)), E_DEVPOLL);
	/* Enough descriptors in the set that its hash grows. */
	for (i = 0; i < DP_MANY; i++) {
		if ((many[i] = dup(p[1])) < 0) {
			wl_error("devpoll workload: dup failed");
			break;
		}
		pfd.fd = many[i];
		pfd.events = POLLOUT;
		TRY(evring_devpoll_write(dp, &pfd, sizeof(pfd)), E_DEVPOLL);
	}
	for (i--; i >= 0; i--) {
		pfd.fd = many[i];
		pfd.events = POLLREMOVE;
		TRY(evring_devpoll_write(dp, &pfd, sizeof(pfd)), E_DEVPOLL);
		close(many[i]);
	}
	if (write(p[1], "x", 1) != 1)
		wl_error("devpoll workload: write failed");
	dvp.dp_fds = out;
	dvp.dp_nfds = 4;
	dvp.dp_timeout = WAIT_MS;
	n = (int)TRY(evring_devpoll_ioctl(dp, DP_POLL, &dvp), E_DEVPOLL);
	if (n != 1 || out[0].fd != p[0] || !(out[0].revents & POLLIN))
		wl_error("devpoll: %d events, expected 1", n);
	close(p[0]);
	close(p[1]);
	close(dp);
}

static void
wl_poll(void)
{
	struct pollfd pfd[2];
	struct timeval tv = { WAIT_MS / 1000, 0 };
	fd_set rd;
	int p[2], n;

	if (pipe(p) != 0 || write(p[1], "x", 1) != 1) {
		wl_error("poll workload: setup failed");
		return;
	}
	pfd[0].fd = p[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = p[1];
	pfd[1].events = POLLOUT;
	n = (int)TRY(evring_poll(pfd, 2, WAIT_MS), E_POLL);
	if (n != 2)
		wl_error("poll: %d ready, expected 2", n);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	n = (int)TRY(evring_select(p[0] + 1, &rd, NULL, NULL, &tv), E_POLL);
	if (n != 1 || !FD_ISSET(p[0], &rd))
		wl_error("select: %d ready, expected 1", n);
	close(p[0]);
	close(p[1]);
}

/*
 * Every queue is closed: the kernel must hold nothing but its descriptor
 * table (M_FILE memory, which only grows).  poll() keeps an idle queue
 * for the next call (sys_generic.c's pollq cache) with what its
 * registrations kept, so after poll() one queue and its memory stay.
 */
static void
wl_leaks(int afterpoll)
{
	static const struct { int stat; const char *name; } stats[] = {
		{ EVRING_STAT_KQUEUES, "queues" },
		{ EVRING_STAT_KNOTES, "knotes" },
		{ EVRING_STAT_RINGS, "rings" },
		{ EVRING_STAT_FILES, "descriptors" },
		{ EVRING_STAT_KMEM_KNOTE, "knote bytes" },
		{ EVRING_STAT_KMEM_KQUEUE, "queue bytes" },
		{ EVRING_STAT_KMEM_EVRING, "ring bytes" },
	};
	long long v;
	size_t i;

	for (i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		v = evring_stat(stats[i].stat);
		if (afterpoll && (stats[i].stat == EVRING_STAT_KQUEUES ||
		    stats[i].stat == EVRING_STAT_FILES) ? v != 1 :
		    afterpoll && (stats[i].stat == EVRING_STAT_KMEM_KNOTE ||
		    stats[i].stat == EVRING_STAT_KMEM_KQUEUE) ? 0 : v != 0)
			wl_error("%lld %s left after closing everything%s", v,
			    stats[i].name, afterpoll ? " (after poll)" : "");
	}
	/* The rest is M_TEMP, which no call keeps. */
	v = evring_stat(EVRING_STAT_KMEM) - evring_stat(EVRING_STAT_KMEM_FILE) -
	    evring_stat(EVRING_STAT_KMEM_KNOTE) -
	    evring_stat(EVRING_STAT_KMEM_KQUEUE) -
	    evring_stat(EVRING_STAT_KMEM_EVRING);
	if (v != 0 && !afterpoll)
		wl_error("%lld temporary bytes left", v);
}

/* A point of the io_uring backend, reached only when it is in use. */
static int
wl_uring_point(const char *name)
{

	return (strncmp(name, "host:uring", 10) == 0);
}

/* A point reached in a fork child only: the case fork_sleeper's. */
static int
wl_fork_point(const char *name)
{

	return (strncmp(name, "host:fork:", 10) == 0);
}

/*
 * The run: the workload, then, with FP_ARMED naming the point the
 * environment armed, a check that it failed (FP_EXPECT_FIRE), and with
 * FP_ALLHIT set, that every point was reached.
 */
static int
wl_main(void)
{
	struct evring_failpoint fps[FP_MAX];
	const char *armed, *f;
	FILE *hf;
	int i, n, uring;

	wl_kqueue();
	wl_ring();
	wl_epoll();
	wl_devpoll();
	wl_leaks(0);
	wl_poll();
	wl_leaks(1);
	n = evring_failpoint_list(fps, FP_MAX);
	if (n > FP_MAX)
		n = FP_MAX;
	armed = getenv("FP_ARMED");
	/* The io_uring backend's points are reached only where it runs. */
	uring = evring_stat(EVRING_STAT_HOST_BACKEND) == 2;
	for (i = 0; i < n; i++) {
		if (getenv("FP_ALLHIT") != NULL && fps[i].ef_hits == 0 &&
		    wl_uring_point(fps[i].ef_name) == uring &&
		    !wl_fork_point(fps[i].ef_name))
			wl_error("point %s: not reached", fps[i].ef_name);
		if (armed != NULL && strcmp(fps[i].ef_name, armed) == 0 &&
		    getenv("FP_EXPECT_FIRE") != NULL && fps[i].ef_fails == 0 &&
		    (uring || !wl_uring_point(armed)))
			wl_error("point %s: armed but never failed",
			    fps[i].ef_name);
	}
	/* For the walk: how often the workload reaches each point. */
	if ((f = getenv("FP_HITSFILE")) != NULL &&
	    (hf = fopen(f, "w")) != NULL) {
		for (i = 0; i < n; i++)
			fprintf(hf, "%llu\n", fps[i].ef_hits);
		fclose(hf);
	}
	fflush(stderr);
	return (wl_errors == 0 ? 0 : 1);
}

/* A run of the workload is this program, started again. */
__attribute__((__constructor__)) static void
wl_constructor(void)
{

	if (getenv("FP_WORKLOAD") != NULL)
		exit(wl_main());
}

/* ------------------------------------------------------------ the walk */

/*
 * Run the workload with spec armed from the start; 0 when it passed.
 * Its diagnostics go to our stderr.
 */
static int
run(const char *point, const char *spec, int expect_fire, int allhit,
    int uring, const char *hitsfile)
{
	pid_t pid;
	int status;

	fflush(stderr);
	if ((pid = fork()) == 0) {
		setenv("FP_WORKLOAD", "1", 1);
		if (spec != NULL)
			setenv("EVRING_FAILPOINTS", spec, 1);
		else
			unsetenv("EVRING_FAILPOINTS");
		if (point != NULL)
			setenv("FP_ARMED", point, 1);
		if (expect_fire)
			setenv("FP_EXPECT_FIRE", "1", 1);
		if (allhit)
			setenv("FP_ALLHIT", "1", 1);
		if (hitsfile != NULL)
			setenv("FP_HITSFILE", hitsfile, 1);
		setenv("EVRING_HOST_BACKEND", uring ? "io_uring" : "epoll", 1);
		execl("/proc/self/exe", "t_failpoint", (char *)NULL);
		_exit(127);
	}
	ATF_REQUIRE(pid > 0);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: killed by signal %d\n",
		    spec ? spec : "(none)", WTERMSIG(status));
		return (1);
	}
	if (WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: workload failed (status %d)\n",
		    spec ? spec : "(none)", WEXITSTATUS(status));
		return (1);
	}
	return (0);
}

static int
points(struct evring_failpoint *fps)
{
	int n;

	n = evring_failpoint_list(fps, FP_MAX);
	if (n < 0 && errno == ENOSYS)
		atf_tc_skip("this build has no failure points (FAILPOINTS=0)");
	ATF_REQUIRE(n > 0 && n <= FP_MAX);
	return (n);
}

ATF_TC(registry);
ATF_TC_HEAD(registry, tc)
{
	atf_tc_set_md_var(tc, "descr", "The registry lists each point once, "
	    "by a unique name; a spec naming no point, or a malformed one, "
	    "is refused; arming a point makes it fail with its errno");
}
ATF_TC_BODY(registry, tc)
{
	struct evring_failpoint fps[FP_MAX], after[FP_MAX];
	int fd, i, j, n;

	n = points(fps);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ATF_CHECK_MSG(strcmp(fps[i].ef_name,
			    fps[j].ef_name) != 0, "two points named %s",
			    fps[i].ef_name);
	ATF_CHECK(evring_failpoint_set("no:such:point=once") == -1 &&
	    errno == ENOENT);
	ATF_CHECK(evring_failpoint_set("kmalloc:*=sometimes") == -1 &&
	    errno == EINVAL);
	ATF_CHECK(evring_failpoint_set("kmalloc:*=from:0") == -1 &&
	    errno == EINVAL);
	ATF_CHECK(evring_failpoint_set("noequals") == -1 && errno == EINVAL);

	/* The queue's allocation: kqueue() fails once, then works. */
	ATF_REQUIRE(evring_failpoint_set(
	    "kmalloc:M_KQUEUE:kqueue_create=once") == 0);
	ATF_CHECK(kqueue() == -1 && errno == ENOMEM);
	ATF_REQUIRE((fd = kqueue()) >= 0);
	close(fd);
	/* from:2: the second hit and every later one. */
	ATF_REQUIRE(evring_failpoint_set("host:eventfd:kqfd=from:2") == 0);
	ATF_REQUIRE((fd = kqueue()) >= 0);
	close(fd);
	ATF_CHECK(kqueue() == -1 && errno == EMFILE);
	ATF_CHECK(kqueue() == -1 && errno == EMFILE);
	ATF_REQUIRE(evring_failpoint_set("*=off") == 0);
	ATF_REQUIRE((fd = kqueue()) >= 0);
	close(fd);
	ATF_REQUIRE(evring_failpoint_list(after, FP_MAX) == n);
	for (i = 0; i < n; i++) {
		ATF_CHECK(after[i].ef_armed == 0);
		if (strcmp(after[i].ef_name, "host:eventfd:kqfd") == 0)
			ATF_CHECK_EQ(after[i].ef_fails, 2);
	}
}

ATF_TC(walk);
ATF_TC_HEAD(walk, tc)
{
	atf_tc_set_md_var(tc, "descr", "Every point, failed at each of its "
	    "first hits alone and from its first and middle hit on, under a "
	    "workload that reaches them all: each failing call fails with a "
	    "documented errno, retried it works, events are exact, nothing "
	    "leaks, nothing aborts");
	atf_tc_set_md_var(tc, "timeout", "1200");
}
/* The baseline's hits of every point, from its file. */
static void
read_hits(const char *file, unsigned long long *hits, int n)
{
	FILE *f;
	int i;

	ATF_REQUIRE((f = fopen(file, "r")) != NULL);
	for (i = 0; i < n; i++)
		ATF_REQUIRE(fscanf(f, "%llu", &hits[i]) == 1);
	fclose(f);
}

ATF_TC_BODY(walk, tc)
{
	struct evring_failpoint fps[FP_MAX];
	unsigned long long hits[2][FP_MAX], k, h;
	char spec[FAILSPEC_MAX];
	int bad, i, n, runs, u;

	n = points(fps);
	/*
	 * The workload alone passes and reaches every point, with each
	 * backend (io_uring's points where io_uring works here).
	 */
	ATF_REQUIRE_MSG(run(NULL, NULL, 0, 1, 0, "hits.epoll") == 0,
	    "the workload fails or misses points with nothing armed");
	ATF_REQUIRE_MSG(run(NULL, NULL, 0, 1, 1, "hits.uring") == 0,
	    "the workload fails or misses points with nothing armed "
	    "(io_uring backend)");
	read_hits("hits.epoll", hits[0], n);
	read_hits("hits.uring", hits[1], n);
	/*
	 * Each point fails at its first hit, then at each later one alone
	 * (up to FP_NTH), and from its first and its middle hit on.  A
	 * failure disarms every point, so "once" and "from" differ where a
	 * failure is absorbed without an error.
	 */
	bad = runs = 0;
	for (i = 0; i < n; i++)
		for (u = 0; u < 2; u++) {
			if ((h = hits[u][i]) == 0)
				continue;	/* io_uring's, under epoll */
			for (k = 1; k <= h && k <= FP_NTH; k++) {
				snprintf(spec, sizeof(spec), "%s=once:%llu",
				    fps[i].ef_name, k);
				bad += run(fps[i].ef_name, spec, k == 1, 0, u,
				    NULL);
				runs++;
			}
			snprintf(spec, sizeof(spec), "%s=from:1",
			    fps[i].ef_name);
			bad += run(fps[i].ef_name, spec, 1, 0, u, NULL);
			runs++;
			if (h > 2) {
				snprintf(spec, sizeof(spec), "%s=from:%llu",
				    fps[i].ef_name, h / 2 + 1);
				bad += run(fps[i].ef_name, spec, 0, 0, u,
				    NULL);
				runs++;
			}
		}
	ATF_CHECK_MSG(bad == 0, "%d runs of %d failed (see stderr)", bad,
	    runs);
}

ATF_TC(nest_enomem);
ATF_TC_HEAD(nest_enomem, tc)
{
	atf_tc_set_md_var(tc, "descr", "kevent() adding a queue whose "
	    "cycle check finds no memory to walk the queues below fails "
	    "with ENOMEM, not as if there were no cycle; retried, the "
	    "cycle through an epoll instance is ELOOP");
}
ATF_TC_BODY(nest_enomem, tc)
{
	struct epoll_event ev;
	struct kevent kev;
	int ep, kqa, kqb;

	if (evring_failpoint_set("*=off") != 0 && errno == ENOSYS)
		atf_tc_skip("this build has no failure points (FAILPOINTS=0)");
	/* kqa in ep, ep in kqb: kqb in kqa would close a cycle. */
	ATF_REQUIRE((ep = evring_epoll_create1(0)) >= 0);
	ATF_REQUIRE((kqa = kqueue()) >= 0);
	ATF_REQUIRE((kqb = kqueue()) >= 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ATF_REQUIRE(evring_epoll_ctl(ep, EPOLL_CTL_ADD, kqa, &ev) == 0);
	EV_SET(&kev, ep, EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE(kevent(kqb, &kev, 1, NULL, 0, NULL) == 0);
	ATF_REQUIRE(evring_failpoint_set("kmalloc:M_TEMP:ep_children=once")
	    == 0);
	EV_SET(&kev, kqb, EVFILT_READ, EV_ADD, 0, 0, NULL);
	ATF_CHECK_MSG(kevent(kqa, &kev, 1, NULL, 0, NULL) == -1 &&
	    errno == ENOMEM, "kevent() did not fail with ENOMEM");
	ATF_CHECK_MSG(kevent(kqa, &kev, 1, NULL, 0, NULL) == -1 &&
	    errno == ELOOP, "the cycle was not ELOOP");
	close(kqb);
	close(kqa);
	close(ep);
}

ATF_TC(fork_sleeper);
ATF_TC_HEAD(fork_sleeper, tc)
{
	atf_tc_set_md_var(tc, "descr", "A fork child whose sleeper gets no "
	    "new eventfd does not abort: its first sleep makes one, or "
	    "fails with EMFILE and the next one works");
}
ATF_TC_BODY(fork_sleeper, tc)
{
	struct evring_failpoint fps[FP_MAX];
	struct timespec ms = { 0, 1000000 };
	struct kevent kev;
	pid_t pid;
	int i, kq, n, status;

	if (evring_failpoint_set("host:fork:sleeper=off") != 0 &&
	    errno == ENOSYS)
		atf_tc_skip("this build has no failure points (FAILPOINTS=0)");
	/* This thread sleeps once, so it has a sleeper to fork with. */
	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE(kevent(kq, NULL, 0, &kev, 1, &ms) == 0);
	close(kq);
	ATF_REQUIRE(evring_failpoint_set("host:fork:sleeper=once") == 0);
	if ((pid = fork()) == 0) {
		n = evring_failpoint_list(fps, FP_MAX);
		for (i = 0; i < n && i < FP_MAX; i++)
			if (strcmp(fps[i].ef_name,
			    "host:fork:sleeper") == 0 &&
			    fps[i].ef_fails != 1)
				_exit(2);	/* the point did not fail */
		/* The eventfd is made again at the first sleep. */
		if (evring_failpoint_set("host:fork:sleeper_retry=once") != 0 ||
		    (kq = kqueue()) < 0)
			_exit(3);
		if (kevent(kq, NULL, 0, &kev, 1, &ms) != -1 || errno != EMFILE)
			_exit(4);
		if (kevent(kq, NULL, 0, &kev, 1, &ms) != 0)
			_exit(5);
		_exit(0);
	}
	ATF_REQUIRE(pid > 0);
	ATF_REQUIRE(evring_failpoint_set("*=off") == 0);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE_MSG(WIFEXITED(status), "the child died of signal %d",
	    WTERMSIG(status));
	ATF_REQUIRE_MSG(WEXITSTATUS(status) == 0, "child step %d failed",
	    WEXITSTATUS(status));
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, fork_sleeper);
	ATF_TP_ADD_TC(tp, nest_enomem);

	ATF_TP_ADD_TC(tp, registry);
	ATF_TP_ADD_TC(tp, walk);
	return (atf_no_error());
}
