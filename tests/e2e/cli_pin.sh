#!/usr/bin/env bash
# PIN and audit log from the command line, against a real tinyhsmd.
. "$(dirname "$0")/lib.sh"

start_daemon
run 0 tinyhsm config --new all
mkdir "$TMP/w" && cd "$TMP/w"
head -c 3000 /dev/urandom >fw.bin
sign() { tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 fw.bin; }

run 0 sign
has "$TMP/err" "no PIN is set"
ok "without a PIN, signing works and warns"

TINYHSM_NEW_PIN=first-pin run 0 tinyhsm pin set
run 1 sign
has "$TMP/err" "PIN is needed"
run 0 tinyhsm info
TINYHSM_PIN=first-pin run 0 sign
echo first-pin >pin.txt
run 0 tinyhsm --pin-file pin.txt sign --board B-U585I-IOT02A --version 1.0.0 fw.bin
ok "with a PIN: signing needs it (env or file), reading does not"

TINYHSM_PIN=first-pin run 0 tinyhsm -d --pin-file pin.txt sign --board B-U585I-IOT02A \
    --version 1.0.0 fw.bin
has "$TMP/err" "TinyHSM <- AT+AUTH PIN=****"
grep -q first-pin "$TMP/err" && fail "the PIN appears in the debug trace"
ok "the debug trace masks the PIN"

echo second-pin >new.txt
run 0 tinyhsm --pin-file pin.txt pin change --new-pin-file new.txt
TINYHSM_PIN=first-pin run 1 sign
has "$TMP/err" "tries left"
TINYHSM_PIN=second-pin run 0 sign
ok "pin change: the old PIN stops working"

for left in 4 3 2 1 0; do
    TINYHSM_PIN=wrong-pin run 1 sign
    has "$TMP/err" "$left tries left"
done
TINYHSM_PIN=second-pin run 1 sign
has "$TMP/err" "blocked"
run 0 tinyhsm decommission --yes
run 0 tinyhsm config --new all
run 0 sign
has "$TMP/err" "no PIN is set"
ok "five wrong PINs block; only decommission recovers"

run 0 tinyhsm log
has "$TMP/out" " SIGN "
has "$TMP/out" " DECOMMISSION "
has "$TMP/out" " AUTH_BLOCKED "
run 0 tinyhsm log --verify
has "$TMP/out" "PASS"
ok "the audit log records signatures and state changes, and verifies"

# the state directory copied elsewhere cannot sign without the PIN
TINYHSM_NEW_PIN=third-pin run 0 tinyhsm pin set
stop_daemon
cp -a "$TMP/state" "$TMP/copy"
start_daemon "$TMP/copy"
run 1 sign
has "$TMP/err" "PIN is needed"
TINYHSM_PIN=third-pin run 0 sign
ok "a copied state directory is useless without the PIN"

# tampering with the log is reported
stop_daemon
tamper_audit_log "$TMP/copy" $((201 * 2 + 60))
start_daemon "$TMP/copy"
run 1 tinyhsm log --verify
has "$TMP/out" "FAIL record 2"
ok "an altered audit record is reported"
stop_daemon
finish
