#!/usr/bin/env bash
# The security officer through the module (pkcs11-tool): CKU_SO login,
# C_InitPIN unblocks a blocked user PIN with the keys kept, C_SetPIN for
# either role, the SO PIN's flags and errors, and the device's wait after
# wrong PINs (waited out by the module when short, CKR_PIN_LOCKED when not).
source "$(dirname "$0")/lib.sh"
start_daemon
provision
echo abc >"$TMP/digest"
so() { p11 --login --login-type so --so-pin "$1" "${@:2}"; }
flags() { run 0 p11 -L; sed -n 's/^ *token flags *: //p' "$TMP/out"; }
key_id() { tinyhsm info | sed -n 's/^Signer key id: //p'; }

run 1 so officer-puk --init-pin --new-pin new-pin-1
has "$TMP/err" "CKR_USER_TYPE_INVALID"
ok "without an SO PIN the SO cannot log in: CKR_USER_TYPE_INVALID"

TINYHSM_PIN=$PIN TINYHSM_NEW_PIN=officer-puk run 0 tinyhsm pin set --so
run 1 so 12345 --init-pin --new-pin new-pin-1
has "$TMP/err" "CKR_PIN_LEN_RANGE"
run 1 so "with space" --init-pin --new-pin new-pin-1
has "$TMP/err" "CKR_PIN_INVALID"
run 0 tinyhsm info
has "$TMP/out" "SO PIN:      set, 10 tries left"
run 1 so officer-puk -O
has "$TMP/err" "CKR_SESSION_READ_ONLY_EXISTS"
ok "malformed SO PINs cost no try; the SO logs in only with no read-only session open"

run 1 so wrong-puk --init-pin --new-pin new-pin-1
has "$TMP/err" "CKR_PIN_INCORRECT"
[[ $(flags) == *"SO PIN count low"* ]] || fail "no SO PIN count low: $(flags)"
[[ $(flags) == *"user PIN"* ]] && fail "user PIN flags after a wrong SO PIN: $(flags)"
ok "a wrong SO PIN: CKR_PIN_INCORRECT and CKF_SO_PIN_COUNT_LOW"

key=$(key_id)
[ -n "$key" ] || fail "no signer key id"
start=$SECONDS
for _ in 1 2 3 4 5; do run 1 p11 --login --pin wrong-pin -O; done
has "$TMP/err" "CKR_PIN_INCORRECT"
[ $((SECONDS - start)) -ge 14 ] || fail "5 wrong PINs took $((SECONDS - start)) s, not 1+2+4+8"
[[ $(flags) == *"user PIN locked"* ]] || fail "not locked: $(flags)"
ok "five wrong user PINs, each after the device's wait (the module waits it out), lock"

run 0 so officer-puk --init-pin --new-pin new-pin-1
[[ $(flags) == *"user PIN locked"* ]] && fail "still locked: $(flags)"
[[ $(flags) == *"SO PIN count low"* ]] && fail "SO count low after a right SO PIN: $(flags)"
[ "$(key_id)" = "$key" ] || fail "the signer key changed"
run 0 p11 --read-object --type cert --label signer -o "$TMP/cert.der"
run 0 p11 --login --pin new-pin-1 --sign -m ECDSA-SHA256 --signature-format openssl \
    --label signer -i "$TMP/digest" -o "$TMP/sig"
verify_sig "$TMP/sig" "$TMP/digest" "$TMP/cert.der"
run 1 p11 --login --pin "$PIN" -O
has "$TMP/err" "CKR_PIN_INCORRECT"
ok "C_InitPIN in an SO session unblocks: a new user PIN, the same key, signing works"

run 1 so officer-puk --init-pin --new-pin 123456
has "$TMP/err" "0x1c3" # CKR_PIN_TOO_WEAK (PKCS#11 3.0)
ok "C_InitPIN: a weak PIN is CKR_PIN_TOO_WEAK"

sleep 1 # the wait after the wrong user PIN above
run 0 p11 --login --pin new-pin-1 --change-pin --new-pin new-pin-2
run 1 p11 --login --pin new-pin-1 -O
has "$TMP/err" "CKR_PIN_INCORRECT"
run 0 p11 --login --pin new-pin-2 -O
run 0 so officer-puk --change-pin --new-pin officer-puk-2
run 1 so officer-puk --init-pin --new-pin new-pin-3
has "$TMP/err" "CKR_PIN_INCORRECT"
run 0 so officer-puk-2 --init-pin --new-pin new-pin-3
run 0 p11 --login --pin new-pin-3 -O
ok "C_SetPIN changes the user PIN in a user session and the SO PIN in an SO session"

for _ in 1 2 3 4 5; do run 1 so wrong-puk --init-pin --new-pin new-pin-4; done
has "$TMP/err" "CKR_PIN_INCORRECT"
start=$SECONDS
run 1 so officer-puk-2 --init-pin --new-pin new-pin-4
has "$TMP/err" "CKR_PIN_LOCKED"
[ $((SECONDS - start)) -le 5 ] || fail "the module waited $((SECONDS - start)) s for a 16 s wait"
[[ $(flags) == *"SO PIN locked"* ]] && fail "the SO PIN is only waiting: $(flags)"
[[ $(flags) == *"SO PIN count low"* ]] || fail "no SO count low: $(flags)"
run 0 tinyhsm info
has "$TMP/out" "SO PIN:      set, 5 tries left"
ok "a wait longer than the module's bound: CKR_PIN_LOCKED at once, no try spent, no lock flag"
finish
