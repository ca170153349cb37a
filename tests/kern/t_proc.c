/*
 * EVFILT_PROC: NOTE_EXIT with the wait status in data, EV_EOF, delivery
 * once, the child left for the program to reap, ESRCH for a missing
 * process, the documented EOPNOTSUPP for NOTE_FORK/NOTE_EXEC/NOTE_TRACK,
 * and the exit of a process that is not our child.  EVFILT_PROCDESC: the
 * same exit on a process descriptor (a pidfd), as FreeBSD's procdesc.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "h_evring.h"

#ifndef SYS_pidfd_open
#define	SYS_pidfd_open	434
#endif

#define	MS	1000000LL

static int
kwait(int kq, struct kevent *ev, int n, long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * MS;
	return (kevent(kq, NULL, 0, ev, n, &ts));
}

/*
 * Fork a child that waits until *gate is closed (EOF on a pipe), then
 * exits with status code, or, if code < 0, waits to be killed.
 */
static pid_t
spawn_gated(int code, int *gate)
{
	int p[2];
	pid_t pid;
	char c;

	ATF_REQUIRE(pipe(p) == 0);
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		if (code < 0) {
			for (;;)
				pause();
		}
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			continue;
		_exit(code);
	}
	close(p[0]);
	*gate = p[1];
	return (pid);
}

/* Wait for the NOTE_EXIT event of pid and return it. */
static void
expect_exit(int kq, pid_t pid, struct kevent *ev)
{
	int n;

	n = kwait(kq, ev, 1, 5000);
	ATF_REQUIRE_EQ_MSG(n, 1, "no NOTE_EXIT for %d (n=%d, %s)", (int)pid,
	    n, n < 0 ? strerror(errno) : "-");
	ATF_REQUIRE_EQ(ev->ident, (uintptr_t)pid);
	ATF_REQUIRE_EQ(ev->filter, EVFILT_PROC);
	ATF_REQUIRE_MSG(ev->fflags & NOTE_EXIT, "fflags %#x lack NOTE_EXIT",
	    ev->fflags);
	ATF_REQUIRE_MSG(ev->flags & EV_EOF, "flags %#x lack EV_EOF",
	    ev->flags);
	/* FreeBSD's filt_procattach() sets EV_CLEAR; exit adds EV_ONESHOT. */
	ATF_REQUIRE_MSG((ev->flags & (EV_CLEAR | EV_ONESHOT)) ==
	    (EV_CLEAR | EV_ONESHOT), "flags %#x lack EV_CLEAR|EV_ONESHOT",
	    ev->flags);
	ATF_REQUIRE_EQ(ev->flags & EV_ERROR, 0);
}

ATF_TC(exit_status);
ATF_TC_HEAD(exit_status, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_EXIT on a child that calls _exit(7): one event, EV_EOF, "
	    "EV_CLEAR and EV_ONESHOT set (as FreeBSD), "
	    "data is a wait status with WEXITSTATUS 7, and the child can "
	    "still be reaped with waitpid() afterwards");
}
ATF_TC_BODY(exit_status, tc)
{
	struct kevent ev;
	pid_t pid;
	int gate, kq, st;

	kq = kev_kqueue();
	pid = spawn_gated(7, &gate);
	KEV_CHANGE(kq, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, (void *)0x77);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 100), 0,
	    "NOTE_EXIT before the child exited");
	close(gate);
	expect_exit(kq, pid, &ev);
	ATF_REQUIRE_EQ(ev.udata, (void *)0x77);
	st = (int)ev.data;
	ATF_REQUIRE_MSG(WIFEXITED(st), "data %#x is not an exit status", st);
	ATF_REQUIRE_EQ_MSG(WEXITSTATUS(st), 7, "exit status %d, want 7",
	    WEXITSTATUS(st));
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 200), 0,
	    "NOTE_EXIT reported twice");

	/* The filter must not have reaped the child. */
	ATF_REQUIRE_EQ_MSG(waitpid(pid, &st, 0), pid, "waitpid: %s",
	    strerror(errno));
	ATF_REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(exit_signaled);
