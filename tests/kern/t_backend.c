/*
 * t_backend: the host readiness backends (doc/host-backend.md).
 *
 * EVRING_HOST_BACKEND picks io_uring or epoll when the host first needs
 * one; each case here sets it before its first kqueue, so each runs on the
 * backend it names, and proves it with evring_stat(): the backend in use,
 * and io_uring completions taken (none under epoll).  The *_suite cases run
 * t_close, t_read and t_fork whole under each backend, as child processes
 * with the variable set, so both stay covered whichever is the default
 * (epoll; "make test" with EVRING_HOST_BACKEND=io_uring runs them all);
 * io_uring_suite runs the front ends' programs too.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/io_uring.h>

#include <atf-c.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h_evring.h"

#define	BACKEND_EPOLL	1
#define	BACKEND_URING	2

/* Whether this machine lets a process set up an io_uring as evring does. */
static int
uring_usable(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
	fd = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (fd < 0)
		return (0);
	close(fd);
	return (1);
}

/* A pipe made readable and reported: readiness went through the host. */
static void
pipe_event(void)
{
	int kq, p[2];

	ATF_REQUIRE((kq = kqueue()) >= 0);
	ATF_REQUIRE_EQ(0, pipe(p));
	KEV_CHANGE(kq, p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, NULL);
	KEV_NONE(kq, 0);
	ATF_REQUIRE_EQ(1, write(p[1], "x", 1));
	(void)KEV_ONE(kq, 1000, p[0], EVFILT_READ);
	close(p[0]);
	close(p[1]);
	close(kq);
}

ATF_TC(epoll_forced);
ATF_TC_HEAD(epoll_forced, tc)
{
	atf_tc_set_md_var(tc, "descr", "EVRING_HOST_BACKEND=epoll: readiness "
	    "comes through epoll, and no io_uring completion is taken");
}
ATF_TC_BODY(epoll_forced, tc)
{

	ATF_REQUIRE_EQ(0, setenv("EVRING_HOST_BACKEND", "epoll", 1));
	ATF_REQUIRE_EQ(0, KEV_STAT(EVRING_STAT_HOST_BACKEND));
	pipe_event();
	ATF_CHECK_EQ(BACKEND_EPOLL, KEV_STAT(EVRING_STAT_HOST_BACKEND));
	ATF_CHECK_EQ(0, KEV_STAT(EVRING_STAT_HOST_CQES));
}

ATF_TC(io_uring_forced);
ATF_TC_HEAD(io_uring_forced, tc)
{
	atf_tc_set_md_var(tc, "descr", "EVRING_HOST_BACKEND=io_uring: "
	    "readiness comes through io_uring completions");
}
ATF_TC_BODY(io_uring_forced, tc)
{
	long long c0;

	if (!uring_usable())
		atf_tc_skip("io_uring cannot be set up here: %s",
		    strerror(errno));
	ATF_REQUIRE_EQ(0, setenv("EVRING_HOST_BACKEND", "io_uring", 1));
	pipe_event();
	ATF_REQUIRE_EQ(BACKEND_URING, KEV_STAT(EVRING_STAT_HOST_BACKEND));
	c0 = KEV_STAT(EVRING_STAT_HOST_CQES);
	pipe_event();
	ATF_CHECK_MSG(KEV_STAT(EVRING_STAT_HOST_CQES) > c0,
	    "a pipe event took no io_uring completion");
}

ATF_TC(auto_chooses);
ATF_TC_HEAD(auto_chooses, tc)
{
	atf_tc_set_md_var(tc, "descr", "EVRING_HOST_BACKEND=auto: io_uring "
	    "where it can be set up, epoll elsewhere");
}
ATF_TC_BODY(auto_chooses, tc)
{

	ATF_REQUIRE_EQ(0, setenv("EVRING_HOST_BACKEND", "auto", 1));
	pipe_event();
	ATF_CHECK_EQ(uring_usable() ? BACKEND_URING : BACKEND_EPOLL,
	    KEV_STAT(EVRING_STAT_HOST_BACKEND));
}

