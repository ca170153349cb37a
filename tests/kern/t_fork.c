/*
 * fork(): the child has no kqueues (BSD semantics), can make and use its
 * own, and nothing it does -- using the inherited descriptors, watching
 * them in its own queue, closing them, exiting -- disturbs the parent's
 * queues.
 *
 * Children never use ATF macros: each check in a child that fails exits
 * with a distinct nonzero status naming the step, and every child ends
 * with _exit().  An alarm bounds each child.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "h_evring.h"

#define	MS	1000000LL

static int
kwait(int kq, struct kevent *ev, int n, long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * MS;
	return (kevent(kq, NULL, 0, ev, n, &ts));
}

/* In a child: exit with status step unless cond holds. */
#define	CHILD_CHECK(cond, step) do {					\
	if (!(cond))							\
		_exit(step);						\
} while (0)

/*
 * GCC 12's AddressSanitizer does not hold its allocator locks across
 * fork(), so a child whose parent had a thread allocating at the moment of
 * the fork blocks for good in its first malloc(): in its first thread start
 * (any child that registers a knote starts the host's threads), or in the
 * kernel's own fork handler.  Cases with such children skip under ASan;
 * the normal and ThreadSanitizer builds run them.
 */
#ifdef __SANITIZE_ADDRESS__
#define	REQUIRE_FORK_SAFE_MALLOC()					\
	atf_tc_skip("AddressSanitizer (GCC 12) does not lock its "	\
	    "allocator across fork(): the child can block in malloc")
#else
#define	REQUIRE_FORK_SAFE_MALLOC()	do { } while (0)
#endif

/*
 * GCC 12's ThreadSanitizer can leave a lock of its allocator's metadata
 * held in a child forked while another thread was inside malloc(), and the
 * child then blocks in its first malloc() (seen in about one run in six:
 * the kernel's fork handler, hc_mtx_init(), spinning for good in
 * __tsan::DenseSlabAlloc::Refill).  Only the case whose parent allocates
 * in a loop while it forks meets it; it skips under TSan too, and runs in
 * the normal build.
 */
#ifdef __SANITIZE_THREAD__
#define	REQUIRE_FORK_SAFE_TSAN_MALLOC()					\
	atf_tc_skip("ThreadSanitizer (GCC 12) does not lock its "	\
	    "metadata allocator across fork(): the child can block in "	\
	    "malloc")
#else
#define	REQUIRE_FORK_SAFE_TSAN_MALLOC()	do { } while (0)
#endif

/* Fork a child running fn(arg) bounded by a 10 s alarm. */
static pid_t
spawn(int (*fn)(void *), void *arg)
{
	pid_t pid;

	pid = fork();
	ATF_REQUIRE_MSG(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(10);
		_exit(fn(arg));
	}
	return (pid);
}

/* Reap the child and require that every check in it passed. */
static void
reap_ok(pid_t pid)
{
	int st;

	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	ATF_REQUIRE_MSG(!WIFSIGNALED(st), "child killed by signal %d",
	    WTERMSIG(st));
	ATF_REQUIRE_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child failed at step %d", WEXITSTATUS(st));
}

static int
child_no_kqueues(void *arg)
{
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	int kq = *(int *)arg;

	errno = 0;
	CHILD_CHECK(kevent(kq, NULL, 0, &ev, 1, &zero) == -1, 1);
	CHILD_CHECK(errno == EBADF, 2);
	EV_SET(&ch, 9, EVFILT_USER, EV_ADD, NOTE_TRIGGER, 0, NULL);
	errno = 0;
	CHILD_CHECK(kevent(kq, &ch, 1, NULL, 0, &zero) == -1, 3);
	CHILD_CHECK(errno == EBADF, 4);
	return (0);
}

