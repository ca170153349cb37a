#!/usr/bin/env bash
# mandoc -Tlint -W warning over each man page named; fails on any message.
set -uo pipefail
if (($# == 0)); then
	echo "lint-man: no man pages yet"
	exit 0
fi
rc=0
for m in "$@"; do
	out=$(mandoc -Tlint -W warning "$m" 2>&1) || rc=1
	if [[ -n $out ]]; then
		printf '%s\n' "$out" >&2
		rc=1
	fi
done
((rc == 0)) && echo "lint-man: $# man pages clean under mandoc -Tlint -W warning"
exit $rc
