#!/usr/bin/env bash
# MCUboot from the command line: the signer's public key as the C array
# MCUboot compiles in (its bytes are the DER SubjectPublicKeyInfo openssl
# derives from the signer certificate) and as PEM; verify --format mcuboot
# on an image openssl signed (fuzz/make_mcuboot_seeds.sh).
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

# sign-digest: base64 of a DER signature that openssl verifies over the digest.
head -c 1000 /dev/urandom | openssl dgst -sha256 -binary >digest.bin
run 0 tinyhsm sign-digest --der --base64 digest.bin
base64 -d "$TMP/out" >sig.der || fail "sign-digest wrote no base64"
openssl pkeyutl -verify -pubin -inkey want.pem -in digest.bin -sigfile sig.der \
    >/dev/null || fail "openssl does not verify sign-digest's signature"
head -c 31 digest.bin >short.bin
run 1 tinyhsm sign-digest --der --base64 short.bin
has "$TMP/err" "not a 32-byte SHA-256 digest"
run 2 tinyhsm sign-digest digest.bin
has "$TMP/err" "only --der --base64"
ok "sign-digest --der --base64: what imgtool --fix-sig reads; openssl verifies it"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
cp "$SRC/fuzz/corpus/mcuboot/valid_keyhash" img.bin
openssl pkey -in "$SRC/fuzz/boot_test_key.pem" -pubout -out test_pub.pem
run 0 tinyhsm verify --format mcuboot --pubkey test_pub.pem --slot-size 4096 img.bin
for check in header tlv-areas hash key signature slot; do
    grep -qE "^PASS $check " "$TMP/out" || fail "no PASS $check line"
done
has "$TMP/out" "img.bin: OK"
ok "verify --format mcuboot: an image openssl signed passes every check"

# One byte of the payload changed: the hash fails, nothing else is hidden.
cp img.bin bad.bin
printf '\x55' | dd of=bad.bin bs=1 seek=600 conv=notrunc status=none
run 1 tinyhsm verify --format mcuboot --pubkey test_pub.pem bad.bin
grep -qE "^FAIL hash " "$TMP/out" || fail "a tampered payload passed the hash"
grep -qE "^FAIL signature " "$TMP/out" || fail "a tampered payload passed"
has "$TMP/out" "bad.bin: REJECTED"
ok "verify --format mcuboot: a changed byte fails"

run 1 tinyhsm verify --format mcuboot --cert signer.pem img.bin
grep -qE "^FAIL key " "$TMP/out" || fail "another key passed the key check"
grep -qE "^FAIL signature " "$TMP/out" || fail "another key verified"
ok "verify --format mcuboot: the wrong key fails"

run 1 tinyhsm verify --format mcuboot --pubkey test_pub.pem --slot-size 2000 img.bin
grep -qE "^FAIL slot .*no room" "$TMP/out" || fail "a slot too small passed"
head -c 1500 img.bin >short.bin
run 1 tinyhsm verify --format mcuboot --pubkey test_pub.pem short.bin
grep -qE "^FAIL tlv-areas " "$TMP/out" || fail "a truncated image passed"
ok "verify --format mcuboot: a slot too small or a truncated file fails"

run 2 tinyhsm verify --format mcuboot --pubkey test_pub.pem --board X img.bin
has "$TMP/err" "are for SECUREBOOT10 images"
run 2 tinyhsm verify --pubkey test_pub.pem --slot-size 4096 img.bin
has "$TMP/err" "are for --format mcuboot"
run 2 tinyhsm verify --format elf --pubkey test_pub.pem img.bin
has "$TMP/err" "--format is secureboot10 or mcuboot"
ok "verify --format: options of the other format are usage errors"
finish
