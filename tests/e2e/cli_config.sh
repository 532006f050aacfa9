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
        # quick (make test): checked once, after the last refusal
        [ "${THSM_QUICK:-0}" = 1 ] || unchanged "config --new $new $*"
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
refuse "O and CN must be 1 to 64 printable ASCII characters without spaces" \
    --signer-cn "two words"
refuse "O and CN must be 1 to 64 printable ASCII characters without spaces" \
    --ca-cn "My CA"
refuse "O and CN must be 1 to 64 printable" --ca-cn ""
refuse "O and CN must be 1 to 64 printable" --ca-cn "$(printf 'a\033[2Jb')"
has "$TMP/refused" 'CN=a\x1b[2Jb'
refuse "START must be a valid date" --ca-start 20230230000000
refuse "START must be a valid date" --signer-start 19691231235959
refuse "START must be a valid date" --signer-start 2025010100000
refuse "validity would end after year 9999" --ca-start 99991231000000 --ca-days 2
refuse "validity would end after year 9999" --signer-start 99991230000000 \
    --signer-days 2
unchanged "the refusals above"
ok "every value is checked with the device's rules before anything changes"

for word in al ALL sign signr; do
    run 2 tinyhsm config --new "$word" --yes
    has "$TMP/err" "--new takes all or signer, not '$word'; did you mean --new "
done
has "$TMP/err" "not 'signr'; did you mean --new signer?"
run 2 tinyhsm config --new al --yes
has "$TMP/err" "not 'al'; did you mean --new all?"
run 2 tinyhsm config --new frob --yes
has "$TMP/err" "--new takes all or signer, not 'frob'"
grep -q "did you mean" "$TMP/err" && fail "a guess for 'frob': $(cat "$TMP/err")"
run 2 tinyhsm config --ca-cn X
has "$TMP/err" "--new all or --new signer is needed"
unchanged "bad --new"
ok "a wrong --new word is named, with a guess when it is close"

for new in all signer; do
    got=0
    echo y | tinyhsm config --new $new >"$TMP/out" 2>"$TMP/err" || got=$?
    [ "$got" = 1 ] || fail "echo y | config --new $new exited $got"
    has "$TMP/err" "not confirmed: stdin is not a terminal; pass --yes to confirm"
    has "$TMP/err" "; nothing changed"
done
unchanged "echo y | config"
ok "without a terminal config says stdin is not one, and to pass --yes"

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

run 0 tinyhsm config --new all --yes --signer-start 20200101000000 --signer-days 30
has "$TMP/err" "warning: the signer certificate will be expired when it is made (valid until 2020-01-31"
run 0 tinyhsm info
has "$TMP/out" "2020-01-01 00:00:00 UTC to 2020-01-31 00:00:00 UTC  EXPIRED"
run 0 tinyhsm info --json
has "$TMP/out" '"not_after":"2020-01-31T00:00:00Z","key_sha256"'
has "$TMP/out" '"validity":"expired"'
run 0 tinyhsm config --new signer --yes --signer-start 20300101000000 --signer-days 10
grep -q "warning: the" "$TMP/err" && fail "a valid future signer warned: $(cat "$TMP/err")"
run 0 tinyhsm info
has "$TMP/out" "2030-01-11 00:00:00 UTC  NOT YET VALID"
run 0 tinyhsm info --json
has "$TMP/out" '"validity":"not_yet_valid"'
run 0 tinyhsm config --new all --yes --ca-start 20990101000000 --ca-days 1
has "$TMP/out" "  NOT YET VALID"
ok "an expired or not yet valid certificate: warned by config, flagged by info"

run 0 tinyhsm config --new all --yes --ca-days 100 --signer-days 102
has "$TMP/err" "warning: the signer certificate would be valid until"
has "$TMP/err" "after the CA certificate ends"
run 0 tinyhsm config --new signer --yes --signer-days 99
grep -q "warning: the" "$TMP/err" && fail "a signer that ends with the CA warned: $(cat "$TMP/err")"
run 0 tinyhsm config --new signer --yes --signer-days 500
has "$TMP/err" "after the CA certificate ends"
run 0 tinyhsm info
has "$TMP/out" "Signer certificate"
ok "a signer that would outlive the CA is warned about, and made"
stop_daemon
finish