ATF_TC(child_has_no_kqueues);
ATF_TC_HEAD(child_has_no_kqueues, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "In a child, kevent() on the parent's kqueue descriptor fails "
	    "with EBADF; the parent's pending event is still there afterwards");
}
ATF_TC_BODY(child_has_no_kqueues, tc)
{
	struct kevent ev;
	int kq;

	kq = kev_kqueue();
	KEV_CHANGE(kq, 1, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_TRIGGER, 0,
	    (void *)1);
	reap_ok(spawn(child_no_kqueues, &kq));
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 1000), 1);
	ATF_REQUIRE_EQ(ev.ident, 1);
	ATF_REQUIRE_EQ(ev.udata, (void *)1);
	/* The child's attempt to register ident 9 reached nothing here. */
	ATF_REQUIRE_EQ(kev_change(kq, 9, EVFILT_USER, EV_DELETE, 0, 0, NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

static int
child_own_kqueue(void *arg)
{
	struct kevent ev[4];
	struct timespec zero = { 0, 0 };
	int kq, n, p[2];

	(void)arg;
	kq = kqueue();
	CHILD_CHECK(kq >= 0, 1);
	/* A user event. */
	EV_SET(&ev[0], 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, (void *)11);
	CHILD_CHECK(kevent(kq, ev, 1, NULL, 0, &zero) == 0, 2);
	CHILD_CHECK(kwait(kq, ev, 4, 0) == 0, 3);
	EV_SET(&ev[0], 1, EVFILT_USER, 0, NOTE_TRIGGER, 0, (void *)11);
	CHILD_CHECK(kevent(kq, ev, 1, NULL, 0, &zero) == 0, 4);
	n = kwait(kq, ev, 4, 1000);
	CHILD_CHECK(n == 1 && ev[0].ident == 1 &&
	    ev[0].filter == EVFILT_USER && ev[0].udata == (void *)11, 5);
	/* A pipe read event. */
	CHILD_CHECK(pipe(p) == 0, 6);
	EV_SET(&ev[0], p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)12);
	CHILD_CHECK(kevent(kq, ev, 1, NULL, 0, &zero) == 0, 7);
	CHILD_CHECK(kwait(kq, ev, 4, 0) == 0, 8);
	CHILD_CHECK(write(p[1], "ab", 2) == 2, 9);
	n = kwait(kq, ev, 4, 1000);
	CHILD_CHECK(n == 1 && ev[0].ident == (uintptr_t)p[0] &&
	    ev[0].filter == EVFILT_READ && ev[0].data == 2 &&
	    ev[0].udata == (void *)12, 10);
	/* A timer: the host's timing machinery works in the child too. */
	EV_SET(&ev[0], 2, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0, 20, NULL);
	CHILD_CHECK(kevent(kq, ev, 1, NULL, 0, &zero) == 0, 11);
	EV_SET(&ev[0], p[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
	CHILD_CHECK(kevent(kq, ev, 1, NULL, 0, &zero) == 0, 12);
	n = kwait(kq, ev, 4, 3000);
	CHILD_CHECK(n == 1 && ev[0].ident == 2 &&
	    ev[0].filter == EVFILT_TIMER, 13);
	CHILD_CHECK(close(kq) == 0, 14);
	return (0);
}

ATF_TC(child_own_kqueue);
ATF_TC_HEAD(child_own_kqueue, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A child of a process using kqueues can create its own kqueue and "
	    "receive a user event, a pipe read event and a timer on it");
}
ATF_TC_BODY(child_own_kqueue, tc)
{
	int kq, p[2];

	REQUIRE_FORK_SAFE_MALLOC();

	/* Make the parent a kqueue user with live host state first. */
	kq = kev_kqueue();
	ATF_REQUIRE(pipe(p) == 0);
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq, 1, EVFILT_TIMER, EV_ADD, 0, 50, NULL);
	reap_ok(spawn(child_own_kqueue, NULL));
	ATF_REQUIRE(close(kq) == 0);
}

struct shared {
	int	kq;		/* the parent's queue */
	int	rfd, wfd;	/* the parent's watched pipe */
};

static int
child_meddles(void *arg)
{
	struct shared *sh = arg;
	struct kevent ev[2];
	struct timespec zero = { 0, 0 };
	int kq;

	/* Watch the inherited descriptor in a queue of our own... */
	kq = kqueue();
	CHILD_CHECK(kq >= 0, 1);
	EV_SET(&ev[0], sh->rfd, EVFILT_READ, EV_ADD, 0, 0, NULL);
	CHILD_CHECK(kevent(kq, ev, 1, NULL, 0, &zero) == 0, 2);
	CHILD_CHECK(kwait(kq, ev, 2, 50) == 0, 3);
	EV_SET(&ev[0], sh->rfd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	CHILD_CHECK(kevent(kq, ev, 1, NULL, 0, &zero) == 0, 4);
	CHILD_CHECK(close(kq) == 0, 5);
	/*
	 * ...then close the inherited descriptors, the parent's queue too
	 * (which the child may not have at all, as on the BSDs: EBADF).
	 */
	CHILD_CHECK(close(sh->rfd) == 0, 6);
	CHILD_CHECK(close(sh->kq) == 0 || errno == EBADF, 7);
	return (0);
}

ATF_TC(parent_unaffected);
ATF_TC_HEAD(parent_unaffected, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "After a child watched, unwatched and closed the inherited pipe "
	    "and the inherited kqueue descriptor and exited, the parent's "
	    "read knote registered before the fork still fires, and its "
	    "periodic timer keeps running");
}
ATF_TC_BODY(parent_unaffected, tc)
{
	struct shared sh;
	struct kevent ev[4];
	int i, n, p[2], sawread, sawtimer;

	REQUIRE_FORK_SAFE_MALLOC();

	sh.kq = kev_kqueue();
	ATF_REQUIRE(pipe(p) == 0);
	sh.rfd = p[0];
	sh.wfd = p[1];
	KEV_CHANGE(sh.kq, p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)'r');
	KEV_CHANGE(sh.kq, 7, EVFILT_TIMER, EV_ADD, 0, 30, (void *)'t');
	reap_ok(spawn(child_meddles, &sh));

	ATF_REQUIRE_EQ(write(p[1], "p", 1), 1);
	sawread = sawtimer = 0;
	for (i = 0; i < 20 && !(sawread && sawtimer); i++) {
		n = kwait(sh.kq, ev, 4, 1000);
		ATF_REQUIRE_MSG(n >= 0, "kevent: %s", strerror(errno));
		for (int j = 0; j < n; j++) {
			if (ev[j].filter == EVFILT_READ) {
				ATF_REQUIRE_EQ(ev[j].ident, (uintptr_t)p[0]);
				ATF_REQUIRE_EQ(ev[j].udata, (void *)'r');
				sawread = 1;
			} else if (ev[j].filter == EVFILT_TIMER) {
				ATF_REQUIRE_EQ(ev[j].ident, 7);
				sawtimer = 1;
			}
		}
		if (n == 0)
			break;
	}
	ATF_REQUIRE_MSG(sawread, "parent's read knote lost after the child");
	ATF_REQUIRE_MSG(sawtimer, "parent's timer stopped after the child");
	ATF_REQUIRE(close(sh.kq) == 0);
}

