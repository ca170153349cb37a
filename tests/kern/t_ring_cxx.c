/*
 * t_ring_cxx: the installed ring header is usable from C++.  h_ring_cxx
 * (tests/kern/h_ring_cxx.cc, built with the C++ compiler) uses every
 * inline helper of <sys/evring.h> on a ring: evring_peek(),
 * evring_ready(), evring_record(), evring_for_each(), evring_advance(),
 * evring_backlogged() and evring_take().
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ATF_TC(helpers_from_cxx);
ATF_TC_HEAD(helpers_from_cxx, tc)
{
	atf_tc_set_md_var(tc, "descr", "A C++ program consumes a ring with "
	    "every inline helper of <sys/evring.h>, a backlog included");
}
ATF_TC_BODY(helpers_from_cxx, tc)
{
	char self[PATH_MAX], cmd[PATH_MAX + 64];
	ssize_t n;
	int st;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ATF_REQUIRE(n > 0);
	self[n] = '\0';
	snprintf(cmd, sizeof(cmd), "'%s/h_ring_cxx'", dirname(self));
	st = system(cmd);
	ATF_REQUIRE(WIFEXITED(st));
	ATF_REQUIRE_EQ_MSG(0, WEXITSTATUS(st), "h_ring_cxx failed (see its "
	    "stderr)");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, helpers_from_cxx);
	return (atf_no_error());
}
