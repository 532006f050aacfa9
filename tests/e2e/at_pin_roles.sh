#!/usr/bin/env bash
# The PIN roles at the AT level over tinyhsmd's socket: a retry loop cannot
# burn the tries (the device's doubling wait), and the security officer
# unblocks a blocked user PIN with the keys kept.
. "$(dirname "$0")/lib.sh"
cd "$TMP"
start_daemon
run 0 tinyhsm config --new all
python3 - "$TINYHSM_PORT.sock" <<'PY' || fail "see above"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def ask(line):
    s.sendall((line + "\r\n").encode())
    b = b""
    while not b.endswith(b"\r\n\r\n"):
        b += s.recv(65536)
    return b.decode().strip()
def want(line, prefix):
    got = ask(line)
    if not got.startswith(prefix):
        sys.exit("FAIL: %s -> %s (want %s...)" % (line, got, prefix))
    return got
want("AT+PIN_SET NEW=user-pin-1", "OK")
want("AT+SO_PIN_SET NEW=officer-puk", "OK")
pub = want("AT+SIGNER_PUBKEY?", "OK ")
want("AT+LOGOUT", "OK")
# a retry loop for one second spends at most two tries (the clock counts
# whole seconds); the rest are refused with the wait
t0, spent, delayed = time.time(), 0, 0
while time.time() - t0 < 1.0:
    r = ask("AT+AUTH PIN=wrong-pin")
    spent += r.startswith("ERROR AUTH_FAILED")
    delayed += r.startswith("ERROR PIN_DELAY 1 ")
if spent not in (1, 2) or delayed < 1:
    sys.exit("FAIL: %d tries spent, %d delayed in 1 s" % (spent, delayed))
if " TRIES=%d " % (5 - spent) not in ask("AT+HSM_STATUS?"):
    sys.exit("FAIL: tries")
# block it, waiting out each doubling delay
for wait in (1, 2, 4, 8)[spent - 1:]:
    time.sleep(wait)
    want("AT+AUTH PIN=wrong-pin", "ERROR AUTH_FAILED")
want("AT+AUTH PIN=user-pin-1", "ERROR PIN_LOCKED")
want("AT+AUTH_SO PIN=officer-puk", "OK")
want("AT+SIGNER_SIGN HASH=" + "00" * 32, "ERROR PIN_LOCKED")
want("AT+PIN_UNBLOCK NEW=user-pin-2", "OK")
want("AT+LOGOUT", "OK")
want("AT+AUTH PIN=user-pin-2", "OK")
if want("AT+SIGNER_PUBKEY?", "OK ") != pub:
    sys.exit("FAIL: the signer key changed")
want("AT+SIGNER_SIGN HASH=" + "00" * 32, "OK ")
PY
ok "a retry loop spends one try a second at most; the SO unblocks, keys kept"
TINYHSM_PIN=user-pin-2 run 0 tinyhsm log
has "$TMP/out" " PIN_DELAY "
has "$TMP/out" " SO_AUTH "
has "$TMP/out" " PIN_UNBLOCK "
ok "the log names the refusals and the SO's actions"
finish
