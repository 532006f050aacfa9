#!/usr/bin/env bash
# Session end on a raw UART: the relay's end-of-session byte switched off
# (THSM_RELAY_NO_EOT, test only), as a board's UART sends none. The firmware
# must end a login after its idle time, and tinyhsm must end its own login
# when it closes the port.
THSM_DEVICE=qemu
. "$(dirname "$0")/../e2e/lib.sh"
IDLE=6
HASH=00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF

# at: sends request lines on one open of the port, prints the status lines
at() {
    exec 3<>"$TMP/tty"
    stty -F "$TMP/tty" raw -echo
    local req line
    for req in "$@"; do
        printf '%s\r\n' "$req" >&3
        IFS= read -r -t 10 line <&3 || fail "no answer to $req"
        echo "${line%$'\r'}"
        while IFS= read -r -t 10 line <&3 && [ "${line%$'\r'}" != "" ]; do :; done
    done
    exec 3>&-
}

THSM_RELAY_NO_EOT=1 start_daemon "$TMP/state" --idle-logout $IDLE
cd "$TMP"
run 0 tinyhsm config --new all
TINYHSM_NEW_PIN=fw-pin-1 run 0 tinyhsm pin set
at "AT+AUTH PIN=fw-pin-1" "AT+HSM_STATUS?" >out
has out " AUTH=1 "
at "AT+HSM_STATUS?" >out
has out " AUTH=1 "
ok "without the relay's EOT a login outlives its client (as on a raw UART)"

sleep $((IDLE + 2))
at "AT+SIGNER_SIGN HASH=$HASH" >out
has out "ERROR AUTH_REQUIRED"
ok "after $IDLE s without a request the next opener finds no login"

head -c 1000 /dev/urandom >fw.bin
TINYHSM_PIN=fw-pin-1 run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 --force fw.bin
at "AT+SIGNER_SIGN HASH=$HASH" >out
has out "ERROR AUTH_REQUIRED"
ok "tinyhsm ends its login when it closes the port: the next opener is refused"
stop_daemon
finish
