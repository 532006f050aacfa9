#!/usr/bin/env bash
# make deb: builds the Debian package tinyhsm_<version>_<arch>.deb with
# dpkg-buildpackage from a copy of the sources (so the tree stays clean and
# the .deb lands in OUT, not in the checkout's parent directory).
# Usage: scripts/deb.sh [OUT_DIR]   (default build/deb)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/build/deb}" && cd "${1:-$src/build/deb}" && pwd)
rm -rf "$out/src" "$out"/tinyhsm_* "$out"/tinyhsm-dbgsym_*
mkdir "$out/src"
tar -C "$src" --exclude='./build*' --exclude=./.git --exclude='./obj-*' \
    --exclude=./debian/tinyhsm --exclude=./debian/.debhelper -cf - . |
    tar -C "$out/src" -xf -
cd "$out/src"
DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -us -uc -b -j"${JOBS:-2}" >"$out/build.log" 2>&1 ||
    { tail -40 "$out/build.log" >&2; echo "deb: build failed; log in $out/build.log" >&2; exit 1; }
rm -rf "$out/src"
ls "$out"/tinyhsm_*.deb
