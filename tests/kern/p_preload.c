/*
 * p_preload: a plain program for t_preload.  It uses the C library's
 * epoll, poll and select and is linked without libevring; t_preload runs
 * it under LD_PRELOAD=libevring-preload.so, one mode per run:
 *
 *	p_preload MODE [ARG]
 *
 * Each mode checks what an unmodified program relies on and prints
 * "ok" on success, or what went wrong and exits 1.  Whether the calls
 * reached evring is told by evring_stat(), which only the preload
 * defines here (looked up with dlsym()), and by the counts the preload
 * writes at exit (EVRING_PRELOAD_STATS).  The modes that hold on Linux
 * as they are also run without the preload, which shows that what they
 * expect is what Linux does; checks only evring can pass (its counters)
 * are skipped there.
 */
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h_epoll.h"

/* evring_stat(3)'s counter numbers, from <sys/evring.h>. */
#define	STAT_HOSTREG		0
#define	STAT_HOSTREG_TOTAL	1
#define	STAT_KQUEUES		3

static int failed;
/* Whether evring is here (preloaded), for the checks only it can pass. */
static int evring;

#define	CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("line %d: %s failed (errno %d, %s)\n", __LINE__,	\
		    #cond, errno, strerror(errno));			\
		failed = 1;						\
	}								\
} while (0)

#define	CHECK_EVRING(cond) do {					\
	if (evring)							\
		CHECK(cond);						\
} while (0)

#define	REQUIRE(cond) do {						\
	CHECK(cond);							\
	if (failed)							\
		exit(1);						\
} while (0)

static long long
stat_evring(int which)
{
	long long (*fn)(int);

	fn = (long long (*)(int))dlsym(RTLD_DEFAULT, "evring_stat");
	return (fn == NULL ? -1 : fn(which));
}

/* One event within ms with data, or -1. */
static int
ep_one(int ep, int ms, unsigned long long data)
{
	struct epoll_event ev[4];
	int n;

	memset(ev, 0, sizeof(ev));
	n = epoll_wait(ep, ev, 4, ms);
	if (n != 1 || ev[0].data.u64 != data)
		return (-1);
	return ((int)ev[0].events);
}

static void
xwrite(int fd)
{

	REQUIRE(write(fd, "x", 1) == 1);
}

static void
xread(int fd)
{
	char c;

	REQUIRE(read(fd, &c, 1) == 1);
}

/*
 * route: every entry point works and goes through evring.  The counts
 * the preload writes at exit must be exactly the calls made here: epoll
 * 2 creates, 2 ctls, 4 waits; poll 4 (poll, ppoll, two of them blocking,
 * so the kernel sleeps in its own ppoll() meanwhile); select 3.
 */
static void
mode_route(const char *arg __attribute__((__unused__)))
{
	struct timespec ts = { 0, 20000000L };
	struct timeval tv = { 0, 20000 };
	struct epoll_event ev;
	struct pollfd pfd;
	long long h0;
	fd_set rs;
	sigset_t mask;
	int ep, ep2, p[2];

	h0 = stat_evring(STAT_HOSTREG_TOTAL);
	REQUIRE((ep = epoll_create1(EPOLL_CLOEXEC)) >= 0);
	REQUIRE((ep2 = epoll_create(1)) >= 0);
	REQUIRE(pipe(p) == 0);
	CHECK(ep_add(ep, p[0], EPOLLIN, 0x1234) == 0);
	/* Only evring registers with the host on epoll_ctl(). */
	CHECK_EVRING(stat_evring(STAT_HOSTREG_TOTAL) == h0 + 1);
	CHECK_EVRING(stat_evring(STAT_KQUEUES) >= 2);
	CHECK(ep_add(ep2, ep, EPOLLIN, 7) == 0);
	CHECK(ep_one(ep, 0, 0x1234) == -1);
	xwrite(p[1]);
	CHECK(ep_one(ep, 1000, 0x1234) == EPOLLIN);
	sigemptyset(&mask);
	CHECK(epoll_pwait(ep2, &ev, 1, 0, &mask) == 1 && ev.data.u64 == 7);
	CHECK(epoll_pwait2(ep, &ev, 1, &ts, NULL) == 1);

	pfd.fd = p[0];
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN);
	CHECK(ppoll(&pfd, 1, &ts, &mask) == 1 && pfd.revents == POLLIN);
	xread(p[0]);
	CHECK(poll(&pfd, 1, 20) == 0);
	CHECK(ppoll(&pfd, 1, &ts, NULL) == 0);

	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	CHECK(select(p[0] + 1, &rs, NULL, NULL, &tv) == 0);
	xwrite(p[1]);
	FD_SET(p[0], &rs);
	CHECK(select(p[0] + 1, &rs, NULL, NULL, NULL) == 1);
	CHECK(FD_ISSET(p[0], &rs));
	CHECK(pselect(p[0] + 1, &rs, NULL, NULL, &ts, &mask) == 1);
}