static int
child_closes(void *arg)
{
	struct shared *sh = arg;

	CHILD_CHECK(close(sh->rfd) == 0, 1);
	return (0);
}

ATF_TC(child_close_keeps_knote);
ATF_TC_HEAD(child_close_keeps_knote, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A child closing its copy of a descriptor the parent watches does "
	    "not remove the parent's knote: data pending before the fork and "
	    "data written after the child exited are both reported");
}
ATF_TC_BODY(child_close_keeps_knote, tc)
{
	struct shared sh;
	struct kevent ev;
	char buf[8];
	int p[2];

	sh.kq = kev_kqueue();
	ATF_REQUIRE(pipe(p) == 0);
	sh.rfd = p[0];
	sh.wfd = p[1];
	KEV_CHANGE(sh.kq, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	ATF_REQUIRE_EQ(write(p[1], "a", 1), 1);
	reap_ok(spawn(child_closes, &sh));
	ATF_REQUIRE_EQ_MSG(kwait(sh.kq, &ev, 1, 1000), 1,
	    "event pending before the fork lost");
	ATF_REQUIRE_EQ(ev.ident, (uintptr_t)p[0]);
	ATF_REQUIRE_EQ(read(p[0], buf, sizeof(buf)), 1);
	ATF_REQUIRE_EQ(kwait(sh.kq, &ev, 1, 50), 0);
	ATF_REQUIRE_EQ(write(p[1], "b", 1), 1);
	ATF_REQUIRE_EQ_MSG(kwait(sh.kq, &ev, 1, 2000), 1,
	    "parent's knote removed by the child's close()");
	ATF_REQUIRE_EQ(ev.ident, (uintptr_t)p[0]);
	ATF_REQUIRE_EQ(ev.data, 1);
	ATF_REQUIRE(close(sh.kq) == 0);
}

static int
child_writes(void *arg)
{
	struct shared *sh = arg;
	struct kevent ev;
	struct timespec zero = { 0, 0 };
	int kq;

	/* Use kqueue machinery in the child, then wake the parent. */
	kq = kqueue();
	CHILD_CHECK(kq >= 0, 1);
	EV_SET(&ev, sh->rfd, EVFILT_READ, EV_ADD, 0, 0, NULL);
	CHILD_CHECK(kevent(kq, &ev, 1, NULL, 0, &zero) == 0, 2);
	usleep(100000);
	CHILD_CHECK(write(sh->wfd, "c", 1) == 1, 3);
	CHILD_CHECK(kwait(kq, &ev, 1, 1000) == 1, 4);
	CHILD_CHECK(ev.ident == (uintptr_t)sh->rfd, 5);
	return (0);
}

ATF_TC(child_wakes_parent);
ATF_TC_HEAD(child_wakes_parent, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "The parent blocked in kevent() is woken by a child's write to a "
	    "pipe both watch, each in its own queue; both see the event");
}
ATF_TC_BODY(child_wakes_parent, tc)
{
	struct shared sh;
	struct kevent ev;
	pid_t pid;
	int n, p[2];

	REQUIRE_FORK_SAFE_MALLOC();

	sh.kq = kev_kqueue();
	ATF_REQUIRE(pipe(p) == 0);
	sh.rfd = p[0];
	sh.wfd = p[1];
	KEV_CHANGE(sh.kq, p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)3);
	pid = spawn(child_writes, &sh);
	n = kwait(sh.kq, &ev, 1, 5000);
	reap_ok(pid);
	ATF_REQUIRE_EQ_MSG(n, 1, "parent not woken by the child's write");
	ATF_REQUIRE_EQ(ev.ident, (uintptr_t)p[0]);
	ATF_REQUIRE_EQ(ev.udata, (void *)3);
	ATF_REQUIRE(close(sh.kq) == 0);
}

