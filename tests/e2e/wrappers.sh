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
stop_daemon
finish