ATF_TC(default_epoll);
ATF_TC_HEAD(default_epoll, tc)
{
	atf_tc_set_md_var(tc, "descr", "EVRING_HOST_BACKEND unset or unknown: "
	    "epoll, the backend that measured faster");
}
ATF_TC_BODY(default_epoll, tc)
{

	ATF_REQUIRE_EQ(0, setenv("EVRING_HOST_BACKEND", "no-such", 1));
	pipe_event();
	ATF_CHECK_EQ(BACKEND_EPOLL, KEV_STAT(EVRING_STAT_HOST_BACKEND));
}

/*
 * Run every case of the test program prog (beside this one) with
 * EVRING_HOST_BACKEND=backend, each in a child process, and fail for
 * each that neither passes nor skips.
 */
static void
run_suite(const char *backend, const char *prog)
{
	char self[PATH_MAX], path[PATH_MAX + 64], cmd[2 * PATH_MAX + 256];
	char line[512], result[256], *ident;
	const char *resfile = "result.txt";
	FILE *list, *res;
	ssize_t n;
	int ncase = 0, status;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ATF_REQUIRE(n > 0);
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dirname(self), prog);
	snprintf(cmd, sizeof(cmd), "'%s' -l", path);
	ATF_REQUIRE_MSG((list = popen(cmd, "r")) != NULL, "%s", cmd);
	while (fgets(line, sizeof(line), list) != NULL) {
		if (strncmp(line, "ident: ", 7) != 0)
			continue;
		ident = line + 7;
		ident[strcspn(ident, "\n")] = '\0';
		snprintf(cmd, sizeof(cmd), "EVRING_HOST_BACKEND=%s '%s' -r %s "
		    "%s >/dev/null 2>&1", backend, path, resfile, ident);
		unlink(resfile);
		status = system(cmd);
		result[0] = '\0';
		if ((res = fopen(resfile, "r")) != NULL) {
			if (fgets(result, sizeof(result), res) == NULL)
				result[0] = '\0';
			fclose(res);
		}
		if (strncmp(result, "passed", 6) != 0 &&
		    strncmp(result, "skipped", 7) != 0)
			atf_tc_fail_nonfatal("%s %s:%s: %s (status %#x)",
			    backend, prog, ident, result[0] != '\0' ? result :
			    "no result", status);
		ncase++;
	}
	pclose(list);
	ATF_CHECK_MSG(ncase > 0, "%s: no test cases", prog);
}

static void
run_suites(const char *backend)
{

	run_suite(backend, "t_close");
	run_suite(backend, "t_read");
	run_suite(backend, "t_fork");
}

/*
 * The front ends' programs, which the default backend runs as part of the
 * suite anyway: under io_uring they prove that the backend changes no
 * front end's semantics (issue 11, item 5).
 */
static void
run_frontend_suites(const char *backend)
{

	run_suite(backend, "t_epoll");
	run_suite(backend, "t_poll");
	run_suite(backend, "t_select");
	run_suite(backend, "t_devpoll");
	run_suite(backend, "t_flags");
	run_suite(backend, "t_clear_stress");
}

ATF_TC(epoll_suite);
ATF_TC_HEAD(epoll_suite, tc)
{
	atf_tc_set_md_var(tc, "descr", "t_close, t_read and t_fork pass with "
	    "EVRING_HOST_BACKEND=epoll");
	atf_tc_set_md_var(tc, "timeout", "300");
}
ATF_TC_BODY(epoll_suite, tc)
{

	run_suites("epoll");
}

ATF_TC(io_uring_suite);
ATF_TC_HEAD(io_uring_suite, tc)
{
	atf_tc_set_md_var(tc, "descr", "t_close, t_read, t_fork and the "
	    "front ends' programs (t_epoll, t_poll, t_select, t_devpoll, "
	    "t_flags, t_clear_stress) pass with EVRING_HOST_BACKEND=io_uring");
	atf_tc_set_md_var(tc, "timeout", "900");
}
ATF_TC_BODY(io_uring_suite, tc)
{

	if (!uring_usable())
		atf_tc_skip("io_uring cannot be set up here");
	run_suites("io_uring");
	run_frontend_suites("io_uring");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, epoll_forced);
	ATF_TP_ADD_TC(tp, io_uring_forced);
	ATF_TP_ADD_TC(tp, auto_chooses);
	ATF_TP_ADD_TC(tp, default_epoll);
	ATF_TP_ADD_TC(tp, epoll_suite);
	ATF_TP_ADD_TC(tp, io_uring_suite);
	return (atf_no_error());
}
