/*
 * The soak program (bench/soak.c) for a few seconds, so that it cannot rot
 * between long runs: this file includes it and runs its soak_main() in a
 * child process, which must exit 0 and print "soak: PASS", and every pair
 * of counts the program holds exact (what sources caused, what consumers
 * received) must match in the totals it printed.  The long run is
 * "make soak" (bench/README.md).
 */
#define	SOAK_NO_MAIN
#include "../../bench/soak.c"

#include <atf-c.h>

/* The value printed on the line "total <name> <value>", or -1. */
static long long
printed_total(const char *out, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\ntotal %s ", name);
	if ((p = strstr(out, key)) == NULL)
		return (-1);
	return (strtoll(p + strlen(key), NULL, 10));
}

ATF_TC(smoke);
ATF_TC_HEAD(smoke, tc)
{
	atf_tc_set_md_var(tc, "descr", "Five seconds of the soak workload "
	    "(every filter, front end, the ring, fork, a signal storm, "
	    "closes) exit 0 with every exact pair of printed counts equal and "
	    "no descriptor leak");
	atf_tc_set_md_var(tc, "timeout", "600");
}
ATF_TC_BODY(smoke, tc)
{
	static char out[1 << 16];
	char *argv[] = { "soak", "--seconds", "5", "--cycle", "1", NULL };
	long long a, b;
	size_t len;
	unsigned i;
	pid_t pid;
	FILE *f;
	int fd, st;

	fd = open("soak.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ATF_REQUIRE(fd >= 0);
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		_exit(soak_main(5, argv));
	}
	close(fd);
	ATF_REQUIRE_EQ(pid, waitpid(pid, &st, 0));
	ATF_REQUIRE((f = fopen("soak.out", "r")) != NULL);
	out[0] = '\n';
	len = fread(out + 1, 1, sizeof(out) - 2, f);
	out[len + 1] = '\0';
	fclose(f);
	printf("%s", out + 1);
	ATF_REQUIRE_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "soak exited with status %#x", st);
	ATF_REQUIRE(strstr(out, "\nsoak: PASS ") != NULL);
	for (i = 0; i < sizeof(exact_pairs) / sizeof(exact_pairs[0]); i++) {
		a = printed_total(out, ctr_name[exact_pairs[i][0]]);
		b = printed_total(out, ctr_name[exact_pairs[i][1]]);
		ATF_CHECK_MSG(a > 0 && a == b, "%s %lld, %s %lld",
		    ctr_name[exact_pairs[i][0]], a,
		    ctr_name[exact_pairs[i][1]], b);
	}
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, smoke);
	return (atf_no_error());
}
