/*
 * The soak program (bench/soak.c) for a few seconds, so that it cannot rot
 * between long runs: this file includes it and runs its soak_main() in the
 * test's own process (a failed check in it exits the process with status
 * 1).  soak_main() must return 0 after printing "soak: PASS", and every
 * pair of counts the program holds exact (what sources caused, what
 * consumers received) must match in the totals it printed.  The long run
 * is "make soak" (bench/README.md).
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
	FILE *f;
	int fd, rc, saved;

	/*
	 * In this process, not a fork child, so that LeakSanitizer checks
	 * the run when the test program exits.  (A fork child of a process
	 * that used evring re-initializes the kernel and drops the parent's
	 * copies of its start-up allocations, which LeakSanitizer would
	 * report at the child's exit().)  A failed check exits the program
	 * with status 1.
	 */
	fflush(stdout);
	ATF_REQUIRE((saved = dup(1)) >= 0);
	fd = open("soak.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ATF_REQUIRE(fd >= 0);
	ATF_REQUIRE(dup2(fd, 1) == 1);
	close(fd);
	rc = soak_main(5, argv);
	fflush(stdout);
	ATF_REQUIRE(dup2(saved, 1) == 1);
	close(saved);
	ATF_REQUIRE((f = fopen("soak.out", "r")) != NULL);
	out[0] = '\n';
	len = fread(out + 1, 1, sizeof(out) - 2, f);
	out[len + 1] = '\0';
	fclose(f);
	printf("%s", out + 1);
	ATF_REQUIRE_EQ(0, rc);
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
