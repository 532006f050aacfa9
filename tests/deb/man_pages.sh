#!/usr/bin/env bash
# The man pages (docs/man/*.scd) against the programs: every long option
# that --help prints (tinyhsm: its usage and each command's `tinyhsm help
# CMD`, against the page's section for that command; examples aside) is in the page and
# every option of the page is in --help (--help and --version may be
# documented without --help naming them); each page renders with
# `groff -man -ww -z` without a warning.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${THSM_BIN:?set THSM_BIN to the directory with tinyhsm and tinyhsmd}
command -v scdoc >/dev/null || { echo "SKIP: no scdoc"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASSED=0
fail() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }

longopts() { grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u || true; }
# man_part PAGE FROM: the page's text (outside ``` blocks) from the line
# FROM (a regex; empty: the start) to the next heading of the same or a
# higher level (# or ##).
man_part() {
    awk -v from="$2" '
        /^```/ { code = !code; next }
        code { next }
        from == "" { print; next }
        on && /^#/ { exit }
        $0 ~ from { on = 1; next }
        on { print }' "$src/docs/man/$1.scd"
}
# same WHAT HELP_TEXT MAN_TEXT: the long options of both agree (the help's
# examples use other commands' options: they are left out).
same() {
    sed '/^Example/,$d' <<<"$2" | longopts >"$TMP/help"
    longopts <<<"$3" | grep -vxE -- '--(help|version)' >"$TMP/man" || true
    grep -vxE -- '--(help|version)' "$TMP/help" >"$TMP/help2" || true
    diff "$TMP/help2" "$TMP/man" >"$TMP/diff" ||
        fail "$1: options differ (< only in --help, > only in the man page):
$(cat "$TMP/diff")"
}

# tinyhsm: the usage against the page up to COMMANDS, each command against
# its section.
same "tinyhsm" "$("$BIN/tinyhsm" --help)" "$(man_part tinyhsm.1 '' | sed '/^# COMMANDS/q')"
cmds=$("$BIN/tinyhsm" --help | awk '/^Commands:/ { on = 1; next }
                                    on && /^  [a-z]/ { print $1; next } on { exit }')
[ -n "$cmds" ] || fail "tinyhsm --help lists no commands"
for cmd in $cmds; do
    [ "$cmd" = help ] && continue # its text is the usage
    grep -qE "^## $cmd( |$)" "$src/docs/man/tinyhsm.1.scd" ||
        fail "tinyhsm(1) has no section for $cmd"
    same "tinyhsm $cmd" "$("$BIN/tinyhsm" help "$cmd")" "$(man_part tinyhsm.1 "^## $cmd( |$)")"
done
ok "tinyhsm(1) has each option of tinyhsm --help and of each command's help, and no other"

same tinyhsmd "$("$BIN/tinyhsmd" --help)" "$(man_part tinyhsmd.8 '')"
ok "tinyhsmd(8) has each option of tinyhsmd --help, and no other"
if [ -x "$BIN/tinyhsmd-qemu" ]; then
    same tinyhsmd-qemu "$("$BIN/tinyhsmd-qemu" --help)" "$(man_part tinyhsmd-qemu.1 '')"
    ok "tinyhsmd-qemu(1) has each option of tinyhsmd-qemu --help, and no other"
fi

for page in "$src"/docs/man/*.scd; do
    name=$(basename "$page" .scd)
    scdoc <"$page" >"$TMP/$name" || fail "scdoc refuses $name"
    LC_ALL=C.UTF-8 groff -man -ww -z "$TMP/$name" >"$TMP/warn" 2>&1 || true
    [ ! -s "$TMP/warn" ] || fail "groff warns on $name: $(cat "$TMP/warn")"
done
ok "$(ls "$src"/docs/man/*.scd | wc -l) pages render without groff warnings"
echo "$PASSED passed, 0 failed"
