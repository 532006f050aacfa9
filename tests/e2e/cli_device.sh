#!/usr/bin/env bash
# tinyhsm info, config, cert, decommission and the command line itself,
# against a real tinyhsmd, checked with openssl.
. "$(dirname "$0")/lib.sh"

# --help everywhere, with an example; usage errors exit 2
for cmd in info config sign cert verify decommission; do
    run 0 tinyhsm "$cmd" --help
    has "$TMP/out" "Example"
done
run 0 tinyhsm --help
run 2 tinyhsm
run 2 tinyhsm frobnicate
run 2 tinyhsm config
run 2 tinyhsm config --new everything
run 2 tinyhsm config --new all --ca-days 0
run 2 tinyhsm config --new all --ca-org "two words"
run 2 tinyhsm cert
run 2 tinyhsm cert intermediate
run 2 tinyhsm decommission
ok "help and usage errors"

# unreachable device
TINYHSM_PORT=$TMP/nothing-here run 1 tinyhsm info
has "$TMP/err" "$TMP/nothing-here"
ok "unreachable port is reported"

start_daemon
run 1 tinyhsm config --new signer
has "$TMP/err" "config --new all"
ok "new signer without a CA is refused with the command to run"

run 1 tinyhsm cert ca
has "$TMP/err" "the device has no CA yet; create one with: tinyhsm config --new all"
! grep -q 'AT+' "$TMP/err" || { cat "$TMP/err"; fail "raw AT text in a user message"; }
ok "a missing CA is said in the user's words, without AT commands"

run 0 tinyhsm config --new all
has "$TMP/out" "CN=My_CA"
has "$TMP/out" "CN=My_ECDSA_Signer"
run 0 tinyhsm cert ca -o "$TMP/ca.pem"
run 0 tinyhsm cert signer -o "$TMP/signer.pem"
openssl verify -CAfile "$TMP/ca.pem" "$TMP/signer.pem" >/dev/null ||
    fail "openssl does not verify the chain"
# default validity: from now, CA 10 years, signer 2 years
year=$(date -u +%Y)
openssl x509 -in "$TMP/ca.pem" -noout -enddate | grep -q " $((year + 10)) GMT" ||
    fail "CA does not last 10 years: $(openssl x509 -in "$TMP/ca.pem" -noout -enddate)"
openssl x509 -in "$TMP/signer.pem" -noout -enddate | grep -q " $((year + 2)) GMT" ||
    fail "signer does not last 2 years"
start=$(openssl x509 -in "$TMP/ca.pem" -noout -startdate | cut -d= -f2)
[ $(( $(date -u +%s) - $(date -u -d "$start" +%s) )) -lt 120 ] ||
    fail "CA does not start now: $start"
ok "config --new all: chain verifies, default dates"

# the product names the device: the firmware is not tinyhsmd
product=tinyhsmd
[ "$DEVICE" = qemu ] && product=tinyhsm-fw
run 0 tinyhsm info
has "$TMP/out" "Device:  $product 0."
has "$TMP/out" "Serial:"
has "$TMP/out" "Subject:     C=US, O=MyHSM, CN=My_CA"
has "$TMP/out" "Issuer:      C=US, O=MyHSM, CN=My_CA"
has "$TMP/out" "Key SHA-256:"
fp=$(openssl x509 -in "$TMP/signer.pem" -noout -pubkey | openssl pkey -pubin \
     -outform DER | tail -c 65 | sha256sum | cut -c1-64 | tr a-f A-F)
has "$TMP/out" "Key SHA-256: $fp"
ok "info shows subjects, validity and key fingerprint"

# an existing CA is not replaced without --yes (no terminal to ask)
run 1 tinyhsm config --new all
has "$TMP/err" "--yes"
run 0 tinyhsm cert ca -o "$TMP/ca2.pem"
cmp -s "$TMP/ca.pem" "$TMP/ca2.pem" || fail "CA changed without --yes"
ok "CA kept without --yes"

