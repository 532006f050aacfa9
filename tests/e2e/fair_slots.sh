#!/usr/bin/env bash
# Another allowed user who opens more connections than tinyhsmd has slots
# closes only their own idle ones: a logged-in session of the device's
# owner survives (it used to be closed as "the idlest"). Root only: the
# other user is nobody.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
    echo "SKIP: needs root (and the user nobody) to play a second user"
    exit 77
fi
[ "$DEVICE" = qemu ] && { echo "SKIP: tinyhsmd's socket only"; exit 77; }
chmod 711 "$TMP"
mkdir -m 755 "$TMP/pub"
"$BIN/tinyhsmd" --state "$TMP/state" --root-key "$TMP/root.key" \
    --link "$TMP/pub/tty" --allow-uid "$(id -u nobody)" \
    >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DPID=$!
for _ in $(seq 100); do [ -S "$TMP/pub/tty.sock" ] && break; sleep 0.05; done
[ -S "$TMP/pub/tty.sock" ] || fail "tinyhsmd made no socket: $(cat "$TMP/daemon.err")"
export TINYHSM_PORT=$TMP/pub/tty TINYHSM_NO_PIN_WARNING=1
run 0 tinyhsm config --new all --yes
TINYHSM_NEW_PIN=owner-pin-7 run 0 tinyhsm pin set

cat >"$TMP/owner.py" <<'EOF'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def ask(line):
    s.sendall(line.encode() + b"\r\n")
    buf = b""
    while not buf.endswith(b"\r\n\r\n"):
        got = s.recv(4096)
        if not got:
            return "closed"
        buf += got
    return buf.decode().split("\r\n")[0]
print("auth", ask("AT+AUTH PIN=owner-pin-7"), flush=True)
open(sys.argv[2], "w").close()          # logged in: let the flood begin
while not os.path.exists(sys.argv[3]):  # the flood is over
    time.sleep(0.05)
try:
    print("sign", ask("AT+SIGNER_SIGN HASH=" + "11" * 32)[:2])
except OSError as e:
    print("sign", "closed", e)
EOF
cat >"$TMP/flood.py" <<'EOF'
import socket, sys, time
held = []
for i in range(40):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b"AT+VERSION?\r\n")
    s.recv(4096)
    held.append(s)
    time.sleep(0.01)
print("opened", len(held))
EOF
python3 "$TMP/owner.py" "$TMP/pub/tty.sock" "$TMP/ready" "$TMP/done" >"$TMP/owner.out" &
OWNER=$!
for _ in $(seq 200); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
[ -e "$TMP/ready" ] || fail "the owner's login did not finish: $(cat "$TMP/owner.out")"
runuser -u nobody -- python3 "$TMP/flood.py" "$TMP/pub/tty.sock" >"$TMP/flood.out" 2>&1 ||
    fail "the other user's connections: $(cat "$TMP/flood.out")"
touch "$TMP/done"
wait "$OWNER"
has "$TMP/owner.out" "auth OK"
has "$TMP/owner.out" "sign OK"
ok "40 connections of another user leave the owner's login open"
finish
