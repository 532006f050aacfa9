#!/usr/bin/env bash
# tinyhsm verify on images signed by tinyhsm sign against a real tinyhsmd:
# one PASS/FAIL line per check, exit 0 only when all pass.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"

start_daemon
run 0 tinyhsm config --new all
mkdir "$TMP/w" && cd "$TMP/w"
firmware 5000 >fw.bin
for v in 1.2.2 1.2.3 1.2.4; do
    run 0 tinyhsm sign --board B-U585I-IOT02A --version "$v" -o "img-$v.bin" fw.bin
done
run 0 tinyhsm cert ca -o ca.pem
openssl x509 -in stsafe_signer_cert.pem -noout -pubkey >pub.pem
img=img-1.2.3.bin

for key in "--cert stsafe_signer_cert.pem" "--siggen SigGen.c" "--pubkey pub.pem"; do
    # shellcheck disable=SC2086
    run 0 tinyhsm verify $key --board B-U585I-IOT02A "$img"
    for check in header layout board version signature; do has "$TMP/out" "PASS $check"; done
done
ok "a signed image passes with the key from a certificate, SigGen.c or a PEM key"

run 0 tinyhsm verify --cert stsafe_signer_cert.pem --ca ca.pem "$img"
has "$TMP/out" "PASS certificate"
ok "without --board the header's board is used; the chain checks"

# reject: CMD-ARGS... then the expected FAIL line
reject() {
    local want=$1
    shift
    run 1 tinyhsm verify "$@"
    has "$TMP/out" "$want"
    has "$TMP/out" "REJECTED"
}
cp "$img" tampered.bin
printf '\x55' | dd of=tampered.bin bs=1 seek=3000 conv=notrunc status=none
reject "FAIL signature    signature does not verify" --siggen SigGen.c tampered.bin
reject "FAIL board" --siggen SigGen.c --board NUCLEO-G071RB "$img"
reject "over the board's maximum" --siggen SigGen.c --max-size 1024 "$img"
head -c 5000 "$img" >short.bin
reject "FAIL layout" --siggen SigGen.c short.bin
{ cat "$img"; printf 'x'; } >long.bin
reject "bytes follow the signature" --siggen SigGen.c long.bin
head -c 100 "$img" >tiny.bin
reject "shorter than a 512-byte header" --siggen SigGen.c tiny.bin
cp "$img" badpad.bin
printf '\x00' | dd of=badpad.bin bs=1 seek=100 conv=notrunc status=none
reject "header padding is not 0xFF" --siggen SigGen.c badpad.bin
ok "tampering, wrong board, size, truncation, trailing bytes, padding: each named"

run 0 tinyhsm verify --siggen SigGen.c --installed img-1.2.3.bin img-1.2.4.bin
has "$TMP/out" "PASS update"
reject "update is older than the installed image" --siggen SigGen.c \
    --installed img-1.2.3.bin img-1.2.2.bin
reject "update has the installed version" --siggen SigGen.c \
    --installed img-1.2.3.bin img-1.2.3.bin
ok "update rule: newer accepted, downgrade and same version refused"

# --installed runs and reports after another failed check too
reject "FAIL signature" --siggen SigGen.c --installed img-1.2.2.bin tampered.bin
has "$TMP/out" "PASS update       1.2.3 newer than installed 1.2.2"
reject "FAIL board" --siggen SigGen.c --board NUCLEO-G071RB --installed img-1.2.4.bin "$img"
has "$TMP/out" "FAIL update"
ok "--installed: the update check runs after a failed check"

# input errors: said once, clearly
reject "FAIL update       installed image: cannot open nonexist: No such file" --siggen SigGen.c \
    --installed nonexist "$img"
[ "$(grep -c nonexist "$TMP/out" "$TMP/err" | awk -F: '{s += $2} END {print s}')" -eq 1 ] ||
    fail "--installed nonexist reported more than once: $(cat "$TMP/out" "$TMP/err")"
