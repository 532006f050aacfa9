#!/usr/bin/env bash
# make demo: a software TinyHSM, provisioned, signing and verifying a sample
# firmware, then stopped. Outputs stay in demo-out/.
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
OUT=${DEMO_OUT:-$PWD/demo-out}
rm -rf "$OUT"
mkdir -p "$OUT"
STATE=$(mktemp -d)
PORT=$STATE/tty
DPID=
stop() {
    [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rm -rf "$STATE"
}
trap stop EXIT
step() { printf '\n==> %s\n' "$*"; }

step "Starting tinyhsmd (state in $STATE/state)"
"$BIN/tinyhsmd" --state "$STATE/state" --link "$PORT" >"$STATE/pty" 2>"$STATE/log" &
DPID=$!
for _ in $(seq 100); do [ -s "$STATE/pty" ] && break; sleep 0.05; done
[ -s "$STATE/pty" ] || { cat "$STATE/log"; echo "tinyhsmd did not start" >&2; exit 1; }
echo "Software TinyHSM on $(head -1 "$STATE/pty"), linked at $PORT"
tinyhsm() { "$BIN/tinyhsm" --port "$PORT" "$@"; }

step "Provisioning: CA and CA-signed signer, keys generated inside the device"
tinyhsm config --new all

step "Signing a sample 200 KiB firmware for B-U585I-IOT02A"
# a vector table that fits the board: stack 0x20002000, reset 0x08008201
{ printf '\000\040\000\040\001\202\000\010'; head -c 204792 /dev/urandom; } >"$OUT/firmware.bin"
cd "$OUT"
tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 firmware.bin
tinyhsm cert ca -o ca.pem

step "Verifying the image as the bootloader would (and the certificate chain)"
tinyhsm verify --cert stsafe_signer_cert.pem --ca ca.pem --board B-U585I-IOT02A \
    signed_binary.bin

step "A tampered copy must be rejected"
cp signed_binary.bin tampered.bin
# flip one bit of a firmware byte (writing a fixed value could leave it unchanged)
byte=$(od -An -tu1 -j1000 -N1 tampered.bin)
printf "\\$(printf %o $((byte ^ 1)))" | dd of=tampered.bin bs=1 seek=1000 conv=notrunc status=none
cmp -s signed_binary.bin tampered.bin && { echo "ERROR: tampering failed" >&2; exit 1; }
if tinyhsm verify --siggen SigGen.c --board B-U585I-IOT02A tampered.bin; then
    echo "ERROR: the tampered image was accepted" >&2
    exit 1
fi
echo "(rejected, as it should be)"

step "Stopping the device"
kill -TERM "$DPID" && wait "$DPID"
DPID=
cat <<SUMMARY

Demo complete. Files in $OUT:
  signed_binary.bin       SECUREBOOT10 image: header + firmware + signature
  stsafe_signer_cert.pem  signer certificate, issued by ca.pem
  SigGen.c                the public key to compile into Tiny Secure Boot
  ca.pem                  the CA certificate
  tampered.bin            a modified copy that verification rejected
SUMMARY
