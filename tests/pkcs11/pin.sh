#!/usr/bin/env bash
# PIN handling through the module: no PIN, malformed, wrong, count low,
# final try, locked; key replacement refused without a PIN.
source "$(dirname "$0")/lib.sh"
start_daemon
run 0 tinyhsm config --new all --yes
echo abc >"$TMP/digest"

run 0 p11 -L
grep -q "login required" "$TMP/out" && fail "login required without a PIN"
run 0 p11 --sign -m ECDSA --label signer -i "$TMP/digest" -o "$TMP/sig"
run 1 p11 --login --pin 123456 -O
has "$TMP/err" "CKR_USER_PIN_NOT_INITIALIZED"
run 1 p11 --keypairgen --key-type EC:prime256v1 --label signer
has "$TMP/err" "CKR_USER_PIN_NOT_INITIALIZED"
ok "no PIN: signing needs no login, C_Login and key replacement are refused"

TINYHSM_NEW_PIN=$PIN run 0 tinyhsm pin set
run 1 p11 --login --pin 12345 -O
has "$TMP/err" "CKR_PIN_LEN_RANGE"
run 1 p11 --login --pin "$(printf 'x%.0s' $(seq 65))" -O
has "$TMP/err" "CKR_PIN_LEN_RANGE"
run 1 p11 --login --pin "with space" -O
has "$TMP/err" "CKR_PIN_INVALID"
run 0 tinyhsm info
has "$TMP/out" "5 tries left"
ok "malformed PINs: CKR_PIN_LEN_RANGE / CKR_PIN_INVALID, no try spent"

run 1 p11 --login --pin wrong-pin -O
has "$TMP/err" "CKR_PIN_INCORRECT"
run 0 p11 -L
has "$TMP/out" "user PIN count low"
for _ in 1 2 3; do run 1 p11 --login --pin wrong-pin -O; done
run 0 p11 -L
has "$TMP/out" "final user PIN try"
run 1 p11 --login --pin wrong-pin -O
has "$TMP/err" "CKR_PIN_INCORRECT"
run 0 p11 -L
has "$TMP/out" "user PIN locked"
run 1 p11 --login --pin "$PIN" -O
has "$TMP/err" "CKR_PIN_LOCKED"
ok "wrong PIN: CKR_PIN_INCORRECT, count low, final try, then CKR_PIN_LOCKED even for the right one"
finish