/*
 * norecurse: blocking calls whose sleep is the kernel's own ppoll() and
 * whose readiness comes through the host's epoll instance.  Had the host
 * called those by name, they would be these very functions: the counts
 * would grow past the program's calls (the test checks them), or the
 * process would deadlock or run out of stack.
 */
static void *
writer(void *arg)
{
	int fd = *(int *)arg;

	usleep(50000);
	REQUIRE(write(fd, "y", 1) == 1);
	return (NULL);
}

static void
mode_norecurse(const char *arg __attribute__((__unused__)))
{
	struct pollfd pfd;
	pthread_t t;
	int ep, i, p[2];

	REQUIRE((ep = epoll_create1(0)) >= 0);
	REQUIRE(pipe(p) == 0);
	CHECK(ep_add(ep, p[0], EPOLLIN, 1) == 0);
	for (i = 0; i < 3; i++) {
		REQUIRE(pthread_create(&t, NULL, writer, &p[1]) == 0);
		CHECK(ep_one(ep, -1, 1) == EPOLLIN);
		REQUIRE(pthread_join(t, NULL) == 0);
		xread(p[0]);
	}
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (i = 0; i < 3; i++) {
		REQUIRE(pthread_create(&t, NULL, writer, &p[1]) == 0);
		CHECK(poll(&pfd, 1, -1) == 1);
		REQUIRE(pthread_join(t, NULL) == 0);
		xread(p[0]);
	}
}

/*
 * dup: registrations follow the open file description, and the instance
 * lives as long as any descriptor of it (Linux semantics).
 */
static void
mode_dup(const char *arg __attribute__((__unused__)))
{
	long long h0, q0;
	int d, d2, d3, ep, p[2];

	h0 = stat_evring(STAT_HOSTREG);
	q0 = stat_evring(STAT_KQUEUES);
	REQUIRE((ep = epoll_create1(0)) >= 0);
	REQUIRE(pipe(p) == 0);
	CHECK(ep_add(ep, p[0], EPOLLIN, 1) == 0);

	/* A watched descriptor's dup keeps the registration. */
	REQUIRE((d = dup(p[0])) >= 0);
	REQUIRE(close(p[0]) == 0);
	xwrite(p[1]);
	CHECK(ep_one(ep, 1000, 1) == EPOLLIN);
	xread(d);
	REQUIRE((d2 = fcntl(d, F_DUPFD_CLOEXEC, 50)) >= 50);
	REQUIRE(close(d) == 0);
	xwrite(p[1]);
	CHECK(ep_one(ep, 1000, 1) == EPOLLIN);
	xread(d2);
	/* Closing the last one removes it, host registration and all. */
	REQUIRE(close(d2) == 0);
	CHECK_EVRING(stat_evring(STAT_HOSTREG) == h0);
	REQUIRE(close(p[1]) == 0);

	/* The instance's own dup, dup2, dup3, F_DUPFD. */
	REQUIRE(pipe(p) == 0);
	CHECK(ep_add(ep, p[0], EPOLLIN, 2) == 0);
	REQUIRE((d = dup(ep)) >= 0);
	REQUIRE(dup2(ep, 60) == 60);
	REQUIRE(dup3(ep, 61, O_CLOEXEC) == 61);
	REQUIRE((d3 = fcntl(ep, F_DUPFD, 70)) >= 70);
	REQUIRE(close(ep) == 0);
	xwrite(p[1]);
	CHECK(ep_one(d, 1000, 2) == EPOLLIN);
	CHECK(ep_one(60, 0, 2) == EPOLLIN);
	CHECK(ep_one(61, 0, 2) == EPOLLIN);
	CHECK(ep_one(d3, 0, 2) == EPOLLIN);
	xread(p[0]);
	CHECK(close(d) == 0 && close(60) == 0 && close(d3) == 0);
	CHECK_EVRING(stat_evring(STAT_KQUEUES) == q0 + 1);
	/* The last descriptor still works, a change included. */
	CHECK(epoll_ctl(61, EPOLL_CTL_DEL, p[0], NULL) == 0);
	xwrite(p[1]);
	CHECK(ep_one(61, 0, 2) == -1);
	CHECK(close(61) == 0);
	CHECK_EVRING(stat_evring(STAT_KQUEUES) == q0);
}

