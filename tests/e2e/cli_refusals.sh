#!/usr/bin/env bash
# tinyhsm sign refuses bad input with a clear message and writes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"

start_daemon
run 0 tinyhsm config --new all
mkdir "$TMP/work" && cd "$TMP/work"
firmware 4000 >fw.bin
: >empty.bin
echo old >signed_binary.bin
echo old >stsafe_signer_cert.pem
echo old >SigGen.c

# refuse STATUS MESSAGE-PART ARGS...: nothing written, old outputs intact
refuse() {
    local status=$1 msg=$2
    shift 2
    run "$status" tinyhsm sign "$@"
    has "$TMP/err" "$msg"
    for f in signed_binary.bin stsafe_signer_cert.pem SigGen.c; do
        [ "$(cat "$f")" = old ] || fail "$f was changed by a refused sign ($*)"
    done
    [ -z "$(ls -A | grep -v -e '^fw.bin$' -e '^empty.bin$' -e '^big.bin$' -e '^signed_binary.bin$' \
        -e '^stsafe_signer_cert.pem$' -e '^SigGen.c$' -e '^v[0-9]*.h$' -e '^in\.' -e '^other' -e '^forced$' || true)" ] ||
        fail "a refused sign left files: $(ls -A)"
    ok "refused: $*"
}

refuse 2 "15" --board B-U585I-IOT02A-XYZ --max-size 100000 --version 1.0.0 fw.bin
refuse 2 "board" --board "$(printf 'B\tX')" --max-size 100000 --version 1.0.0 fw.bin
refuse 2 "unknown board" --board NO-SUCH-BOARD --version 1.0.0 fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version 1.2 fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version 1.2.3.4 fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version a.b.c fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version 1234567.1234567.1 fw.bin
refuse 2 "version" --board B-U585I-IOT02A fw.bin
refuse 2 "version" --board B-U585I-IOT02A --version 1.0.0 --version-file v.h fw.bin
refuse 1 "nope.h" --board B-U585I-IOT02A --version-file nope.h fw.bin
printf '#define APP_VERSION_MAJOR 1\n#define APP_VERSION_MINOR 2\n' >v1.h
refuse 1 "APP_VERSION_BUILD" --board B-U585I-IOT02A --version-file v1.h fw.bin
refuse 1 "empty" --board B-U585I-IOT02A --version 1.0.0 empty.bin
refuse 1 "no-such-fw" --board B-U585I-IOT02A --version 1.0.0 no-such-fw.bin
head -c 46593 /dev/zero >big.bin   # 512 + 47104 > 47104
refuse 1 "47104" --board NUCLEO-G071RB --version 1.0.0 big.bin
refuse 1 "1024" --board B-U585I-IOT02A --max-size 1024 --version 1.0.0 fw.bin
refuse 2 "board" --version 1.0.0 fw.bin
rm big.bin

# preflight: what cannot boot is refused with the reason; --force signs it
{ printf '\177ELF\002\001\001'; head -c 3000 /dev/urandom; } >in.elf
printf ':10010000214601360121470136007EFE09D2190140\r\n:00000001FF\r\n' >in.hex
printf 'S00F000068656C6C6F202020202000003C\nS9030000FC\n' >in.srec
head -c 4000 /dev/urandom >in.random
printf '\000\040\000\040\001\002\000\010' >in.atzero   # reset vector at 0x08000201
head -c 3000 /dev/urandom >>in.atzero
U=(--board B-U585I-IOT02A --version 1.0.0)
refuse 1 "arm-none-eabi-objcopy -O binary in.elf in.bin" "${U[@]}" in.elf
refuse 1 "arm-none-eabi-objcopy -I ihex -O binary in.hex in.bin" "${U[@]}" in.hex
refuse 1 "arm-none-eabi-objcopy -I srec -O binary in.srec in.bin" "${U[@]}" in.srec
refuse 1 "initial stack pointer" "${U[@]}" in.random
refuse 1 "link the application at 0x08008200" "${U[@]}" in.atzero
refuse 1 "version 0.0.0" --board B-U585I-IOT02A --version 0.0.0 fw.bin
refuse 1 "--force" --board B-U585I-IOT02A --version 0.0.0 fw.bin
mkdir forced
run 0 tinyhsm sign "${U[@]}" -o forced/signed.bin --cert-out forced/c.pem \
    --siggen forced/S.c fw.bin
refuse 1 "already a signed SECUREBOOT10 image" "${U[@]}" forced/signed.bin
for input in in.elf in.hex in.srec in.random in.atzero forced/signed.bin; do
    run 0 tinyhsm sign "${U[@]}" --force -o forced/x.bin --cert-out forced/c.pem \
        --siggen forced/S.c "$input"
    has "$TMP/err" "going on: --force"
done
run 0 tinyhsm sign --board B-U585I-IOT02A --version 0.0.0 --force -o forced/x.bin \
    --cert-out forced/c.pem --siggen forced/S.c fw.bin