run 1 tinyhsm config --new signer --signer-cn Release_2026 --signer-days 30
has "$TMP/err" "SigGen.c"
has "$TMP/err" "--yes"
run 0 tinyhsm cert signer -o "$TMP/signer2.pem"
cmp -s "$TMP/signer.pem" "$TMP/signer2.pem" || fail "signer replaced without --yes"
run 0 tinyhsm config --new signer --yes --signer-cn Release_2026 --signer-days 30
has "$TMP/out" "Bootloaders built with the old SigGen.c reject the images signed from now on"
run 0 tinyhsm cert ca -o "$TMP/ca2.pem"
cmp -s "$TMP/ca.pem" "$TMP/ca2.pem" || fail "--new signer changed the CA"
run 0 tinyhsm cert signer -o "$TMP/signer2.pem"
cmp -s "$TMP/signer.pem" "$TMP/signer2.pem" && fail "signer not replaced"
openssl verify -CAfile "$TMP/ca.pem" "$TMP/signer2.pem" >/dev/null || fail "new signer chain"
openssl x509 -in "$TMP/signer2.pem" -noout -subject | grep -q "CN = Release_2026" ||
    fail "signer CN not applied"
ok "config --new signer needs --yes, names SigGen.c, keeps the CA"

run 0 tinyhsm config --new all --yes --ca-country DE --ca-org ACME \
    --ca-cn Root --ca-start 20250101000000 --ca-days 100
run 0 tinyhsm cert ca -o "$TMP/ca3.pem"
openssl x509 -in "$TMP/ca3.pem" -noout -subject | grep -q "C = DE, O = ACME, CN = Root" ||
    fail "CA subject options not applied"
openssl x509 -in "$TMP/ca3.pem" -noout -startdate | grep -q "Jan  1 00:00:00 2025 GMT" ||
    fail "CA start not applied"
ok "config --new all --yes replaces the CA with the given subject"

run 0 tinyhsm cert ca --der -o "$TMP/ca3.der"
openssl x509 -inform DER -in "$TMP/ca3.der" -noout >/dev/null || fail "DER export"
cmp -s <(openssl x509 -in "$TMP/ca3.pem" -outform DER) "$TMP/ca3.der" || fail "DER differs"
run 0 tinyhsm cert signer
has "$TMP/out" "-----BEGIN CERTIFICATE-----"
ok "cert exports PEM and DER"

run 0 tinyhsm -d info
has "$TMP/err" "TinyHSM <- AT+VERSION?"
has "$TMP/err" "TinyHSM -> OK $product "
ok "debug trace shows both directions"

# a client holding the pty does not keep tinyhsm out: it uses the socket;
# on the pty itself (named directly), a second client is told it is busy
pty=$(cat "$TMP/daemon.out")
flock -n "$pty" sleep 3 &
holder=$!
sleep 0.5
if [ "$DEVICE" = qemu ]; then # tinyhsmd-qemu has only the pty
    run 1 tinyhsm info
else
    run 0 tinyhsm info
    TINYHSM_PORT=$pty run 1 tinyhsm info
fi
has "$TMP/err" "busy"
wait $holder
TINYHSM_PORT=$pty run 0 tinyhsm info
ok "a held pty: the socket still serves, the pty is reported busy"

run 0 tinyhsm decommission --yes
run 0 tinyhsm info
has "$TMP/out" "none"
run 1 tinyhsm cert ca
ok "decommission erases the CA and signer"
stop_daemon

# README: 'tinyhsmd &' stops when its terminal closes; 'setsid -f tinyhsmd'
# keeps running. The hang-up reaches the whole session of the shell.
if [ "$DEVICE" != qemu ]; then
    mkdir "$TMP/bg" "$TMP/fg"
    setsid bash -c '"$1" --state "$2/st" --link "$2/tty" >"$2/out" 2>&1 &
        setsid -f "$1" --state "$3/st" --link "$3/tty" >"$3/out" 2>&1
        sleep 600' _ "$BIN/tinyhsmd" "$TMP/fg" "$TMP/bg" &
    session=$!
    for _ in $(seq 100); do
        [ -s "$TMP/fg/tty.pid" ] && [ -s "$TMP/bg/tty.pid" ] && break
        sleep 0.05
    done
    read -r fg _ <"$TMP/fg/tty.pid" # PID PTY
    read -r bg _ <"$TMP/bg/tty.pid"
    trap 'kill -TERM "$fg" "$bg" 2>/dev/null || true; cleanup' EXIT
    kill -HUP -- -"$session" # the terminal closes
    wait "$session" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$fg" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$fg" 2>/dev/null && fail "tinyhsmd & survived the hang-up"
    TINYHSM_PORT=$TMP/bg/tty run 0 tinyhsm info
    has "$TMP/out" "tinyhsmd"
    kill -TERM "$bg"
    for _ in $(seq 100); do kill -0 "$bg" 2>/dev/null || break; sleep 0.05; done
    ok "setsid -f tinyhsmd outlives the session it was started from"
fi
finish
