#!/usr/bin/env bash
# make install builds no test binaries and installs the programs, man
# pages, completion and units under PREFIX, tinyhsmd-qemu only with its
# firmware; make uninstall removes every file it installed. tinyhsmd --bogus says so in one line.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${THSM_BIN:?set THSM_BIN to the directory with tinyhsmd}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASSED=0
fail() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }

rc=0
"$BIN/tinyhsmd" --bogus >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" = 2 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
    grep -q -- "--bogus" "$TMP/err" || fail "tinyhsmd --bogus: exit $rc, said: $(cat "$TMP/err")"
ok "tinyhsmd --bogus: exit 2 and one line"

prefix=$TMP/prefix
make -C "$src" install PREFIX="$prefix" INSTALLDIR="$TMP/build" JOBS="${JOBS:-2}" \
    FIRMWARE="$TMP/none/tinyhsm-fw.elf" \
    >"$TMP/install.log" 2>&1 || { tail -30 "$TMP/install.log"; fail "make install"; }
[ -e "$prefix/bin/tinyhsmd-qemu" ] && fail "make install put tinyhsmd-qemu without its firmware"
ok "make install without a firmware: no tinyhsmd-qemu"
tests=$(cd "$TMP/build/bin" && ls | grep -E '^(test_|e2e_|fw_)' || true)
[ -z "$tests" ] || fail "make install built test binaries: $tests"
for f in bin/tinyhsm bin/tinyhsmd bin/tinyhsm-sign share/man/man1/tinyhsm.1 \
         share/man/man8/tinyhsmd.8 share/bash-completion/completions/tinyhsm \
         lib/systemd/user/tinyhsmd.socket share/doc/tinyhsm/README.md; do
    [ -e "$prefix/$f" ] || fail "make install did not install $f"
done
grep -qx "ExecStart=$prefix/bin/tinyhsmd" \
    "$prefix/lib/systemd/user/tinyhsmd.service" || fail "the unit's ExecStart is not $prefix/bin/tinyhsmd"
ok "make install: $(find "$prefix" -type f | wc -l) files, no test binaries"

mkdir "$TMP/fw"
printf '\177ELF' >"$TMP/fw/tinyhsm-fw.elf" # installed as it is: any file will do
make -C "$src" install PREFIX="$prefix" INSTALLDIR="$TMP/build" JOBS="${JOBS:-2}" \
    FIRMWARE="$TMP/fw/tinyhsm-fw.elf" \
    >"$TMP/install.log" 2>&1 || { tail -30 "$TMP/install.log"; fail "make install (firmware)"; }
[ -x "$prefix/bin/tinyhsmd-qemu" ] && [ -e "$prefix/share/tinyhsm/tinyhsm-fw.elf" ] ||
    fail "make install with a firmware did not install tinyhsmd-qemu and the firmware"
ok "make install with a firmware: tinyhsmd-qemu and the firmware"

make -C "$src" uninstall INSTALLDIR="$TMP/build" >"$TMP/uninstall.log" 2>&1 ||
    { cat "$TMP/uninstall.log"; fail "make uninstall"; }
left=$(find "$prefix" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
ok "make uninstall removes every installed file"
echo "$PASSED passed, 0 failed"
