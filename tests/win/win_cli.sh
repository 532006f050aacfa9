#!/usr/bin/env bash
# tinyhsm.exe under Wine on COM1 (a pty_relay to tinyhsmd): provision, sign,
# verify, PIN, log, refusals, decommission; the image, certificate and
# SigGen.c equal the Linux tool's for the same inputs but for the signature;
# Windows paths (drive letters, backslashes, spaces, non-ASCII names).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../e2e/tools/firmware.sh"
need_exe
win_start
cd "$TMP"
# newlines and CRs in the firmware: a text-mode write would change the image
{ firmware 3000; printf '\n\r\n\n'; head -c 500 /dev/urandom; } >fw.bin
BOARD=NUCLEO-G071RB
W() { win_path "$TMP/$1"; } # a file of $TMP, as Windows names it

win 0 help
has "$TMP/out" "Usage: tinyhsm"
win 0 info
has "$TMP/out" "Device:  tinyhsmd"
has "$TMP/out" "none yet"
ok "help, and info on COM1"

win 0 config --new all --ca-cn Win_Root --ca-start 20250101000000 \
    --signer-cn Win_FW --signer-start 20250101000000
run 0 tinyhsm cert ca -o lin_ca.pem
win 0 cert ca -o "$(W win_ca.pem)"
cmp -s win_ca.pem lin_ca.pem || fail "cert ca differs from the Linux tool's"
no_cr win_ca.pem
openssl x509 -in win_ca.pem -noout -subject | grep -q "CN = Win_Root" || fail "CA subject"
run 0 tinyhsm info
cp "$TMP/out" lin_info
win 0 info
diff lin_info "$TMP/out" || fail "info differs from the Linux tool's"
ok "config provisions; cert and info print what the Linux tool prints, LF only"

mkdir w l
win 0 sign --board $BOARD --version 1.2.3 -o "$(W w/signed.bin)" \
    --cert-out "$(W w/cert.pem)" --siggen "$(W w/SigGen.c)" fw.bin
has "$TMP/out" "$BOARD"
run 0 tinyhsm sign --board $BOARD --version 1.2.3 -o l/signed.bin \
    --cert-out l/cert.pem --siggen l/SigGen.c fw.bin
cmp -s w/cert.pem l/cert.pem || fail "the signer certificate differs"
cmp -s w/SigGen.c l/SigGen.c || fail "SigGen.c differs"
no_cr w/cert.pem w/SigGen.c
[ "$(stat -c %s w/signed.bin)" = "$(stat -c %s l/signed.bin)" ] || fail "image sizes differ"
cmp -s <(head -c -64 w/signed.bin) <(head -c -64 l/signed.bin) ||
    fail "the images differ before the signature"
run 0 tinyhsm verify --siggen w/SigGen.c --board $BOARD w/signed.bin
ok "sign: image, certificate and SigGen.c equal the Linux tool's but for the signature"

win 0 verify --siggen "$(W l/SigGen.c)" --board $BOARD l/signed.bin
has "$TMP/out" "version 1.2.3"
cp w/signed.bin bad.bin
printf 'X' | dd of=bad.bin bs=1 seek=600 conv=notrunc status=none
win 1 verify --siggen "$(W w/SigGen.c)" --board $BOARD bad.bin
ok "verify accepts the Linux tool's image and refuses a changed one"

win 0 -d info
has "$TMP/err" "<- AT+"
win 0 sign --board $BOARD --version 1.2.4 -o "$(W w/j.bin)" --json fw.bin
python3 -m json.tool "$TMP/out" >/dev/null || fail "sign --json is not JSON"
has "$TMP/out" '"ok":true'
ok "-d traces the AT lines, --json prints JSON"

# refusals change nothing
win 1 sign --board $BOARD --version 0.0.0 -o "$(W w/zero.bin)" fw.bin
[ ! -e w/zero.bin ] || fail "version 0.0.0 wrote an image"
win 1 sign --board $BOARD --version 1.0.0 -o "$(W nosuch/x.bin)" fw.bin
[ ! -e nosuch ] || fail "a missing directory was created"
win 2 sign --board NO-SUCH-BOARD --version 1.0.0 -o "$(W w/nb.bin)" fw.bin
[ ! -e w/nb.bin ] || fail "an unknown board wrote an image"
wine_run 1 "$EXE" -p COM7 info
has "$TMP/err" "COM7"
ok "refusals (version 0.0.0, missing directory, unknown board, unmapped COM7) write nothing"