grep -q "shorter than" "$TMP/out" && fail "a missing installed image is called short"
: >empty.img
for bad in ".:is a directory, not an image" "/dev/null:is not a regular file" "empty.img:is empty"; do
    run 1 tinyhsm verify --siggen SigGen.c "${bad%%:*}"
    has "$TMP/err" "${bad#*:}"
    grep -q "PASS\|FAIL\|REJECTED" "$TMP/out" && fail "an unreadable image got check lines"
    run 1 tinyhsm verify --siggen SigGen.c --json "${bad%%:*}"
    [ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "--json on an unreadable image: one line"
    has "$TMP/out" "{\"ok\":false,\"error\":\"${bad%%:*} ${bad#*:}"
done
run 2 tinyhsm verify --siggen SigGen.c --json
has "$TMP/out" '"ok":false'
cp "$img" "$(printf 'odd\377name.bin')"
run 0 tinyhsm verify --siggen SigGen.c --json "$(printf 'odd\377name.bin')"
has "$TMP/out" '"image":"odd\ufffdname.bin"'
ok "unreadable input: one clear error (directory, device, empty), exit 1; --json says ok false"

# --max-size out of range is a usage error, never a huge limit
for bad in -1 0 1023 4294967296 99999999999999999999 12x ""; do
    run 2 tinyhsm verify --siggen SigGen.c --max-size "$bad" "$img"
    has "$TMP/err" "--max-size"
done
run 0 tinyhsm verify --siggen SigGen.c --max-size 4294967295 "$img"
ok "--max-size: negative, too small or over 32 bits is a usage error"

# a flash dump: erased flash after the signature passes; anything else fails
# the layout, and the other checks still run
{ cat "$img"; head -c 8192 /dev/zero | tr '\0' '\377'; } >dump.bin
run 0 tinyhsm verify --siggen SigGen.c --flash-dump dump.bin
for check in header layout board version signature; do has "$TMP/out" "PASS $check"; done
reject "FAIL layout       bytes follow the signature" --siggen SigGen.c dump.bin
for check in board version signature; do has "$TMP/out" "PASS $check"; done
printf '\x00' | dd of=dump.bin bs=1 seek=$(($(stat -c %s "$img") + 100)) conv=notrunc status=none
reject "FAIL layout       bytes after the signature are not 0xFF" --siggen SigGen.c --flash-dump dump.bin
for check in board version signature; do has "$TMP/out" "PASS $check"; done
reject "FAIL signature    not checked" --siggen SigGen.c --flash-dump short.bin
has "$TMP/out" "PASS version"
ok "--flash-dump accepts erased flash after the signature; other checks still report"

# the signer key id, and --json
kid=$(openssl pkey -pubin -in pub.pem -outform DER | tail -c 65 | sha256sum | cut -c1-16 | tr a-f A-F)
run 0 tinyhsm verify --cert stsafe_signer_cert.pem "$img"
has "$TMP/out" "Signer key id: $kid (stsafe_signer_cert.pem)"
run 0 tinyhsm verify --siggen SigGen.c --json "$img"
[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "--json: one line"
for k in "\"image\":\"$img\"" '"ok":true' "\"key_id\":\"$kid\"" '"key_file":"SigGen.c"' \
         '"board":"B-U585I-IOT02A"' '"version":"1.2.3"' '"signed_size":5632' \
         '{"check":"signature","pass":true,'; do
    has "$TMP/out" "$k"
done
run 1 tinyhsm verify --siggen SigGen.c --json tampered.bin
has "$TMP/out" '"ok":false'
has "$TMP/out" '{"check":"signature","pass":false,"detail":"signature does not verify"}'
ok "verify shows the signer key id; --json gives one object with every check"

# another signer's key, another CA, an expired signer certificate
cp SigGen.c old-SigGen.c
cp ca.pem old-ca.pem
run 0 tinyhsm config --new all --yes --signer-start 20200101000000 --signer-days 30
run 1 tinyhsm sign --board B-U585I-IOT02A --version 2.0.0 -o new.bin fw.bin
has "$TMP/err" "stsafe_signer_cert.pem holds key"
cmp -s SigGen.c old-SigGen.c || fail "a refused sign replaced SigGen.c"
[ ! -e new.bin ] || fail "a refused sign wrote the image"
run 0 tinyhsm sign --board B-U585I-IOT02A --version 2.0.0 --force -o new.bin fw.bin
has "$TMP/err" "warning: the signer certificate expired on 2020-01-31"
reject "FAIL signature" --siggen old-SigGen.c new.bin
reject "FAIL certificate" --cert stsafe_signer_cert.pem --ca old-ca.pem new.bin
run 0 tinyhsm cert ca -o ca.pem
reject "FAIL certificate  the signer certificate: certificate has expired" \
    --cert stsafe_signer_cert.pem --ca ca.pem new.bin
ok "wrong key, wrong CA and an expired certificate are refused"

# an expired CA: sign warns about the CA, verify names it
run 0 tinyhsm config --new all --yes --ca-start 20200101000000 --ca-days 30 \
    --signer-start 20200101000000 --signer-days 20
run 0 tinyhsm sign --board B-U585I-IOT02A --version 2.0.0 --force -o ca-old.bin fw.bin
has "$TMP/err" "warning: the CA certificate expired on 2020-01-31"
has "$TMP/err" "warning: the signer certificate expired on 2020-01-21"
! grep -q "default dates" "$TMP/err" || fail "other dates called the scripts' defaults"
run 0 tinyhsm cert ca -o ca.pem
reject "FAIL certificate  the CA certificate: certificate has expired" \
    --cert stsafe_signer_cert.pem --ca ca.pem ca-old.bin
ok "an expired CA certificate: sign warns, verify names the CA"

# certificates with the original scripts' default dates, long expired
run 0 tinyhsm config --new all --yes --ca-start 20230101000000 --ca-days 365 \
    --signer-start 20230101000000 --signer-days 365
run 0 tinyhsm sign --board B-U585I-IOT02A --version 2.0.1 --force -o scripts.bin fw.bin
for who in CA signer; do
    has "$TMP/err" "warning: the $who certificate expired on 2024-01-01 00:00:00 UTC: it has the original scripts' default dates (START=20230101000000 DAYS=365)"
done
run 0 tinyhsm info
has "$TMP/out" "2023-01-01 00:00:00 UTC to 2024-01-01 00:00:00 UTC  EXPIRED (the original scripts' default dates)"
ok "expired certificates with the scripts' default dates: sign and info say so"

run 2 tinyhsm verify "$img"
run 2 tinyhsm verify --siggen SigGen.c --pubkey pub.pem "$img"
run 2 tinyhsm verify --siggen SigGen.c --ca ca.pem "$img"
ok "usage errors"
stop_daemon
finish
