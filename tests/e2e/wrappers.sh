#!/usr/bin/env bash
# scripts/config_TinyHSM.sh and scripts/sign.sh take the original scripts'
# variables and drive tinyhsm.
. "$(dirname "$0")/lib.sh"
scripts=$(cd "$(dirname "$0")/../../scripts" && pwd)
export TINYHSM=$BIN/tinyhsm
start_daemon
CA_COUNTRY=FR CA_ORG=Acme CA_CN=Acme_Root CA_START=20250101000000 CA_DURATION=100 \
SIGNER_COUNTRY=FR SIGNER_ORG=Acme SIGNER_CN=Acme_FW SIGNER_DURATION=10 \
    run 0 bash "$scripts/config_TinyHSM.sh"
run 0 tinyhsm cert ca -o "$TMP/ca.pem"
openssl x509 -in "$TMP/ca.pem" -noout -subject | grep -q "C = FR, O = Acme, CN = Acme_Root" ||
    fail "CA variables not applied"
openssl x509 -in "$TMP/ca.pem" -noout -startdate | grep -q "Jan  1 00:00:00 2025" ||
    fail "CA_START not applied"
ok "config_TinyHSM.sh passes the CA and signer variables"
cd "$TMP"
{ printf '\000\040\000\040\001\202\000\010'; head -c 1992 /dev/urandom; } >fw.bin # a vector table sign accepts
BOARD=NUCLEO-G071RB VERSION=3.1.4 run 0 bash "$scripts/sign.sh" fw.bin
[ -s signed_binary.bin ] && [ -s SigGen.c ] && [ -s stsafe_signer_cert.pem ] || fail "outputs"
run 0 tinyhsm verify --siggen SigGen.c --board NUCLEO-G071RB signed_binary.bin
has "$TMP/out" "version 3.1.4"
run 2 bash "$scripts/sign.sh" fw.bin
ok "sign.sh signs with BOARD and VERSION, and needs BOARD"

# The installed copies, as make install lays them out (cmake --install
# writes its manifest into the build tree: copied by hand where that is
# read-only), with tinyhsm beside them.
inst=$TMP/inst
if [ -f "$BIN/../cmake_install.cmake" ] && [ -w "$BIN/.." ]; then
    cmake --install "$BIN/.." --prefix "$inst" --component scripts >/dev/null
else
    mkdir -p "$inst/bin" "$inst/share/tinyhsm/scripts"
    cp "$scripts/sign.sh" "$inst/bin/tinyhsm-sign"
    cp "$scripts/config_TinyHSM.sh" "$inst/bin/tinyhsm-config"
    cp "$scripts/sign.sh" "$scripts/config_TinyHSM.sh" "$inst/share/tinyhsm/scripts/"
fi
cp "$BIN/tinyhsm" "$inst/bin/tinyhsm"
chmod -R a+rX "$inst"
mkdir "$TMP/other" # another tinyhsm on PATH, which the wrappers must not use
printf '#!/bin/sh\necho "the other tinyhsm" >&2\nexit 9\n' >"$TMP/other/tinyhsm"
chmod 755 "$TMP/other/tinyhsm"
unset TINYHSM
fresh() { rm -f SigGen.c stsafe_signer_cert.pem; } # the outputs of the old key
for path in /usr/bin:/bin "$TMP/other:$PATH"; do
    PATH=$path YES=1 run 0 "$inst/bin/tinyhsm-config"
    fresh
    PATH=$path BOARD=NUCLEO-G071RB VERSION=1.0.0 run 0 "$inst/bin/tinyhsm-sign" fw.bin
done
PATH=$TMP/other:$PATH BOARD=NUCLEO-G071RB VERSION=1.0.0 \
    run 9 "$inst/share/tinyhsm/scripts/sign.sh" fw.bin
has "$TMP/err" "the other tinyhsm"
ok "the installed wrappers run the tinyhsm beside them, else the one on PATH"

w=$inst/bin/tinyhsm-sign
BOARD=NUCLEO-G071RB VERSION=1.0.0 run 0 "$w" -o "$TMP/x.bin" fw.bin --json
has "$TMP/out" '"ok":true'
has "$TMP/out" "\"image\":\"$TMP/x.bin\""
run 0 tinyhsm verify --siggen SigGen.c --board NUCLEO-G071RB "$TMP/x.bin"
BOARD=NUCLEO-G071RB VERSION=1.0.0 FIRMWARE=fw.bin run 0 "$w" -o "$TMP/y.bin"
[ -s "$TMP/y.bin" ] || fail "FIRMWARE with -o wrote no image"
YES=1 SIGNER_CN=Args run 0 "$inst/bin/tinyhsm-config" --new signer --signer-cn Arg2
run 0 tinyhsm cert signer
openssl x509 -noout -subject <"$TMP/out" | grep -q "CN = Arg2" ||
    fail "tinyhsm-config did not pass its arguments after the variables'"
ok "the wrappers pass their arguments (-o, --json) through, after the variables'"

fresh
for v in 1 yes YES true True; do
    FORCE=$v BOARD=NUCLEO-G071RB VERSION=0.0.0 run 0 "$w" -o "$TMP/z.bin" fw.bin
done
BOARD=NUCLEO-G071RB VERSION=0.0.0 run 1 "$w" -o "$TMP/z.bin" fw.bin
FORCE=no BOARD=NUCLEO-G071RB VERSION=0.0.0 run 1 "$w" -o "$TMP/z.bin" fw.bin
FORCE=yess BOARD=NUCLEO-G071RB VERSION=0.0.0 run 2 "$w" -o "$TMP/z.bin" fw.bin
has "$TMP/err" "tinyhsm-sign: FORCE must be 1, yes or true (or 0, no, false), not 'yess'"
YES=sure run 2 "$inst/bin/tinyhsm-config"
has "$TMP/err" "tinyhsm-config: YES must be 1, yes or true (or 0, no, false), not 'sure'"
YES=yes run 0 "$inst/bin/tinyhsm-config" --new signer
ok "FORCE and YES take 1, yes or true; another value is refused"

run 1 "$inst/bin/tinyhsm-config" --new signer # run gives no terminal
has "$TMP/err" "stdin is not a terminal; set YES=1 (or pass --yes) to confirm"
ok "tinyhsm-config without a terminal says to set YES=1"

for s in tinyhsm-sign tinyhsm-config; do
    run 0 "$inst/bin/$s" --help
    has "$TMP/out" "TINYHSM_PIN: the device PIN, needed when the device has one"
done
ok "the wrappers' --help names TINYHSM_PIN"

stop_daemon
finish
