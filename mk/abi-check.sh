#!/usr/bin/env bash
# The library's dynamic symbols match its version script.
#
#   mk/abi-check.sh libevring.map libevring.so.X
#
# Every name listed under "global:" in a version node must be defined in
# the library with that version, and the library must define no other
# dynamic symbol (apart from the version nodes themselves).  Wildcard
# patterns in the script are not checked.
set -uo pipefail

map=$1
lib=$2
rc=0

# "name version" for each listed symbol (comments stripped first).
listed=$(perl -0777 -pe 's{/\*.*?\*/}{}gs; s{(#|//)[^\n]*}{}g' "$map" | awk '
	/^[[:space:]]*[A-Za-z0-9_.]+[[:space:]]*\{/ {
		node = $1; sub(/\{.*/, "", node); scope = ""; next }
	/global:/ { scope = "global"; sub(/.*global:/, "") }
	/local:/ { scope = "local"; sub(/.*local:/, "") }
	/\}/ { sub(/\}.*/, ""); if (scope == "global") print_syms(); scope = ""; next }
	scope == "global" { print_syms() }
	function print_syms(  n, i, a) {
		n = split($0, a, /[;[:space:]]+/)
		for (i = 1; i <= n; i++)
			if (a[i] != "" && a[i] !~ /[*?\[]/)
				print a[i], node
	}
')

# "name version" for each defined dynamic symbol.
defined=$(readelf -W --dyn-syms "$lib" | awk '
	$7 != "UND" && $8 != "" && ($5 == "GLOBAL" || $5 == "WEAK") {
		n = $8; v = ""
		if (split(n, a, "@") > 1) { n = a[1]; v = a[length(a)] }
		print n, v
	}')

while read -r sym node; do
	[[ -z $sym ]] && continue
	if ! grep -qx "$sym $node" <<<"$defined"; then
		got=$(awk -v s="$sym" '$1 == s { print $2 }' <<<"$defined")
		if [[ -n $got ]]; then
			echo "abi-check: $sym has version $got, not $node" >&2
		else
			echo "abi-check: $map lists $sym ($node), but $lib" \
			    "does not define it" >&2
		fi
		rc=1
	fi
done <<<"$listed"

nodes=$(awk '{ print $2 }' <<<"$listed" | sort -u)
while read -r sym ver; do
	[[ -z $sym ]] && continue
	grep -qx "$sym" <<<"$nodes" && continue
	if ! grep -qx "$sym $ver" <<<"$listed"; then
		echo "abi-check: $lib exports $sym${ver:+@$ver}, which $map" \
		    "does not list" >&2
		rc=1
	fi
done <<<"$defined"

((rc == 0)) && echo "abi-check: $(wc -l <<<"$listed") symbols, as $map lists"
exit $rc
