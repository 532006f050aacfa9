# Shared helpers for the shell end-to-end tests. Source it; it starts nothing.
set -euo pipefail
BIN=${THSM_BIN:?set THSM_BIN to the directory with tinyhsm and tinyhsmd}
BIN=$(cd "$BIN" && pwd)
TMP=$(mktemp -d)
PASSED=0
DPID=
cleanup() {
    [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }
finish() { echo "$PASSED passed, 0 failed"; }

# start_daemon [STATE_DIR]: runs tinyhsmd, exports TINYHSM_PORT.
start_daemon() {
    local state=${1:-$TMP/state}
    : >"$TMP/daemon.out" # not the last daemon's pty: the redirection below is async
    "$BIN/tinyhsmd" --state "$state" --link "$TMP/tty" >"$TMP/daemon.out" \
        2>"$TMP/daemon.err" &
    DPID=$!
    for _ in $(seq 100); do
        [ -s "$TMP/daemon.out" ] && break
        kill -0 "$DPID" 2>/dev/null || fail "tinyhsmd died: $(cat "$TMP/daemon.err")"
        sleep 0.05
    done
    [ -s "$TMP/daemon.out" ] || fail "tinyhsmd printed no pty"
    export TINYHSM_PORT=$TMP/tty
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
