#!/usr/bin/env bash
# tinyhsm sign against a real tinyhsmd: the SECUREBOOT10 layout byte for byte
# and the signature, checked with openssl and shell tools, not our code.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"

hex_at() { # FILE OFFSET LEN -> hex
    od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'
}
field() { # TEXT WIDTH [00] -> hex of TEXT, NUL (two with 00), then 0xFF up to WIDTH
    local h
    h=$(printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n')00${3:-}
    while [ ${#h} -lt $((2 * $2)) ]; do h=${h}ff; done
    echo "$h"
}
# raw r||s (64 bytes at OFFSET of FILE) -> DER signature file
raw_to_der() {
    local r s
    r=$(hex_at "$1" "$2" 32)
    s=$(hex_at "$1" $(($2 + 32)) 32)
    printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "$r" "$s" \
        >"$TMP/sig.cnf"
    openssl asn1parse -genconf "$TMP/sig.cnf" -out "$3" -noout
}

start_daemon
run 1 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 -o "$TMP/x.bin" /dev/null
run 0 tinyhsm config --new all
cd "$TMP"

for fwsize in 1 511 512 513 100000; do
    force=()
    if [ "$fwsize" -lt 8 ]; then
        head -c "$fwsize" /dev/urandom >fw.bin
        force=(--force) # no room for a vector table
    else
        firmware "$fwsize" >fw.bin
    fi
    rm -f signed_binary.bin stsafe_signer_cert.pem SigGen.c
    run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.2.3 "${force[@]}" fw.bin
    has "$TMP/out" "B-U585I-IOT02A"
    has "$TMP/out" "1.2.3"
    size=$((512 + (fwsize + 511) / 512 * 512))
    [ "$(stat -c %s signed_binary.bin)" -eq $((size + 64)) ] || fail "file size for $fwsize"
    [ "$(hex_at signed_binary.bin 0 16)" = "$(field SECUREBOOT10 16)" ] || fail magic
    [ "$(hex_at signed_binary.bin 16 16)" = "$(field "$size" 16 00)" ] || fail "size field"
    [ "$(hex_at signed_binary.bin 32 16)" = "$(field B-U585I-IOT02A 16)" ] || fail board
    [ "$(hex_at signed_binary.bin 48 464)" = "$(field 1.2.3 464)" ] || fail version
    cmp -s fw.bin <(tail -c +513 signed_binary.bin | head -c "$fwsize") || fail firmware
    pad=$((size - 512 - fwsize))
    [ "$(hex_at signed_binary.bin $((512 + fwsize)) "$pad")" = \
      "$(head -c "$pad" /dev/zero | tr '\0' '\377' | od -An -v -tx1 | tr -d ' \n')" ] ||
        fail padding
    raw_to_der signed_binary.bin "$size" sig.der
    openssl x509 -in stsafe_signer_cert.pem -noout -pubkey >pub.pem
    head -c "$size" signed_binary.bin >signed_part.bin
    openssl dgst -sha256 -verify pub.pem -signature sig.der signed_part.bin >/dev/null ||
        fail "openssl rejects the signature for firmware of $fwsize bytes"
    digest=$(sha256sum signed_part.bin | cut -c1-64)
    grep -qi "$digest" "$TMP/out" || fail "digest not printed"
done
ok "image layout and signature for 1, 511, 512, 513, 100000-byte firmware"

# SigGen.c holds the signer's public key, 32 bytes per coordinate
pubhex=$(openssl pkey -pubin -in pub.pem -outform DER | tail -c 64 | od -An -v -tx1 | tr -d ' \n')
qx=$(grep 'SigGen_Qx\[' SigGen.c | grep -o '0x[0-9a-fA-F][0-9a-fA-F]' | tr -d '\n' | sed 's/0x//g')
qy=$(grep 'SigGen_Qy\[' SigGen.c | grep -o '0x[0-9a-fA-F][0-9a-fA-F]' | tr -d '\n' | sed 's/0x//g')
[ ${#qx} -eq 64 ] && [ ${#qy} -eq 64 ] || fail "SigGen.c coordinates are not 32 bytes"
[ "${qx}${qy}" = "$pubhex" ] || fail "SigGen.c does not hold the signer key"
has SigGen.c "#define SigGen_Qx_len  32"
cc -c -o /dev/null -x c SigGen.c || fail "SigGen.c does not compile"
ok "SigGen.c matches the certificate's key and compiles"

run 0 tinyhsm cert ca -o ca.pem
openssl verify -CAfile ca.pem stsafe_signer_cert.pem >/dev/null || fail "cert chain"
ok "stsafe_signer_cert.pem chains to the CA"

# named outputs and a version file
printf '#ifndef V\n#define APP_VERSION_MAJOR  2 /* major */\n#define APP_VERSION_MINOR 10\n#define   APP_VERSION_BUILD 7\n#endif\n' >application_version.h
mkdir -p dist && firmware 3000 >fw.bin
run 0 tinyhsm sign --board NUCLEO-G071RB --version-file application_version.h \
    -o dist/img.bin --cert-out dist/c.pem --siggen dist/S.c fw.bin
[ "$(hex_at dist/img.bin 48 16)" = "$(field 2.10.7 16)" ] || fail "version from file"
[ "$(hex_at dist/img.bin 32 16)" = "$(field NUCLEO-G071RB 16)" ] || fail "board"
[ -s dist/c.pem ] && [ -s dist/S.c ] || fail "named outputs"
ok "version file and named outputs"

# unknown board with an explicit maximum
run 0 tinyhsm sign --board MY-BOARD --max-size 200000 --version 0.0.1 -o my.bin fw.bin
[ "$(hex_at my.bin 32 16)" = "$(field MY-BOARD 16)" ] || fail "custom board"
ok "custom board with --max-size"

# 64 KiB streaming sanity: same digest as sha256sum of the signed part
firmware 65536 >fw64k.bin
run 0 tinyhsm sign --board B-U585I-IOT02A --version 9.9.9 -o big.bin fw64k.bin
head -c $((512 + 65536)) big.bin | sha256sum | cut -c1-64 >d.txt
grep -qi "$(cat d.txt)" "$TMP/out" || fail "digest of 64 KiB image"
ok "64 KiB firmware"
# outputs that are not regular files
U=(--board B-U585I-IOT02A --version 1.2.3)
mkdir w1 && cd w1
firmware 5000 >fw.bin
run 0 tinyhsm sign "${U[@]}" -o - fw.bin
[ "$(stat -c %s "$TMP/out")" -eq $((512 + 5120 + 64)) ] || fail "-o - size"
[ "$(hex_at "$TMP/out" 0 12)" = "$(printf SECUREBOOT10 | od -An -tx1 | tr -d ' \n')" ] ||
    fail "-o - is not the image"
cp "$TMP/out" stdout.bin
has "$TMP/err" "Signer key id:"
run 0 tinyhsm verify --siggen SigGen.c stdout.bin
[ ! -e signed_binary.bin ] && [ ! -e ./- ] || fail "-o - wrote a file"
ok "-o - writes the image to standard output, the summary to stderr"

mkfifo pipe
cat pipe >from_pipe.bin &
reader=$!
run 0 tinyhsm sign "${U[@]}" -o pipe fw.bin
wait $reader
[ -p pipe ] || fail "the FIFO was replaced"
run 0 tinyhsm verify --siggen SigGen.c from_pipe.bin
ok "a FIFO is written to, not replaced"

if [ "$(id -u)" -eq 0 ]; then
    mknod null c 1 3
    run 0 tinyhsm sign "${U[@]}" -o null fw.bin
    [ -c null ] || fail "the character device was replaced by a regular file"
    ok "a character device (a private /dev/null) is written to, not replaced (root)"
fi

echo old >target.bin
ln -s target.bin link.bin
run 0 tinyhsm sign "${U[@]}" -o link.bin fw.bin
[ -L link.bin ] && [ "$(readlink link.bin)" = target.bin ] || fail "the symlink was replaced"
run 0 tinyhsm verify --siggen SigGen.c target.bin
ln -s missing.bin dangling.bin
run 1 tinyhsm sign "${U[@]}" -o dangling.bin fw.bin
has "$TMP/err" "symlink to a missing file"
[ ! -e missing.bin ] || fail "a dangling symlink was followed"
ok "a symlink is written through to its target; a dangling one is refused"

cd .. && mkdir dir tagged && cd w1 && rm -f SigGen.c stsafe_signer_cert.pem
run 0 tinyhsm sign "${U[@]}" -o ../dir fw.bin
for f in signed_binary.bin stsafe_signer_cert.pem SigGen.c; do
    [ -s "../dir/$f" ] || fail "-o DIR: $f is not in the directory"
    [ ! -e "$f" ] || fail "-o DIR: $f went to the current directory"
done
run 0 tinyhsm sign "${U[@]}" -o '../tagged/{board}-v{version}.bin' fw.bin
[ -s ../tagged/B-U585I-IOT02A-v1.2.3.bin ] || fail "placeholders"
[ -s ../tagged/stsafe_signer_cert.pem ] && [ -s ../tagged/SigGen.c ] || fail "placeholder: beside"
[ ! -e SigGen.c ] || fail "placeholder: SigGen.c in the current directory"
has "$TMP/out" "Wrote ../tagged/B-U585I-IOT02A-v1.2.3.bin"
run 0 tinyhsm sign --help
has "$TMP/out" "beside the image"
ok "-o DIR and -o with {board}/{version}: certificate and SigGen.c beside the image"

run 0 tinyhsm sign "${U[@]}" --json -o j.bin --cert-out j.pem --siggen j.c fw.bin
[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "--json: one line"
for k in '"image":"j.bin"' '"certificate":"j.pem"' '"siggen":"j.c"' '"board":"B-U585I-IOT02A"' \
         '"version":"1.2.3"' '"firmware_size":5000' '"signed_size":5632' '"image_size":5696' \
         '"key_id":"' '"warnings":[]'; do
    has "$TMP/out" "$k"
done
sig=$(tail -c 64 j.bin | od -An -v -tx1 | tr -d ' \n' | tr a-f A-F)
has "$TMP/out" "\"signature\":\"$sig\""
run 2 tinyhsm sign "${U[@]}" --json -o - fw.bin
ok "sign --json: one object with the outputs, sizes, digest, signature and key id"
cd ..

# SIGINT or SIGTERM at any moment leaves no temporary file. A slow line
# (--baud) spreads the run over seconds; the signal lands at 10 points.
stop_daemon
if [ "$DEVICE" = qemu ]; then # the slow line is tinyhsmd's --baud
    echo "skip - SIGINT/SIGTERM during a slow run: needs tinyhsmd --baud"
    finish
    exit 0
fi
"$BIN/tinyhsmd" --state "$TMP/state" --link "$TMP/tty" --baud 9600 >"$TMP/slow.out" \
    2>"$TMP/slow.err" &
DPID=$!
for _ in $(seq 100); do [ -s "$TMP/slow.out" ] && break; sleep 0.05; done
mkdir sig && cd sig
firmware 600000 >fw.bin
start=$(date +%s%N)
run 0 tinyhsm sign "${U[@]}" fw.bin
total=$((($(date +%s%N) - start) / 1000000))
rm -f signed_binary.bin stsafe_signer_cert.pem SigGen.c
set -m # job control: background jobs do not ignore SIGINT
for i in 1 2 3 4 5 6 7 8 9 10; do
    for s in INT TERM; do
        "$BIN/tinyhsm" sign "${U[@]}" fw.bin >/dev/null 2>&1 &
        pid=$!
        sleep "$(printf '0.%03d' $((total * i / 11)))"
        kill -$s $pid 2>/dev/null || true
        wait $pid || true
        left=$(ls -A | grep -v '^fw.bin$' || true)
        [ -z "$left" ] || [ "$left" = "$(printf 'SigGen.c\nsigned_binary.bin\nstsafe_signer_cert.pem')" ] ||
            fail "SIG$s after $((total * i / 11)) ms left: $left"
        rm -f signed_binary.bin stsafe_signer_cert.pem SigGen.c
    done
done
set +m
cd ..
ok "SIGINT and SIGTERM at 10 points of a $total ms run leave no temporary file"
stop_daemon
finish
