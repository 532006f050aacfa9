#!/usr/bin/env bash
# New PINs that guessers try first (all one character, a straight run) are
# refused by tinyhsm before anything is sent, and by the device itself.
. "$(dirname "$0")/lib.sh"
start_daemon
for pin in 111111 123456 654321 abcdefgh; do
    TINYHSM_NEW_PIN=$pin run 1 tinyhsm -d pin set
    has "$TMP/err" "the new PIN is too easy to guess: all one character or a straight run"
    grep -q 'AT+PIN_SET' "$TMP/err" && fail "tinyhsm sent the weak PIN $pin"
done
run 0 tinyhsm info
has "$TMP/out" "not set"
ok "tinyhsm refuses weak new PINs and sends nothing"

TINYHSM_NEW_PIN=good-pin-1 run 0 tinyhsm pin set
TINYHSM_PIN=good-pin-1 TINYHSM_NEW_PIN=222222 run 1 tinyhsm pin change
has "$TMP/err" "too easy to guess"
TINYHSM_PIN=good-pin-1 run 0 tinyhsm info
ok "pin change refuses a weak new PIN too; the old PIN still works"
finish
