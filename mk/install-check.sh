#!/usr/bin/env bash
# Build and run mk/install-check.c against a staged install, shared and
# static, finding the library only through its pkg-config file.
#
#   mk/install-check.sh STAGE_ROOT LIBDIR CC BUILD_DIR
set -euo pipefail

stage=$1 libdir=$2 cc=$3 build=$4
out=$build/install-check
mkdir -p "$out"

export PKG_CONFIG_SYSROOT_DIR=$stage
export PKG_CONFIG_LIBDIR=$stage$libdir/pkgconfig
export PKG_CONFIG_PATH=
cflags=$(pkg-config --cflags libevring)
libs=$(pkg-config --libs libevring)
slibs=$(pkg-config --static --libs libevring)
slibs=${slibs/-levring/-Wl,-Bstatic -levring -Wl,-Bdynamic}

# shellcheck disable=SC2086
$cc -std=gnu11 -Wall -Wextra -Werror $cflags -o "$out/shared" \
    mk/install-check.c $libs
# shellcheck disable=SC2086
$cc -std=gnu11 -Wall -Wextra -Werror $cflags -o "$out/static" \
    mk/install-check.c $slibs

LD_LIBRARY_PATH=$stage$libdir "$out/shared"
"$out/static"
if readelf -d "$out/static" | grep -q 'NEEDED.*libevring'; then
	echo "install-check: the static program still needs libevring.so" >&2
	exit 1
fi
# The preload library loads into a program that knows nothing of it.
if ! LD_PRELOAD=$stage$libdir/libevring-preload.so /bin/true; then
	echo "install-check: libevring-preload.so does not load" >&2
	exit 1
fi
echo "install-check: a program built with pkg-config libevring runs," \
    "shared and static, and libevring-preload.so preloads"
