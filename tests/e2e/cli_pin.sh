#!/usr/bin/env bash
# PIN and audit log from the command line, against a real tinyhsmd.
. "$(dirname "$0")/lib.sh"

start_daemon
run 0 tinyhsm config --new all
mkdir "$TMP/w" && cd "$TMP/w"
{ printf '\000\040\000\040\001\202\000\010'; head -c 2992 /dev/urandom; } >fw.bin # a vector table sign accepts
sign() { tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 fw.bin; }

run 0 sign
has "$TMP/err" "no PIN is set"
ok "without a PIN, signing works and warns"

TINYHSM_NO_PIN_WARNING=1 run 0 sign
grep -q "no PIN" "$TMP/err" && fail "TINYHSM_NO_PIN_WARNING=1 did not silence the warning"
run 0 tinyhsm --help
has "$TMP/out" "TINYHSM_NO_PIN_WARNING"
ok "TINYHSM_NO_PIN_WARNING=1 silences the no-PIN warning, and --help says so"

lacks() { ! grep -qF -- "$2" "$1" || { cat "$1"; fail "$1 shows '$2'"; }; }
run 1 tinyhsm pin set
has "$TMP/err" "--new-pin-file"
has "$TMP/err" "TINYHSM_NEW_PIN"
lacks "$TMP/err" "TINYHSM_PIN "
run 1 tinyhsm pin change
has "$TMP/err" "no PIN is set yet; set one with: tinyhsm pin set"
for bad in "horse battery staple" "short" "$(printf 'tab\there1')" \
    "$(head -c 65 /dev/zero | tr '\0' x)"; do
    TINYHSM_NEW_PIN=$bad run 1 tinyhsm -d pin set
    has "$TMP/err" "6 to 64 printable ASCII characters without spaces"
    lacks "$TMP/err" "AT+PIN_SET"
    lacks "$TMP/err" "horse"
    lacks "$TMP/err" "battery"
done
echo "horse battery staple" >bad-pin.txt
run 1 tinyhsm pin set --new-pin-file bad-pin.txt
has "$TMP/err" "the PIN in bad-pin.txt is not a valid PIN"
lacks "$TMP/err" "horse"
run 0 sign
has "$TMP/err" "no PIN is set"
ok "pin set/change: a malformed PIN is refused before anything is sent, never echoed"

TINYHSM_NEW_PIN=first-pin run 0 tinyhsm pin set
run 1 sign
has "$TMP/err" "PIN is needed"
TINYHSM_NEW_PIN=other-pin run 1 tinyhsm pin set
has "$TMP/err" "a PIN is set already; change it with: tinyhsm pin change"
lacks "$TMP/err" "OLD="
lacks "$TMP/err" "BAD_PARAM"
TINYHSM_PIN="first pin" run 1 tinyhsm -d sign --board B-U585I-IOT02A --version 1.0.0 fw.bin
has "$TMP/err" "is not a valid PIN: it contains a space"
has "$TMP/err" "6 to 64 printable"
lacks "$TMP/err" "AT+AUTH"
lacks "$TMP/err" "first pin"
ok "pin set with a PIN set says to use pin change; a malformed PIN is not sent"
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

run 1 tinyhsm --pin-file pin.txt pin change --new-pin-file pin.txt
has "$TMP/err" "the new PIN is the current one; nothing was changed"
TINYHSM_PIN=first-pin run 0 sign
ok "pin change to the same PIN is refused on the host"

run 1 tinyhsm --pin-file nosuch.txt sign --board B-U585I-IOT02A --version 1.0.0 fw.bin
has "$TMP/err" "cannot read a PIN from nosuch.txt: No such file or directory"
: >empty.txt
run 1 tinyhsm --pin-file empty.txt sign --board B-U585I-IOT02A --version 1.0.0 fw.bin
has "$TMP/err" "the PIN file empty.txt is empty: put the PIN on its first line"
chmod 644 pin.txt
run 0 tinyhsm --pin-file pin.txt sign --board B-U585I-IOT02A --version 1.0.0 fw.bin
has "$TMP/err" "warning: the PIN file pin.txt can be read or written by other users (mode 0644); make it private: chmod 600 pin.txt"
chmod 640 pin.txt
run 0 tinyhsm --pin-file pin.txt sign --board B-U585I-IOT02A --version 1.0.0 fw.bin
has "$TMP/err" "(mode 0640)"
chmod 600 pin.txt
run 0 tinyhsm --pin-file pin.txt sign --board B-U585I-IOT02A --version 1.0.0 fw.bin
grep -q "PIN file" "$TMP/err" && fail "a private PIN file warned: $(cat "$TMP/err")"
ok "PIN files: a missing one names the error, an empty one says so, one others can read warns"

echo second-pin >new.txt
run 0 tinyhsm --pin-file pin.txt pin change --new-pin-file new.txt
TINYHSM_PIN=first-pin run 1 sign
has "$TMP/err" "tries left"
sleep 1 # the device waits 1 s after a wrong PIN, 2 s after two, ...
TINYHSM_PIN=second-pin run 0 sign
ok "pin change: the old PIN stops working"

wait=0
for left in 4 3 2; do
    sleep $wait
    wait=$((wait ? wait * 2 : 1))
    TINYHSM_PIN=wrong-pin run 1 sign
    has "$TMP/err" "wrong PIN: $left tries left before the device blocks"
done
sleep 4
TINYHSM_PIN=wrong-pin run 1 sign
has "$TMP/err" "wrong PIN: 1 try left before the device blocks"
sleep 8
TINYHSM_PIN=wrong-pin run 1 sign
has "$TMP/err" "the device is BLOCKED now"
has "$TMP/err" "only 'tinyhsm decommission --yes' recovers it, and that erases every key"
grep -q "tries left" "$TMP/err" && fail "the last try: $(cat "$TMP/err")"
TINYHSM_PIN=second-pin run 1 sign
has "$TMP/err" "blocked"
run 0 tinyhsm decommission --yes
run 0 tinyhsm config --new all
run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 --force fw.bin # new keys: replace SigGen.c
has "$TMP/err" "no PIN is set"
ok "five wrong PINs block; only decommission recovers"

run 0 tinyhsm log
has "$TMP/out" " SIGN_SB10 " # tinyhsm sign: image mode
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