ATF_TC_HEAD(exit_signaled, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_EXIT on a child killed by SIGTERM: data is a wait status "
	    "with WIFSIGNALED and WTERMSIG SIGTERM");
}
ATF_TC_BODY(exit_signaled, tc)
{
	struct kevent ev;
	pid_t pid;
	int gate, kq, st;

	kq = kev_kqueue();
	pid = spawn_gated(-1, &gate);
	KEV_CHANGE(kq, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, NULL);
	ATF_REQUIRE(kill(pid, SIGTERM) == 0);
	expect_exit(kq, pid, &ev);
	st = (int)ev.data;
	ATF_REQUIRE_MSG(WIFSIGNALED(st), "data %#x is not a signal status",
	    st);
	ATF_REQUIRE_EQ(WTERMSIG(st), SIGTERM);
	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	ATF_REQUIRE(WIFSIGNALED(st));
	close(gate);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(exit_zombie);
ATF_TC_HEAD(exit_zombie, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Registering NOTE_EXIT on a child that has already exited but is "
	    "not yet reaped reports the exit at once, with its status");
}
ATF_TC_BODY(exit_zombie, tc)
{
	struct kevent ev;
	siginfo_t si;
	pid_t pid;
	int kq, st;

	kq = kev_kqueue();
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(3);
	/* Wait for it to become a zombie without reaping it. */
	memset(&si, 0, sizeof(si));
	ATF_REQUIRE(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0);
	KEV_CHANGE(kq, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, NULL);
	expect_exit(kq, pid, &ev);
	st = (int)ev.data;
	ATF_REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(two_queues);
ATF_TC_HEAD(two_queues, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "Two queues watching one child both get its NOTE_EXIT with the "
	    "status");
}
ATF_TC_BODY(two_queues, tc)
{
	struct kevent ev;
	pid_t pid;
	int gate, kq1, kq2, st;

	kq1 = kev_kqueue();
	kq2 = kev_kqueue();
	pid = spawn_gated(9, &gate);
	KEV_CHANGE(kq1, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, NULL);
	KEV_CHANGE(kq2, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, NULL);
	close(gate);
	expect_exit(kq1, pid, &ev);
	ATF_REQUIRE_EQ(WEXITSTATUS((int)ev.data), 9);
	expect_exit(kq2, pid, &ev);
	ATF_REQUIRE_EQ(WEXITSTATUS((int)ev.data), 9);
	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	ATF_REQUIRE(close(kq1) == 0);
	ATF_REQUIRE(close(kq2) == 0);
}

ATF_TC(delete_before_exit);
ATF_TC_HEAD(delete_before_exit, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "After EV_DELETE the exit of the child is not reported, and the "
	    "child is still ours to reap");
}
ATF_TC_BODY(delete_before_exit, tc)
{
	struct kevent ev;
	pid_t pid;
	int gate, kq, st;

	kq = kev_kqueue();
	pid = spawn_gated(0, &gate);
	KEV_CHANGE(kq, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, NULL);
	KEV_CHANGE(kq, pid, EVFILT_PROC, EV_DELETE, 0, 0, NULL);
	close(gate);
	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 200), 0,
	    "exit reported after EV_DELETE");
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(no_such_process);
ATF_TC_HEAD(no_such_process, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EVFILT_PROC on a pid that does not exist fails with ESRCH, as "
	    "errno and in an EV_ERROR entry, and leaves no knote");
}
ATF_TC_BODY(no_such_process, tc)
{
	struct kevent ch, ev;
	struct timespec zero = { 0, 0 };
	pid_t pid;
	int kq;

	/* A pid that existed a moment ago and has been reaped. */
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(0);
	ATF_REQUIRE_EQ(waitpid(pid, NULL, 0), pid);

	kq = kev_kqueue();
	ATF_REQUIRE_EQ(kev_change(kq, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0,
	    NULL), -1);
	ATF_REQUIRE_EQ_MSG(errno, ESRCH, "errno %d, want ESRCH", errno);
	EV_SET(&ch, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, NULL);
	ATF_REQUIRE_EQ(kevent(kq, &ch, 1, &ev, 1, &zero), 1);
	ATF_REQUIRE(ev.flags & EV_ERROR);
	ATF_REQUIRE_EQ(ev.data, ESRCH);
	ATF_REQUIRE_EQ(ev.ident, (uintptr_t)pid);
	ATF_REQUIRE_EQ(kev_change(kq, pid, EVFILT_PROC, EV_DELETE, 0, 0, NULL),
	    -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(unsupported_notes);
ATF_TC_HEAD(unsupported_notes, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_FORK, NOTE_EXEC and NOTE_TRACK cannot be reported on this "
	    "host: registering them fails with EOPNOTSUPP (never silently "
	    "accepted) and leaves no knote");
}
ATF_TC_BODY(unsupported_notes, tc)
{
	static const unsigned int notes[] = {
		NOTE_FORK, NOTE_EXEC, NOTE_TRACK,
		NOTE_EXIT | NOTE_FORK, NOTE_EXIT | NOTE_EXEC,
		NOTE_EXIT | NOTE_TRACK,
	};
	pid_t pid;
	unsigned i;
	int gate, kq, st;

	kq = kev_kqueue();
	pid = spawn_gated(0, &gate);
	for (i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
		errno = 0;
		ATF_REQUIRE_EQ_MSG(kev_change(kq, pid, EVFILT_PROC, EV_ADD,
		    notes[i], 0, NULL), -1, "fflags %#x accepted", notes[i]);
		ATF_REQUIRE_EQ_MSG(errno, EOPNOTSUPP,
		    "fflags %#x: errno %d, want EOPNOTSUPP", notes[i], errno);
		ATF_REQUIRE_EQ(kev_change(kq, pid, EVFILT_PROC, EV_DELETE, 0, 0,
		    NULL), -1);
		ATF_REQUIRE_EQ(errno, ENOENT);
	}
	close(gate);
	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(not_a_child);
ATF_TC_HEAD(not_a_child, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "NOTE_EXIT on a process that is not our child (a grandchild whose "
	    "parent has exited) still arrives when it exits");
}
ATF_TC_BODY(not_a_child, tc)
{
	struct kevent ev;
	pid_t child, gchild;
	int gate[2], info[2], kq, n, st;
	char c;

	ATF_REQUIRE(pipe(gate) == 0);
	ATF_REQUIRE(pipe(info) == 0);
	child = fork();
	ATF_REQUIRE(child >= 0);
	if (child == 0) {
		pid_t g;

		g = fork();
		if (g < 0)
			_exit(1);
		if (g == 0) {
			/* Grandchild: run until the gate closes. */
			close(gate[1]);
			close(info[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				continue;
			_exit(0);
		}
		if (write(info[1], &g, sizeof(g)) != sizeof(g))
			_exit(2);
		_exit(0);
	}
	close(gate[0]);
	close(info[1]);
	ATF_REQUIRE_EQ(read(info[0], &gchild, sizeof(gchild)),
	    (ssize_t)sizeof(gchild));
	ATF_REQUIRE_EQ(waitpid(child, &st, 0), child);
	ATF_REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	kq = kev_kqueue();
	KEV_CHANGE(kq, gchild, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, (void *)1);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 100), 0);
	close(gate[1]);		/* the grandchild exits now */
	n = kwait(kq, &ev, 1, 5000);
	ATF_REQUIRE_EQ_MSG(n, 1, "no NOTE_EXIT for the grandchild (n=%d)", n);
	ATF_REQUIRE_EQ(ev.ident, (uintptr_t)gchild);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_PROC);
	ATF_REQUIRE(ev.fflags & NOTE_EXIT);
	ATF_REQUIRE(ev.flags & EV_EOF);
	/* In case this process is a subreaper, tidy up. */
	(void)waitpid(gchild, NULL, WNOHANG);
	close(info[0]);
	ATF_REQUIRE(close(kq) == 0);
}

