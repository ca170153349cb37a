/*
 * EVFILT_SIGNAL: counting deliveries (ignored signals, signals with a
 * program handler installed before or after registration, signals sent to
 * a thread), visibility to a zero-timeout kevent() right after kill(),
 * restoring the program's disposition on EV_DELETE, the SIGCHLD rule, and
 * bad signal numbers.  The filter must never steal a signal from the
 * program's own handler.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "h_evring.h"

#define	MS	1000000LL
#define	SEC	1000000000LL

static long long
mono_ns(void)
{
	struct timespec ts;

	ATF_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return ((long long)ts.tv_sec * SEC + ts.tv_nsec);
}

static int
kwait(int kq, struct kevent *ev, int n, long ms)
{
	struct timespec ts, *tsp;

	tsp = NULL;
	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * MS;
		tsp = &ts;
	}
	return (kevent(kq, NULL, 0, ev, n, tsp));
}

/* Lock-free atomics: safe in handlers, and race-free for TSan. */
static _Atomic int nhandled[NSIG];
static _Atomic int siginfo_ok;

static void
counting_handler(int signo)
{
	if (signo > 0 && signo < NSIG)
		nhandled[signo]++;
}

static void
counting_handler2(int signo)
{
	if (signo > 0 && signo < NSIG)
		nhandled[signo] += 100;
}

static void
siginfo_handler(int signo, siginfo_t *si, void *uc)
{
	(void)uc;
	if (signo > 0 && signo < NSIG)
		nhandled[signo]++;
	if (si != NULL && si->si_signo == signo && si->si_pid == getpid())
		siginfo_ok++;
}

static void
set_disposition(int signo, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	ATF_REQUIRE(sigaction(signo, &sa, NULL) == 0);
}

static void
unblock(int signo)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, signo);
	ATF_REQUIRE(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
}

/* Wait (at most 2 s) until the handler for signo has run want times. */
static void
wait_handled(int signo, int want)
{
	long long deadline;

	deadline = mono_ns() + 2 * SEC;
	while (nhandled[signo] < want && mono_ns() < deadline)
		usleep(1000);
	ATF_REQUIRE_EQ_MSG(nhandled[signo], want,
	    "program handler for signal %d ran %d times, want %d", signo,
	    atomic_load(&nhandled[signo]), want);
}

/*
 * Sum the data of signo's events on kq until want deliveries are counted
 * (at most 2 s), then check that no more are reported.
 */
static void
expect_count(int kq, int signo, long want)
{
	struct kevent ev;
	long long deadline;
	long total;
	int n;

	total = 0;
	deadline = mono_ns() + 2 * SEC;
	while (total < want && mono_ns() < deadline) {
		n = kwait(kq, &ev, 1, 200);
		ATF_REQUIRE_MSG(n >= 0, "kevent: %s", strerror(errno));
		if (n == 0)
			continue;
		ATF_REQUIRE_EQ(ev.filter, EVFILT_SIGNAL);
		ATF_REQUIRE_EQ(ev.ident, (uintptr_t)signo);
		ATF_REQUIRE_MSG(ev.data >= 1, "signal event with data %ld",
		    (long)ev.data);
		total += ev.data;
	}
	ATF_REQUIRE_EQ_MSG(total, want, "counted %ld deliveries of %d, want "
	    "%ld", total, signo, want);
	n = kwait(kq, &ev, 1, 50);
	ATF_REQUIRE_EQ_MSG(n, 0, "extra signal event (data %ld)",
	    n > 0 ? (long)ev.data : 0L);
}

