#!/usr/bin/env bash
# scripts/fetch-mbedtls.sh without the network: a stand-in apt-get records
# what apt would be given. Checks that deb-src entries are derived from the
# system's deb entries into the private config (the system's are unchanged),
# that a failure is loud and leaves no half tree, and that a cached tree is
# reused without calling apt at all.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # description, then a command that must succeed
    local what=$1
    shift
    if "$@"; then echo "ok - $what"; else echo "FAIL - $what"; fails=$((fails + 1)); fi
}

mkdir -p "$tmp/bin"
cat >"$tmp/bin/apt-get" <<'SHIM'
#!/usr/bin/env bash
echo "$*" >>"$SHIM_LOG/calls"
for a in "$@"; do
    case "$a" in Dir::Etc::SourceParts=*) cp -r "${a#*=}" "$SHIM_LOG/parts" ;; esac
    case "$a" in Dir::Etc::SourceList=*) cp "${a#*=}" "$SHIM_LOG/list" ;; esac
done
echo "E: simulated mirror failure" >&2
exit 100
SHIM
chmod +x "$tmp/bin/apt-get"
export SHIM_LOG=$tmp/log
mkdir -p "$SHIM_LOG"
sys_before=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | sha256sum)

PATH=$tmp/bin:$PATH bash "$root/scripts/fetch-mbedtls.sh" "$tmp/cache" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a failed apt run exits 1" test "$rc" -eq 1
check "the error names the script" grep -q "fetch-mbedtls: error" "$tmp/err"
check "apt's own message is shown" grep -q "simulated mirror failure" "$tmp/err"
check "nothing on stdout" test ! -s "$tmp/out"
check "no source tree is left" test ! -e "$tmp/cache/src"
check "private lists, not the system's" grep -q "Dir::State::Lists=$tmp/cache/apt/lists" "$SHIM_LOG/calls"
n_deb=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    grep -cE '^[[:space:]]*deb[[:space:]]')
n_deb822=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -cE '^Types:.*\bdeb\b')
n_src=$(cat "$SHIM_LOG/list" "$SHIM_LOG"/parts/* 2>/dev/null |
    grep -cE '^(deb-src[[:space:]]|Types: deb-src$)')
check "one deb-src entry per system deb entry ($n_src)" \
    test "$n_src" -eq $((n_deb + n_deb822)) -a "$n_src" -gt 0
check "the system's sources are unchanged" \
    test "$sys_before" = "$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | sha256sum)"

: >"$SHIM_LOG/calls"
mkdir -p "$tmp/cache/mbedtls-2.28.9/include/mbedtls"
touch "$tmp/cache/mbedtls-2.28.9/include/mbedtls/version.h"
ln -s mbedtls-2.28.9 "$tmp/cache/src"
PATH=$tmp/bin:$PATH bash "$root/scripts/fetch-mbedtls.sh" "$tmp/cache" \
    >"$tmp/out" 2>&1
check "a cached tree is reused: exit 0" test $? -eq 0
check "a cached tree is reused: silent" test ! -s "$tmp/out"
check "a cached tree is reused: apt not called" test ! -s "$SHIM_LOG/calls"
exit $((fails > 0))