/* A process descriptor for pid: Linux's pidfd. */
static int
pidfd_for(pid_t pid)
{
	int fd;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	ATF_REQUIRE_MSG(fd >= 0, "pidfd_open: %s", strerror(errno));
	return (fd);
}

/* Wait for the EVFILT_PROCDESC NOTE_EXIT of pidfd and return its status. */
static int
expect_procdesc_exit(int kq, int pidfd, void *udata)
{
	struct kevent ev;
	int n;

	n = kwait(kq, &ev, 1, 5000);
	ATF_REQUIRE_EQ_MSG(n, 1, "no NOTE_EXIT on pidfd %d (n=%d, %s)", pidfd,
	    n, n < 0 ? strerror(errno) : "-");
	ATF_REQUIRE_EQ(ev.ident, (uintptr_t)pidfd);
	ATF_REQUIRE_EQ(ev.filter, EVFILT_PROCDESC);
	ATF_REQUIRE_EQ(ev.udata, udata);
	ATF_REQUIRE_EQ_MSG(ev.fflags, NOTE_EXIT, "fflags %#x", ev.fflags);
	/* procdesc_kqfilter() sets EV_CLEAR; the exit adds EOF and ONESHOT. */
	ATF_REQUIRE_EQ_MSG(ev.flags & (EV_EOF | EV_CLEAR | EV_ONESHOT |
	    EV_ERROR), EV_EOF | EV_CLEAR | EV_ONESHOT, "flags %#x", ev.flags);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 0), 0, "NOTE_EXIT reported twice");
	return ((int)ev.data);
}