ATF_TC(ignored_counted);
ATF_TC_HEAD(ignored_counted, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A signal whose disposition is SIG_IGN is still counted: two "
	    "kill()s give one event with data == 2");
}
ATF_TC_BODY(ignored_counted, tc)
{
	struct kevent ev;
	int kq;

	set_disposition(SIGUSR1, SIG_IGN);
	unblock(SIGUSR1);
	kq = kev_kqueue();
	KEV_CHANGE(kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0, (void *)0x51);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 2000), 1);
	ATF_REQUIRE_EQ(ev.ident, SIGUSR1);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_SIGNAL);
	ATF_REQUIRE_EQ(ev.udata, (void *)0x51);
	ATF_REQUIRE_EQ_MSG(ev.data, 2, "data %ld, want 2", (long)ev.data);
	/* The count is cleared by the report. */
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 50), 0);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 2000), 1);
	ATF_REQUIRE_EQ(ev.data, 1);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(zero_timeout_after_kill);
ATF_TC_HEAD(zero_timeout_after_kill, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A zero-timeout kevent() made right after kill() to self reports "
	    "the signal");
}
ATF_TC_BODY(zero_timeout_after_kill, tc)
{
	struct kevent ev;
	int kq, n;

	set_disposition(SIGUSR1, SIG_IGN);
	unblock(SIGUSR1);
	kq = kev_kqueue();
	KEV_CHANGE(kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	n = kwait(kq, &ev, 1, 0);
	ATF_REQUIRE_EQ_MSG(n, 1, "signal not visible to a zero-timeout "
	    "kevent() right after kill() (n=%d)", n);
	ATF_REQUIRE_EQ(ev.ident, SIGUSR1);
	ATF_REQUIRE_EQ(ev.data, 1);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(handler_before);
ATF_TC_HEAD(handler_before, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "With a program handler installed before registration, every "
	    "kill() runs the handler and is counted by the filter");
}
ATF_TC_BODY(handler_before, tc)
{
	struct sigaction sa;
	int kq;

	set_disposition(SIGUSR1, counting_handler);
	unblock(SIGUSR1);
	kq = kev_kqueue();
	KEV_CHANGE(kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	/* While watched, the program still sees its own disposition. */
	ATF_REQUIRE(sigaction(SIGUSR1, NULL, &sa) == 0);
	ATF_REQUIRE_MSG(sa.sa_handler == counting_handler,
	    "sigaction() reports a handler other than the program's");
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	wait_handled(SIGUSR1, 3);
	expect_count(kq, SIGUSR1, 3);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	wait_handled(SIGUSR1, 4);
	expect_count(kq, SIGUSR1, 1);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(handler_after);
ATF_TC_HEAD(handler_after, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A program handler installed after registration runs on every "
	    "kill(), sigaction() reports it, and the filter still counts");
}
ATF_TC_BODY(handler_after, tc)
{
	struct sigaction sa, old;
	int kq;

	set_disposition(SIGUSR2, SIG_IGN);
	unblock(SIGUSR2);
	kq = kev_kqueue();
	KEV_CHANGE(kq, SIGUSR2, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = counting_handler;
	sigemptyset(&sa.sa_mask);
	ATF_REQUIRE(sigaction(SIGUSR2, &sa, &old) == 0);
	ATF_REQUIRE_MSG(old.sa_handler == SIG_IGN,
	    "old disposition is not the program's SIG_IGN");
	ATF_REQUIRE(sigaction(SIGUSR2, NULL, &old) == 0);
	ATF_REQUIRE(old.sa_handler == counting_handler);

	ATF_REQUIRE(kill(getpid(), SIGUSR2) == 0);
	ATF_REQUIRE(kill(getpid(), SIGUSR2) == 0);
	wait_handled(SIGUSR2, 2);
	expect_count(kq, SIGUSR2, 2);

	/* signal() too, replacing the handler again while watched. */
	ATF_REQUIRE(signal(SIGUSR2, counting_handler2) == counting_handler);
	ATF_REQUIRE(kill(getpid(), SIGUSR2) == 0);
	wait_handled(SIGUSR2, 102);
	expect_count(kq, SIGUSR2, 1);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(siginfo_handler_forwarded);
ATF_TC_HEAD(siginfo_handler_forwarded, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A program SA_SIGINFO handler on a watched signal receives a "
	    "siginfo naming the signal and the sender");
}
ATF_TC_BODY(siginfo_handler_forwarded, tc)
{
	struct sigaction sa;
	int kq;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = siginfo_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	ATF_REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	unblock(SIGUSR1);
	kq = kev_kqueue();
	KEV_CHANGE(kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	wait_handled(SIGUSR1, 1);
	ATF_REQUIRE_EQ_MSG(siginfo_ok, 1, "handler got a wrong siginfo");
	expect_count(kq, SIGUSR1, 1);
	ATF_REQUIRE(close(kq) == 0);
}

/*
 * A thread that sleeps in short naps until told to stop.  It does not block
 * in read(): ThreadSanitizer runs a handler only when the interrupted call
 * returns, and a read() restarted after the handler never returns.
 */
struct sleeper {
	int	ready;
	int	stop;
};

static void *
sleeper_thread(void *arg)
{
	struct sleeper *s = arg;

	__atomic_store_n(&s->ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST))
		usleep(1000);
	return (NULL);
}

ATF_TC(pthread_kill_counted);
ATF_TC_HEAD(pthread_kill_counted, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A signal sent with pthread_kill() to another thread runs the "
	    "program's handler and is counted");
}
ATF_TC_BODY(pthread_kill_counted, tc)
{
	struct sleeper s;
	pthread_t t;
	int kq;

	set_disposition(SIGUSR2, counting_handler);
	unblock(SIGUSR2);
	s.ready = 0;
	s.stop = 0;
	kq = kev_kqueue();
	KEV_CHANGE(kq, SIGUSR2, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE(pthread_create(&t, NULL, sleeper_thread, &s) == 0);
	while (!__atomic_load_n(&s.ready, __ATOMIC_SEQ_CST))
		usleep(1000);
	ATF_REQUIRE(pthread_kill(t, SIGUSR2) == 0);
	wait_handled(SIGUSR2, 1);
	expect_count(kq, SIGUSR2, 1);
	/* One at a time: two pending standard signals would merge. */
	ATF_REQUIRE(pthread_kill(t, SIGUSR2) == 0);
	wait_handled(SIGUSR2, 2);
	ATF_REQUIRE(pthread_kill(t, SIGUSR2) == 0);
	wait_handled(SIGUSR2, 3);
	expect_count(kq, SIGUSR2, 2);
	__atomic_store_n(&s.stop, 1, __ATOMIC_SEQ_CST);
	ATF_REQUIRE(pthread_join(t, NULL) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(delete_restores);
ATF_TC_HEAD(delete_restores, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EV_DELETE stops counting and leaves the program's disposition in "
	    "place: sigaction() reports the program's handler, which runs");
}
ATF_TC_BODY(delete_restores, tc)
{
	struct sigaction sa;
	struct kevent ev;
	sigset_t mask;
	int kq;

	set_disposition(SIGUSR1, counting_handler);
	unblock(SIGUSR1);
	kq = kev_kqueue();
	KEV_CHANGE(kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	wait_handled(SIGUSR1, 1);
	/* Changed while watched: this is the disposition to restore. */
	set_disposition(SIGUSR1, counting_handler2);
	KEV_CHANGE(kq, SIGUSR1, EVFILT_SIGNAL, EV_DELETE, 0, 0, NULL);

	ATF_REQUIRE(sigaction(SIGUSR1, NULL, &sa) == 0);
	ATF_REQUIRE_MSG(sa.sa_handler == counting_handler2,
	    "after EV_DELETE sigaction() reports another handler");
	ATF_REQUIRE(sigprocmask(SIG_BLOCK, NULL, &mask) == 0);
	ATF_REQUIRE_MSG(!sigismember(&mask, SIGUSR1),
	    "SIGUSR1 left blocked after EV_DELETE");
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	wait_handled(SIGUSR1, 101);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 100), 0,
	    "deleted signal knote still reported");
	ATF_REQUIRE_EQ(kev_change(kq, SIGUSR1, EVFILT_SIGNAL, EV_DELETE, 0, 0,
	    NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(delete_restores_default);
ATF_TC_HEAD(delete_restores_default, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "After EV_DELETE (and after closing the queue) a signal that was "
	    "SIG_DFL or SIG_IGN reports that disposition again");
}
ATF_TC_BODY(delete_restores_default, tc)
{
	struct sigaction sa;
	int kq;

	set_disposition(SIGUSR1, SIG_DFL);
	set_disposition(SIGUSR2, SIG_IGN);
	kq = kev_kqueue();
	KEV_CHANGE(kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq, SIGUSR2, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq, SIGUSR1, EVFILT_SIGNAL, EV_DELETE, 0, 0, NULL);
	ATF_REQUIRE(sigaction(SIGUSR1, NULL, &sa) == 0);
	ATF_REQUIRE_MSG(sa.sa_handler == SIG_DFL, "SIGUSR1 not SIG_DFL");
	ATF_REQUIRE(close(kq) == 0);
	ATF_REQUIRE(sigaction(SIGUSR2, NULL, &sa) == 0);
	ATF_REQUIRE_MSG(sa.sa_handler == SIG_IGN,
	    "SIGUSR2 not SIG_IGN after its queue was closed");
	/* The ignored signal really is ignored again: we survive it. */
	unblock(SIGUSR2);
	ATF_REQUIRE(kill(getpid(), SIGUSR2) == 0);
}

ATF_TC(two_queues);
ATF_TC_HEAD(two_queues, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Two queues watching one signal each count every delivery; "
	    "deleting on one leaves the other counting");
}
ATF_TC_BODY(two_queues, tc)
{
	int kq1, kq2;

	set_disposition(SIGUSR1, SIG_IGN);
	unblock(SIGUSR1);
	kq1 = kev_kqueue();
	kq2 = kev_kqueue();
	KEV_CHANGE(kq1, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	KEV_CHANGE(kq2, SIGUSR1, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	expect_count(kq1, SIGUSR1, 1);
	expect_count(kq2, SIGUSR1, 1);
	KEV_CHANGE(kq1, SIGUSR1, EVFILT_SIGNAL, EV_DELETE, 0, 0, NULL);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	ATF_REQUIRE(kill(getpid(), SIGUSR1) == 0);
	expect_count(kq2, SIGUSR1, 2);
	expect_count(kq1, SIGUSR1, 0);
	ATF_REQUIRE(close(kq1) == 0);
	ATF_REQUIRE(close(kq2) == 0);
}

ATF_TC(sigchld_ignored);
ATF_TC_HEAD(sigchld_ignored, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "FreeBSD rule: SIGCHLD with disposition SIG_IGN is not counted; "
	    "with SIG_DFL it is");
}
ATF_TC_BODY(sigchld_ignored, tc)
{
	struct kevent ev;
	pid_t pid;
	int kq, n;

	set_disposition(SIGCHLD, SIG_IGN);
	unblock(SIGCHLD);
	kq = kev_kqueue();
	KEV_CHANGE(kq, SIGCHLD, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE(kill(getpid(), SIGCHLD) == 0);
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* Reaped by us or (SIG_IGN) by the system: either way it is gone. */
	(void)waitpid(pid, NULL, 0);
	n = kwait(kq, &ev, 1, 300);
	ATF_REQUIRE_EQ_MSG(n, 0, "ignored SIGCHLD counted (data %ld)",
	    n > 0 ? (long)ev.data : 0L);

	set_disposition(SIGCHLD, SIG_DFL);
	ATF_REQUIRE(kill(getpid(), SIGCHLD) == 0);
	expect_count(kq, SIGCHLD, 1);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(invalid_signo);
ATF_TC_HEAD(invalid_signo, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EVFILT_SIGNAL with signal number 0, 65 or larger fails with "
	    "EINVAL and registers nothing");
}
ATF_TC_BODY(invalid_signo, tc)
{
	static const uintptr_t bad[] = { 0, 65, 128, 1000, (uintptr_t)-1 };
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	unsigned i;
	int kq;

	kq = kev_kqueue();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ATF_REQUIRE_EQ_MSG(kev_change(kq, bad[i], EVFILT_SIGNAL, EV_ADD,
		    0, 0, NULL), -1, "signal %lu accepted",
		    (unsigned long)bad[i]);
		ATF_REQUIRE_EQ_MSG(errno, EINVAL, "signal %lu: errno %d",
		    (unsigned long)bad[i], errno);
		ATF_REQUIRE_EQ(kev_change(kq, bad[i], EVFILT_SIGNAL, EV_DELETE,
		    0, 0, NULL), -1);
	}
	EV_SET(&ch, 65, EVFILT_SIGNAL, EV_ADD, 0, 0, NULL);
	ATF_REQUIRE_EQ(kevent(kq, &ch, 1, &ev, 1, &zero), 1);
	ATF_REQUIRE(ev.flags & EV_ERROR);
	ATF_REQUIRE_EQ(ev.data, EINVAL);
	ATF_REQUIRE_EQ(ev.ident, 65);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(stop_signal_default);
ATF_TC_HEAD(stop_signal_default, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "A watched SIGTSTP left at its default action is counted and "
	    "stops the process with SIGTSTP itself (the parent's waitpid() "
	    "reports WSTOPSIG SIGTSTP), and after SIGCONT a second one is "
	    "counted and stops it again (regression: it stopped with "
	    "SIGSTOP)");
}
ATF_TC_BODY(stop_signal_default, tc)
{
	struct kevent ev;
	struct timespec ts = { 2, 0 };
	pid_t pid;
	int st, round;

	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0) {
		int kq, n;

		/*
		 * A group of its own, whose parent (the test) is in another
		 * group of the session: the kernel discards job-control
		 * stops in an orphaned group.
		 */
		if (setpgid(0, 0) != 0)
			_exit(9);
		alarm(10);
		if ((kq = kqueue()) < 0)
			_exit(1);
		EV_SET(&ev, SIGTSTP, EVFILT_SIGNAL, EV_ADD | EV_CLEAR, 0, 0,
		    NULL);
		if (kevent(kq, &ev, 1, NULL, 0, NULL) != 0)
			_exit(2);
		for (round = 0; round < 2; round++) {
			raise(SIGTSTP);
			n = kevent(kq, NULL, 0, &ev, 1, &ts);
			if (n != 1 || ev.ident != SIGTSTP || ev.data != 1)
				_exit(3 + round);
		}
		_exit(0);
	}
	for (round = 0; round < 2; round++) {
		ATF_REQUIRE_EQ(waitpid(pid, &st, WUNTRACED), pid);
		ATF_REQUIRE_MSG(WIFSTOPPED(st), "round %d: status %#x", round,
		    st);
		ATF_REQUIRE_EQ_MSG(WSTOPSIG(st), SIGTSTP,
		    "round %d: stopped by signal %d", round, WSTOPSIG(st));
		ATF_REQUIRE(kill(pid, SIGCONT) == 0);
	}
	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	ATF_REQUIRE_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "child status %#x", st);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, stop_signal_default);
	ATF_TP_ADD_TC(tp, ignored_counted);
	ATF_TP_ADD_TC(tp, zero_timeout_after_kill);
	ATF_TP_ADD_TC(tp, handler_before);
	ATF_TP_ADD_TC(tp, handler_after);
	ATF_TP_ADD_TC(tp, siginfo_handler_forwarded);
	ATF_TP_ADD_TC(tp, pthread_kill_counted);
	ATF_TP_ADD_TC(tp, delete_restores);
	ATF_TP_ADD_TC(tp, delete_restores_default);
	ATF_TP_ADD_TC(tp, two_queues);
	ATF_TP_ADD_TC(tp, sigchld_ignored);
	ATF_TP_ADD_TC(tp, invalid_signo);
	return (atf_no_error());
}
