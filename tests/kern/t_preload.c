/*
 * t_preload: libevring-preload.so under an unmodified program.
 *
 * The program is p_preload (p_preload.c), linked without libevring and
 * calling the C library's epoll, poll and select; each case runs one of
 * its modes under LD_PRELOAD and, where what it checks holds on Linux as
 * it is, once more without, so that the expectations themselves are
 * Linux's.  The preload's counts (EVRING_PRELOAD_STATS, written to a file
 * at exit) prove the calls went through evring and that the host layer's
 * own poll and epoll calls did not come back into the preload.
 *
 * Sanitizer builds build p_preload and the preload library with the same
 * sanitizer.  AddressSanitizer's runtime goes first in LD_PRELOAD, where
 * it insists on being.  ThreadSanitizer's must not: its interceptors of
 * blocking calls (epoll_wait(), poll()) ignore every interceptor called
 * inside them, pthread_mutex_lock() included, so the preload running
 * inside one would be reported for races it does not have.  After the
 * preload, it intercepts what the preload calls, as in a linked program.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char helper[PATH_MAX], preload[PATH_MAX], statsfile[PATH_MAX];
static char early[PATH_MAX];

/* p_preload and the preload library, found from this program's path. */
static void
find_paths(void)
{
	char self[PATH_MAX - 64], *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ATF_REQUIRE(n > 0);
	self[n] = '\0';
	ATF_REQUIRE((slash = strrchr(self, '/')) != NULL);
	*slash = '\0';
	snprintf(helper, sizeof(helper), "%s/p_preload", self);
	snprintf(preload, sizeof(preload), "%s/../../lib/libevring-preload.so",
	    self);
	snprintf(early, sizeof(early), "%s/pl_early.so", self);
	ATF_REQUIRE_MSG(access(helper, X_OK) == 0, "%s: %s", helper,
	    strerror(errno));
	ATF_REQUIRE_MSG(access(preload, R_OK) == 0, "%s: %s", preload,
	    strerror(errno));
	ATF_REQUIRE(getcwd(statsfile, sizeof(statsfile) - 8) != NULL);
	strcat(statsfile, "/stats");
}

/* The AddressSanitizer runtime this program runs with, or NULL. */
static const char *
asan_runtime(void)
{
	Dl_info di;
	void *sym;

	if ((sym = dlsym(RTLD_DEFAULT, "__asan_init")) != NULL &&
	    dladdr(sym, &di) != 0 && di.dli_fname != NULL &&
	    strstr(di.dli_fname, ".so") != NULL)
		return (di.dli_fname);
	return (NULL);
}

/*
 * Run p_preload MODE, with the preload or without (preloaded 0), its
 * output in out; returns its wait status.  The stats file starts empty.
 * preloaded 2 adds pl_early.so after the preload in LD_PRELOAD.
 */
static int
run(const char *mode, int preloaded, char *out, size_t outlen)
{
	char ldp[3 * PATH_MAX + 32], stats[PATH_MAX + 32];
	const char *rt;
	char **env;
	size_t n, k, i;
	ssize_t r;
	int pfd[2], st;
	pid_t pid;

	(void)unlink(statsfile);
	for (n = 0; environ[n] != NULL; n++)
		;
	ATF_REQUIRE((env = calloc(n + 3, sizeof(*env))) != NULL);
	for (i = k = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
		    strncmp(environ[i], "EVRING_PRELOAD_STATS=", 21) != 0)
			env[k++] = environ[i];
	if (preloaded) {
		rt = asan_runtime();
		snprintf(ldp, sizeof(ldp), "LD_PRELOAD=%s%s%s%s%s",
		    rt != NULL ? rt : "", rt != NULL ? " " : "", preload,
		    preloaded == 2 ? " " : "", preloaded == 2 ? early : "");
		snprintf(stats, sizeof(stats), "EVRING_PRELOAD_STATS=%s",
		    statsfile);
		env[k++] = ldp;
		env[k++] = stats;
	}
	env[k] = NULL;

	ATF_REQUIRE_EQ(0, pipe(pfd));
	ATF_REQUIRE((pid = fork()) >= 0);
	if (pid == 0) {
		/* A hang (a recursion deadlocks) ends in SIGALRM. */
		(void)alarm(30);
		(void)dup2(pfd[1], STDOUT_FILENO);
		(void)dup2(pfd[1], STDERR_FILENO);
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		execle(helper, helper, mode, (char *)NULL, env);
		_exit(127);
	}
	free(env);
	(void)close(pfd[1]);
	n = 0;
	while (n < outlen - 1 &&
	    (r = read(pfd[0], out + n, outlen - 1 - n)) != 0) {
		if (r < 0) {
			ATF_REQUIRE_EQ(EINTR, errno);
			continue;
		}
		n += (size_t)r;
	}
	out[n] = '\0';
	(void)close(pfd[0]);
	ATF_REQUIRE_EQ(pid, waitpid(pid, &st, 0));
	return (st);
}