/*
 * fork: an instance made before fork() is the parent's alone (the
 * child's copy is closed: EBADF); the child makes and uses its own, and
 * the parent's works before, while and after the child runs.
 */
static void
mode_fork(const char *arg __attribute__((__unused__)))
{
	struct epoll_event ev;
	int cp[2], ep, p[2], st;
	pid_t pid;

	REQUIRE((ep = epoll_create1(0)) >= 0);
	REQUIRE(pipe(p) == 0);
	REQUIRE(pipe(cp) == 0);
	CHECK(ep_add(ep, p[0], EPOLLIN, 3) == 0);
	xwrite(p[1]);
	CHECK(ep_one(ep, 1000, 3) == EPOLLIN);
	REQUIRE((pid = fork()) >= 0);
	if (pid == 0) {
		int cep;

		errno = 0;
		CHECK(epoll_wait(ep, &ev, 1, 0) == -1 && errno == EBADF);
		REQUIRE((cep = epoll_create1(0)) >= 0);
		CHECK(ep_add(cep, p[0], EPOLLIN, 4) == 0);
		CHECK(ep_one(cep, 1000, 4) == EPOLLIN);
		/* Tell the parent it may read the pipe now. */
		xwrite(cp[1]);
		_exit(failed);
	}
	CHECK(ep_one(ep, 1000, 3) == EPOLLIN);
	xread(cp[0]);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	xread(p[0]);
	CHECK(ep_one(ep, 0, 3) == -1);
	xwrite(p[1]);
	CHECK(ep_one(ep, 1000, 3) == EPOLLIN);
}

/*
 * exec: instances are close-on-exec whatever the flags; a dup() of one
 * without FD_CLOEXEC reaches the new image as a plain descriptor, which
 * epoll refuses (EINVAL), without a crash.  The new image (mode
 * "execed") makes its own instance.
 */
static void
mode_exec(const char *self)
{
	char arg[32];
	int d, ep;

	REQUIRE((ep = epoll_create1(0)) >= 0);
	CHECK(fcntl(ep, F_GETFD) == FD_CLOEXEC);
	REQUIRE((d = fcntl(ep, F_DUPFD, 80)) >= 80);
	CHECK(ep_one(d, 0, 0) == -1);
	snprintf(arg, sizeof(arg), "%d,%d", ep, d);
	fflush(stdout);
	execl(self, self, "execed", arg, (char *)NULL);
	printf("execl: %s\n", strerror(errno));
	exit(1);
}

