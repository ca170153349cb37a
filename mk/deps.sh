#!/usr/bin/env bash
# Install the Debian packages named as arguments that are not installed yet.
# Cheap when nothing is missing (one dpkg-query).  As root, installs with
# apt-get (running "apt-get update" only if the first try fails); otherwise
# says what to install and fails.  On a system without dpkg, warns and
# carries on: the compiler will say what is missing.
set -uo pipefail

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: no dpkg-query; not a Debian system, not checking packages" >&2
	exit 0
fi

declare -A have=()
while read -r pkg status; do
	[[ $status == ii* ]] && have[$pkg]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null)

missing=()
for p in "$@"; do
	[[ -n ${have[$p]:-} ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) != 0 ]]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: install them with: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_install() {
	apt-get -y -q -o Dpkg::Use-Pty=0 install "${missing[@]}" </dev/null
}
if ! apt_install; then
	echo "deps: install failed; running apt-get update and trying again"
	apt-get -y -q update </dev/null && apt_install || {
		echo "deps: could not install ${missing[*]}" >&2
		exit 1
	}
fi