/* Run MODE and require that it says "ok" and exits 0. */
static void
run_ok(const char *mode, int preloaded)
{
	char out[8192];
	int st;

	st = run(mode, preloaded, out, sizeof(out));
	ATF_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    strstr(out, "ok\n") != NULL, "p_preload %s%s: status %#x: %s",
	    mode, preloaded ? " (preloaded)" : " (native)", st, out);
}

/* A count from the preload's line in the stats file; -1 if none. */
static long long
stat_of(const char *name)
{
	char buf[1024], key[64];
	long long v = -1;
	const char *p;
	FILE *f;

	if ((f = fopen(statsfile, "r")) == NULL)
		return (-1);
	buf[0] = '\0';
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	snprintf(key, sizeof(key), " %s ", name);
	if ((p = strstr(buf, key)) != NULL)
		v = strtoll(p + strlen(key), NULL, 10);
	return (v);
}

/* The preload's counts, in the order of its line: must be exactly these. */
#define	COUNTS(cr, ctl, wait, poll, sel)				\
	counts_are(__FILE__, __LINE__, (cr), (ctl), (wait), (poll), (sel))

static void
counts_are(const char *file, size_t line, long long cr, long long ctl,
    long long wait, long long poll, long long sel)
{
	static const char *const names[] = { "epoll_create", "epoll_ctl",
	    "epoll_wait", "poll", "select" };
	long long got, want[] = { cr, ctl, wait, poll, sel };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((got = stat_of(names[i])) != want[i])
			atf_tc_fail_check(file, line, "%s: the preload "
			    "counted %lld calls, the program made %lld",
			    names[i], got, want[i]);
}

ATF_TC(routed);
ATF_TC_HEAD(routed, tc)
{
	atf_tc_set_md_var(tc, "descr", "Under LD_PRELOAD an unmodified "
	    "program's epoll_create/create1/ctl/wait/pwait/pwait2, poll, "
	    "ppoll, select and pselect go through evring: evring_stat() is "
	    "there and epoll_ctl() makes a host registration, the calls work "
	    "as on Linux (checked natively too), and the preload counts "
	    "exactly the calls the program made");
}
ATF_TC_BODY(routed, tc)
{
	char out[256];

	find_paths();
	ATF_REQUIRE_EQ(0, run("native", 0, out, sizeof(out)));
	ATF_CHECK_STREQ("native\n", out);
	ATF_REQUIRE_EQ(0, run("native", 1, out, sizeof(out)));
	ATF_CHECK_STREQ("evring\n", out);
	run_ok("route", 0);
	run_ok("route", 1);
	COUNTS(2, 2, 4, 4, 3);
	ATF_CHECK(stat_of("hostreg_total") >= 1);
}

