#!/usr/bin/env bash
# Fetches mbedTLS (Debian's source package) into a cache and prints nothing on
# success. Usage: fetch-mbedtls.sh CACHE_DIR
#
# The source tree ends up in CACHE_DIR/src (a symlink to the unpacked
# mbedtls-<version>); a second run with that tree present does nothing.
# apt runs with a private configuration under CACHE_DIR/apt: its deb-src
# entries are derived from the machine's own deb entries, so the system's
# sources, lists and caches are never touched.
set -eu
cache=${1:?usage: fetch-mbedtls.sh CACHE_DIR}
package=mbedtls
want_series=2.28 # the LTS line the config header and backend are written for

[ -f "$cache/src/include/mbedtls/version.h" ] && exit 0

fail() {
    echo "fetch-mbedtls: error: $*" >&2
    exit 1
}
command -v apt-get >/dev/null || fail "apt-get not found (Debian or Ubuntu needed)"
command -v dpkg-source >/dev/null ||
    fail "dpkg-source not found; install dpkg-dev (make deps does)"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
apt_dir=$cache/apt
rm -rf "$apt_dir"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
    "$apt_dir/parts" "$apt_dir/download"

# deb-src entries from the system's deb entries: one-line sources.list and
# deb822 *.sources files (only their "Types:" line changes).
list=$apt_dir/sources.list
: >"$list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]\+/deb-src /p' "$f" >>"$list"
done
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         /(^|\n)Types:[^\n]*[[:space:]]deb([[:space:]]|$)/ &&
         !/(^|\n)Enabled:[[:space:]]*no/ {
             sub(/Types:[^\n]*/, "Types: deb-src"); print }' \
        "$f" >"$apt_dir/parts/$(basename "$f")"
done
[ -s "$list" ] || [ -n "$(find "$apt_dir/parts" -name '*.sources' -size +0)" ] ||
    fail "no deb entries in /etc/apt/sources.list{,.d} to derive deb-src from"

apt_opts=(
    -o "Dir::Etc::SourceList=$list"
    -o "Dir::Etc::SourceParts=$apt_dir/parts"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
    -o "APT::Sandbox::User=$(id -un)" # the cache is ours; no _apt user needed
    -o "Acquire::Languages=none"
)
log=$apt_dir/log
run() {
    "$@" >>"$log" 2>&1 || {
        cat "$log" >&2
        fail "'$*' failed (log above)"
    }
}
run apt-get "${apt_opts[@]}" update
(cd "$apt_dir/download" && run apt-get "${apt_opts[@]}" source --download-only "$package")

dsc=$(ls "$apt_dir"/download/"${package}"_*.dsc 2>/dev/null | head -n1)
[ -n "$dsc" ] || fail "apt-get source gave no .dsc for $package"
version=$(sed -n 's/^Version: \([^-+]*\).*/\1/p' "$dsc" | head -n1)
case "$version" in
"$want_series".*) ;;
*) fail "$package $version found, but the backend is written for $want_series.x" ;;
esac

# apt checked every file against the signed Sources index; dpkg-source checks
# them against the .dsc and applies Debian's patches.
tree=$cache/$package-$version
rm -rf "$tree" "$cache/src"
run dpkg-source --no-copy -x "$dsc" "$tree"
ln -s "$package-$version" "$cache/src"
[ -f "$cache/src/include/mbedtls/version.h" ] || fail "unpacked tree lacks mbedtls/version.h"
rm -rf "$apt_dir/download" "$apt_dir/cache"
