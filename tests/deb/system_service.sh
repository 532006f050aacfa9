#!/usr/bin/env bash
# One signing daemon for a team (the system units in dist/systemd/system),
# as root: throwaway users and a group are created and removed again.
# systemd-socket-activate, listening as the socket unit does (root:GROUP,
# 0660, in a root-owned directory), starts tinyhsmd as a system user the
# way the service does (--socket, --allow-group). Two members of the group
# find it without -p (after their own runtime directory) and sign; their
# logins stay apart; a user outside the group is refused by the socket's
# mode and, with the mode opened, by tinyhsmd; each connection's uid is
# logged. Then tinyhsm's trust: a daemon of another uid is used only when
# its socket is in a directory only root can write.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${THSM_BIN:?set THSM_BIN to the directory with tinyhsm and tinyhsmd}
BIN=$(cd "$BIN" && pwd)
. "$src/tests/e2e/tools/firmware.sh"
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (creates throwaway users and a group)"
for t in useradd userdel groupadd groupdel setpriv systemd-socket-activate python3; do
    command -v "$t" >/dev/null || skip "no $t"
done
[ -d /run ] && [ -w /run ] || skip "/run is not writable"

TMP=$(mktemp -d)
chmod 0755 "$TMP"
tag=th$$
G=${tag}g SVC=${tag}s U1=${tag}a U2=${tag}b U3=${tag}c
RUNS=()
DPID=
cleanup() {
    [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null || true
    for u in "$U1" "$U2" "$U3" "$SVC"; do userdel "$u" 2>/dev/null || true; done
    groupdel "$G" 2>/dev/null || true
    rm -rf "$TMP" "${RUNS[@]+"${RUNS[@]}"}"
}
trap cleanup EXIT
PASSED=0
fail() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }

if command -v systemd-analyze >/dev/null; then
    mkdir "$TMP/units"
    for u in tinyhsmd.socket tinyhsmd.service; do
        sed "s|@CMAKE_INSTALL_FULL_BINDIR@|$BIN|" "$src/dist/systemd/system/$u.in" >"$TMP/units/$u"
    done
    systemd-analyze verify --man=no "$TMP/units/tinyhsmd.socket" \
        "$TMP/units/tinyhsmd.service" >"$TMP/verify" 2>&1 ||
        { cat "$TMP/verify"; fail "systemd-analyze verify refuses the system units"; }
    ! grep -v -e '^$' "$TMP/verify" || fail "systemd-analyze verify warns"
    systemd-analyze security --offline=true --threshold=20 "$TMP/units/tinyhsmd.service" \
        >"$TMP/security" 2>&1 || { cat "$TMP/security"; fail "exposure above 2.0"; }
    ok "systemd-analyze verify accepts the system units; $(grep -o 'Overall exposure level.*' "$TMP/security")"
fi
grep -qx 'ListenStream=/run/tinyhsm/tty.sock' "$src/dist/systemd/system/tinyhsmd.socket.in" ||
    fail "the system socket unit does not listen where tinyhsm looks"
grep -q -- '--socket /run/tinyhsm/tty.sock --allow-group tinyhsm$' \
    "$src/dist/systemd/system/tinyhsmd.service.in" || fail "the service's ExecStart changed"
grep -qx 'u _tinyhsm - "TinyHSM signing daemon" /var/lib/tinyhsm' "$src/dist/sysusers.d/tinyhsm.conf" ||
    fail "sysusers.d does not create _tinyhsm"

groupadd "$G"
useradd -r -M -d / -s /usr/sbin/nologin "$SVC"
useradd -M -d / -G "$G" "$U1"
useradd -M -d / -G "$G" "$U2"
useradd -M -d / "$U3"

# The programs where the throwaway users can run them.
mkdir -m 0755 "$TMP/bin"
cp "$BIN/tinyhsm" "$BIN/tinyhsmd" "$TMP/bin/"
# The daemon's own places (the service's StateDirectory and RuntimeDirectory).
install -d -m 0700 -o "$SVC" "$TMP/svc" "$TMP/svc/rt"
# The system path: root's, 0755, in root-only /run (as /run/tinyhsm).
newrun() { NEW=$(mktemp -d /run/thsm-test.XXXXXX); chmod 0755 "$NEW"; RUNS+=("$NEW"); }
newrun
RUN=$NEW
SOCK=$RUN/tty.sock
for u in "$U1" "$U2" "$U3"; do install -d -m 0700 -o "$u" "$TMP/work-$u"; done
firmware 4096 >"$TMP/fw.bin"
chmod 0644 "$TMP/fw.bin"

