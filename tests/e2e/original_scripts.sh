#!/usr/bin/env bash
# The README's recipe for ST's unmodified scripts: dist/original-scripts
# first on PYTHONPATH adds tinyhsmd's link to pyserial's ports as an
# ST-LINK port. A stand-in for the scripts' port lookup (the first port
# with the board's USB ids) finds it, and talks as the scripts do
# (pyserial, 115200, readlines with a 0.1 s timeout): the info commands
# answer; with a PIN set, signing is refused (the scripts cannot log in).
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
PY=
for p in python3 /usr/bin/python3; do
    command -v "$p" >/dev/null && "$p" -c 'import serial' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || { echo "SKIP: no python3 with pyserial (python3-serial)"; exit 77; }
[ "$DEVICE" = tinyhsmd ] || { echo "SKIP: tinyhsmd only"; exit 77; }

cat >"$TMP/st_like.py" <<'PY'
import sys
import serial
from serial.tools import list_ports
# as a port lookup for the board would: the ST-LINK by its USB ids
ports = [p for p in list_ports.comports() if (p.vid, p.pid) == (0x0483, 0x374E)]
if not ports:
    sys.exit("no ST-LINK port found")
print("port", ports[0].device, "-", ports[0].description)
ser = serial.Serial(ports[0].device, 115200, timeout=0.1)
for cmd in sys.argv[1:]:
    ser.write(cmd.encode() + b"\r\n")
    lines = ser.readlines()
    while not lines:  # the first answer may take longer than 0.1 s
        lines = ser.readlines()
    print(cmd, "->", lines[0].decode().strip())
PY

start_daemon
run 0 tinyhsm config --new all --yes
st() { env PYTHONPATH="$src/dist/original-scripts" "$PY" "$TMP/st_like.py" "$@" \
           >"$TMP/out" 2>"$TMP/err" </dev/null || { cat "$TMP/out" "$TMP/err"; fail "st_like.py $*"; }; }
env -u PYTHONPATH "$PY" "$TMP/st_like.py" AT >"$TMP/out" 2>"$TMP/err" &&
    fail "without the shim the link was found"
has "$TMP/err" "no ST-LINK port found"
hash=$(printf '%064d' 5)
st AT+RESET AT+VERSION? "AT+SIGNER_SIGN HASH=$hash"
has "$TMP/out" "port $TMP/tty - STM32 STLink - ST-Link VCP Data"
has "$TMP/out" "AT+VERSION? -> OK"
has "$TMP/out" "AT+SIGNER_SIGN HASH=$hash -> OK 7"
ok "with the shim on PYTHONPATH, a lookup for the board finds tinyhsmd's link and signs"

TINYHSM_NEW_PIN=team-pin-4821 run 0 tinyhsm pin set
st AT+RESET AT+VERSION? "AT+SIGNER_SIGN HASH=$hash"
has "$TMP/out" "AT+VERSION? -> OK"
has "$TMP/out" "AT+SIGNER_SIGN HASH=$hash -> ERROR AUTH_REQUIRED"
ok "with a PIN set the scripts cannot sign: they cannot log in"
stop_daemon
finish
