#!/usr/bin/env bash
# win.smoke: tinyhsm.exe under Wine (a fresh prefix in a temp dir, no
# display): help and version, and verify of images the Linux tool signed
# with a tinyhsmd (same verdicts, same lines), with paths as Windows users
# write them. Skips (77), saying why, without Wine or the exe.
# The COM-port suites (provision, sign, PIN, log) are tests/win's others.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/tools/firmware.sh"
EXE=${THSM_WIN_EXE:?set THSM_WIN_EXE to tinyhsm.exe}
[ -f "$EXE" ] || { echo "SKIP: no $EXE (win.build skipped: no mingw-w64?)"; exit 77; }
WINE=$(command -v wine64 || command -v wine || true)
[ -n "$WINE" ] || { echo "SKIP: no wine64 (apt-get install wine64)"; exit 77; }
export WINEPREFIX=$TMP/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
# the prefix's wineserver ends before lib.sh removes $TMP
trap '"${WINE%/*}/wineserver" -k 2>/dev/null || true; cleanup' EXIT
timeout 120 "$WINE" wineboot -i >/dev/null 2>&1 ||
    { echo "SKIP: wine cannot start a prefix here (wineboot failed)"; exit 77; }
cp "$EXE" "$TMP/tinyhsm.exe"
# win CMD...: tinyhsm.exe with stdout and stderr kept apart, as run does
win() { "$WINE" "$TMP/tinyhsm.exe" "$@"; }

run 0 win --help
has "$TMP/out" "Usage: tinyhsm"
has "$TMP/out" "verify"
run 0 win --version
has "$TMP/out" "$(cat "$(dirname "$0")/../../VERSION")"
if grep -q $'\r' "$TMP/out"; then fail "CR in the exe's standard output"; fi
ok "tinyhsm.exe runs under Wine: help, version, no CR in its output"

# no device: the port named, the board's place on Windows said
run 1 win -p COM199 info
has "$TMP/err" "cannot open port COM199: no such port"
run 1 win -p '\\.\COM198' info
has "$TMP/err" 'cannot open port \\.\COM198: no such port'
run 1 win -p 'C:\windows' info
has "$TMP/err" "is not a serial port"
run 1 env -u TINYHSM_PORT "$WINE" "$TMP/tinyhsm.exe" info
has "$TMP/err" "no TinyHSM answers; tried: attached boards (no ST-LINK port)"
has "$TMP/err" "is the board plugged in"
ok "COM names (COMn, \\.\COMn) reach the port; errors name it; no board: how to find one"

start_daemon
run 0 tinyhsm config --new all
mkdir -p "$TMP/w/my images/été" && cd "$TMP/w"
firmware 5000 >fw.bin
run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.2.3 -o img.bin fw.bin
run 0 tinyhsm cert ca -o ca.pem
cp img.bin stsafe_signer_cert.pem SigGen.c ca.pem "my images/été/"
for key in "--cert stsafe_signer_cert.pem --ca ca.pem" "--siggen SigGen.c"; do
    # shellcheck disable=SC2086
    run 0 tinyhsm verify $key img.bin
    cp "$TMP/out" linux.out
    # shellcheck disable=SC2086
    run 0 win verify $key img.bin
    diff linux.out "$TMP/out" >/dev/null || { diff linux.out "$TMP/out"; fail "exe and Linux differ"; }
done
has "$TMP/out" "PASS signature"
ok "verify under Wine passes a Linux-signed image with the same lines (--cert, --siggen, --ca)"

dir='my images\été'
run 0 win verify --cert "Z:$TMP/w/$dir/stsafe_signer_cert.pem" "$dir\\img.bin"
has "$TMP/out" "PASS signature"
ok "paths with drive letter, backslashes, a space and a non-ASCII name"

cp img.bin bad.bin
printf '\x55' | dd of=bad.bin bs=1 seek=3000 conv=notrunc status=none
run 1 win verify --siggen SigGen.c bad.bin
has "$TMP/out" "FAIL signature"
has "$TMP/out" "REJECTED"
run 1 win verify --siggen SigGen.c missing.bin
has "$TMP/err" "missing.bin"
ok "a tampered image is rejected; a missing one is named"

run 0 win verify --json --siggen SigGen.c img.bin
run 0 tinyhsm verify --json --siggen SigGen.c img.bin
cp "$TMP/out" linux.json
run 0 win verify --json --siggen SigGen.c img.bin
diff linux.json "$TMP/out" >/dev/null || { diff linux.json "$TMP/out"; fail "--json differs"; }
ok "--json output equals the Linux tool's"

run 2 win sign --key 'pkcs11:token=t;object=k' --board B-U585I-IOT02A \
    --version 1.0.0 -o p11.bin fw.bin
has "$TMP/err" "not available on Windows"
[ ! -e p11.bin ] || fail "p11.bin written"
ok "signing with a PKCS#11 token is refused on Windows, nothing written"
finish
