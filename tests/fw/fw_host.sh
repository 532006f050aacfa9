#!/usr/bin/env bash
# tinyhsmd-qemu's host side: it refuses (exit 1) before QEMU starts, keeps a
# state directory of its own, stops cleanly on SIGHUP, grants a login on the
# pty only to a sole opener, clears a dead client's TIOCEXCL, and serves the
# default place that tinyhsm finds without -p.
THSM_DEVICE=qemu
. "$(dirname "$0")/../e2e/lib.sh"
Q=$BIN/tinyhsmd-qemu

qemu_of() { cat "/proc/$1/task/$1/children"; }

# up ARG...: tinyhsmd-qemu in the background until it prints its pty
up() {
    : >"$TMP/daemon.out"
    "$Q" --firmware "$FIRMWARE" "$@" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
    DPID=$!
    for _ in $(seq 300); do
        [ -s "$TMP/daemon.out" ] && return 0
        kill -0 "$DPID" 2>/dev/null || fail "tinyhsmd-qemu died: $(cat "$TMP/daemon.err")"
        sleep 0.05
    done
    fail "tinyhsmd-qemu printed no pty"
}

# ---- refusals come before QEMU, with exit 1 --------------------------------
"$BIN/tinyhsmd" --state "$TMP/hs" --link "$TMP/tty" >"$TMP/hd.out" 2>"$TMP/hd.err" &
DPID=$!
for _ in $(seq 100); do [ -s "$TMP/hd.out" ] && break; sleep 0.05; done
hpty=$(head -1 "$TMP/hd.out")
run 1 timeout 30 "$Q" --firmware "$FIRMWARE" --state "$TMP/qs" --link "$TMP/tty"
has "$TMP/err" "live tinyhsmd (pid $DPID)"
[ ! -e "$TMP/qs/qemu.log" ] || fail "QEMU was started before the refusal"
[ "$(readlink "$TMP/tty")" = "$hpty" ] || fail "tinyhsmd's link was touched"
kill -0 "$DPID" || fail "tinyhsmd gone"
stop_daemon
: >"$TMP/plain"
run 1 timeout 30 "$Q" --firmware "$FIRMWARE" --state "$TMP/qs" --link "$TMP/plain"
has "$TMP/err" "not a symlink"
[ ! -e "$TMP/qs/qemu.log" ] || fail "QEMU was started before the refusal"
ok "a link served by a live tinyhsmd, or a non-link, is refused with exit 1 before QEMU starts"

# ---- never tinyhsmd's state directory --------------------------------------
[ -e "$TMP/hs/state.bin" ] || [ -e "$TMP/hs/device.key" ] || fail "no tinyhsmd state in $TMP/hs"
run 1 timeout 30 "$Q" --firmware "$FIRMWARE" --state "$TMP/hs" --link "$TMP/tty"
has "$TMP/err" "holds a tinyhsmd state"
for f in flash.img huk.bin seed.bin qemu.log; do
    [ ! -e "$TMP/hs/$f" ] || fail "$f written beside tinyhsmd's state"
done
TINYHSM_STATE=$TMP/hs up --link "$TMP/tty"
[ -s "$TMP/hs-qemu/flash.img" ] || fail "default state is not \$TINYHSM_STATE-qemu"
[ ! -e "$TMP/hs/flash.img" ] || fail "flash.img written into \$TINYHSM_STATE"
stop_daemon
ok "a tinyhsmd state directory is refused; the default is \$TINYHSM_STATE-qemu"

# ---- SIGHUP, as when the terminal closes: to the whole process group -------
: >"$TMP/daemon.out"
setsid "$Q" --firmware "$FIRMWARE" --state "$TMP/qs" --link "$TMP/tty" \
    >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DPID=$!
