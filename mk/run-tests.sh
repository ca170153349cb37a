#!/usr/bin/env bash
# Run one build's ATF test programs through kyua and summarize.
#
#   mk/run-tests.sh BUILD_DIR LABEL [PROBE]
#
# Runs kyua on tests/Kyuafile with the programs under BUILD_DIR/tests, keeps
# the results in BUILD_DIR/kyua.db (log: BUILD_DIR/kyua.log, plain report:
# BUILD_DIR/kyua-report.txt), prints the details of every failed or broken
# case, and ends with the line
#
#   N passed, N failed                 (failed includes broken)
#
# with ", N skipped" and then ", N expected failures" appended when there
# are any of those.
#
# The counts also go to BUILD_DIR/test-counts for mk/total.sh.  Exits
# nonzero when a case failed or broke, or kyua could not run.
#
# PROBE is a trivial program built with the build's flags.  If it cannot
# start, the sanitizer runtime needs ASLR off (TSan on kernels with high
# mmap randomization: "unexpected memory mapping"), or LeakSanitizer cannot
# work here (it needs ptrace); the tests then run under setarch -R, or with
# detect_leaks=0, and a note says so.
set -uo pipefail

build=$1
label=$2
probe=${3:-}
results=$build/kyua.db
counts=$build/test-counts
report=$build/kyua-report.txt
rm -f "$results" "$counts" "$report"

echo "==> tests: $label"

fail_setup() {
	echo "$*" >&2
	echo "0 passed, 1 failed"
	echo "0 1 0 0" > "$counts"
	exit 1
}

# Every directory with test programs needs a Kyuafile, or kyua would skip
# it without a word.
[[ -f tests/Kyuafile ]] || fail_setup "tests/Kyuafile is missing"
for d in tests/*/; do
	d=${d%/}
	compgen -G "$d/t_*.c" >/dev/null || continue
	[[ -f $d/Kyuafile ]] || fail_setup \
	    "$d has test programs but no Kyuafile (copy tests/kern/Kyuafile)"
done

wrap=()
if [[ -n $probe && -x $probe ]] && ! "$probe" 2>"$build/probe.err"; then
	norand=(setarch "$(uname -m)" -R)
	if "${norand[@]}" "$probe" 2>/dev/null; then
		wrap=("${norand[@]}")
		echo "note: the sanitizer runtime cannot start with this kernel's" \
		    "address-space randomization; running the tests under setarch -R"
	elif ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" "$probe" \
	    2>/dev/null; then
		export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
		echo "note: LeakSanitizer cannot run here; detect_leaks=0"
	elif ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	    "${norand[@]}" "$probe" 2>/dev/null; then
		wrap=("${norand[@]}")
		export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
		echo "note: running under setarch -R with detect_leaks=0"
	else
		echo "warning: a trivial program built with this build's flags" \
		    "fails to run:"
		sed 's/^/    /' "$build/probe.err"
	fi
fi

# --config=none: no ~/.kyua or /etc/kyua settings change the run.
"${wrap[@]}" kyua --config=none --logfile="$build/kyua.log" \
    --variable=parallelism="${KYUA_PARALLELISM:-1}" \
    test --kyuafile=tests/Kyuafile --build-root="$build/tests" \
    --results-file="$results"
kyua_rc=$?

if [[ ! -f $results ]] ||
    ! kyua --config=none --logfile="$build/kyua.log" report \
    --results-file="$results" --results-filter= >"$report" 2>&1; then
	[[ -f $report ]] && cat "$report" >&2
	fail_setup "kyua did not produce results (exit $kyua_rc);" \
	    "see $build/kyua.log"
fi

# "Test cases: 12 total, 1 skipped, 0 expected failures, 0 broken, 2 failed"
line=$(grep -E '^Test cases: ' "$report" | tail -n 1)
num() { sed -nE "s/.* ([0-9]+) $1.*/\1/p" <<<"$line"; }
total=$(num total) skipped=$(num skipped) xfail=$(num 'expected failures')
broken=$(num broken) failed=$(num failed)
if [[ -z $total || -z $skipped || -z $xfail || -z $broken || -z $failed ]]
then
	cat "$report" >&2
	fail_setup "cannot parse the kyua report summary: '$line'"
fi

bad=$((failed + broken))
passed=$((total - skipped - xfail - bad))
echo "$passed $bad $skipped $xfail" > "$counts"

if ((bad > 0)); then
	echo
	echo "==> failed and broken test cases ($label):"
	# The verbose report, less its dump of the environment.
	kyua --config=none --logfile="$build/kyua.log" report --verbose \
	    --results-file="$results" --results-filter=broken,failed |
	    awk '/^===> / { skip = ($0 == "===> Execution context") } !skip'
	echo
	echo "==> $label: $bad of $total test cases failed or broke:"
	kyua --config=none --logfile="$build/kyua.log" report \
	    --results-file="$results" --results-filter=broken,failed |
	    grep -E '^[^ ]+:[^ ]+  ->  ' || true
fi

summary="$passed passed, $bad failed"
((skipped > 0)) && summary+=", $skipped skipped"
((xfail > 0)) && summary+=", $xfail expected failures"
echo "$summary"
((bad == 0))
