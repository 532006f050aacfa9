#!/usr/bin/env bash
# The systemd user units (dist/systemd) and socket activation, without a
# running systemd: `systemd-analyze verify` accepts the units;
# systemd-socket-activate, listening where the socket unit listens, starts
# tinyhsmd on the first connection of tinyhsm, which provisions and signs
# through it; tinyhsmd keeps its checks (socket place and mode, second
# daemon), tells NOTIFY_SOCKET READY=1, and stops cleanly on SIGTERM,
# leaving systemd's socket in place.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${THSM_BIN:?set THSM_BIN to the directory with tinyhsm and tinyhsmd}
BIN=$(cd "$BIN" && pwd)
. "$src/tests/e2e/tools/firmware.sh"
command -v systemd-socket-activate >/dev/null || { echo "SKIP: no systemd-socket-activate"; exit 77; }
TMP=$(mktemp -d)
DPID=
trap '[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null; rm -rf "$TMP"' EXIT
PASSED=0
fail() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }

if command -v systemd-analyze >/dev/null; then
    mkdir "$TMP/units"
    for u in tinyhsmd.socket tinyhsmd.service; do
        sed "s|@CMAKE_INSTALL_FULL_BINDIR@|$BIN|" "$src/dist/systemd/$u.in" >"$TMP/units/$u"
    done
    systemd-analyze verify --man=no "$TMP/units/tinyhsmd.socket" \
        "$TMP/units/tinyhsmd.service" >"$TMP/verify" 2>&1 ||
        { cat "$TMP/verify"; fail "systemd-analyze verify refuses the units"; }
    ! grep -v -e '^$' "$TMP/verify" || fail "systemd-analyze verify warns"
    ok "systemd-analyze verify accepts tinyhsmd.socket and tinyhsmd.service"
    mkdir -m 0700 "$TMP/xdg"
    XDG_RUNTIME_DIR=$TMP/xdg HOME=$TMP systemd-analyze security --user --offline=true \
        --threshold=20 "$TMP/units/tinyhsmd.service" >"$TMP/security" 2>&1 ||
        { cat "$TMP/security"; fail "systemd-analyze security: exposure above 2.0"; }
    ok "$(grep -o 'Overall exposure level.*' "$TMP/security")"
fi
grep -qx 'ListenStream=%t/tinyhsm/tty.sock' "$src/dist/systemd/tinyhsmd.socket.in" ||
    fail "the socket unit does not listen where tinyhsm looks"

# What the socket unit makes: %t/tinyhsm (0700), tty.sock (0600) in it.
export HOME=$TMP XDG_RUNTIME_DIR=$TMP/run
unset TINYHSM_PORT TINYHSM_STATE XDG_STATE_HOME
mkdir -m 0700 "$TMP/run" "$TMP/run/tinyhsm"
sock=$TMP/run/tinyhsm/tty.sock
activate() { # UMASK SOCKET [ARG...]: systemd-socket-activate tinyhsmd on SOCKET
    # (it binds SOCKET 0644 whatever the umask: the unit's SocketMode is 0600)
    local mask=$1 path=$2
    shift 2
    : >"$TMP/d.out"
    (umask "$mask"; exec systemd-socket-activate -l "$path" -E XDG_RUNTIME_DIR -E HOME \
        -E NOTIFY_SOCKET "$BIN/tinyhsmd" --state "$TMP/state" "$@" \
        >"$TMP/d.out" 2>"$TMP/d.err") &
    DPID=$!
    for _ in $(seq 100); do [ -S "$path" ] && return; sleep 0.05; done
    fail "systemd-socket-activate did not listen: $(cat "$TMP/d.err")"
}
thsm() { "$BIN/tinyhsm" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null ||
             { cat "$TMP/out" "$TMP/err" "$TMP/d.err"; fail "tinyhsm $*"; }; }

# READY=1 on a datagram socket given as NOTIFY_SOCKET.
python3 - "$TMP/notify" >"$TMP/notified" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20)
print(s.recv(256).decode())
PY
NPID=$!
for _ in $(seq 100); do [ -S "$TMP/notify" ] && break; sleep 0.05; done
export NOTIFY_SOCKET=$TMP/notify

activate 077 "$sock"
[ ! -e "$TMP/run/tinyhsm/tty" ] || fail "tinyhsmd started before a connection"
cd "$TMP"
firmware 4096 >fw.bin
thsm info
thsm config --new all
thsm sign --board B-U585I-IOT02A --version 1.0.0 -o signed.bin fw.bin
[ -L "$TMP/run/tinyhsm/tty" ] && [ -f "$TMP/run/tinyhsm/tty.pid" ] ||
    fail "no pty link or pid file beside the socket"
grep -q "serving on" "$TMP/d.err" || fail "tinyhsmd did not start: $(cat "$TMP/d.err")"
ok "a connection starts tinyhsmd on systemd's socket; tinyhsm provisions and signs"
wait "$NPID" || fail "no notification"
[ "$(cat "$TMP/notified")" = READY=1 ] || fail "NOTIFY_SOCKET got '$(cat "$TMP/notified")'"
ok "tinyhsmd tells NOTIFY_SOCKET READY=1"

if "$BIN/tinyhsmd" --state "$TMP/state2" >/dev/null 2>"$TMP/second.err"; then
    fail "a second tinyhsmd took over the link"
fi
grep -q "a live tinyhsmd" "$TMP/second.err" || fail "second daemon: $(cat "$TMP/second.err")"
ok "a second tinyhsmd is still refused"

kill -TERM "$DPID"
wait "$DPID" || fail "tinyhsmd exited $? on SIGTERM: $(cat "$TMP/d.err")"
DPID=
[ -S "$sock" ] || fail "tinyhsmd removed systemd's socket"
[ ! -e "$TMP/run/tinyhsm/tty" ] && [ ! -e "$TMP/run/tinyhsm/tty.pid" ] ||
    fail "the link or pid file is left after SIGTERM"
ok "SIGTERM stops it cleanly; systemd's socket stays"
rm -f "$sock"
unset NOTIFY_SOCKET

refused() { # WHY SOCKET MODE: tinyhsmd refuses the passed socket
    activate 077 "$2"
    chmod "$3" "$2"
    TINYHSM_PORT=$2 timeout 30 "$BIN/tinyhsm" info >/dev/null 2>&1 &&
        fail "tinyhsm got an answer ($1)"
    for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    wait "$DPID" && fail "tinyhsmd served a socket $1"
    DPID=
    grep -q "tinyhsmd: .*$1" "$TMP/d.err" || fail "$1: $(cat "$TMP/d.err")"
    rm -f "$2"
}
refused "others could connect" "$sock" 0666
refused "not a listening stream socket at" "$TMP/run/tinyhsm/other.sock" 0600
ok "a passed socket others can write to, or at another path, is refused"
echo "$PASSED passed, 0 failed"
