#!/usr/bin/env bash
# tinyhsm sign in image mode (the device offers it: the image is streamed,
# the device hashes and reads it) and in digest mode (a relay hides the
# IMAGE= field, as the original board has none): the same firmware gives
# the same files, byte for byte, apart from the signature.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"
TOOLS=$(cd "$(dirname "$0")/tools" && pwd)

start_daemon
run 0 tinyhsm config --new all
cd "$TMP"
firmware 100000 >fw.bin
size=$((512 + (100000 + 511) / 512 * 512))
mkdir img dig

run 0 tinyhsm -d sign --board B-U585I-IOT02A --version 1.2.3 -o img fw.bin
cp "$TMP/out" img.out
cp "$TMP/err" img.trace
has img.trace "AT+IMG_BEGIN FORMAT=SECUREBOOT10 SIZE=$size"
[ "$(grep -c '<- AT+IMG_DATA SEQ=' img.trace)" -eq $((size / 512)) ] ||
    fail "not one AT+IMG_DATA per 512 bytes"
has img.trace "<- AT+IMG_END"
! grep -q "AT+SIGNER_SIGN" img.trace || fail "image mode sent a digest"
ok "image mode: the image is streamed in 512-byte chunks, no digest sent"

python3 "$TOOLS/hide_image.py" "$(flood_link)" "$TMP/hidden" 2>"$TMP/relay.err" &
RELAY=$!
trap 'kill $RELAY 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do [ -e "$TMP/hidden" ] && break; sleep 0.05; done
[ -e "$TMP/hidden" ] || fail "the relay made no pty: $(cat "$TMP/relay.err")"
TINYHSM_PORT=$(cat "$TMP/hidden") run 0 tinyhsm -d sign --board B-U585I-IOT02A \
    --version 1.2.3 -o dig fw.bin
cp "$TMP/out" dig.out
cp "$TMP/err" dig.trace
has dig.trace "<- AT+SIGNER_SIGN HASH="
! grep -q "IMG_" dig.trace || fail "digest mode streamed"
! grep -q "IMAGE=" dig.trace || fail "the relay let IMAGE= through"
kill $RELAY; wait $RELAY 2>/dev/null || true # it holds the firmware's pty
ok "without IMAGE= in the status: digest mode"

[ "$(stat -c %s img/signed_binary.bin)" -eq $((size + 64)) ] || fail "image size"
cmp -s <(head -c "$size" img/signed_binary.bin) \
       <(head -c "$size" dig/signed_binary.bin) || fail "images differ"
cmp -s img/stsafe_signer_cert.pem dig/stsafe_signer_cert.pem || fail "certs differ"
cmp -s img/SigGen.c dig/SigGen.c || fail "SigGen.c differ"
# (the signatures may be equal too: the firmware's ECDSA is deterministic)
same() { grep -v '^Signature [rs]:' "$1" | sed 's#\(img\|dig\)/#OUT/#g'; }
diff <(same img.out) <(same dig.out) ||
    fail "the summaries differ: $(diff img.out dig.out)"
ok "same files and summary apart from the signature"

for d in img dig; do
    printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' \
        "$(tail -c 64 $d/signed_binary.bin | head -c 32 | od -An -v -tx1 | tr -d ' \n')" \
        "$(tail -c 32 $d/signed_binary.bin | od -An -v -tx1 | tr -d ' \n')" >sig.cnf
    openssl asn1parse -genconf sig.cnf -out sig.der -noout
    openssl x509 -in $d/stsafe_signer_cert.pem -noout -pubkey >pub.pem
    head -c "$size" $d/signed_binary.bin >part.bin
    openssl dgst -sha256 -verify pub.pem -signature sig.der part.bin >/dev/null ||
        fail "openssl rejects the $d signature"
done
ok "openssl verifies both signatures"

digest=$(head -c "$size" img/signed_binary.bin | sha256sum | cut -c1-64 | tr a-f A-F)
run 0 tinyhsm log --images
has "$TMP/out" "SECUREBOOT10  B-U585I-IOT02A    1.2.3"
has "$TMP/out" "$size  $digest"
[ "$(grep -c SECUREBOOT10 "$TMP/out")" -eq 1 ] || fail "the digest signature is no image"
run 0 tinyhsm log --json
python3 - "$TMP/out" "$digest" "$size" <<'PY' || fail "log --json"
import json, sys
recs = json.load(open(sys.argv[1]))["records"]
img = [r for r in recs if r["event"] == "SIGN_SB10"]
assert len(img) == 1 and img[0]["digest"] == sys.argv[2], img
assert (img[0]["format"], img[0]["board"], img[0]["version"], img[0]["size"]) == \
    ("SECUREBOOT10", "B-U585I-IOT02A", "1.2.3", int(sys.argv[3])), img
assert len([r for r in recs if r["event"] == "SIGN"]) == 1
PY
ok "the log names format, board, version, size and SHA-256 of the image"
finish
