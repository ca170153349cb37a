#!/usr/bin/env bash
# Run each libFuzzer harness named as an argument for SECONDS, from its
# committed seed corpus (fuzz/corpus/<target>/, only read) plus the units
# earlier runs found (BUILD/corpus/<target>/, where new ones are written),
# and print one summary line per harness: executions, corpus size, peak
# RSS, or what crashed.  -f starts the found units afresh (make check, so
# that a run does not slow down as they pile up).  Every harness runs even
# when one fails; the last line counts them, BUILD/test-counts keeps the
# count for mk/total.sh, and the exit status is nonzero if any failed.
#
#   mk/run-fuzz.sh [-f] BUILD SECONDS target...
set -uo pipefail

fresh=0
if [[ ${1:-} == -f ]]; then
	fresh=1
	shift
fi
build=$1 seconds=$2
shift 2

passed=0 failed=0
for t in "$@"; do
	seed=fuzz/corpus/$t out=$build/corpus/$t log=$build/fuzz-$t.log
	((fresh)) && rm -rf "$out"
	mkdir -p "$out" "$seed"
	before=$(cd "$seed" && find . -type f -printf '%p %s %T@\n' | sort)
	# detect_leaks=0: libFuzzer's per-input leak check would flag the
	# kernel's start-up allocations; each harness checks the kernel's
	# object counts (evring_stat()) itself.
	(cd "$build" && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ./fuzz/"$t" -max_total_time="$seconds" -timeout=10 \
	    -print_final_stats=1 corpus/"$t" ../"$seed" >"fuzz-$t.log" 2>&1)
	rc=$?
	after=$(cd "$seed" && find . -type f -printf '%p %s %T@\n' | sort)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
	units=$(find "$out" -type f | wc -l)
	if [[ $before != "$after" ]]; then
		echo "fuzz: $t: FAILED: the run changed $seed"
		rc=1
	fi
	if ((rc == 0)); then
		echo "fuzz: $t: ok, ${execs:-?} executions in $seconds s," \
		    "$(find "$seed" -type f | wc -l) seeds," \
		    "$units units found, peak RSS ${rss:-?} MB"
		passed=$((passed + 1))
	else
		echo "fuzz: $t: FAILED (status $rc) after ${execs:-?}" \
		    "executions; log: $log"
		grep -E 'ERROR|SUMMARY|invariant|model|crash-|Test unit written' \
		    "$log" | head -20 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "$passed $failed 0 0" >"$build/test-counts"
echo "fuzz: $passed harnesses passed, $failed failed ($seconds s each)"
((failed == 0))