# as USER CMD...: runs CMD as USER with its groups, in its own directory,
# with the system path at $SYSPORT and no runtime directory of its own.
SYSPORT=$SOCK
as() {
    local u=$1
    shift
    (cd "$TMP/work-$u" && setpriv --reuid="$u" --regid="$u" --init-groups \
        env -i PATH=/usr/bin:/bin HOME="$TMP/work-$u" XDG_RUNTIME_DIR="$TMP/work-$u/rt" \
        TINYHSM_SYSTEM_PORT="$SYSPORT" TINYHSM_SYSFS_ROOT="$TMP/nosys" \
        TINYHSM_NO_PIN_WARNING=1 ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} \
        ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} "$@" </dev/null)
}
thsm() { # USER ARGS...: tinyhsm as USER must succeed
    local u=$1
    shift
    as "$u" "$TMP/bin/tinyhsm" "$@" >"$TMP/out" 2>"$TMP/err" ||
        { cat "$TMP/out" "$TMP/err" "$TMP/d.err"; fail "tinyhsm $* as $u"; }
}
refused() { # USER ARGS...: tinyhsm as USER must fail
    local u=$1
    shift
    if as "$u" "$TMP/bin/tinyhsm" "$@" >"$TMP/out" 2>"$TMP/err"; then
        fail "tinyhsm $* as $u succeeded"
    fi
}
has() { grep -q -- "$2" "$1" || { cat "$1"; fail "no '$2' in $1"; }; }

# As the units start it: systemd (here systemd-socket-activate, root)
# listens; on the first connection tinyhsmd runs as the service user.
: >"$TMP/d.err"
systemd-socket-activate -l "$SOCK" setpriv --reuid="$SVC" --regid="$SVC" --clear-groups \
    "$TMP/bin/tinyhsmd" --state "$TMP/svc/state" --link "$TMP/svc/rt/tty" \
    --socket "$SOCK" --allow-group "$G" >/dev/null 2>"$TMP/d.err" &
DPID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || fail "systemd-socket-activate did not listen: $(cat "$TMP/d.err")"
chown "root:$G" "$SOCK" && chmod 0660 "$SOCK" # SocketUser, SocketGroup, SocketMode

thsm "$U1" info
has "$TMP/out" "Device:  tinyhsmd"
pid=$(cut -d' ' -f1 "$TMP/svc/rt/tty.pid")
[ "$(awk '/^Uid:/ {print $3}' "/proc/$pid/status")" = "$(id -u "$SVC")" ] ||
    fail "tinyhsmd does not run as $SVC"
ok "a member finds the system daemon without -p; it runs as the service user"

thsm "$U1" config --new all --yes
thsm "$U1" sign --board B-U585I-IOT02A --version 1.0.0 -o s1.bin "$TMP/fw.bin"
thsm "$U2" sign --board B-U585I-IOT02A --version 1.0.1 -o s2.bin "$TMP/fw.bin"
thsm "$U2" verify --cert stsafe_signer_cert.pem --board B-U585I-IOT02A s2.bin
ok "two members of the group provision and sign through it"

refused "$U3" info
has "$TMP/err" "no TinyHSM answers; tried: .*$SOCK (cannot connect to $SOCK: Permission denied)"
chmod 0666 "$SOCK" # past the socket's mode: tinyhsmd's own check
refused "$U3" info
has "$TMP/err" "NOT_ALLOWED uid $(id -u "$U3") may not use this device"
chmod 0660 "$SOCK"
has "$TMP/d.err" "connection from uid $(id -u "$U1") (pid [0-9]*) accepted"
has "$TMP/d.err" "connection from uid $(id -u "$U2") (pid [0-9]*) accepted"
has "$TMP/d.err" "connection from uid $(id -u "$U3") (pid [0-9]*) refused"
ok "a user outside the group is refused (socket mode, then tinyhsmd); each connection's uid is logged"

