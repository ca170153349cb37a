#!/usr/bin/env bash
# Total the test counts that mk/run-tests.sh left in each build directory
# named as an argument, and end with "N passed, N failed" (with ", N
# skipped" and ", N expected failures" when there are any).  A build with no counts (it did not build, or kyua did not
# run) counts as one failure.  Exits nonzero when anything failed.
set -uo pipefail

passed=0 failed=0 skipped=0 xfail=0
echo
echo "==> total over $# builds:"
for b in "$@"; do
	if read -r p f s x 2>/dev/null <"$b/test-counts"; then
		echo "    $b: $p passed, $f failed, $s skipped," \
		    "$x expected failures"
		passed=$((passed + p)) failed=$((failed + f))
		skipped=$((skipped + s)) xfail=$((xfail + x))
	else
		echo "    $b: no results (the build or the test run failed)"
		failed=$((failed + 1))
	fi
done
summary="$passed passed, $failed failed"
((skipped > 0)) && summary+=", $skipped skipped"
((xfail > 0)) && summary+=", $xfail expected failures"
echo "$summary"
((failed == 0))
