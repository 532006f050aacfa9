#!/usr/bin/env bash
# tinyhsm cert renew: a new certificate for the same key (checked with
# openssl), so a SigGen.c made before stays right; the renewed CA still
# verifies the signer; the log records both; the PIN gates it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"

pubkey() { openssl x509 -in "$1" -noout -pubkey; }
serial() { openssl x509 -in "$1" -noout -serial; }
days_valid() { # FILE -> whole days between notBefore and notAfter
    local from to
    from=$(date -ud "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s)
    to=$(date -ud "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s)
    echo $(((to - from) / 86400))
}

start_daemon
run 1 tinyhsm cert renew signer
has "$TMP/err" "no signer key"
run 0 tinyhsm config --new all
cd "$TMP"
firmware 4096 >fw.bin
run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 --siggen SigGen1.c fw.bin
run 0 tinyhsm cert ca -o ca1.pem
run 0 tinyhsm cert signer -o signer1.pem

run 2 tinyhsm cert renew key
has "$TMP/err" "ca or signer"
run 2 tinyhsm cert renew signer --days 0
has "$TMP/err" "--days must be a number from 1 to 36500"
run 2 tinyhsm cert renew signer --dayz 3
has "$TMP/err" "--days"
ok "cert renew: a wrong certificate name or --days is a usage error"

run 0 tinyhsm cert renew signer --days 30
has "$TMP/out" "Renewed the signer certificate for 30 days; the key is the same."
has "$TMP/out" "tinyhsm cert signer -o stsafe_signer_cert.pem"
run 0 tinyhsm cert signer -o signer2.pem
[ "$(pubkey signer2.pem)" = "$(pubkey signer1.pem)" ] || fail "the signer key changed"
[ "$(serial signer2.pem)" != "$(serial signer1.pem)" ] || fail "same serial"
[ "$(days_valid signer2.pem)" = 30 ] || fail "signer valid $(days_valid signer2.pem) days"
openssl verify -CAfile ca1.pem signer2.pem >/dev/null || fail "renewed signer does not chain"
ok "cert renew signer: same key, new serial, 30 days, still issued by the CA"

run 0 tinyhsm cert renew ca
has "$TMP/out" "Renewed the CA certificate for 3650 days"
run 0 tinyhsm cert ca -o ca2.pem
[ "$(pubkey ca2.pem)" = "$(pubkey ca1.pem)" ] || fail "the CA key changed"
cmp -s ca1.pem ca2.pem && fail "the CA certificate did not change"
openssl verify -CAfile ca2.pem signer1.pem >/dev/null || fail "old signer vs renewed CA"
openssl verify -CAfile ca2.pem signer2.pem >/dev/null || fail "signer vs renewed CA"
ok "cert renew ca: same key; the signer certificates verify against it"

run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.1 --siggen SigGen2.c fw.bin
cmp -s SigGen1.c SigGen2.c || fail "SigGen.c changed after renewing"
ok "SigGen.c is the same after renewing: bootloaders built before keep working"

run 0 tinyhsm log
has "$TMP/out" "CA_RENEW"
has "$TMP/out" "SIGNER_RENEW"
ok "the log records both renewals"

TINYHSM_NEW_PIN=renew-pin-1 run 0 tinyhsm pin set
run 1 tinyhsm cert renew signer </dev/null
run 0 tinyhsm cert signer -o signer3.pem
cmp -s signer2.pem signer3.pem || fail "renewed without the PIN"
TINYHSM_PIN=renew-pin-1 run 0 tinyhsm cert renew signer --days 10
run 0 tinyhsm cert signer -o signer4.pem
[ "$(days_valid signer4.pem)" = 10 ] || fail "renew with the PIN"
ok "with a PIN set, renewing needs it"
stop_daemon
finish