# Logins stay per connection: U1 logs in and holds its connection; U2's
# connection meanwhile is refused key use, and U1's still signs.
printf 'pin-of-the-team-42\n' >"$TMP/pin"
chmod 0644 "$TMP/pin"
as "$U1" env TINYHSM_NEW_PIN=pin-of-the-team-42 "$TMP/bin/tinyhsm" pin set >"$TMP/out" 2>"$TMP/err" ||
    { cat "$TMP/err"; fail "pin set"; }
cat >"$TMP/at.py" <<'PY'
import os, socket, sys, time
# at.py SOCKET WAITFILE LINE...: sends each line, prints each answer's first
# line; before a line "WAIT" it waits for WAITFILE to exist.
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
for line in sys.argv[3:]:
    if line == "WAIT":
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.05)
        continue
    s.sendall(line.encode() + b"\r\n")
    ans = []
    while True:
        l = f.readline().decode().rstrip("\r\n")
        if not l and ans:
            break
        if l:
            ans.append(l)
    print(ans[0], flush=True)
PY
chmod 0644 "$TMP/at.py"
hash=$(printf '%064d' 7)
as "$U1" python3 "$TMP/at.py" "$SOCK" "$TMP/go" "AT+AUTH PIN=pin-of-the-team-42" WAIT \
    "AT+SIGNER_SIGN HASH=$hash" >"$TMP/u1.out" 2>&1 &
U1PID=$!
for _ in $(seq 200); do [ -s "$TMP/u1.out" ] && break; sleep 0.05; done
has "$TMP/u1.out" "^OK"
as "$U2" python3 "$TMP/at.py" "$SOCK" "$TMP/go" "AT+SIGNER_SIGN HASH=$hash" >"$TMP/u2.out" 2>&1
has "$TMP/u2.out" "^ERROR AUTH_REQUIRED"
refused "$U2" sign --board B-U585I-IOT02A --version 1.0.2 -o s3.bin "$TMP/fw.bin"
touch "$TMP/go"
wait "$U1PID" || fail "U1's client: $(cat "$TMP/u1.out")"
[ "$(sed -n 2p "$TMP/u1.out" | cut -c1-3)" = "OK " ] || fail "U1 did not sign: $(cat "$TMP/u1.out")"
thsm "$U2" --pin-file "$TMP/pin" sign --board B-U585I-IOT02A --version 1.0.2 -o s3.bin "$TMP/fw.bin"
ok "logins stay per connection: U2 needs the PIN while U1 is logged in"

kill -TERM "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=

# tinyhsm's trust: a daemon of another uid (started directly, socket of its
# own) is refused while the directory is not root's alone.
newrun
DIR2=$NEW
chown "$SVC" "$DIR2"
SYSPORT=$DIR2/tty.sock
setpriv --reuid="$SVC" --regid="$SVC" --clear-groups "$TMP/bin/tinyhsmd" --state "$TMP/svc/state" \
    --link "$TMP/svc/rt/tty" --socket "$SYSPORT" --allow-group "$G" >"$TMP/d2.out" 2>"$TMP/d2.err" &
DPID=$!
for _ in $(seq 200); do [ -s "$TMP/d2.out" ] && break; sleep 0.05; done
[ -S "$SYSPORT" ] || fail "direct tinyhsmd did not listen: $(cat "$TMP/d2.err")"
refused "$U1" info
has "$TMP/err" "directory $DIR2 belongs to uid $(id -u "$SVC")"
chown root "$DIR2" && chgrp "$G" "$DIR2" && chmod 0775 "$DIR2"
refused "$U1" info
has "$TMP/err" "$SYSPORT belongs to uid $(id -u "$SVC").*refusing"
ok "a daemon of another uid is refused when the directory is not root's alone"
chgrp root "$DIR2" && chmod 0755 "$DIR2"
thsm "$U1" info
has "$TMP/out" "Device:  tinyhsmd"
ok "the same daemon is used once its socket's directory is root-only"
echo "$PASSED passed, 0 failed"