ATF_TC(procdesc_exit);
ATF_TC_HEAD(procdesc_exit, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EVFILT_PROCDESC NOTE_EXIT on a child's pidfd: nothing while it "
	    "runs, then one event with EV_EOF|EV_CLEAR|EV_ONESHOT and data "
	    "its wait status, the child left for waitpid(), the knote gone");
}
ATF_TC_BODY(procdesc_exit, tc)
{
	struct kevent ev;
	pid_t pid;
	int gate, kq, pfd, st;

	kq = kev_kqueue();
	pid = spawn_gated(7, &gate);
	pfd = pidfd_for(pid);
	KEV_CHANGE(kq, pfd, EVFILT_PROCDESC, EV_ADD, NOTE_EXIT, 0,
	    (void *)0x55);
	ATF_REQUIRE_EQ_MSG(kwait(kq, &ev, 1, 100), 0,
	    "NOTE_EXIT before the child exited");
	close(gate);
	st = expect_procdesc_exit(kq, pfd, (void *)0x55);
	ATF_REQUIRE_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 7,
	    "data %#x is not exit status 7", st);
	/* EV_ONESHOT: delivered means deleted. */
	ATF_REQUIRE_EQ(kev_change(kq, pfd, EVFILT_PROCDESC, EV_DELETE, 0, 0,
	    NULL), -1);
	ATF_REQUIRE_EQ(errno, ENOENT);
	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	ATF_REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	ATF_REQUIRE(close(pfd) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(procdesc_signaled_zombie);
ATF_TC_HEAD(procdesc_signaled_zombie, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EVFILT_PROCDESC registered after its child was killed (a zombie) "
	    "reports at once, with WTERMSIG in data");
}
ATF_TC_BODY(procdesc_signaled_zombie, tc)
{
	siginfo_t si;
	pid_t pid;
	int gate, kq, pfd, st;

	kq = kev_kqueue();
	pid = spawn_gated(-1, &gate);
	pfd = pidfd_for(pid);
	ATF_REQUIRE(kill(pid, SIGKILL) == 0);
	memset(&si, 0, sizeof(si));
	ATF_REQUIRE(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0);
	KEV_CHANGE(kq, pfd, EVFILT_PROCDESC, EV_ADD, NOTE_EXIT, 0, NULL);
	st = expect_procdesc_exit(kq, pfd, NULL);
	ATF_REQUIRE_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "data %#x is not a SIGKILL status", st);
	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	close(gate);
	ATF_REQUIRE(close(pfd) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TC(procdesc_errors);
ATF_TC_HEAD(procdesc_errors, tc)
{
	atf_tc_set_md_var(tc, "descr",
	    "EVFILT_PROCDESC on a descriptor that is not a process descriptor "
	    "(pipe, eventfd-like anonymous inode, regular file) is EINVAL, on "
	    "a closed number EBADF; without NOTE_EXIT nothing is reported; "
	    "closing the pidfd removes the registration");
}
ATF_TC_BODY(procdesc_errors, tc)
{
	struct kevent ev;
	pid_t pid;
	int fd, gate, kq, p[2], pfd, st;

	kq = kev_kqueue();
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE_EQ(kev_change(kq, p[0], EVFILT_PROCDESC, EV_ADD, NOTE_EXIT,
	    0, NULL), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	fd = kqueue();
	ATF_REQUIRE(fd >= 0);
	ATF_REQUIRE_EQ(kev_change(kq, fd, EVFILT_PROCDESC, EV_ADD, NOTE_EXIT,
	    0, NULL), -1);
	ATF_REQUIRE_EQ(errno, EINVAL);
	close(fd);
	ATF_REQUIRE_EQ(kev_change(kq, fd, EVFILT_PROCDESC, EV_ADD, NOTE_EXIT,
	    0, NULL), -1);
	ATF_REQUIRE_EQ(errno, EBADF);

	/* Not subscribed to NOTE_EXIT: the exit is not reported. */
	pid = spawn_gated(0, &gate);
	pfd = pidfd_for(pid);
	KEV_CHANGE(kq, pfd, EVFILT_PROCDESC, EV_ADD, 0, 0, NULL);
	close(gate);
	ATF_REQUIRE_EQ(waitid(P_PID, pid, &(siginfo_t){ 0 },
	    WEXITED | WNOWAIT), 0);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 50), 0);
	/* A close of the pidfd takes its registration with it. */
	KEV_CHANGE(kq, pfd, EVFILT_PROCDESC, EV_ADD, NOTE_EXIT, 0, NULL);
	ATF_REQUIRE(close(pfd) == 0);
	ATF_REQUIRE_EQ(kwait(kq, &ev, 1, 50), 0);
	ATF_REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	ATF_REQUIRE(close(p[0]) == 0 && close(p[1]) == 0);
	ATF_REQUIRE(close(kq) == 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, exit_status);
	ATF_TP_ADD_TC(tp, exit_signaled);
	ATF_TP_ADD_TC(tp, exit_zombie);
	ATF_TP_ADD_TC(tp, two_queues);
	ATF_TP_ADD_TC(tp, delete_before_exit);
	ATF_TP_ADD_TC(tp, no_such_process);
	ATF_TP_ADD_TC(tp, unsupported_notes);
	ATF_TP_ADD_TC(tp, not_a_child);
	ATF_TP_ADD_TC(tp, procdesc_exit);
	ATF_TP_ADD_TC(tp, procdesc_signaled_zombie);
	ATF_TP_ADD_TC(tp, procdesc_errors);
	return (atf_no_error());
}
