# Shared helpers for the shell end-to-end tests. Source it; it starts nothing.
# THSM_DEVICE=qemu runs the suites against the firmware in QEMU
# (tinyhsmd-qemu with $THSM_FIRMWARE) instead of tinyhsmd.
set -euo pipefail
BIN=${THSM_BIN:?set THSM_BIN to the directory with tinyhsm and tinyhsmd}
BIN=$(cd "$BIN" && pwd)
DEVICE=${THSM_DEVICE:-tinyhsmd}
if [ "$DEVICE" = qemu ]; then
    FIRMWARE=${THSM_FIRMWARE:-$BIN/../fw/tinyhsm-fw.elf}
    if [ ! -r "$FIRMWARE" ]; then
        echo "SKIP: no firmware at $FIRMWARE (run make firmware)"
        exit 77
    fi
fi
# The firmware's flash layout, from the one header that defines it.
layout() {
    sed -n "s/^#define $1 \([0-9]*\).*/\1/p" \
        "$(dirname "${BASH_SOURCE[0]}")/../../src/port/qemu/layout.h"
}
FLASH_SECTOR=$(layout FLASH_SECTOR)
FLASH_SLOTS=$(layout FLASH_SLOTS)
TMP=$(mktemp -d)
# A team daemon on this machine (/run/tinyhsm), or a default one started
# without $XDG_RUNTIME_DIR (/tmp/tinyhsm-<uid>), never answers a test.
export TINYHSM_SYSTEM_PORT=$TMP/system/tty.sock TMPDIR=$TMP
PASSED=0
DPID=
cleanup() {
    [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

# reps FULL QUICK: the rounds of a repeated case, 1..FULL, or with
# THSM_QUICK=1 (make test) about QUICK of them spread over the same range.
reps() {
    if [ "${THSM_QUICK:-0}" = 1 ]; then seq 1 $(($1 / $2)) "$1"; else seq "$1"; fi
}

fail() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }
finish() { echo "$PASSED passed, 0 failed"; }

# start_daemon [STATE_DIR [ARG...]]: runs the device (tinyhsmd, or the
# firmware in QEMU) with the extra ARGs, exports TINYHSM_PORT.
start_daemon() {
    local state=${1:-$TMP/state}
    shift || true
    : >"$TMP/daemon.out" # not the last daemon's pty: the redirection below is async
    if [ "$DEVICE" = qemu ]; then
        "$BIN/tinyhsmd-qemu" --firmware "$FIRMWARE" --state "$state" \
            --link "$TMP/tty" "$@" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
    else
        "$BIN/tinyhsmd" --state "$state" --link "$TMP/tty" "$@" \
            >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
    fi
    DPID=$!
    for _ in $(seq 100); do
        [ -s "$TMP/daemon.out" ] && break
        kill -0 "$DPID" 2>/dev/null || fail "tinyhsmd died: $(cat "$TMP/daemon.err")"
        sleep 0.05
    done
    [ -s "$TMP/daemon.out" ] || fail "tinyhsmd printed no pty"
    export TINYHSM_PORT=$TMP/tty
}

# tamper_audit_log STATE_DIR OFFSET: overwrites one byte of the stored audit
# log (the file of tinyhsmd; the log area of the firmware's flash image).
tamper_audit_log() {
    local file=$1/audit.log base=0
    if [ "$DEVICE" = qemu ]; then
        file=$1/flash.img
        base=$((FLASH_SLOTS * FLASH_SECTOR)) # after the state slots
    fi
    printf 'X' | dd of="$file" bs=1 seek=$((base + $2)) conv=notrunc status=none
}

stop_daemon() {
    kill -TERM "$DPID"
    wait "$DPID" || fail "tinyhsmd exited with $?"
    DPID=
}

# run STATUS CMD...: runs CMD, output in $TMP/out (stdout) and $TMP/err,
# and checks its exit status.
run() {
    local want=$1 got=0
    shift
    "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || got=$?
    if [ "$got" -ne "$want" ]; then
        echo "--- stdout"; cat "$TMP/out"; echo "--- stderr"; cat "$TMP/err"
        fail "'$*' exited $got, expected $want"
    fi
}

# has FILE TEXT: FILE contains TEXT (fixed string).
has() { grep -qF -- "$2" "$1" || { cat "$1"; fail "$1 lacks '$2'"; }; }

tinyhsm() { "$BIN/tinyhsm" "$@"; }

# flood_link: where tools/flood.py reaches the device: tinyhsmd's socket,
# else (tinyhsmd-qemu) the pty.
flood_link() { if [ -S "$TMP/tty.sock" ]; then echo "$TMP/tty.sock"; else echo "$TMP/tty"; fi; }
