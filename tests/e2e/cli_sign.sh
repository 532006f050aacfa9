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
         '"key_id":"' '"warnings":["no PIN is set' '"mode":"image"'; do
    has "$TMP/out" "$k"
done
sig=$(tail -c 64 j.bin | od -An -v -tx1 | tr -d ' \n' | tr a-f A-F)
has "$TMP/out" "\"signature\":\"$sig\""
run 2 tinyhsm sign "${U[@]}" --json -o - fw.bin
ok "sign --json: one object with the outputs, sizes, digest, signature and key id"
cd ..

# --json: ISO 8601 times; a failure is an object too
run 0 tinyhsm sign "${U[@]}" --json -o w1/j.bin --cert-out w1/j.pem --siggen w1/j.c w1/fw.bin
grep -Eq '"signer_not_before":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"' "$TMP/out" ||
    fail "--json times are not ISO 8601: $(cat "$TMP/out")"
has "$TMP/out" '"ok":true'
run 1 tinyhsm sign "${U[@]}" --json -o w1/j.bin --cert-out /nonexistent/c.pem w1/fw.bin
[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "--json failure: one line"
has "$TMP/out" '{"ok":false,"error":"cannot write /nonexistent/c.pem'
run 2 tinyhsm sign --json --board B-U585I-IOT02A --version 1.2 w1/fw.bin
has "$TMP/out" '"ok":false'
ok "sign --json: ISO 8601 times; on failure one object with ok false and the error"

# cert -o follows the same rules as sign's outputs
mkdir co && cd co
mkfifo f
timeout 20 cat f >from_fifo.pem &
reader=$!
run 0 tinyhsm cert ca -o f
wait $reader || fail "cert -o FIFO: the reader got nothing"
[ -p f ] || fail "cert -o replaced the FIFO"
grep -q "BEGIN CERTIFICATE" from_fifo.pem || fail "cert -o FIFO: no certificate"
echo old >target.pem
ln -s target.pem l.pem
run 0 tinyhsm cert ca -o l.pem
[ -L l.pem ] || fail "cert -o replaced the symlink"
grep -q "BEGIN CERTIFICATE" target.pem || fail "cert -o did not write through the link"
run 0 tinyhsm cert ca -o -
has "$TMP/out" "BEGIN CERTIFICATE"
[ ! -e ./- ] || fail "cert -o - created a file named -"
run 1 tinyhsm cert signer -o .
has "$TMP/err" "is a directory"
if [ "$(id -u)" -eq 0 ]; then
    mknod n c 1 3
    run 0 tinyhsm cert ca -o n
    [ -c n ] || fail "cert -o replaced a character device"
fi
chmod 600 target.pem
run 0 tinyhsm cert signer -o target.pem
[ "$(stat -c %a target.pem)" = 600 ] || fail "cert -o changed the mode of the file it replaced"
(umask 077 && "$BIN/tinyhsm" cert ca -o new.pem 2>/dev/null)
[ "$(stat -c %a new.pem)" = 600 ] || fail "a new file ignores umask 077: $(stat -c %a new.pem)"
# /proc/self/fd/1 is /dev/stdout's target: a broken build cannot replace it
"$BIN/tinyhsm" cert ca --der -o /proc/self/fd/1 2>"$TMP/err" | cat >piped.der ||
    fail "cert --der -o /proc/self/fd/1 into a pipe: $(cat "$TMP/err")"
[ -s piped.der ] || fail "cert --der -o /proc/self/fd/1 into a pipe wrote nothing"
[ -z "$(ls -A | grep -v -e '^f$' -e '^from_fifo.pem$' -e '^target.pem$' -e '^l.pem$' -e '^n$' -e '^new.pem$' -e '^piped.der$')" ] ||
    fail "cert left files: $(ls -A)"
cd ..
ok "cert -o: FIFO, device, symlink, '-', directory, mode and umask as in sign"

# outputs: mode kept, umask respected, /dev/stdout into a pipe, /dev/null twice
cd w1
run 0 tinyhsm sign "${U[@]}" fw.bin
chmod 600 SigGen.c
run 0 tinyhsm sign "${U[@]}" fw.bin
[ "$(stat -c %a SigGen.c)" = 600 ] || fail "sign changed SigGen.c's mode"
rm -f umask.bin
(umask 077 && "$BIN/tinyhsm" sign "${U[@]}" -o umask.bin fw.bin >/dev/null 2>&1)
[ "$(stat -c %a umask.bin)" = 600 ] || fail "sign ignores umask 077"
"$BIN/tinyhsm" sign "${U[@]}" -o p.bin --cert-out p.pem --siggen /proc/self/fd/1 fw.bin \
    2>"$TMP/err" | cat >piped.c || fail "--siggen /proc/self/fd/1 into a pipe: $(cat "$TMP/err")"
grep -q SigGen_Qx piped.c || fail "--siggen /proc/self/fd/1 into a pipe wrote nothing"
# a private null device as root, so that a broken build cannot replace /dev/null
null=/dev/null
if [ "$(id -u)" -eq 0 ]; then mknod null2 c 1 3 && null=null2; fi
run 0 tinyhsm sign "${U[@]}" -o p.bin --cert-out $null --siggen $null fw.bin
[ -c $null ] || fail "$null was replaced"
rm -f null2
ok "outputs keep the mode of the file they replace, respect the umask; /proc/self/fd/1 on a pipe; a null device twice"

# a replaced output never gets set-id, sticky or o+w bits (issue 16, 7)
mkdir modes
for f in signed_binary.bin stsafe_signer_cert.pem SigGen.c; do
    echo old >modes/$f && chmod 7777 modes/$f
done
[ "$(stat -c %a modes/SigGen.c)" = 7777 ] || fail "cannot set up a 7777 file: $(stat -c %a modes/SigGen.c)"
run 0 tinyhsm sign "${U[@]}" -o modes/ fw.bin
for f in signed_binary.bin stsafe_signer_cert.pem SigGen.c; do
    [ "$(stat -c %a modes/$f)" = 775 ] || fail "$f replaced with mode $(stat -c %a modes/$f), not 775"
done
ok "a replaced output of mode 7777 becomes 0775: no set-id, sticky or o+w bits"
# root replacing another user's file: none of that user's mode is kept
if [ "$(id -u)" -eq 0 ]; then
    chmod 711 "$TMP" && chmod 777 modes && chown nobody modes
    for f in signed_binary.bin stsafe_signer_cert.pem SigGen.c; do
        rm -f modes/$f
        setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c "echo old >modes/$f && chmod 6777 modes/$f"
        [ "$(stat -c %a:%U modes/$f)" = 6777:nobody ] || fail "cannot plant nobody's 6777 $f"
    done
    want=$(printf '%o' $((0644 & ~$(umask))))
    run 0 tinyhsm sign "${U[@]}" -o modes/ fw.bin
    for f in signed_binary.bin stsafe_signer_cert.pem SigGen.c; do
        [ "$(stat -c %a:%U modes/$f)" = "$want:root" ] ||
            fail "root replaced nobody's 6777 $f with $(stat -c %a:%U modes/$f), not $want:root"
    done
    ok "root replacing another user's 6777 file gets a new file of 0644 less the umask"
else
    echo "skip - root replacing another user's 6777 file: needs root to plant it"
fi
rm -rf modes

# a closed pipe or a signal while the image streams: no file replaced, said so
for f in stsafe_signer_cert.pem SigGen.c; do echo old >$f.keep; done
# SigGen.c with another key: even --force keeps it when no image was delivered
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout 2>/dev/null >other.pub
h=$(openssl pkey -pubin -in other.pub -outform DER | tail -c 64 | od -An -v -tx1 | tr -d ' \n')
printf 'const uint8_t SigGen_Qx[SigGen_Qx_len] = {%s};\nconst uint8_t SigGen_Qy[SigGen_Qy_len] = {%s};\n' \
    "$(echo "${h:0:64}" | sed 's/../0x&,/g;s/,$//')" "$(echo "${h:64}" | sed 's/../0x&,/g;s/,$//')" >SigGen.c.keep
cp SigGen.c.keep SigGen.c
cp stsafe_signer_cert.pem.keep stsafe_signer_cert.pem
firmware 600000 >pipefw.bin # more than a pipe holds: the writer meets the closed end
set +o pipefail
"$BIN/tinyhsm" sign "${U[@]}" --force -o - pipefw.bin 2>"$TMP/err" | head -c 10 >/dev/null
st=${PIPESTATUS[0]}
[ "$st" = 1 ] || fail "a closed pipe: exit $st, not 1"
set -o pipefail
has "$TMP/err" "cannot write -: Broken pipe"
has "$TMP/err" "not written: stsafe_signer_cert.pem, SigGen.c"
cmp -s SigGen.c SigGen.c.keep || fail "SIGPIPE: SigGen.c was replaced though the image was not delivered"
cmp -s stsafe_signer_cert.pem stsafe_signer_cert.pem.keep || fail "SIGPIPE: the certificate was replaced"
mkfifo ff
# no reader: refused before the device signs, instead of hanging after
run 1 timeout 20 "$BIN/tinyhsm" sign "${U[@]}" --force -o ff fw.bin
has "$TMP/err" "no reader on FIFO ff"
# a reader that never reads: SIGINT while the image waits for it
sleep 60 <>ff &
holder=$!
set -m
"$BIN/tinyhsm" sign "${U[@]}" --force -o ff pipefw.bin >/dev/null 2>"$TMP/err" &
pid=$!
sleep 1.5
kill -INT $pid
st=0
wait $pid || st=$?
set +m
kill $holder && wait $holder 2>/dev/null || true
[ $st = 130 ] || fail "SIGINT while waiting for the FIFO's reader: exit $st"
has "$TMP/err" "interrupted; no output file was replaced"
cmp -s SigGen.c SigGen.c.keep || fail "SIGINT: SigGen.c was replaced though the image was not delivered"
cmp -s stsafe_signer_cert.pem stsafe_signer_cert.pem.keep || fail "SIGINT: the certificate was replaced"
[ -z "$(ls -A | grep tmp || true)" ] || fail "temporaries left: $(ls -A)"
rm -f ff pipefw.bin SigGen.c.keep stsafe_signer_cert.pem.keep other.pub
cd ..
ok "a closed pipe (EPIPE, exit 1) or SIGINT on a FIFO output replaces no file, even with --force; a FIFO with no reader is refused"

# Another user's symlink, FIFO or device in a shared (1777) directory is a
# trap: refused with the reason, nothing written, nothing followed. Root
# plants them as nobody for a root victim, and as uid 4242 for a nobody
# victim; a suite run as nobody cannot plant for another uid.
if [ "$(id -u)" -eq 0 ]; then
    chmod 711 "$TMP"
    mkdir -m 1777 shared && mkdir -m 755 vict && mkdir -m 755 nbbin
    cp "$BIN/tinyhsm" nbbin/ && cp w1/fw.bin shared/fw.bin && chmod 644 shared/fw.bin
    echo secret >vict/rc
    mkdir vict/d
    plant() { # OWNER LINK TARGET
        ln -s "$3" "$2" && chown -h "$1" "$2"
    }
    plant nobody shared/SigGen.c "$TMP/vict/rc"
    run 1 tinyhsm sign "${U[@]}" -o shared/ shared/fw.bin
    has "$TMP/err" "shared/SigGen.c is a symlink owned by another user (uid 65534)"
    rm shared/SigGen.c
    plant nobody shared/fw-1.2.3.bin "$TMP/vict/rc"
    run 1 tinyhsm sign "${U[@]}" -o 'shared/fw-{version}.bin' shared/fw.bin
    has "$TMP/err" "symlink owned by another user"
    plant nobody shared/c.pem "$TMP/vict/rc"
    run 1 tinyhsm cert ca -o shared/c.pem
    has "$TMP/err" "symlink owned by another user"
    plant nobody shared/d "$TMP/vict/d"
    run 1 tinyhsm sign "${U[@]}" -o shared/d/x.bin shared/fw.bin
    has "$TMP/err" "shared/d is a symlink owned by another user"
    [ "$(cat vict/rc)" = secret ] && [ -z "$(ls -A vict/d)" ] ||
        fail "another user's symlink was followed"
    [ -z "$(ls -A shared | grep -v -e '^fw.bin$' -e '^fw-1.2.3.bin$' -e '^c.pem$' -e '^d$')" ] ||
        fail "refused, but wrote: $(ls -A shared)"
    rm shared/fw-1.2.3.bin shared/c.pem shared/d
    # the victim is nobody; the link belongs to uid 4242
    chown nobody vict/rc
    plant 4242 shared/SigGen.c "$TMP/vict/rc"
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- nbbin/tinyhsm sign "${U[@]}" \
        -o shared/ shared/fw.bin >"$TMP/out" 2>"$TMP/err" && fail "nobody followed uid 4242's link"
    has "$TMP/err" "symlink owned by another user (uid 4242)"
    [ "$(cat vict/rc)" = secret ] || fail "nobody's file was overwritten"
    rm shared/SigGen.c
    # uid 4242's file in the sticky directory: rename cannot replace it, so
    # it is refused before anything is signed or written
    echo planted >shared/SigGen.c && chown 4242 shared/SigGen.c
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- nbbin/tinyhsm sign "${U[@]}" \
        -o shared/ shared/fw.bin >"$TMP/out" 2>"$TMP/err" && fail "nobody replaced uid 4242's file"
    has "$TMP/err" "belongs to another user (uid 4242) in a sticky directory"
    [ "$(cat shared/SigGen.c)" = planted ] && [ ! -e shared/signed_binary.bin ] ||
        fail "a sticky-directory refusal wrote something"
    rm shared/SigGen.c
    # another user's FIFO: refused before signing, no hang
    mkfifo -m 666 shared/fw-1.2.5.bin && chown nobody shared/fw-1.2.5.bin
    run 1 timeout 20 "$BIN/tinyhsm" sign --board B-U585I-IOT02A --version 1.2.5 \
        -o 'shared/fw-{version}.bin' shared/fw.bin
    has "$TMP/err" "it is a FIFO owned by another user (uid 65534)"
    mknod shared/n c 1 3 && chown nobody shared/n
    run 1 tinyhsm cert ca -o shared/n
    has "$TMP/err" "character device owned by another user"
    [ -p shared/fw-1.2.5.bin ] && [ -c shared/n ] || fail "a refused FIFO or device was replaced"
    rm -f shared/fw-1.2.5.bin shared/n shared/signed_binary.bin
    ok "another user's symlink (name or directory), FIFO, device, or file in a sticky directory is refused; nothing followed or written (root and nobody as victims)"
else
    echo "skip - another user's symlink, FIFO or device: needs root to plant them"
fi

# the bytes hashed are the bytes written: a firmware rewritten while it is
# signed gives a refusal or an image that verifies, never a bad image
mkdir race && cd race
head -c $((24 << 20)) /dev/urandom >fw.bin
R=(--board TEST --max-size $((32 << 20)) --version 1.0.0)
(while :; do
    dd if=/dev/urandom of=fw.bin bs=1M count=2 seek=$((RANDOM % 22)) conv=notrunc status=none
done) &
writer=$!
for i in $(reps 6 2); do
    st=0
    "$BIN/tinyhsm" sign "${R[@]}" -o img$i.bin fw.bin >/dev/null 2>"$TMP/err" || st=$?
    if [ $st = 0 ]; then
        "$BIN/tinyhsm" verify --max-size $((32 << 20)) --siggen SigGen.c img$i.bin >"$TMP/out" 2>&1 ||
            { kill $writer; fail "run $i: exit 0 but the image does not verify: $(cat "$TMP/out")"; }
    else
        has "$TMP/err" "changed while being read"
    fi
done
kill $writer && wait $writer 2>/dev/null || true
cd ..
ok "a firmware rewritten during signing: refused, or an image that verifies"

# standard output by any name gets the image only; the summary goes to stderr
cd w1
rm -f SigGen.c stsafe_signer_cert.pem # the other key of the test above
"$BIN/tinyhsm" sign "${U[@]}" -o /proc/self/fd/1 fw.bin 2>"$TMP/err" | cat >piped.bin
[ "$(stat -c %s piped.bin)" -eq $((512 + 5120 + 64)) ] || fail "-o /proc/self/fd/1: the summary went into the image"
has "$TMP/err" "Signer key id:"
run 0 tinyhsm verify --siggen SigGen.c piped.bin
run 2 tinyhsm sign "${U[@]}" --json -o /proc/self/fd/1 fw.bin
has "$TMP/err" "--json and -o /proc/self/fd/1 both need standard output"
# a null device is no terminal: stdout and an output both on it is fine
null=/dev/null
if [ "$(id -u)" -eq 0 ]; then mknod null3 c 1 3 && null=null3; fi
"$BIN/tinyhsm" sign "${U[@]}" --json -o j.bin --cert-out j.pem --siggen $null fw.bin \
    >$null 2>"$TMP/err" || fail "--json, --siggen and stdout on one null device: $(cat "$TMP/err")"
rm -f null3
ok "-o /proc/self/fd/1: the summary goes to stderr; with --json a usage error"

# --json: the no-PIN warning is a warning, never part of the error
run 0 tinyhsm sign "${U[@]}" --json -o j.bin --cert-out j.pem --siggen j.c fw.bin
has "$TMP/out" '"warnings":["no PIN is set'
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout 2>/dev/null >other.pub
run 1 tinyhsm sign "${U[@]}" --json --trust other.pub -o j.bin --cert-out j.pem --siggen j.c fw.bin
has "$TMP/out" '"warnings":["no PIN is set'
grep -q '"error":"[^"]*no PIN' "$TMP/out" && fail "--json: the no-PIN warning is in error: $(cat "$TMP/out")"
has "$TMP/out" '"error":"the device'"'"'s signer key'
TINYHSM_NO_PIN_WARNING=1 run 0 tinyhsm sign "${U[@]}" --json -o j.bin --cert-out j.pem --siggen j.c fw.bin
has "$TMP/out" '"warnings":[]'
rm -f other.pub
ok "sign --json: the no-PIN warning in warnings, on success and failure, not in error"

# a missing directory: said how to fix; the help's example works as shown
run 1 tinyhsm sign "${U[@]}" -o out2/ fw.bin
has "$TMP/err" "directory out2 does not exist; create it first (mkdir -p out2)"
run 1 tinyhsm sign "${U[@]}" -o 'dist/{board}-{version}.bin' fw.bin
has "$TMP/err" "create it first"
[ ! -e out2 ] && [ ! -e dist ] || fail "a refused run created a directory"
run 0 tinyhsm sign --help
has "$TMP/out" "mkdir -p dist"
mkdir -p dist
run 0 tinyhsm sign "${U[@]}" -o 'dist/{board}-{version}.bin' fw.bin
[ -s dist/B-U585I-IOT02A-1.2.3.bin ] || fail "the help's example"
cd ..
ok "-o into a missing directory: 'create it first'; the help's example works"

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
for i in $(reps 10 3); do
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
