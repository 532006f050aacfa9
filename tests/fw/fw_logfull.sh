#!/usr/bin/env bash
# The firmware's audit log is bounded by its flash: once full, the device
# refuses to sign (nothing is signed unrecorded), keeps its keys and its log,
# and says why; after a restart too. A small flash image (3 sectors: two
# state slots and an 8 KiB log, 40 records) makes it fill quickly.
THSM_DEVICE=qemu
. "$(dirname "$0")/../e2e/lib.sh"
FLOOD="$(cd "$(dirname "$0")/../e2e/tools" && pwd)/flood.py"
cd "$TMP"
head -c 4096 /dev/urandom >fw.bin
sign() { tinyhsm sign --force --board B-U585I-IOT02A --version "1.0.$1" -o out.bin fw.bin; }

start_daemon "$TMP/state" --flash-size 24576
run 0 tinyhsm config --new all
signed=0
while [ $signed -lt 60 ] && sign $signed >"$TMP/out" 2>"$TMP/err"; do
    signed=$((signed + 1))
done
# an image signature takes two records (IMAGE, SIGN_SB10): 28 records are
# left after provisioning and the state changes' reserve
[ $signed -ge 12 ] && [ $signed -lt 20 ] || fail "$signed signatures before the log filled up"
has "$TMP/err" "audit log"
ok "signing stops when the audit log is full ($signed signatures)"

run 0 tinyhsm log --verify
run 0 tinyhsm log
records=$(grep -c " SIGN_SB10 " "$TMP/out" || true)
[ "$records" -eq "$signed" ] || fail "$records SIGN records for $signed signatures"
run 0 tinyhsm cert signer -o "$TMP/signer.pem"
ok "the full log verifies, holds every signature, and the keys stay"

stop_daemon
start_daemon "$TMP/state"
run 1 sign 99
has "$TMP/err" "audit log"
run 0 tinyhsm cert signer -o "$TMP/signer2.pem"
cmp -s "$TMP/signer.pem" "$TMP/signer2.pem" || fail "signer changed"
ok "still refused after a restart, state intact"

# the last records are for state changes: a PIN, a login, then the log is
# archived to the host and cleared under the PIN, keys kept
TINYHSM_NEW_PIN=full-log-pin run 0 tinyhsm pin set
export TINYHSM_PIN=full-log-pin
run 0 tinyhsm log --clear --archive "$TMP/archive.log"
has "$TMP/out" "Cleared records 0-"
run 0 sign 100
run 0 tinyhsm log --verify --archive "$TMP/archive.log"
has "$TMP/out" "one hash chain"
records=$(grep -c " SIGN_SB10 " "$TMP/archive.log" || true)
[ "$records" -eq "$signed" ] || fail "the archive holds $records SIGN records for $signed signatures"
run 0 tinyhsm cert signer -o "$TMP/signer3.pem"
cmp -s "$TMP/signer.pem" "$TMP/signer3.pem" || fail "signer changed"
ok "a full log is archived and cleared under the PIN; signing goes on"

# refusals never fill it: a flood leaves the room for signatures
read -r answers refused secs < <(python3 "$FLOOD" "$(flood_link)" 3)
sleep 1 # the request in flight when the client left is answered to no one
run 0 tinyhsm log
[ "$refused" -ge 20 ] && [ "$(grep -c ' AUTH_REQUIRED ' "$TMP/out")" -le 2 ] ||
    fail "$refused refusals: $(cat "$TMP/out")"
run 0 sign 101
ok "$refused refusals in ${secs}s, signing still works"
stop_daemon
finish
