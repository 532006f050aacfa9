#!/usr/bin/env bash
# tinyhsm config against a real tinyhsmd: a value the device would refuse is
# refused before anything changes, so a typo never wipes a key.
. "$(dirname "$0")/lib.sh"

start_daemon
run 0 tinyhsm config --new all
run 0 tinyhsm cert ca -o "$TMP/ca.pem"
run 0 tinyhsm cert signer -o "$TMP/signer.pem"
unchanged() {
    run 0 tinyhsm cert ca -o "$TMP/ca2.pem"
    run 0 tinyhsm cert signer -o "$TMP/signer2.pem"
    cmp -s "$TMP/ca.pem" "$TMP/ca2.pem" || fail "CA changed after: $*"
    cmp -s "$TMP/signer.pem" "$TMP/signer2.pem" || fail "signer changed after: $*"
}
long=$(head -c 65 /dev/zero | tr '\0' O)
refuse() { # WHY OPTIONS...: refused as a usage error, keys kept
    local why=$1
    shift
    for new in all signer; do
        case "$new:$1" in signer:--ca-*) continue ;; esac
        run 2 tinyhsm config --new "$new" --yes "$@"
        has "$TMP/err" "$why"
        has "$TMP/err" "nothing was sent to the device"
        cp "$TMP/err" "$TMP/refused"
        unchanged "config --new $new $*"
    done
}

refuse "C must be two capital letters" --ca-country usa
run 2 tinyhsm -d config --new all --yes --ca-country usa
grep -q "TinyHSM <-" "$TMP/err" && fail "a line was sent for a refused value"
has "$TMP/refused" "(C=usa O=MyHSM CN=My_CA START="
refuse "C must be two capital letters" --signer-country Us
refuse "O and CN must be 1 to 64 printable" --ca-org "$long"
has "$TMP/refused" "O=$long CN=My_CA"
refuse "O and CN must be 1 to 64 printable" --signer-cn "$long"
refuse "O and CN must be 1 to 64 printable" --signer-cn "two words"
refuse "O and CN must be 1 to 64 printable" --ca-cn ""
refuse "O and CN must be 1 to 64 printable" --ca-cn "$(printf 'a\033[2Jb')"
has "$TMP/refused" 'CN=a\x1b[2Jb'
refuse "START must be a valid date" --ca-start 20230230000000
refuse "START must be a valid date" --signer-start 19691231235959
refuse "START must be a valid date" --signer-start 2025010100000
refuse "validity would end after year 9999" --ca-start 99991231000000 --ca-days 2
refuse "validity would end after year 9999" --signer-start 99991230000000 \
    --signer-days 2
ok "every value is checked with the device's rules before anything changes"

for days in 0 36501 0100 -5 1e3 ""; do
    run 2 tinyhsm config --new all --yes --ca-days "$days"
    has "$TMP/err" "--ca-days must be a number from 1 to 36500"
    run 2 tinyhsm config --new signer --yes --signer-days "$days"
    has "$TMP/err" "--signer-days must be a number from 1 to 36500"
done
unchanged "bad days"
run 0 tinyhsm config --new all --yes --ca-start 99991230000000 --ca-days 1 \
    --signer-start 20250101000000 --signer-days 36500
run 0 tinyhsm cert ca
openssl x509 -noout -enddate <"$TMP/out" | grep -q "Dec 31 00:00:00 9999" ||
    fail "the last legal end of validity was refused or changed"
ok "days: 1 to 36500, and validity may end on 9999-12-31"
stop_daemon
finish
