#!/usr/bin/env bash
# The security officer's PIN from the command line: pin set --so, pin
# unblock (the keys stay), info, and the wait after a wrong PIN in the
# user's words.
. "$(dirname "$0")/lib.sh"

start_daemon
run 0 tinyhsm config --new all
mkdir "$TMP/w" && cd "$TMP/w"
{ printf '\000\040\000\040\001\202\000\010'; head -c 2992 /dev/urandom; } >fw.bin # a vector table sign accepts
sign() { tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 --force fw.bin; }
key_id() { tinyhsm info | sed -n 's/^Signer key id: //p'; }
# waited STATUS CMD...: as run, but first waits out the device's wait after
# a wrong PIN, as long as its "wait N s" message says, however often (a
# loaded machine may need a second round).
waited() {
    local want=$1 got n
    shift
    for _ in 1 2 3 4 5 6; do
        got=0
        "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || got=$?
        n=$(sed -n 's/.*wait \([0-9]*\) s before the next try.*/\1/p' "$TMP/err")
        [ -n "$n" ] || break
        sleep "$n"
    done
    [ "$got" -eq "$want" ] || { cat "$TMP/out" "$TMP/err"; fail "'$*' exited $got, expected $want"; }
}
# wrong_pins N CMD...: N wrong PINs, each after the last one's wait.
wrong_pins() {
    local n=$1
    shift
    for _ in $(seq "$n"); do waited 1 "$@"; done
}

run 1 tinyhsm pin set --so
has "$TMP/err" "no PIN is set yet; set the user PIN first: tinyhsm pin set"
run 2 tinyhsm pin change --so
has "$TMP/err" "--so goes with 'pin set'"
run 2 tinyhsm pin set --so-pin-file x
has "$TMP/err" "--so-pin-file goes with"
ok "pin set --so needs a user PIN first; --so only with set"

TINYHSM_NEW_PIN=user-pin-1 run 0 tinyhsm pin set
run 0 tinyhsm info
has "$TMP/out" "SO PIN:      not set"
run 1 tinyhsm pin unblock
has "$TMP/err" "no SO PIN is set, so nothing can unblock the PIN"
TINYHSM_NEW_PIN=officer-puk-1 run 1 tinyhsm pin set --so
has "$TMP/err" "the PIN is needed"
TINYHSM_PIN=wrong-pin-1 TINYHSM_NEW_PIN=officer-puk-1 wrong_pins 3 tinyhsm pin set --so
has "$TMP/err" "wrong PIN: 2 tries left"
# the wait after three wrong PINs is 4 s: long enough to see it
TINYHSM_PIN=user-pin-1 TINYHSM_NEW_PIN=officer-puk-1 run 1 tinyhsm pin set --so
has "$TMP/err" "login refused: the device waits after a wrong PIN; wait "
has "$TMP/err" " s before the next try (this one spent no try)"
run 0 tinyhsm info
has "$TMP/out" "PIN:         set, 2 tries left"
has "$TMP/out" "PIN wait:    "
TINYHSM_PIN=user-pin-1 TINYHSM_NEW_PIN=123456 run 1 tinyhsm pin set --so
has "$TMP/err" "too easy to guess"
TINYHSM_PIN=user-pin-1 TINYHSM_NEW_PIN=officer-puk-1 waited 0 tinyhsm pin set --so
has "$TMP/out" "SO PIN set."
run 0 tinyhsm info
has "$TMP/out" "SO PIN:      set, 10 tries left"
has "$TMP/out" "PIN:         set, 5 tries left"
run 0 tinyhsm info --json
has "$TMP/out" '"pin_delay_s":0,"so_pin":"set","so_tries_left":10,"so_delay_s":0'
ok "pin set --so: the first SO PIN needs the user's login; a wait is said in seconds"

key=$(key_id)
[ -n "$key" ] || fail "no signer key id"
TINYHSM_PIN=wrong-pin-1 wrong_pins 3 sign
has "$TMP/err" "wrong PIN: 2 tries left"
TINYHSM_PIN=wrong-pin-1 run 1 sign # at once, during the 4 s wait: no try spent
has "$TMP/err" "s before the next try (this one spent no try)"
TINYHSM_PIN=wrong-pin-1 waited 1 sign
has "$TMP/err" "wrong PIN: 1 try left"
TINYHSM_PIN=wrong-pin-1 waited 1 sign
has "$TMP/err" "the device is BLOCKED now"
TINYHSM_PIN=user-pin-1 run 1 sign
has "$TMP/err" "the PIN is blocked; the security officer unblocks it and the keys stay: tinyhsm pin unblock"
run 0 tinyhsm info
has "$TMP/out" "The security officer unblocks it, and the keys stay: tinyhsm pin unblock"
ok "five wrong PINs, each after its wait, block the PIN; the messages name the unblock"

TINYHSM_SO_PIN=wrong-puk-1 TINYHSM_NEW_PIN=user-pin-2 run 1 tinyhsm pin unblock
has "$TMP/err" "wrong SO PIN; the PIN was not unblocked: 9 SO tries left"
TINYHSM_SO_PIN=wrong-puk-1 TINYHSM_NEW_PIN=user-pin-2 wrong_pins 2 tinyhsm pin unblock
has "$TMP/err" "7 SO tries left"
echo officer-puk-1 >puk.txt
echo user-pin-2 >new.txt
chmod 600 puk.txt new.txt
run 1 tinyhsm pin unblock --so-pin-file puk.txt --new-pin-file new.txt
has "$TMP/err" "s before the next try (this one spent no try)"
run 0 tinyhsm info
has "$TMP/out" "SO PIN:      set, 7 tries left"
has "$TMP/out" "SO PIN wait: "
waited 0 tinyhsm pin unblock --so-pin-file puk.txt --new-pin-file new.txt
has "$TMP/out" "PIN unblocked: the new PIN is set and the keys are kept."
[ "$(key_id)" = "$key" ] || fail "the signer key changed"
TINYHSM_PIN=user-pin-1 run 1 sign
has "$TMP/err" "wrong PIN: 4 tries left"
TINYHSM_PIN=user-pin-2 waited 0 sign
run 0 tinyhsm verify --siggen SigGen.c signed_binary.bin
ok "pin unblock: the SO PIN (file) and a new PIN (file); the key and signing stay"

TINYHSM_SO_PIN=officer-puk-1 TINYHSM_NEW_PIN=officer-puk-2 run 0 tinyhsm pin set --so
has "$TMP/out" "SO PIN changed."
TINYHSM_SO_PIN=officer-puk-1 TINYHSM_NEW_PIN=user-pin-3 run 1 tinyhsm pin unblock
has "$TMP/err" "wrong SO PIN"
TINYHSM_SO_PIN=officer-puk-2 TINYHSM_NEW_PIN=user-pin-3 waited 0 tinyhsm pin unblock
TINYHSM_PIN=user-pin-3 run 0 sign
ok "pin set --so changes the SO PIN with the current one; the old one stops working"

run 0 tinyhsm log
has "$TMP/out" " SO_PIN_SET "
has "$TMP/out" " PIN_UNBLOCK "
has "$TMP/out" " SO_AUTH_FAILED "
finish
