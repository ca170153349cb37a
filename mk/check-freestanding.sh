#!/usr/bin/env bash
# sys/kern is kernel code: it reaches the world only through sys/ headers.
#
#   mk/check-freestanding.sh CC [CPPFLAGS...]
#
# 1. Every sys/kern/*.c compiles on its own with -ffreestanding -nostdinc
#    -D_KERNEL -Isys (so no host or compiler header can sneak in, directly
#    or through a sys/ header).
# 2. Every #include in sys/kern/*.[ch] names <sys/NAME.h>, and sys/sys/NAME.h
#    exists: no "quoted" includes, no headers from anywhere else.
set -uo pipefail

cc=$1
shift
rc=0
shopt -s nullglob

files=(sys/kern/*.c)
for f in "${files[@]}"; do
	if ! $cc -fsyntax-only -std=gnu11 -ffreestanding -nostdinc -D_KERNEL \
	    "$@" -Isys -Wall -Wextra -Werror "$f"; then
		echo "freestanding: $f does not compile freestanding" >&2
		rc=1
	fi
done

for f in sys/kern/*.c sys/kern/*.h; do
	while IFS=: read -r line text; do
		hdr=$(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<(sys\/[A-Za-z0-9_.\/-]+\.h)>.*/\1/p' \
		    <<<"$text")
		if [[ -z $hdr ]]; then
			echo "$f:$line: includes something other than" \
			    "<sys/...>: $text" >&2
			rc=1
		elif [[ ! -f sys/$hdr ]]; then
			echo "$f:$line: <$hdr> is not a header under sys/sys" >&2
			rc=1
		fi
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$f")
done

if ((rc == 0)); then
	echo "freestanding: ${#files[@]} files in sys/kern include only sys/" \
	    "and compile with -ffreestanding -nostdinc"
fi
exit $rc