ATF_TC(no_recursion);
ATF_TC_HEAD(no_recursion, tc)
{
	atf_tc_set_md_var(tc, "descr", "The host layer's own poll(), "
	    "ppoll() and epoll calls (the sleep, the readiness drain, the "
	    "dispatcher) are system calls that the preload's definitions of "
	    "those names cannot capture: blocking epoll_wait() and poll() "
	    "calls woken by another thread complete, and the preload counts "
	    "the program's calls only");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(no_recursion, tc)
{

	find_paths();
	run_ok("norecurse", 1);
	COUNTS(1, 1, 3, 3, 0);
}

ATF_TC(dup_lifetime);
ATF_TC_HEAD(dup_lifetime, tc)
{
	atf_tc_set_md_var(tc, "descr", "Descriptor lifetime as on Linux "
	    "(checked natively too): a registration follows the open file "
	    "description through dup() and fcntl(F_DUPFD_CLOEXEC) until the "
	    "last descriptor closes, and an epoll instance dup()ed, dup2()ed, "
	    "dup3()ed and F_DUPFD'ed keeps working through every copy after "
	    "its first descriptor is closed, until the last one is");
}
ATF_TC_BODY(dup_lifetime, tc)
{

	find_paths();
	run_ok("dup", 0);
	run_ok("dup", 1);
}

ATF_TC(fork_child);
ATF_TC_HEAD(fork_child, tc)
{
	atf_tc_set_md_var(tc, "descr", "After fork() the child's copy of an "
	    "instance made before it is closed (EBADF; Linux would share the "
	    "instance), the child makes and uses an instance of its own on "
	    "a descriptor the parent also watches, and the parent's instance "
	    "works before, during and after the child");
}
ATF_TC_BODY(fork_child, tc)
{

#ifdef __SANITIZE_ADDRESS__
	/* As t_fork: GCC 12's ASan allocator is not fork-safe with threads. */
	atf_tc_skip("AddressSanitizer (GCC 12) does not lock its allocator "
	    "across fork(): the child can block in malloc");
#endif
	find_paths();
	run_ok("fork", 1);
}

ATF_TC(exec_inherited);
ATF_TC_HEAD(exec_inherited, tc)
{
	atf_tc_set_md_var(tc, "descr", "An instance is close-on-exec "
	    "whatever the flags; a dup() of it without FD_CLOEXEC reaches "
	    "the new image as a plain descriptor, which epoll_wait() and "
	    "epoll_ctl() refuse with EINVAL and close() closes, without a "
	    "crash, and the new image makes and uses its own instance");
}
ATF_TC_BODY(exec_inherited, tc)
{

	find_paths();
	run_ok("exec", 1);
	/* The new image counted its own calls. */
	COUNTS(1, 2, 2, 0, 0);
}

ATF_TC(inherited_duplicate);
ATF_TC_HEAD(inherited_duplicate, tc)
{
	atf_tc_set_md_var(tc, "descr", "A descriptor and a duplicate the "
	    "library never saw made (inherited across exec): closing the "
	    "registered one keeps the registration on the duplicate, as on "
	    "Linux (the library marks what is open when it starts as possibly "
	    "shared, so that a close looks there)");
}
ATF_TC_BODY(inherited_duplicate, tc)
{

	find_paths();
	run_ok("inherit", 0);
	run_ok("inherit", 1);
}

ATF_TC(early_constructor);
ATF_TC_HEAD(early_constructor, tc)
{
	atf_tc_set_md_var(tc, "descr", "A library initialized before the "
	    "preload (named after it in LD_PRELOAD, or a program's own) may "
	    "call epoll_create1() and poll() in its constructor: the kernel "
	    "starts on that first call, and the instance works afterwards "
	    "(regression: a crash on the kernel's missing locks)");
}
ATF_TC_BODY(early_constructor, tc)
{

	find_paths();
	ATF_REQUIRE_MSG(access(early, R_OK) == 0, "%s: %s", early,
	    strerror(errno));
	run_ok("early", 2);
}

ATF_TC(errors);
ATF_TC_HEAD(errors, tc)
{
	atf_tc_set_md_var(tc, "descr", "Bad input gets the errno Linux "
	    "gives (checked natively too): EINVAL from epoll_create(0), bad "
	    "flags, a non-epoll epfd, epfd == fd, a bad op, maxevents 0 and "
	    "select(-1); EBADF for closed descriptors; EEXIST, ENOENT; EPERM "
	    "for a regular file; EFAULT; POLLNVAL from poll()");
}
ATF_TC_BODY(errors, tc)
{

	find_paths();
	run_ok("errors", 0);
	run_ok("errors", 1);
}

ATF_TC(eintr);
ATF_TC_HEAD(eintr, tc)
{
	atf_tc_set_md_var(tc, "descr", "A signal handler installed with "
	    "SA_RESTART that runs during epoll_wait(), poll() or select() "
	    "ends it with EINTR, as on Linux (checked natively too)");
}
ATF_TC_BODY(eintr, tc)
{

	find_paths();
	run_ok("eintr", 0);
	run_ok("eintr", 1);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, routed);
	ATF_TP_ADD_TC(tp, no_recursion);
	ATF_TP_ADD_TC(tp, dup_lifetime);
	ATF_TP_ADD_TC(tp, fork_child);
	ATF_TP_ADD_TC(tp, exec_inherited);
	ATF_TP_ADD_TC(tp, inherited_duplicate);
	ATF_TP_ADD_TC(tp, early_constructor);
	ATF_TP_ADD_TC(tp, errors);
	ATF_TP_ADD_TC(tp, eintr);
	return (atf_no_error());
}
