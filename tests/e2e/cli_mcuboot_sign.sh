#!/usr/bin/env bash
# tinyhsm sign --format mcuboot: the device signs an MCUboot image that an
# independent checker (tools/mcuboot.py: the openssl command over the bytes
# the format says are hashed, and the key hash) and tinyhsm verify accept;
# each kind of damage is refused by both; what cannot fit the slot, a bad
# version or a misplaced option writes nothing.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
MCUBOOT="python3 $SRC/tests/e2e/tools/mcuboot.py"

start_daemon
run 0 tinyhsm config --new all
cd "$TMP"
run 0 tinyhsm cert signer --format pubkey-pem -o pub.pem
head -c 5000 /dev/urandom >app.bin
SIGN=(tinyhsm sign --format mcuboot --header-size 0x200 --slot-size 0x60000)

run 0 "${SIGN[@]}" --pad-header --version 1.2.3+4 --security-counter 7 \
    -o img.bin app.bin
has "$TMP/out" "Version:       1.2.3+4"
has "$TMP/out" "Signed by:     the device"
run 0 $MCUBOOT verify --pubkey pub.pem --slot-size 0x60000 img.bin
has "$TMP/out" "version 1.2.3+4"
has "$TMP/out" "security_counter 7"
has "$TMP/out" "key KEYHASH"
has "$TMP/out" "OK"
cmp -s app.bin <(tail -c +513 img.bin | head -c 5000) || fail "payload bytes"
run 0 tinyhsm verify --format mcuboot --pubkey pub.pem --slot-size 0x60000 img.bin
for check in header tlv-areas hash key signature slot; do
    grep -qE "^PASS $check " "$TMP/out" || fail "no PASS $check line"
done
has "$TMP/out" "security counter 7"
ok "sign --format mcuboot: the independent checker and tinyhsm verify accept it"

# Sizes in decimal or hex: the same signed bytes (only the signature differs).
run 0 tinyhsm sign --format mcuboot --header-size 512 --slot-size 393216 \
    --pad-header --version 1.2.3+4 --security-counter 0x7 -o dec.bin app.bin
# The signed bytes, then the hash and key hash TLVs (the TLV area's total
# between them counts the signature, whose DER length varies).
n=$((512 + 5000 + 12))
cmp -s <(head -c $n img.bin) <(head -c $n dec.bin) || fail "hex and decimal differ"
cmp -s <(tail -c +$((n + 5)) img.bin | head -c 72) \
    <(tail -c +$((n + 5)) dec.bin | head -c 72) || fail "hash TLVs differ"
ok "sizes and the counter in decimal or 0x hexadecimal give the same image"

# Each damage is refused by tinyhsm verify (and by the independent checker).
for kind in header:header overrun:tlv-areas missing-key:key dup-hash:hash \
    keyhash:key truncate:tlv-areas; do
    run 0 $MCUBOOT damage "${kind%%:*}" img.bin bad.bin
    run 1 $MCUBOOT verify --pubkey pub.pem bad.bin
    run 1 tinyhsm verify --format mcuboot --pubkey pub.pem bad.bin
    grep -qE "^FAIL ${kind#*:} " "$TMP/out" || { cat "$TMP/out"; fail "${kind%%:*}: no FAIL ${kind#*:}"; }
    has "$TMP/out" "bad.bin: REJECTED"
done
ok "a corrupted header, an overrunning TLV, a missing or duplicated TLV, a wrong key hash, a truncated file: refused"

# Without --pad-header the application brings the header's room (zeros).
{ head -c 512 /dev/zero; cat app.bin; } >roomy.bin
run 0 "${SIGN[@]}" --version 2.0.0 -o img2.bin roomy.bin
run 0 $MCUBOOT verify --pubkey pub.pem img2.bin
has "$TMP/out" "version 2.0.0+0"
cmp -s app.bin <(tail -c +513 img2.bin | head -c 5000) || fail "payload bytes"
run 0 tinyhsm verify --format mcuboot --pubkey pub.pem img2.bin
run 1 "${SIGN[@]}" --version 2.0.0 -o img3.bin app.bin
has "$TMP/err" "does not start with 512 zero bytes"
has "$TMP/err" "--pad-header"
[ ! -e img3.bin ] || fail "a refused image was written"
ok "without --pad-header the header takes the application's zero room; without room, refused"

run 0 "${SIGN[@]}" --pad-header --public-key-format full --version 1.0.0 \
    -o full.bin app.bin
run 0 $MCUBOOT verify --pubkey pub.pem full.bin
has "$TMP/out" "key PUBKEY"
run 0 tinyhsm verify --format mcuboot --pubkey pub.pem full.bin
has "$TMP/out" "PUBKEY names the given key"
ok "--public-key-format full: the PUBKEY TLV holds the DER key"

# Too big for the slot: refused before signing, the old output kept.
echo old >out.bin
run 1 tinyhsm sign --format mcuboot --header-size 0x200 --pad-header \
    --slot-size 5000 --version 1.0.0 -o out.bin app.bin
has "$TMP/err" "do not fit the slot (5000 bytes)"
[ "$(cat out.bin)" = old ] || fail "the old output changed"
[ -z "$(ls -A . | grep -E '^\.?out\.bin.+')" ] || fail "a temporary was left"
run 1 "${SIGN[@]}" --pad-header --align 8 --slot-size $((5000 + 512 + 160 + 3000)) \
    --version 1.0.0 -o out.bin app.bin
