#!/usr/bin/env bash
# tinyhsm sign --key pkcs11:...: a key on any PKCS#11 token signs the same
# SECUREBOOT10 image, certificate and SigGen.c as the device; tinyhsm
# verify checks them. SoftHSM2 (its tokens in $TMP), then our own module
# in front of tinyhsmd.
source "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../e2e/tools/firmware.sh"
MCUBOOT_PY=$(cd "$(dirname "$0")/../e2e/tools" && pwd)/mcuboot.py
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
[ -r "$SOFTHSM" ] || fail "no SoftHSM2 at $SOFTHSM (apt-get install softhsm2)"
export SOFTHSM2_CONF=$TMP/softhsm2.conf
mkdir "$TMP/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$TMP/tokens" >"$SOFTHSM2_CONF"
SPIN=4711-release
run 0 softhsm2-util --init-token --free --label release --pin "$SPIN" --so-pin 12345678
sp11() { pkcs11-tool --module "$SOFTHSM" --token-label release --login --pin "$SPIN" "$@"; }
# a key made on the token, no certificate
run 0 sp11 --keypairgen --key-type EC:prime256v1 --label fw-signer --id 01
# a key with its certificate (and no public key object: the certificate
# gives the public key)
openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/k2.pem"
openssl pkcs8 -topk8 -nocrypt -in "$TMP/k2.pem" -outform DER -out "$TMP/k2.der"
openssl req -x509 -new -key "$TMP/k2.pem" -subj /CN=fw-signer-2 -days 365 \
    -outform DER -out "$TMP/c2.der"
run 0 sp11 --write-object "$TMP/k2.der" --type privkey --id 02 --label with-cert
run 0 sp11 --write-object "$TMP/c2.der" --type cert --id 02 --label with-cert
# an RSA key
run 0 sp11 --keypairgen --key-type rsa:2048 --label rsa --id 03

cd "$TMP"
firmware 5000 >fw.bin
SIGN=(tinyhsm sign --board B-U585I-IOT02A --version 1.2.3)

# no certificate on the token: image and SigGen.c, no certificate file
mkdir out1
TINYHSM_PIN=$SPIN run 0 "${SIGN[@]}" --module "$SOFTHSM" \
    --key 'pkcs11:token=release;object=fw-signer' -o out1/ fw.bin
has "$TMP/out" "SigGen.c (no certificate: the token holds none for this key)"
[ -s out1/signed_binary.bin ] && [ -s out1/SigGen.c ] || fail "outputs missing: $(ls out1)"
[ ! -e out1/stsafe_signer_cert.pem ] || fail "a certificate was written"
run 0 tinyhsm verify --siggen out1/SigGen.c out1/signed_binary.bin
has "$TMP/out" "PASS signature"
pkcs11-tool --module "$SOFTHSM" --token-label release --read-object --type pubkey \
    --id 01 -o pub1.der >/dev/null 2>&1 || fail "cannot read the public key"
openssl pkey -pubin -inform DER -in pub1.der -out pub1.pem
run 0 tinyhsm verify --pubkey pub1.pem out1/signed_binary.bin
cmp -s fw.bin <(tail -c +513 out1/signed_binary.bin | head -c 5000) || fail "firmware bytes"
ok "a SoftHSM2 key without a certificate signs; verify passes with SigGen.c and its public key"

# --format mcuboot with the same key: the image alone; tinyhsm verify and
# the independent checker (openssl) accept it with the token's public key
TINYHSM_PIN=$SPIN run 0 tinyhsm sign --format mcuboot --header-size 0x200 \
    --pad-header --slot-size 0x20000 --version 1.2.3+4 --module "$SOFTHSM" \
    --key 'pkcs11:token=release;object=fw-signer' -o mcu.bin fw.bin
has "$TMP/out" "Signed by:     a PKCS#11 key (--key)"
run 0 tinyhsm verify --format mcuboot --pubkey pub1.pem --slot-size 0x20000 mcu.bin
has "$TMP/out" "PASS signature"
run 0 python3 "$MCUBOOT_PY" verify --pubkey pub1.pem mcu.bin
has "$TMP/out" "OK"
ok "a SoftHSM2 key signs an MCUboot image (sign --format mcuboot --key)"

# no module named: p11-kit's registered ones (Debian's softhsm2 registers
# itself), narrowed by module-name=; --json says there is no certificate
if [ -e /usr/share/p11-kit/modules/softhsm2.module ]; then
    TINYHSM_PIN=$SPIN run 0 "${SIGN[@]}" --json -o img5.bin --siggen S5.c \
        --key 'pkcs11:token=release;object=fw-signer?module-name=softhsm2' fw.bin
    has "$TMP/out" '"certificate":null'
    has "$TMP/out" '"ok":true'
    run 0 tinyhsm verify --siggen S5.c img5.bin
    ok "p11-kit's registered module, chosen by module-name=; --json certificate null"
fi

