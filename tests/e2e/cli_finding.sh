#!/usr/bin/env bash
# Finding the daemon with no -p and no TINYHSM_PORT: the user's runtime
# directory first, then the user's other default place (a daemon started
# without $XDG_RUNTIME_DIR, from cron or sudo -u), then the system
# service's socket; when nothing answers, tinyhsm names every place tried. (The system path is
# $TINYHSM_SYSTEM_PORT here, a directory of ours; tests/deb/system_service.sh
# runs a real team daemon as another user.)
. "$(dirname "$0")/lib.sh"
mkdir -m 0700 "$TMP/rt" "$TMP/system"
other=$TMPDIR/tinyhsm-$(id -u)/tty # lib.sh: TMPDIR=$TMP
nodev() { # tinyhsm info with the defaults only; exit status echoed when not 0
    env -u TINYHSM_PORT XDG_RUNTIME_DIR="$TMP/rt" TINYHSM_SYSFS_ROOT="$TMP/nosys" \
        TINYHSM_NO_PIN_WARNING=1 "$BIN/tinyhsm" info >"$TMP/out" 2>"$TMP/err" </dev/null || echo $?
}

[ "$(nodev)" = 1 ] || fail "nothing runs, yet success"
has "$TMP/err" "no TinyHSM answers; tried: $TMP/rt/tinyhsm/tty (nothing there); $other (nothing there); $TMP/system/tty.sock (nothing there); attached boards (no ST-LINK port)"
has "$TMP/err" "is tinyhsmd running?"
ok "nothing answers: every place tried is named"

# A daemon at the system path only (as the team's service serves it).
start_daemon "$TMP/state" --link "$TMP/system/tty"
[ -z "$(nodev)" ] || { cat "$TMP/err"; fail "the system daemon was not found"; }
has "$TMP/out" "Device:  tinyhsmd"
ok "no daemon in the runtime directory: the system service's socket is used"

# A second daemon given the same --socket (another link) does not take it.
run 1 timeout 50 "$BIN/tinyhsmd" --state "$TMP/state3" --link "$TMP/other" --socket "$TMP/system/tty.sock"
has "$TMP/err" "$TMP/system/tty.sock exists and is not a stale socket; not replacing it"
[ -z "$(nodev)" ] || { cat "$TMP/err"; fail "the first daemon lost its socket"; }
ok "tinyhsmd --socket never replaces a socket on which a daemon answers"

# A stale link in the runtime directory, as a daemon killed with SIGKILL
# leaves it (made by hand: a real dead daemon's pts may be reused by
# another user's process by now, which is refused, not passed over).
mkdir -m 0700 "$TMP/rt/tinyhsm"
ln -s "$TMP/rt/gone-pts" "$TMP/rt/tinyhsm/tty"
echo "2147483000 /dev/pts/9999" >"$TMP/rt/tinyhsm/tty.pid"
[ -z "$(nodev)" ] || { cat "$TMP/err"; fail "a stale user link hid the system daemon"; }
has "$TMP/out" "Device:  tinyhsmd"
ok "a stale link in the runtime directory is passed over"

stop_daemon
[ "$(nodev)" = 1 ] || fail "nothing runs, yet success"
has "$TMP/err" "$TMP/rt/tinyhsm/tty (stale link: the tinyhsmd that served"
has "$TMP/err" "$TMP/system/tty.sock (nothing there)"
ok "the stale link's reason is among the places tried"

# A daemon started without $XDG_RUNTIME_DIR (cron, CI) is found from a
# login shell, before the system service.
env -u TINYHSM_PORT -u XDG_RUNTIME_DIR "$BIN/tinyhsmd" --state "$TMP/state2" \
    >"$TMP/d2.out" 2>"$TMP/d2.err" &
D2=$!
for _ in $(seq 100); do [ -s "$TMP/d2.out" ] && break; sleep 0.05; done
[ -L "$other" ] || { kill "$D2"; fail "tinyhsmd without XDG_RUNTIME_DIR is not at $other"; }
env -u TINYHSM_PORT XDG_RUNTIME_DIR="$TMP/rt" "$BIN/tinyhsm" -d info >"$TMP/out" 2>"$TMP/err" </dev/null ||
    { kill "$D2"; fail "tinyhsm info: $(cat "$TMP/err")"; }
kill -TERM "$D2"; wait "$D2" || fail "the cron-started tinyhsmd exited $?"
has "$TMP/err" "TinyHSM port $other"
ok "a daemon started without XDG_RUNTIME_DIR is found from a login shell"
chmod 0755 "$(dirname "$other")"
[ "$(nodev)" = 1 ] || fail "nothing runs, yet success"
has "$TMP/err" "$other (directory $(dirname "$other") has mode 755; it must be private"
has "$TMP/err" "$TMP/system/tty.sock (nothing there)"
chmod 0700 "$(dirname "$other")"
ok "an unsafe other place is passed over with its reason, never used"

# A daemon in the runtime directory comes first.
start_daemon "$TMP/state" --link "$TMP/system/tty"
env -u TINYHSM_PORT XDG_RUNTIME_DIR="$TMP/rt" "$BIN/tinyhsmd" --state "$TMP/state2" \
    >"$TMP/d2.out" 2>"$TMP/d2.err" &
D2=$!
for _ in $(seq 100); do [ -s "$TMP/d2.out" ] && break; sleep 0.05; done
env -u TINYHSM_PORT XDG_RUNTIME_DIR="$TMP/rt" "$BIN/tinyhsm" -d info >"$TMP/out" 2>"$TMP/err" </dev/null ||
    { kill "$D2"; fail "tinyhsm info: $(cat "$TMP/err")"; }
kill -TERM "$D2"; wait "$D2" || fail "the user's tinyhsmd exited $?"
has "$TMP/err" "TinyHSM port $TMP/rt/tinyhsm/tty"
ok "the user's own daemon comes before the system service's"
finish