has "$TMP/err" "trailer (3120 bytes)"
ok "an image and trailer larger than --slot-size (per --align): nothing written"

for v in 1.2.3.4 256.0.0 1.2.3+ 01.2 x; do
    run 2 "${SIGN[@]}" --pad-header --version "$v" -o v.bin app.bin
    has "$TMP/err" "--version takes MAJOR.MINOR.REVISION+BUILD"
done
[ ! -e v.bin ] || fail "a bad version wrote an image"
ok "a bad version is a usage error"

run 2 "${SIGN[@]}" --version 1.0.0 --board B-U585I-IOT02A -o x.bin app.bin
has "$TMP/err" "are for SECUREBOOT10 images"
run 2 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 --slot-size 4096 app.bin
has "$TMP/err" "are for --format mcuboot"
run 2 tinyhsm sign --format mcuboot --header-size 0x200 --version 1.0.0 -o x.bin app.bin
has "$TMP/err" "--slot-size N is needed"
run 2 "${SIGN[@]}" --version 1.0.0 --align 3 -o x.bin app.bin
has "$TMP/err" "--align takes 1, 2, 4, 8, 16 or 32"
run 2 "${SIGN[@]}" --version 1.0.0 --header-size 16 -o x.bin app.bin
has "$TMP/err" "--header-size takes 32 to 65535"
run 2 "${SIGN[@]}" --version 1.0.0 --name 'a b' -o x.bin app.bin
has "$TMP/err" "--name takes"
run 2 "${SIGN[@]}" --version 1.0.0 --name 12345678901234567 -o x.bin app.bin
has "$TMP/err" "--name takes 1 to 16" # the device keeps no more
run 2 "${SIGN[@]}" --version 1.0.0 app.bin
has "$TMP/err" "-o OUT is needed"
[ ! -e x.bin ] || fail "a usage error wrote x.bin"
ok "options of the other format, missing or bad values: usage errors"

# An MCUboot image given as the application: refused unless --force.
run 1 "${SIGN[@]}" --pad-header --version 1.0.0 -o again.bin img.bin
has "$TMP/err" "is already an MCUboot image"
[ ! -e again.bin ] || fail "refused, yet written"
run 0 "${SIGN[@]}" --pad-header --version 1.0.0 --force -o again.bin img.bin
ok "an already signed MCUboot image is refused unless --force"

run 0 "${SIGN[@]}" --pad-header --version 3.1.0 --name app-slot0 --json \
    -o j.bin app.bin
has "$TMP/out" '"format":"mcuboot"'
has "$TMP/out" '"mode":"image"' # the device hashed the image itself
has "$TMP/out" '"version":"3.1.0"'
has "$TMP/out" '"ok":true'
run 0 tinyhsm log --images
grep "MCUBOOT" "$TMP/out" | grep "app-slot0" | grep -q "3.1.0" ||
    fail "the device's log does not name the MCUboot image: $(cat "$TMP/out")"
mkdir -p dist
run 0 "${SIGN[@]}" --pad-header --version 3.1.2 --name app-slot0 \
    -o 'dist/{board}-{version}.bin' app.bin
[ -f dist/app-slot0-3.1.2.bin ] || fail "-o placeholders not replaced: $(ls dist)"
run 2 "${SIGN[@]}" --pad-header --version 3.1.3 -o 'dist/{board}.bin' app.bin
has "$TMP/err" "{board} is the MCUboot image's --name here, and none was given"
"${SIGN[@]}" --pad-header --version 3.1.1 -o - app.bin >piped.bin 2>"$TMP/err" ||
    fail "-o - failed: $(cat "$TMP/err")"
has "$TMP/err" "Wrote -"
run 0 tinyhsm verify --format mcuboot --pubkey pub.pem piped.bin
ok "--json names the format and the signing mode; -o - writes the image to a pipe"

# --trust: only the trusted key signs.
openssl pkey -in "$SRC/fuzz/boot_test_key.pem" -pubout -out other.pem
run 1 "${SIGN[@]}" --pad-header --version 3.2.0 --trust other.pem -o t.bin app.bin
has "$TMP/err" "is not the trusted key"
[ ! -e t.bin ] || fail "an untrusted key's image was written"
run 0 "${SIGN[@]}" --pad-header --version 3.2.0 --trust pub.pem -o t.bin app.bin
ok "--trust: another key is refused, nothing written; the trusted one signs"

# The device's PIN applies as to any signature.
echo 4242-pin-ok >pin.txt
run 0 tinyhsm pin set --new-pin-file pin.txt
run 1 "${SIGN[@]}" --pad-header --version 4.0.0 -o p.bin app.bin
[ ! -e p.bin ] || fail "signed without the PIN"
run 0 tinyhsm --pin-file pin.txt sign --format mcuboot --header-size 0x200 \
    --slot-size 0x60000 --pad-header --version 4.0.0 -o p.bin app.bin
run 0 tinyhsm verify --format mcuboot --pubkey pub.pem p.bin
ok "with a PIN set, signing needs it"
finish