static void
mode_execed(const char *arg)
{
	struct epoll_event ev;
	int d, ep, nep, p[2];

	(void)ep;
	REQUIRE(sscanf(arg, "%d,%d", &ep, &d) == 2);
	CHECK(fcntl(d, F_GETFD) == 0);
	errno = 0;
	CHECK(epoll_wait(d, &ev, 1, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(epoll_ctl(d, EPOLL_CTL_DEL, 0, NULL) == -1 && errno == EINVAL);
	REQUIRE((nep = epoll_create1(0)) >= 0);
	REQUIRE(pipe(p) == 0);
	CHECK(ep_add(nep, p[0], EPOLLIN, 6) == 0);
	xwrite(p[1]);
	CHECK(ep_one(nep, 1000, 6) == EPOLLIN);
	CHECK(close(d) == 0);
}

/*
 * inherit: a descriptor and its duplicate reach a new image; closing the
 * one registered there keeps the registration on the other, as on Linux.
 * The library did not see the dup (it was made by raw system call, and
 * in another image): it marks what is open when it starts as possibly
 * shared, so that the close still finds the duplicate.
 */
static void
mode_inherit(const char *self)
{
	char arg[32];
	int d, p[2];

	REQUIRE(pipe(p) == 0);
	REQUIRE((d = (int)syscall(SYS_dup3, p[0], 70, 0)) == 70);
	snprintf(arg, sizeof(arg), "%d,%d,%d", p[0], d, p[1]);
	fflush(stdout);
	execl(self, self, "inherited", arg, (char *)NULL);
	printf("execl: %s\n", strerror(errno));
	exit(1);
}

static void
mode_inherited(const char *arg)
{
	struct epoll_event ev;
	int d, ep, r, w;

	REQUIRE(sscanf(arg, "%d,%d,%d", &r, &d, &w) == 3);
	REQUIRE((ep = epoll_create1(0)) >= 0);
	CHECK(ep_add(ep, r, EPOLLIN, 8) == 0);
	CHECK(close(r) == 0);
	xwrite(w);
	CHECK(ep_one(ep, 1000, 8) == EPOLLIN);
	CHECK(epoll_wait(ep, &ev, 1, 0) == 1);
	CHECK(close(d) == 0);
	CHECK(close(w) == 0);
}

/* errors: the errno Linux gives for each bad input. */
static void
mode_errors(const char *arg __attribute__((__unused__)))
{
	struct epoll_event ev, evs[2];
	struct pollfd pfd;
	struct timeval tv = { 0, 0 };
	fd_set rs;
	char path[] = "/tmp/p_preload.XXXXXX";
	struct pollfd *volatile badp = NULL;
	int closed, ep, f, p[2];

	REQUIRE((ep = epoll_create1(0)) >= 0);
	REQUIRE(pipe(p) == 0);
	REQUIRE((f = mkstemp(path)) >= 0);
	unlink(path);
	/*
	 * A number well above any in use: evring opens descriptors of its
	 * own as it goes (lowest numbers first), which could take a number
	 * just closed.  Not too far: Linux's select() ignores numbers past
	 * the end of the process's descriptor table (64 at first) where
	 * evring's says EBADF.
	 */
	closed = 40;
	REQUIRE(fcntl(closed, F_GETFD) == -1 && errno == EBADF);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;

	errno = 0;
	CHECK(epoll_create(0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(epoll_create1(~EPOLL_CLOEXEC) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(epoll_ctl(closed, EPOLL_CTL_ADD, p[0], &ev) == -1 &&
	    errno == EBADF);
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, closed, &ev) == -1 &&
	    errno == EBADF);
	errno = 0;
	CHECK(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev) == -1 &&
	    errno == EINVAL);
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(epoll_ctl(ep, 99, p[0], &ev) == -1 && errno == EINVAL);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == -1 &&
	    errno == EEXIST);
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev) == -1 &&
	    errno == ENOENT);
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL) == -1 &&
	    errno == ENOENT);
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev) == -1 && errno == EPERM);
	errno = 0;
	CHECK(epoll_wait(ep, evs, 0, 0) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(epoll_wait(closed, evs, 2, 0) == -1 && errno == EBADF);
	errno = 0;
	CHECK(epoll_wait(p[0], evs, 2, 0) == -1 && errno == EINVAL);

	pfd.fd = closed;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLNVAL);
#ifndef __SANITIZE_ADDRESS__
	/* (AddressSanitizer's poll() checks the array itself first.) */
	errno = 0;
	CHECK(poll(badp, 1, 0) == -1 && errno == EFAULT);