has "$TMP/err" "version 0.0.0"
rm -r forced
ok "preflight: ELF, Intel HEX, S-records, signed image, vector table, 0.0.0; --force"

# --trust: the device's signer key must be the one given
openssl ecparam -name prime256v1 -genkey -noout -out other.key 2>/dev/null
openssl pkey -in other.key -pubout -out other.pub 2>/dev/null
run 0 tinyhsm cert signer -o in.signer.pem
refuse 1 "is not the trusted key" "${U[@]}" --trust other.pub fw.bin
run 0 tinyhsm sign "${U[@]}" --trust in.signer.pem -o in.t.bin --cert-out in.t.pem \
    --siggen in.t.c fw.bin
refuse 1 "is not the trusted key" "${U[@]}" --trust other.pub fw.bin
refuse 2 "--siggen in.t.c is the --trust file being read" "${U[@]}" --trust in.t.c -o in.t.bin \
    --cert-out in.t.pem --siggen in.t.c fw.bin
cp in.t.c in.t2.c
run 0 tinyhsm sign "${U[@]}" --trust in.t2.c -o in.t.bin --cert-out in.t.pem --siggen in.t.c fw.bin
has "$TMP/out" "Signer key id: "
refuse 1 "no-such-key" "${U[@]}" --trust no-such-key fw.bin
ok "--trust: signs only with the trusted key (SigGen.c, certificate or public key)"

# an existing certificate or SigGen.c with another key is not replaced
openssl req -new -x509 -key other.key -subj /CN=other -days 10 -out other.pem 2>/dev/null
other_id=$(openssl pkey -pubin -in other.pub -outform DER | tail -c 65 | sha256sum | cut -c1-16 |
    tr a-f A-F)
device_id=$(openssl x509 -in in.signer.pem -pubkey -noout | openssl pkey -pubin -outform DER |
    tail -c 65 | sha256sum | cut -c1-16 | tr a-f A-F)
# siggen_of PUB.pem: a SigGen.c holding that key
siggen_of() {
    local h
    h=$(openssl pkey -pubin -in "$1" -outform DER | tail -c 64 | od -An -v -tx1 | tr -d ' \n')
    printf 'const uint8_t SigGen_Qx[SigGen_Qx_len] = {%s};\n' "$(echo "${h:0:64}" | sed 's/../0x&,/g;s/,$//')"
    printf 'const uint8_t SigGen_Qy[SigGen_Qy_len] = {%s};\n' "$(echo "${h:64}" | sed 's/../0x&,/g;s/,$//')"
}
for f in stsafe_signer_cert.pem SigGen.c; do
    if [ $f = SigGen.c ]; then siggen_of other.pub >in.keep; else cp other.pem in.keep; fi
    cp in.keep $f
    run 1 tinyhsm sign "${U[@]}" -o in.o.bin fw.bin
    has "$TMP/err" "$f holds key $other_id, not the device's signer key $device_id"
    cmp -s in.keep $f || fail "$f was replaced"
    [ ! -e in.o.bin ] || fail "the image was written"
    run 0 tinyhsm sign "${U[@]}" --force -o in.o.bin fw.bin
    cmp -s in.keep $f && fail "--force did not replace $f"
    rm in.o.bin
    echo old >signed_binary.bin
    echo old >stsafe_signer_cert.pem
    echo old >SigGen.c
done
ok "an existing certificate or SigGen.c with another key is kept (both key ids shown) unless --force"

# all or nothing: a failing output leaves the others untouched
refuse 1 "/nonexistent/c.pem" "${U[@]}" --cert-out /nonexistent/c.pem fw.bin
refuse 1 "/nonexistent/S.c" "${U[@]}" --siggen /nonexistent/S.c fw.bin
refuse 2 "name the same file" "${U[@]}" -o same --cert-out same fw.bin
refuse 2 "name the same file" "${U[@]}" --cert-out ./SigGen.c fw.bin
refuse 2 "name the same file" "${U[@]}" -o x.bin --siggen "$PWD/x.bin" fw.bin
cp fw.bin in.fw
refuse 2 "is the firmware itself" "${U[@]}" -o in.fw in.fw
cmp -s fw.bin in.fw || fail "the firmware was overwritten"
ok "all or nothing: a bad output path or two outputs with one name write nothing"

# no output may be an input
printf '#define APP_VERSION_MAJOR 1\n#define APP_VERSION_MINOR 2\n#define APP_VERSION_BUILD 3\n' >v2.h
cp v2.h in.v2
refuse 2 "-o v2.h is the --version-file being read" --board B-U585I-IOT02A --version-file v2.h -o v2.h fw.bin
refuse 2 "--siggen v2.h is the --version-file being read" --board B-U585I-IOT02A --version-file v2.h \
    --siggen v2.h fw.bin
refuse 2 "--cert-out ./v2.h is the --version-file being read" --board B-U585I-IOT02A \
    --version-file v2.h --cert-out ./v2.h fw.bin