/* Registers and drops ever higher descriptors until told to stop. */
struct churn {
	int	kq;
	int	stop;
};

static void *
churn_thread(void *arg)
{
	struct churn *c = arg;
	struct kevent ev;
	struct timespec zero = { 0, 0 };
	int fds[256], i, n;

	while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
		/* Hold many numbers so the kernel's table keeps growing. */
		for (n = 0; n < 256; n++) {
			if ((fds[n] = dup(0)) < 0)
				break;
			EV_SET(&ev, fds[n], EVFILT_WRITE, EV_ADD, 0, 0, NULL);
			(void)kevent(c->kq, &ev, 1, NULL, 0, &zero);
		}
		for (i = 0; i < n; i++)
			(void)close(fds[i]);
	}
	return (NULL);
}

static int
child_counts(void *arg)
{

	(void)arg;
	CHILD_CHECK(evring_stat(EVRING_STAT_KQUEUES) == 0, 1);
	CHILD_CHECK(evring_stat(EVRING_STAT_FILES) == 0, 2);
	return (0);
}

ATF_TC(fork_while_registering);
ATF_TC_HEAD(fork_while_registering, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "fork() while another thread registers and closes descriptors "
	    "(growing the kernel's descriptor table): every child starts "
	    "with no queues and no descriptors and exits cleanly");
}
ATF_TC_BODY(fork_while_registering, tc)
{
	struct churn c;
	pthread_t t;
	int i;

	REQUIRE_FORK_SAFE_MALLOC();
	REQUIRE_FORK_SAFE_TSAN_MALLOC();
	c.kq = kev_kqueue();
	c.stop = 0;
	ATF_REQUIRE(pthread_create(&t, NULL, churn_thread, &c) == 0);
	for (i = 0; i < 40; i++)
		reap_ok(spawn(child_counts, NULL));
	__atomic_store_n(&c.stop, 1, __ATOMIC_SEQ_CST);
	ATF_REQUIRE(pthread_join(t, NULL) == 0);
	ATF_REQUIRE(close(c.kq) == 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, fork_while_registering);
	ATF_TP_ADD_TC(tp, child_has_no_kqueues);
	ATF_TP_ADD_TC(tp, child_own_kqueue);
	ATF_TP_ADD_TC(tp, parent_unaffected);
	ATF_TP_ADD_TC(tp, child_close_keeps_knote);
	ATF_TP_ADD_TC(tp, child_wakes_parent);
	return (atf_no_error());
}
