/*
 * Lock-order checking under INVARIANTS (sys/host/host_witness.c,
 * doc/design.md section 8), through the hypercall mutexes the kernel uses.
 *
 * This program includes "sys/hostcall.h", so the Makefile links it with
 * the library's archive (the shared library exports no hypercall) and
 * builds it with the library's INVARIANTS.  Each case runs its locking in
 * a child, which a panic kills with SIGABRT; the parent reads the child's
 * standard error and checks the panic names the classes and shows both
 * stacks.  Class names starting "t_witness" are this program's own, with
 * no recorded order at start.
 */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "sys/hostcall.h"

static char out[65536];

static void
require_witness(void)
{

#ifndef INVARIANTS
	atf_tc_skip("lock-order checking is built only under INVARIANTS");
#endif
}

static struct hc_mtx *
mtx(const char *name)
{
	struct hc_mtx *m;

	if (hc_mtx_init(&m, name) != 0)
		_exit(90);
	return (m);
}

static void
lock2(struct hc_mtx *first, struct hc_mtx *second)
{

	hc_mtx_lock(first);
	hc_mtx_lock(second);
	hc_mtx_unlock(second);
	hc_mtx_unlock(first);
}

/*
 * Runs fn in a child with its standard error in out; returns its wait
 * status.  The child exits 0 if fn returns.
 */
