#!/usr/bin/env bash
# The module through standard tools: OpenSC's pkcs11-tool, GnuTLS's p11tool,
# OpenSSL's pkcs11 engine; each signature checked by openssl against the
# certificate read from the token.
source "$(dirname "$0")/lib.sh"
start_daemon
provision
head -c 100000 /dev/urandom >"$TMP/data"
openssl dgst -sha256 -binary "$TMP/data" >"$TMP/digest"

run 0 p11 -L
serial=$(tinyhsm info | sed -n 's/^Serial: *//p')
has "$TMP/out" "token label        : TinyHSM $serial"
has "$TMP/out" "serial num         : ${serial: -16}"
has "$TMP/out" "login required"
has "$TMP/out" "pin min/max        : 6/64"
ok "pkcs11-tool -L: the token, its serial and login required"

run 0 p11 -O
has "$TMP/out" "label:      signer"
has "$TMP/out" "label:      ca"
grep -q "Private Key Object" "$TMP/out" && fail "a private key shows without a login"
run 0 p11 -O --login --pin "$PIN"
has "$TMP/out" "Private Key Object; EC"
has "$TMP/out" "Access:     sensitive, always sensitive, never extractable, local"
ok "pkcs11-tool -O: keys and certificates, the private key after a login"

run 0 p11 --read-object --type cert --label signer -o "$TMP/signer.der"
run 0 p11 --read-object --type cert --label ca -o "$TMP/ca.der"
openssl x509 -inform DER -in "$TMP/ca.der" -out "$TMP/ca.pem"
openssl x509 -inform DER -in "$TMP/signer.der" -out "$TMP/signer.pem"
run 0 openssl verify -CAfile "$TMP/ca.pem" "$TMP/signer.pem"
run 0 p11 --login --pin "$PIN" --sign -m ECDSA --label signer -i "$TMP/digest" \
    -o "$TMP/sig1" --signature-format openssl
verify_sig "$TMP/sig1" "$TMP/data" "$TMP/signer.der"
run 0 p11 --login --pin "$PIN" --sign -m ECDSA-SHA256 --label signer -i "$TMP/data" \
    -o "$TMP/sig2" --signature-format openssl
verify_sig "$TMP/sig2" "$TMP/data" "$TMP/signer.der"
ok "pkcs11-tool --sign -m ECDSA and -m ECDSA-SHA256 verify against the token's certificate"

run 0 tool p11tool --provider "$MODULE" --list-all
has "$TMP/out" "object=signer;type=cert"
has "$TMP/out" "object=ca;type=public"
GNUTLS_PIN=$PIN run 0 tool p11tool --provider "$MODULE" --login --test-sign \
    'pkcs11:object=signer;type=private'
cat "$TMP/out" "$TMP/err" >"$TMP/all"
has "$TMP/all" "Verifying against public key in the token... ok"
ok "p11tool --list-all and --test-sign"

PKCS11_MODULE_PATH=$MODULE run 0 tool openssl pkeyutl -sign -engine pkcs11 \
    -keyform engine -inkey "pkcs11:object=signer;type=private;pin-value=$PIN" \
    -in "$TMP/digest" -out "$TMP/sig3"
run 0 openssl pkeyutl -verify -pubin -inkey "$TMP/pub.pem" -in "$TMP/digest" \
    -sigfile "$TMP/sig3"
ok "openssl pkeyutl -sign -engine pkcs11 signs, openssl verifies"

# a new signer key, made under the CA (without a login: tests/pkcs11/p11_module.c)
old=$(tinyhsm info | sed -n 's/^Signer key id: *//p')
run 0 p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --label signer
new=$(tinyhsm info | sed -n 's/^Signer key id: *//p')
[ -n "$new" ] && [ "$new" != "$old" ] || fail "the signer key is still $old"
run 0 p11 --read-object --type cert --label signer -o "$TMP/signer2.der"
openssl x509 -inform DER -in "$TMP/signer2.der" -out "$TMP/signer2.pem"
run 0 openssl verify -CAfile "$TMP/ca.pem" "$TMP/signer2.pem"
has <(openssl x509 -in "$TMP/signer2.pem" -noout -subject) "CN = My_ECDSA_Signer"
run 0 p11 --login --pin "$PIN" --sign -m ECDSA-SHA256 --label signer -i "$TMP/data" \
    -o "$TMP/sig4" --signature-format openssl
verify_sig "$TMP/sig4" "$TMP/data" "$TMP/signer2.der"
run 1 p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --label ca
ok "C_GenerateKeyPair replaces the signer key, the new certificate chains to the CA"
finish