#endif
	FD_ZERO(&rs);
	FD_SET(closed, &rs);
	errno = 0;
	CHECK(select(closed + 1, &rs, NULL, NULL, &tv) == -1 &&
	    errno == EBADF);
	errno = 0;
	CHECK(select(-1, NULL, NULL, NULL, &tv) == -1 && errno == EINVAL);
}

/* eintr: a handler that runs ends every wait with EINTR, SA_RESTART too. */
static void
on_alarm(int sig)
{

	(void)sig;
}

static void
mode_eintr(const char *arg __attribute__((__unused__)))
{
	/* SA_RESTART: Linux ends these waits with EINTR all the same. */
	struct sigaction sa = { .sa_handler = on_alarm,
	    .sa_flags = SA_RESTART };
	struct itimerval it;
	struct epoll_event ev;
	struct pollfd pfd;
	fd_set rs;
	int ep, p[2];

	REQUIRE(sigemptyset(&sa.sa_mask) == 0 &&
	    sigaction(SIGALRM, &sa, NULL) == 0);
	REQUIRE((ep = epoll_create1(0)) >= 0);
	REQUIRE(pipe(p) == 0);
	CHECK(ep_add(ep, p[0], EPOLLIN, 1) == 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 50000;

	REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
	errno = 0;
	CHECK(epoll_wait(ep, &ev, 1, 5000) == -1 && errno == EINTR);
	REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	errno = 0;
	CHECK(poll(&pfd, 1, 5000) == -1 && errno == EINTR);
	REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	errno = 0;
	CHECK(select(p[0] + 1, &rs, NULL, NULL, NULL) == -1 &&
	    errno == EINTR);
}

/*
 * early: pl_early.so, initialized before the preload, made an instance
 * and polled in its constructor; both worked and the instance is evring's.
 */
static void
mode_early(const char *arg __attribute__((__unused__)))
{
	int *epfd, *pollr, p[2];

	epfd = (int *)dlsym(RTLD_DEFAULT, "pl_early_epfd");
	pollr = (int *)dlsym(RTLD_DEFAULT, "pl_early_poll");
	REQUIRE(epfd != NULL && pollr != NULL);
	CHECK(*pollr == 1);
	REQUIRE(*epfd >= 0);
	CHECK_EVRING(stat_evring(STAT_KQUEUES) >= 1);
	REQUIRE(pipe(p) == 0);
	CHECK(ep_add(*epfd, p[0], EPOLLIN, 9) == 0);
	xwrite(p[1]);
	CHECK(ep_one(*epfd, 1000, 9) == EPOLLIN);
}

/* The modes; each takes its argument, or the program's own path. */
static const struct mode {
	const char	*m_name;
	void		(*m_fn)(const char *);
	int		m_needarg;
} modes[] = {
	{ "route", mode_route, 0 },
	{ "norecurse", mode_norecurse, 0 },
	{ "dup", mode_dup, 0 },
	{ "fork", mode_fork, 0 },
	{ "exec", mode_exec, 0 },
	{ "execed", mode_execed, 1 },
	{ "inherit", mode_inherit, 0 },
	{ "inherited", mode_inherited, 1 },
	{ "errors", mode_errors, 0 },
	{ "eintr", mode_eintr, 0 },
	{ "early", mode_early, 0 },
	{ NULL, NULL, 0 }
};

int
main(int argc, char **argv)
{
	const struct mode *m;

	setvbuf(stdout, NULL, _IONBF, 0);
	evring = stat_evring(STAT_KQUEUES) >= 0;
	if (argc < 2) {
		fprintf(stderr, "usage: p_preload mode [arg]\n");
		return (2);
	}
	if (strcmp(argv[1], "native") == 0) {
		/* What the test runs without the preload: no evring here. */
		printf("%s\n", evring ? "evring" : "native");
		return (0);
	}
	for (m = modes; m->m_name != NULL; m++)
		if (strcmp(argv[1], m->m_name) == 0)
			break;
	if (m->m_name == NULL || (m->m_needarg && argc < 3)) {
		fprintf(stderr, "p_preload: bad mode %s\n", argv[1]);
		return (2);
	}
	m->m_fn(argc > 2 ? argv[2] : argv[0]);
	if (!failed)
		printf("ok\n");
	return (failed);
}