TINYHSM_NEW_PIN=win-pin-1 win 0 pin set
win 1 sign --board $BOARD --version 1.0.0 -o "$(W w/p.bin)" fw.bin
has "$TMP/err" "--pin-file"
[ ! -e w/p.bin ] || fail "signed without a PIN"
TINYHSM_PIN=win-pin-1 win 0 sign --board $BOARD --version 1.0.0 -o "$(W w/p.bin)" fw.bin
printf 'win-pin-1\n' >pin.txt
chmod 600 pin.txt
win 0 --pin-file "$(W pin.txt)" sign --board $BOARD --version 1.0.1 -o "$(W w/pf.bin)" fw.bin
! grep -q "warning: the PIN file" "$TMP/err" || fail "a private PIN file got the warning"
chmod 644 pin.txt # Wine's ACL of a Unix file follows its mode: Everyone reads it
win 0 --pin-file "$(W pin.txt)" sign --board $BOARD --version 1.0.3 -o "$(W w/pg.bin)" fw.bin
has "$TMP/err" "warning: the PIN file"
TINYHSM_PIN=wrong-pin win 1 sign --board $BOARD --version 1.0.2 -o "$(W w/wp.bin)" fw.bin
has "$TMP/err" "wrong PIN"
[ ! -e w/wp.bin ] || fail "signed with a wrong PIN"
ok "pin set; sign needs the PIN: none refused, TINYHSM_PIN and --pin-file work (a file others may read is warned), a wrong one refused"

sleep 2 # the device's delay after a wrong PIN
run 0 tinyhsm log
cp "$TMP/out" lin_log
win 0 log
diff lin_log "$TMP/out" || fail "log differs from the Linux tool's"
has "$TMP/out" "SIGN"
win 0 log --verify
ok "log prints the Linux tool's log; log --verify"

# Windows paths: a drive letter, backslashes and slashes, spaces, non-ASCII
mkdir -p "d/out dir" "d/été"
ln -sfn "$TMP/d" "$WINEPREFIX/dosdevices/d:"
cp fw.bin "d/été/firmware ü.bin"
export TINYHSM_PIN=win-pin-1
win 0 sign --board $BOARD --version 1.2.3 -o 'D:\out dir\signed image.bin' \
    --cert-out 'D:\out dir\cert.pem' --siggen 'D:\out dir\SigGen.c' 'D:\été\firmware ü.bin'
cmp -s <(head -c -64 "d/out dir/signed image.bin") <(head -c -64 l/signed.bin) ||
    fail "the image at D:\\out dir differs"
cmp -s "d/out dir/cert.pem" l/cert.pem || fail "the certificate at D:\\out dir differs"
win 0 sign --board $BOARD --version 1.2.3 -o 'D:/été/签名.bin' \
    --cert-out 'D:/été/cert é.pem' --siggen 'D:\été\SigGen ü.c' 'D:/été/firmware ü.bin'
cmp -s <(head -c -64 "d/été/签名.bin") <(head -c -64 l/signed.bin) ||
    fail "the image with a non-ASCII name differs"
cmp -s "d/été/SigGen ü.c" l/SigGen.c || fail "SigGen ü.c differs"
win 0 verify --siggen 'D:\été\SigGen ü.c' --board $BOARD 'd:\été\签名.bin'
(cd "d/été" && win 0 sign --board $BOARD --version 1.2.3 -o 'relatif ü.bin' \
    --cert-out cert.pem --siggen SigGen.c 'firmware ü.bin')
[ -s "d/été/relatif ü.bin" ] || fail "a relative non-ASCII name"
unset TINYHSM_PIN
ok "paths: drive letter, backslashes and slashes, spaces, non-ASCII (UTF-8) names"

wine_run 0 "$EXE" -p '\\.\COM1' info
has "$TMP/out" "Device:  tinyhsmd"
ok "-p \\\\.\\COM1"

win 1 decommission --yes
TINYHSM_PIN=win-pin-1 win 0 decommission --yes
win 0 info
has "$TMP/out" "none yet"
ok "decommission needs the PIN, then erases the keys"
finish
