#!/usr/bin/env bash
# Every tinyhsm command with a PIN set, against a real tinyhsmd: reading
# works without the PIN, every change needs it and works with it.
. "$(dirname "$0")/lib.sh"

start_daemon
run 0 tinyhsm config --new all
TINYHSM_NEW_PIN=right-pin-1 run 0 tinyhsm pin set
echo right-pin-1 >"$TMP/pin.txt"
export TINYHSM_PIN=right-pin-1
n=0
sign() { # signs into a fresh directory; output files in $TMP/s$n
    n=$((n + 1))
    mkdir "$TMP/s$n"
    { printf '\000\040\000\040\001\202\000\010'; head -c 2992 /dev/urandom; } \
        >"$TMP/s$n/fw.bin" # a vector table that sign accepts
    (cd "$TMP/s$n" && "$BIN/tinyhsm" "$@" sign --board B-U585I-IOT02A \
        --version 1.0.0 fw.bin)
}

run 0 tinyhsm info
has "$TMP/out" "CA certificate"
run 0 tinyhsm cert ca -o "$TMP/ca1.pem"
run 0 tinyhsm cert signer -o "$TMP/signer1.pem"
ok "info and cert work with a PIN set"

run 0 sign
[ -s "$TMP/s$n/signed_binary.bin" ] || fail "no image"
TINYHSM_PIN= run 1 sign --pin-file /nonexistent
ok "sign works with the PIN, not without"

# the old code sent AT+RESET after the login: AUTH_REQUIRED
run 0 tinyhsm config --new signer --yes --signer-cn Second
run 0 tinyhsm cert signer -o "$TMP/signer2.pem"
cmp -s "$TMP/signer1.pem" "$TMP/signer2.pem" && fail "signer not replaced"
openssl verify -CAfile "$TMP/ca1.pem" "$TMP/signer2.pem" >/dev/null ||
    fail "new signer does not chain to the kept CA"
env -u TINYHSM_PIN "$BIN/tinyhsm" config --new signer --yes </dev/null \
    >"$TMP/out" 2>"$TMP/err" && fail "config without the PIN worked"
has "$TMP/err" "--pin-file"
has "$TMP/err" "nothing on the device was changed"
run 0 tinyhsm cert signer -o "$TMP/signer3.pem"
cmp -s "$TMP/signer2.pem" "$TMP/signer3.pem" || fail "signer changed without PIN"
ok "config --new signer works with a PIN set, and needs it"

run 0 tinyhsm config --new all --yes --ca-cn Second_CA
run 0 tinyhsm cert ca -o "$TMP/ca2.pem"
cmp -s "$TMP/ca1.pem" "$TMP/ca2.pem" && fail "CA not replaced"
run 0 tinyhsm info
TINYHSM_PIN= run 1 sign --pin-file /nonexistent
run 0 sign
ok "config --new all works with a PIN set and keeps the PIN"

run 0 tinyhsm log
has "$TMP/out" " SIGN_SB10 " # tinyhsm sign: image mode
run 0 tinyhsm log --verify
has "$TMP/out" "PASS"
ok "log works with a PIN set"

echo right-pin-2 >"$TMP/new.txt"
run 0 tinyhsm --pin-file "$TMP/pin.txt" pin change --new-pin-file "$TMP/new.txt"
run 1 sign
has "$TMP/err" "wrong PIN"
sleep 2 # a wrong PIN makes the device refuse every try for 1 s
TINYHSM_PIN=right-pin-2 run 0 sign
ok "pin change works"

TINYHSM_PIN=right-pin-2 run 0 tinyhsm decommission --yes
run 1 tinyhsm cert ca
TINYHSM_PIN= run 0 tinyhsm config --new all
ok "decommission works with a PIN set"
stop_daemon
finish
