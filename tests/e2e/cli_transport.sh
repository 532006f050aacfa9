#!/usr/bin/env bash
# Where tinyhsm finds tinyhsmd, and the places it refuses to talk to.
. "$(dirname "$0")/lib.sh"
unset TINYHSM_PORT XDG_RUNTIME_DIR
uid=$(id -u)

# default discovery: $XDG_RUNTIME_DIR/tinyhsm/tty, its socket beside it
mkdir -m 0700 "$TMP/run"
XDG_RUNTIME_DIR=$TMP/run "$BIN/tinyhsmd" --state "$TMP/state" >"$TMP/d.out" 2>"$TMP/d.err" &
DPID=$!
for _ in $(seq 100); do [ -s "$TMP/d.out" ] && break; sleep 0.05; done
[ -S "$TMP/run/tinyhsm/tty.sock" ] || fail "no socket: $(cat "$TMP/d.err")"
[ "$(stat -c %a "$TMP/run/tinyhsm")" = 700 ] || fail "run dir not 0700"
[ "$(readlink "$TMP/run/tinyhsm/tty")" = "$(cat "$TMP/d.out")" ] || fail "link"
XDG_RUNTIME_DIR=$TMP/run run 0 tinyhsm -d info
has "$TMP/err" "TinyHSM port $TMP/run/tinyhsm/tty (through its tinyhsmd socket)"
TINYHSM_PORT=$TMP/run/tinyhsm/tty.sock run 0 tinyhsm info
ok "default discovery in \$XDG_RUNTIME_DIR; -p/TINYHSM_PORT may name the socket"

# a second daemon with another state does not take the default over
XDG_RUNTIME_DIR=$TMP/run run 1 "$BIN/tinyhsmd" --state "$TMP/state2"
has "$TMP/err" "pid $DPID"
XDG_RUNTIME_DIR=$TMP/run run 0 tinyhsm info
stop_daemon
[ -z "$(ls -A "$TMP/run/tinyhsm")" ] || fail "left behind: $(ls -A "$TMP/run/tinyhsm")"
ok "takeover refused naming the pid; a clean stop leaves nothing"

# --allow-uid cannot work in the private default directory: refused, saying
# why, and a refused start creates no state
XDG_RUNTIME_DIR=$TMP/run run 1 timeout 50 "$BIN/tinyhsmd" --state "$TMP/state3" --allow-uid 12345
has "$TMP/err" "--allow-uid needs --link PATH"
[ ! -e "$TMP/state3" ] || fail "a refused start created $TMP/state3"
ok "--allow-uid without --link is refused before anything is created"

# without XDG_RUNTIME_DIR: ${TMPDIR:-/tmp}/tinyhsm-<uid>, created 0700
mkdir -m 0755 "$TMP/t"
TMPDIR=$TMP/t "$BIN/tinyhsmd" --state "$TMP/state" >"$TMP/d.out" 2>"$TMP/d.err" &
DPID=$!
for _ in $(seq 100); do [ -s "$TMP/d.out" ] && break; sleep 0.05; done
[ "$(stat -c %a "$TMP/t/tinyhsm-$uid")" = 700 ] || fail "fallback dir: $(cat "$TMP/d.err")"
TMPDIR=$TMP/t run 0 tinyhsm info
stop_daemon
ok "fallback directory tinyhsm-<uid> is created private"

# a fallback directory with a wider mode is refused by both
chmod 0755 "$TMP/t/tinyhsm-$uid"
TMPDIR=$TMP/t run 1 "$BIN/tinyhsmd" --state "$TMP/state"
has "$TMP/err" "mode 755"
TMPDIR=$TMP/t run 1 tinyhsm info
has "$TMP/err" "mode 755"
rmdir "$TMP/t/tinyhsm-$uid"
ok "a fallback directory of mode 0755 is refused"

# another user's symlink (or directory) in the fallback path is refused
if [ "$uid" = 0 ]; then
    mkdir -m 0700 "$TMP/fake" && chown nobody "$TMP/fake"
    ln -s "$TMP/fake" "$TMP/t/tinyhsm-$uid"
    chown -h nobody "$TMP/t/tinyhsm-$uid"
    TMPDIR=$TMP/t run 1 "$BIN/tinyhsmd" --state "$TMP/state"
    has "$TMP/err" "not a directory"
    TMPDIR=$TMP/t run 1 tinyhsm info
    has "$TMP/err" "refusing"
    rm "$TMP/t/tinyhsm-$uid"
    mv "$TMP/fake" "$TMP/t/tinyhsm-$uid"
    TMPDIR=$TMP/t run 1 tinyhsm info
    has "$TMP/err" "belongs to uid 65534"
    # a port (link) owned by another user, even in our own directory
    ln -s /dev/null "$TMP/theirs" && chown -h nobody "$TMP/theirs"
    TINYHSM_PORT=$TMP/theirs run 1 tinyhsm info
    has "$TMP/err" "belongs to uid 65534"
    ok "another uid's link, directory or port is refused"
else
    echo "skip: another uid's files (needs root to create them)"
fi
finish
