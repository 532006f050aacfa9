#!/usr/bin/env bash
# Issue 18, the signing policy (tinyhsm policy, AT+POLICY*): none by default
# (everything signs); it needs a PIN to change; digest signing off refuses
# the original scripts' request with ERROR POLICY DIGEST even for a host
# that logs in; the hourly limit holds; a restart keeps the policy and its
# counters; a lock cannot be undone but by a decommission, which wipes it.
# Also runs against the firmware (qemu.cli_policy).
. "$(dirname "$0")/lib.sh"
cd "$TMP"

# raw AT on the device's socket (tinyhsmd) or pty (the firmware), as a
# hostile host or the original scripts would talk; one line per request,
# the answer's first line printed
at() {
    python3 - "$TINYHSM_PORT" "$@" <<'PY'
import os, socket, sys, termios, tty
port, lines = sys.argv[1], sys.argv[2:]
if os.path.exists(port + ".sock"):
    s = socket.socket(socket.AF_UNIX); s.connect(port + ".sock")
    send, recv = s.sendall, lambda: s.recv(65536)
else:
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY); tty.setraw(fd)
    send, recv = lambda b: os.write(fd, b), lambda: os.read(fd, 65536)
for line in lines:
    send((line + "\r\n").encode())
    b = b""
    while not b.endswith(b"\r\n\r\n"):
        b += recv()
    print(line.split(" PIN=")[0], "->", b.decode().split("\r\n")[0])
PY
}

# away from the end of an hour: the counts below stay in one window
(( $(date +%s) % 3600 > 3500 )) && sleep $((3600 - $(date +%s) % 3600 + 2))

start_daemon
run 0 tinyhsm config --new all --yes
head -c 32 /dev/urandom >digest.bin
run 0 tinyhsm policy show
has "$TMP/out" "Signing policy: none (everything allowed)"
has "$TMP/out" "Last signed versions: none"
run 0 tinyhsm policy show --json
has "$TMP/out" '"set":false,"locked":false,"boards":null,"formats":null'
ok "no policy: shown as none"

run 1 tinyhsm policy set --digest-signing off
has "$TMP/err" "the device has no PIN: a signing policy needs one"
run 1 tinyhsm policy lock --yes
has "$TMP/err" "the device has no PIN"
at "AT+POLICY_SET DIGEST=OFF" >"$TMP/out"
has "$TMP/out" "-> ERROR NO_PIN"
run 0 tinyhsm policy show --json
has "$TMP/out" '"set":false'
run 0 tinyhsm sign-digest --der --base64 digest.bin
ok "without a PIN no host changes the policy (tinyhsm or raw AT)"

TINYHSM_NEW_PIN=policy-pin-77 run 0 tinyhsm pin set
export TINYHSM_PIN=policy-pin-77
run 2 tinyhsm policy set --digest-signing maybe
has "$TMP/err" "--digest-signing takes on or off"
run 2 tinyhsm policy set --formats elf
run 2 tinyhsm policy set --formats mob
has "$TMP/err" "--formats takes secureboot10, mcuboot or both"
run 2 tinyhsm policy set --boards ''
run 2 tinyhsm policy set --boards A,,B
has "$TMP/err" "--boards takes board or MCUboot image names separated by commas"
run 2 tinyhsm policy set
run 2 tinyhsm policy show --boards A
run 1 tinyhsm policy set --boards "NAME_LONGER_THAN_16_CHARS"
has "$TMP/err" "BOARDS must be ANY or board names"
run 0 tinyhsm policy show --json
has "$TMP/out" '"set":false'
ok "bad values are refused and change nothing"

run 0 tinyhsm policy set --boards b-u585i-iot02a,NUCLEO-L4 --formats secureboot10 \
    --rising-versions on --max-size 0x10000 --digest-signing off