static int
run_child(void (*fn)(void))
{
	struct rlimit rl = { 0, 0 };
	size_t off = 0;
	ssize_t n;
	pid_t pid;
	int p[2], status;

	ATF_REQUIRE(pipe(p) == 0);
	pid = fork();
	ATF_REQUIRE(pid >= 0);
	if (pid == 0) {
		/* A deadlock the check missed ends with SIGALRM. */
		alarm(60);
		(void)setrlimit(RLIMIT_CORE, &rl);
		if (dup2(p[1], STDERR_FILENO) < 0)
			_exit(91);
		(void)close(p[0]);
		(void)close(p[1]);
		fn();
		_exit(0);
	}
	(void)close(p[1]);
	while (off + 1 < sizeof(out) &&
	    (n = read(p[0], out + off, sizeof(out) - 1 - off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		ATF_REQUIRE(n > 0);
		off += (size_t)n;
	}
	out[off] = '\0';
	(void)close(p[0]);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	return (status);
}

static void
require_exit0(int status)
{

	ATF_REQUIRE_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x, stderr:\n%s", status, out);
}

static void
require_panic(int status, const char *msg)
{

	ATF_REQUIRE_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "child status %#x, not SIGABRT; stderr:\n%s", status, out);
	ATF_REQUIRE_MSG(strstr(out, msg) != NULL,
	    "no \"%s\" in the child's stderr:\n%s", msg, out);
	ATF_REQUIRE_MSG(strstr(out, "evring: panic: witness") != NULL,
	    "no panic line in the child's stderr:\n%s", out);
}

/* The line after the first occurrence of header is a frame of a stack. */
static void
require_stack_after(const char *header)
{
	const char *p;

	p = strstr(out, header);
	ATF_REQUIRE_MSG(p != NULL, "no \"%s\" in:\n%s", header, out);
	p = strchr(p, '\n');
	ATF_REQUIRE(p != NULL);
	/* backtrace_symbols_fd(): "object(symbol+offset) [address]". */
	ATF_REQUIRE_MSG(strstr(p + 1, "[0x") != NULL &&
	    strstr(p + 1, "[0x") < strchr(p + 1, '\n'),
	    "no stack frame after \"%s\" in:\n%s", header, out);
}

/* The same, for this program's classes "t_witness a" .. "t_witness c". */
static void
require_order_stack(const char *from, const char *to, const char *what)
{
	char header[128];

	snprintf(header, sizeof(header),
	    "\"t_witness %s\" -> \"t_witness %s\" %s", from, to, what);
	require_stack_after(header);
}

static void
documented_order_child(void)
{

	lock2(mtx("kq_reglock"), mtx("kq_lock"));
	lock2(mtx("knlist"), mtx("kq_lock"));
}

ATF_TC_WITHOUT_HEAD(documented_order);
ATF_TC_BODY(documented_order, tc)
{

	require_witness();
	require_exit0(run_child(documented_order_child));
}

static void
documented_reversal_child(void)
{

	/* kq_reglock -> ... -> kq_lock is documented: this reverses it. */
	lock2(mtx("kq_lock"), mtx("kq_reglock"));
}

ATF_TC_WITHOUT_HEAD(documented_reversal);
ATF_TC_BODY(documented_reversal, tc)
{

	require_witness();
	require_panic(run_child(documented_reversal_child),
	    "lock order reversal: \"kq_reglock\"");
	ATF_REQUIRE(strstr(out, "while holding \"kq_lock\"") != NULL);
	ATF_REQUIRE(strstr(out, "\"knlist\" -> \"kq_lock\" documented "
	    "(doc/design.md section 8)") != NULL);
	require_stack_after("\"kq_lock\" -> \"kq_reglock\" now, at:");
}

static void
recorded_reversal_child(void)
{
	struct hc_mtx *a = mtx("t_witness a"), *b = mtx("t_witness b");

	lock2(a, b);
	lock2(b, a);
}

ATF_TC_WITHOUT_HEAD(recorded_reversal);
ATF_TC_BODY(recorded_reversal, tc)
{

	require_witness();
	require_panic(run_child(recorded_reversal_child),
	    "lock order reversal: \"t_witness a\"");
	/* Both stacks: the order's first, and the reversal's. */
	require_order_stack("a", "b", "first seen at:");
	require_order_stack("b", "a", "now, at:");
}

static void
chain_reversal_child(void)
{
	struct hc_mtx *a = mtx("t_witness a"), *b = mtx("t_witness b"),
	    *c = mtx("t_witness c");

	lock2(a, b);
	lock2(b, c);
	/* Never c -> a directly: the chain a -> b -> c forbids it. */
	lock2(c, a);
}

ATF_TC_WITHOUT_HEAD(chain_reversal);
ATF_TC_BODY(chain_reversal, tc)
{

	require_witness();
	require_panic(run_child(chain_reversal_child),
	    "lock order reversal: \"t_witness a\"");
	require_order_stack("a", "b", "first seen at:");
	require_order_stack("b", "c", "first seen at:");
	require_order_stack("c", "a", "now, at:");
}

static void
trylock_child(void)
{
	struct hc_mtx *a = mtx("t_witness a"), *b = mtx("t_witness b");

	lock2(a, b);
	/* A trylock cannot wait, so it reverses nothing... */
	hc_mtx_lock(b);
	if (!hc_mtx_trylock(a))
		_exit(92);
	hc_mtx_unlock(a);
	hc_mtx_unlock(b);
	/* ...and records nothing: b -> a would forbid a -> b now. */
	lock2(a, b);
}

ATF_TC_WITHOUT_HEAD(trylock_unchecked);
ATF_TC_BODY(trylock_unchecked, tc)
{

	require_witness();
	require_exit0(run_child(trylock_child));
}

static void
trylock_held_child(void)
{
	struct hc_mtx *a = mtx("t_witness a"), *b = mtx("t_witness b");

	lock2(a, b);
	/* A lock taken by trylock is held: b after it is b -> a. */
	if (!hc_mtx_trylock(b))
		_exit(92);
	hc_mtx_lock(a);
}

ATF_TC_WITHOUT_HEAD(trylock_held);
ATF_TC_BODY(trylock_held, tc)
{

	require_witness();
	require_panic(run_child(trylock_held_child),
	    "lock order reversal: \"t_witness a\"");
}

static void
release_order_child(void)
{
	struct hc_mtx *a = mtx("t_witness a"), *b = mtx("t_witness b"),
	    *c = mtx("t_witness c");

	lock2(c, a);
	hc_mtx_lock(a);
	/* Tried, so that no a -> b is recorded (it would give c -> b). */
	if (!hc_mtx_trylock(b))
		_exit(92);
	/* Out of order: b stays held, a does not. */
	hc_mtx_unlock(a);
	/* Were a still counted held, a -> c would reverse c -> a. */
	hc_mtx_lock(c);
	hc_mtx_unlock(c);
	hc_mtx_unlock(b);
}

ATF_TC_WITHOUT_HEAD(release_out_of_order);
ATF_TC_BODY(release_out_of_order, tc)
{

	require_witness();
	require_exit0(run_child(release_order_child));
}

static void
same_class_child(void)
{

	lock2(mtx("t_witness a"), mtx("t_witness a"));
}

ATF_TC_WITHOUT_HEAD(same_class);
ATF_TC_BODY(same_class, tc)
{

	require_witness();
	require_panic(run_child(same_class_child), "two locks of one class");
}

static void
recursion_child(void)
{
	struct hc_mtx *a = mtx("t_witness a");

	/* Without the check this deadlocks (the alarm ends it). */
	hc_mtx_lock(a);
	hc_mtx_lock(a);
}

ATF_TC_WITHOUT_HEAD(recursion);
ATF_TC_BODY(recursion, tc)
{

	require_witness();
	require_panic(run_child(recursion_child), "recursion");
}

static void
leaf_child(void)
{

	lock2(mtx("fdt_lock"), mtx("t_witness a"));
}

ATF_TC_WITHOUT_HEAD(leaf);
ATF_TC_BODY(leaf, tc)
{

	require_witness();
	require_panic(run_child(leaf_child), "a lock acquired after a leaf");
	ATF_REQUIRE(strstr(out, "while holding \"fdt_lock\"") != NULL);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, documented_order);
	ATF_TP_ADD_TC(tp, documented_reversal);
	ATF_TP_ADD_TC(tp, recorded_reversal);
	ATF_TP_ADD_TC(tp, chain_reversal);
	ATF_TP_ADD_TC(tp, trylock_unchecked);
	ATF_TP_ADD_TC(tp, trylock_held);
	ATF_TP_ADD_TC(tp, release_out_of_order);
	ATF_TP_ADD_TC(tp, same_class);
	ATF_TP_ADD_TC(tp, recursion);
	ATF_TP_ADD_TC(tp, leaf);
	return (0);
}