for _ in $(seq 300); do [ -s "$TMP/daemon.out" ] && break; sleep 0.05; done
[ "$(cat "/proc/$DPID/comm")" = tinyhsmd-qemu ] || fail "setsid forked"
qemu=$(qemu_of "$DPID")
[ -n "$qemu" ] || fail "no QEMU"
kill -HUP -- "-$DPID"
wait "$DPID" || fail "SIGHUP: exit $?"
DPID=
[ ! -e "$TMP/tty" ] || fail "link left after SIGHUP"
[ ! -e "$TMP/tty.pid" ] || fail "pid file left after SIGHUP"
! kill -0 "$qemu" 2>/dev/null || fail "QEMU $qemu still running"
ok "SIGHUP stops QEMU and removes the link and pid file"

# ---- a login only for a sole opener ------------------------------------------
up --state "$TMP/qs" --link "$TMP/tty"
export TINYHSM_PORT=$TMP/tty
TINYHSM_NEW_PIN=fw-pin-1 run 0 tinyhsm pin set

# send REQ: one request on fd 3, prints its status line
send() {
    local line
    printf '%s\r\n' "$1" >&3
    IFS= read -r -t 10 line <&3 || fail "no answer to $1"
    echo "${line%$'\r'}"
    while IFS= read -r -t 10 line <&3 && [ "${line%$'\r'}" != "" ]; do :; done
}
open_port() { exec 3<>"$TMP/tty"; stty -F "$TMP/tty" raw -echo; }

sleep 10 <"$TMP/tty" & # an idle process that opened the port first
idle=$!
sleep 0.3
open_port
{ send "AT+AUTH PIN=fw-pin-1"; send "AT+HSM_STATUS?"; } >"$TMP/out"
exec 3>&-
has "$TMP/out" "ERROR AUTH_REFUSED"
has "$TMP/out" "TRIES=5 AUTH=0 "
kill "$idle"
wait "$idle" 2>/dev/null || true
sleep 0.3
open_port
{ send "AT+AUTH PIN=fw-pin-1"; send "AT+HSM_STATUS?"; } >"$TMP/out"
has "$TMP/out" "TRIES=5 AUTH=1 "
sleep 10 <"$TMP/tty" & # a process that opens the port after the login
idle=$!
sleep 0.3
send "AT+HSM_STATUS?" >"$TMP/out"
exec 3>&-
kill "$idle"
wait "$idle" 2>/dev/null || true
has "$TMP/out" " AUTH=0 "
ok "a second opener: AT+AUTH refused without spending a try, an earlier login ends"

# a client killed while it holds the port exclusively (TIOCEXCL)
(python3 -c 'import os, fcntl, termios, signal, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
fcntl.ioctl(fd, termios.TIOCEXCL)
os.kill(os.getpid(), signal.SIGKILL)' "$TMP/tty" || true) 2>/dev/null
sleep 0.3
# TIOCGEXCL (0x80045440): still exclusive? (root may open it anyway)
python3 -c 'import os, fcntl, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
sys.exit(struct.unpack("i", fcntl.ioctl(fd, 0x80045440, bytes(4)))[0])' "$TMP/tty" ||
    fail "the pty stays exclusive after its client was killed"
run 0 tinyhsm info
ok "TIOCEXCL of a killed client is cleared when the last opener leaves"
stop_daemon

# ---- the default place, as tinyhsmd uses it ----------------------------------
unset TINYHSM_PORT
export XDG_RUNTIME_DIR=$TMP/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
up --state "$TMP/qs"
[ "$(stat -c %a "$XDG_RUNTIME_DIR/tinyhsm")" = 700 ] || fail "run dir not 0700"
[ -L "$XDG_RUNTIME_DIR/tinyhsm/tty" ] || fail "no default link"
run 0 tinyhsm info
has "$TMP/out" "Device:  tinyhsm-fw"
stop_daemon
[ ! -e "$XDG_RUNTIME_DIR/tinyhsm/tty" ] || fail "default link left"
chmod 755 "$XDG_RUNTIME_DIR/tinyhsm"
run 1 timeout 30 "$Q" --firmware "$FIRMWARE" --state "$TMP/qs"
has "$TMP/err" "$XDG_RUNTIME_DIR/tinyhsm"
ok "default link in a private \$XDG_RUNTIME_DIR/tinyhsm; tinyhsm finds it without -p"
finish