# --cert-out is refused before anything is signed when there is no certificate
mkdir out2
TINYHSM_PIN=$SPIN run 1 "${SIGN[@]}" --module "$SOFTHSM" \
    --key 'pkcs11:token=release;object=fw-signer' -o out2/img.bin \
    --cert-out out2/c.pem --siggen out2/SigGen.c fw.bin
has "$TMP/err" "--cert-out out2/c.pem: the PKCS#11 key has no certificate"
[ -z "$(ls -A out2)" ] || fail "refused, yet wrote: $(ls -A out2)"
ok "--cert-out refused, nothing written, when the token holds no certificate"

# the certificate with the key's CKA_ID; module-path and pin-source in the URI
echo "$SPIN" >pin.txt
chmod 600 pin.txt
run 0 "${SIGN[@]}" -o img2.bin --cert-out c2.pem --siggen S2.c \
    --key "pkcs11:token=release;object=with-cert?module-path=$SOFTHSM&pin-source=file:$TMP/pin.txt" \
    fw.bin
run 0 tinyhsm verify --cert c2.pem img2.bin
has "$TMP/out" "PASS signature"
run 0 tinyhsm verify --siggen S2.c img2.bin
openssl x509 -inform DER -in c2.der -out c2.want.pem
cmp -s c2.pem c2.want.pem || fail "the certificate written is not the token's"
ok "the token's certificate is written; verify --cert and --siggen pass (module-path=, pin-source=)"

# refusals: wrong PIN, no such key, RSA, several keys, a bad URI
mkdir out3
TINYHSM_PIN=wrong-pin run 1 "${SIGN[@]}" --module "$SOFTHSM" \
    --key 'pkcs11:token=release;object=fw-signer' -o out3/ fw.bin
has "$TMP/err" "wrong PIN for token 'release'"
TINYHSM_PIN=$SPIN run 1 "${SIGN[@]}" --module "$SOFTHSM" \
    --key 'pkcs11:token=release;object=nothing-here' -o out3/ fw.bin
has "$TMP/err" "no private key on token 'release' matches"
TINYHSM_PIN=$SPIN run 1 "${SIGN[@]}" --module "$SOFTHSM" \
    --key 'pkcs11:token=release;object=rsa' -o out3/ fw.bin
has "$TMP/err" "is not an EC P-256 key (RSA)"
TINYHSM_PIN=$SPIN run 1 "${SIGN[@]}" --module "$SOFTHSM" \
    --key 'pkcs11:token=release' -o out3/ fw.bin
has "$TMP/err" "more than one private key"
TINYHSM_PIN=$SPIN run 1 "${SIGN[@]}" --module "$SOFTHSM" \
    --key 'pkcs11:token=nosuch;object=fw-signer' -o out3/ fw.bin
has "$TMP/err" "no PKCS#11 token matches"
run 1 "${SIGN[@]}" --module "$TMP/missing.so" --key 'pkcs11:object=x' -o out3/ fw.bin
has "$TMP/err" "cannot load PKCS#11 module $TMP/missing.so"
[ -z "$(ls -A out3)" ] || fail "refused, yet wrote: $(ls -A out3)"
run 2 "${SIGN[@]}" --key 'pkcs11:token=%zz' fw.bin
has "$TMP/err" "is not a PKCS#11 URI"
run 2 "${SIGN[@]}" --key 'signer.pem' fw.bin
has "$TMP/err" "--key takes a PKCS#11 URI"
run 2 "${SIGN[@]}" --module "$SOFTHSM" fw.bin
has "$TMP/err" "--module chooses the module of a --key"
run 2 "${SIGN[@]}" --key 'pkcs11:object=with-cert;type=cert' fw.bin
has "$TMP/err" "names another object type"
ok "wrong PIN, missing key, RSA key, several keys, no token, no module, bad URIs: refused, nothing written"

# the same preflight as with the device: an ELF is refused before the PIN
printf '\177ELF' >fw.elf
head -c 2000 /dev/urandom >>fw.elf
run 1 "${SIGN[@]}" --module "$SOFTHSM" --key 'pkcs11:token=release;object=fw-signer' \
    -o out3/ fw.elf
has "$TMP/err" "not a raw binary"
ok "preflight refuses an ELF before the token is opened"

# our own module in front of tinyhsmd: the URI signs like the device
start_daemon
provision
mkdir out4
TINYHSM_PIN=$PIN run 0 tinyhsm cert signer -o device-signer.pem
TINYHSM_PIN=$PIN run 0 tinyhsm sign --board B-U585I-IOT02A \
    --version 1.2.3 --module "$MODULE" --key 'pkcs11:object=signer;type=private' \
    -o out4/ fw.bin
run 0 tinyhsm verify --cert device-signer.pem out4/signed_binary.bin
has "$TMP/out" "PASS signature"
cmp -s out4/stsafe_signer_cert.pem device-signer.pem ||
    fail "the certificate through the module is not the device's"
ok "through libtinyhsm-pkcs11.so: the device's key signs, its certificate is written"
finish