refuse 2 "--cert-out in.signer.pem is the --trust file being read" "${U[@]}" --trust in.signer.pem \
    --cert-out in.signer.pem fw.bin
refuse 2 "-o fw.bin is the firmware itself" "${U[@]}" -o fw.bin fw.bin
cmp -s v2.h in.v2 || fail "the version file was overwritten"
ok "an output that is an input (firmware, version file, --trust) is refused"

# an unwritable output is found before the device signs
signatures() { "$BIN/tinyhsm" info | sed -n 's/.*Signatures: *\([0-9]*\).*/\1/p'; }
before=$(signatures)
[ -n "$before" ] || fail "info shows no signature count"
if [ "$(id -u)" -eq 0 ]; then ro=/proc; else mkdir in.ro && chmod 555 in.ro && ro=in.ro; fi
refuse 1 "cannot write $ro/S.c" "${U[@]}" --siggen "$ro/S.c" fw.bin
has "$TMP/err" "nothing written"
[ "$(signatures)" = "$before" ] || fail "the device signed before an unwritable output was found"
ok "an unwritable output directory is found before the device signs ($before signatures before and after)"

# objcopy suggestions: a distinct output name, shell-quoted
cp in.elf in.elf.bin
refuse 1 "arm-none-eabi-objcopy -O binary in.elf.bin in.elf.raw.bin" "${U[@]}" in.elf.bin
rm in.elf.bin
cp in.hex "in.my fw.hex"
refuse 1 "arm-none-eabi-objcopy -I ihex -O binary 'in.my fw.hex' 'in.my fw.bin'" "${U[@]}" "in.my fw.hex"
ok "the objcopy command never overwrites its input and is shell-quoted"

# small things said right
refuse 2 "each number is at most 4294967295" --board B-U585I-IOT02A --version 4294967296.0.0 fw.bin
refuse 2 "more than 15 characters" --board B-U585I-IOT02A --version 1234567.1234567.1 fw.bin
refuse 2 "from 1024 to 4294967295, not '99999999999'" "${U[@]}" --max-size 99999999999 fw.bin
refuse 2 "--max-size 2000000 is over B-U585I-IOT02A's maximum of 1007616" "${U[@]}" \
    --max-size 2000000 fw.bin
refuse 2 "unknown placeholder {foo}; the known ones are {board} and {version}" "${U[@]}" \
    -o 'x-{foo}.bin' fw.bin
refuse 2 "--siggen: unknown placeholder {BOARD}" "${U[@]}" --siggen '{BOARD}.c' fw.bin
head -c 70000 /dev/zero >in.big
refuse 1 "--trust in.big: 70000 bytes is too large" "${U[@]}" --trust in.big fw.bin
refuse 1 "version file . is a directory" --board B-U585I-IOT02A --version-file . fw.bin
script -qec "$BIN/tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 -o - fw.bin" /dev/null \
    >in.tty </dev/null || true
grep -q "would write the binary image to the terminal" in.tty || fail "-o - on a terminal: $(cat in.tty)"
grep -q SECUREBOOT10 in.tty && fail "-o - dumped the image on a terminal"
ok "version, --max-size, placeholders, --trust size, version file directory, -o - on a terminal"

# the largest image that fits is accepted
firmware 46592 >fits.bin
run 0 tinyhsm sign --board NUCLEO-G071RB --version 1.0.0 -o fits.img \
    --cert-out fits.pem --siggen fits.c fits.bin
[ "$(stat -c %s fits.img)" -eq $((47104 + 64)) ] || fail "max-size image"
rm fits.bin fits.img fits.pem fits.c
ok "an image of exactly the maximum size is accepted"

# a signer certificate that does not chain to the device's CA: no signature
exec 3<>"$TINYHSM_PORT"
printf 'AT+SIGNER_NEW_CERT TYPE=SELF-SIGNED C=US O=Me CN=Self START=20250101000000 DAYS=3650\r\n' >&3
read -r -t 5 answer <&3 || true
exec 3>&-
case $answer in OK*) ;; *) fail "self-signed signer certificate: $answer" ;; esac
refuse 1 "does not chain to its CA" --board B-U585I-IOT02A --version 1.0.0 fw.bin
refuse 1 "does not chain to its CA" --board B-U585I-IOT02A --version 1.0.0 --force fw.bin
run 0 tinyhsm config --new all --yes

# device not provisioned: say which config command to run
run 0 tinyhsm decommission --yes
refuse 1 "tinyhsm config --new all" --board B-U585I-IOT02A --version 1.0.0 fw.bin
run 0 tinyhsm config --new all

# device unreachable
TINYHSM_PORT=$TMP/absent refuse 1 "absent" --board B-U585I-IOT02A --version 1.0.0 fw.bin

# port busy
flock -n "$TMP/tty" sleep 3 &
holder=$!
sleep 0.5
refuse 1 "busy" --board B-U585I-IOT02A --version 1.0.0 fw.bin
wait $holder
stop_daemon
finish