has "$TMP/out" "The signing policy was changed."
has "$TMP/out" "Boards:          B-U585I-IOT02A, NUCLEO-L4"
has "$TMP/out" "Formats:         secureboot10"
has "$TMP/out" "Rising versions: on"
has "$TMP/out" "Largest image:   65536 bytes"
has "$TMP/out" "Digest signing:  off"
has "$TMP/out" "Per hour:        no limit"
run 0 tinyhsm log
has "$TMP/out" "POLICY_SET"
has "$TMP/out" "DIGEST=ON>OFF"
has "$TMP/out" "MAX_SIZE=0>65536"
ok "policy set changes the rules given (a known board in its header spelling, sizes in hex too), each change in the audit log"

run 0 tinyhsm policy set --boards B-U585I-IOT2A,NUCLEO-L4
has "$TMP/err" "warning: B-U585I-IOT2A is no board tinyhsm knows; did you mean B-U585I-IOT02A?"
run 0 tinyhsm policy set --boards B-U585I-IOT02A,NUCLEO-L4
ok "a near miss of a known board is named with the board it is close to"

# the original scripts' request, from a host that even logs in
at "AT+AUTH PIN=$TINYHSM_PIN" "AT+SIGNER_SIGN HASH=$(printf '%064d' 7)" >"$TMP/out"
has "$TMP/out" "AT+SIGNER_SIGN HASH=$(printf '%064d' 7) -> ERROR POLICY DIGEST "
run 1 tinyhsm sign-digest --der --base64 digest.bin
has "$TMP/err" "ERROR POLICY DIGEST"
run 0 tinyhsm log
has "$TMP/out" "POLICY"
run 0 tinyhsm info
has "$TMP/out" "Digest signing:  off"
ok "digest signing off: the original request gets ERROR POLICY DIGEST, logged"

run 0 tinyhsm policy set --digest-signing on --max-per-hour 3
for i in 1 2 3; do run 0 tinyhsm sign-digest --der --base64 digest.bin; done
run 1 tinyhsm sign-digest --der --base64 digest.bin
has "$TMP/err" "ERROR POLICY RATE_HOUR"
run 0 tinyhsm policy show
has "$TMP/out" "Per hour:        3 (3 signed this hour)"
ok "at most 3 signatures an hour: the fourth is refused"

stop_daemon
start_daemon
run 0 tinyhsm policy show
has "$TMP/out" "Per hour:        3 (3 signed this hour)"
has "$TMP/out" "Boards:          B-U585I-IOT02A, NUCLEO-L4"
run 1 tinyhsm sign-digest --der --base64 digest.bin
has "$TMP/err" "ERROR POLICY RATE_HOUR"
ok "a restart keeps the policy and its counters"

run 0 tinyhsm policy set --max-per-hour 0 --digest-signing off
run 1 tinyhsm policy lock
has "$TMP/err" "not confirmed: stdin is not a terminal; pass --yes"
run 0 tinyhsm policy lock --yes
has "$TMP/out" "locked until the device is decommissioned"
run 1 tinyhsm policy set --digest-signing on
has "$TMP/err" "the policy is locked"
at "AT+AUTH PIN=$TINYHSM_PIN" "AT+POLICY_SET DIGEST=ON" "AT+POLICY_LOCK" >"$TMP/out"
has "$TMP/out" "AT+POLICY_SET DIGEST=ON -> ERROR POLICY LOCKED "
has "$TMP/out" "AT+POLICY_LOCK -> ERROR POLICY LOCKED "
stop_daemon
start_daemon
run 1 tinyhsm policy set --digest-signing on
run 0 tinyhsm info --json
has "$TMP/out" '"policy":{"set":true,"locked":true'
has "$TMP/out" '"digest_signing":false'
run 1 tinyhsm sign-digest --der --base64 digest.bin
run 0 tinyhsm log
has "$TMP/out" "POLICY_LOCK"
ok "a locked policy cannot be changed, also after a restart"

run 0 tinyhsm decommission --yes
unset TINYHSM_PIN
run 0 tinyhsm policy show
has "$TMP/out" "Signing policy: none (everything allowed)"
ok "a decommission wipes the policy"
stop_daemon
finish
