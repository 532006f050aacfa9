#!/usr/bin/env bash
# MCUboot from the command line: the signer's public key as the C array
# MCUboot compiles in (its bytes are the DER SubjectPublicKeyInfo openssl
# derives from the signer certificate) and as PEM.
. "$(dirname "$0")/lib.sh"

start_daemon
run 0 tinyhsm config --new all
cd "$TMP"
run 0 tinyhsm cert signer -o signer.pem
openssl x509 -in signer.pem -noout -pubkey >want.pem
openssl pkey -pubin -in want.pem -outform DER -out want.der

run 0 tinyhsm cert signer --format mcuboot-c -o key.c
has key.c "const unsigned char ecdsa_pub_key[] = {"
has key.c "const unsigned int ecdsa_pub_key_len = 91;"
# The array's bytes, 0x.. in order, equal the DER openssl writes.
grep -oE '0x[0-9a-fA-F]{2}' key.c | sed 's/0x//' | tr -d '\n' >got.hex
[ "$(cat got.hex)" = "$(od -An -v -tx1 want.der | tr -d ' \n')" ] ||
    fail "the C array is not the DER SubjectPublicKeyInfo"
ok "cert signer --format mcuboot-c: the DER key openssl derives, as a C array"

run 0 tinyhsm cert signer --format pubkey-pem
cmp "$TMP/out" want.pem || fail "pubkey-pem differs from openssl's"
run 0 tinyhsm cert signer --format pubkey-pem -o key.pem
cmp key.pem want.pem || fail "pubkey-pem -o differs"
ok "cert signer --format pubkey-pem: openssl's PEM public key"

run 2 tinyhsm cert signer --format der
has "$TMP/err" "--format must be mcuboot-c or pubkey-pem"
run 2 tinyhsm cert ca --format mcuboot-c
has "$TMP/err" "--format is for the signer's key"
run 2 tinyhsm cert signer --format pubkey-pem --der -o x
has "$TMP/err" "without --der"
[ ! -e x ] || fail "a usage error wrote x"
ok "cert --format: another format, the CA or --der is a usage error"
finish
