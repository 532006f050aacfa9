#!/usr/bin/env bash
# tinyhsmd-qemu as a daemon: usage, the pty line and link, one emulator per
# state directory, clean stops (SIGINT, SIGTERM, QEMU dying), persistence,
# and a refused flash image left as it was.
THSM_DEVICE=qemu
. "$(dirname "$0")/../e2e/lib.sh"
Q=$BIN/tinyhsmd-qemu

run 2 "$Q" --bogus
run 2 "$Q" --state "$TMP/s" --link "$TMP/tty" --flash-size 1000
run 1 "$Q" --state "$TMP/s" --link "$TMP/tty" --firmware "$TMP/none.elf"
has "$TMP/err" "make firmware"
run 0 "$Q" --help
has "$TMP/out" "--state DIR"
ok "usage errors exit 2, a missing firmware 1"

qemu_of() { cat "/proc/$1/task/$1/children"; }

start_daemon
pty=$(head -1 "$TMP/daemon.out")
[ "$(readlink "$TMP/tty")" = "$pty" ] && [ -c "$pty" ] || fail "link $TMP/tty -> $pty"
run 0 tinyhsm config --new all
run 0 tinyhsm cert ca -o "$TMP/ca.pem"
"$Q" --firmware "$FIRMWARE" --state "$TMP/state" --link "$TMP/tty2" >"$TMP/out" 2>"$TMP/err" &&
    fail "a second emulator on the same state started"
has "$TMP/err" "in use"
qemu=$(qemu_of "$DPID")
kill -INT "$DPID"
wait "$DPID" || fail "SIGINT: exit $?"
DPID=
[ ! -e "$TMP/tty" ] || fail "link left after SIGINT"
! kill -0 "$qemu" 2>/dev/null || fail "QEMU $qemu still running"
ok "pty on the first line, linked; one emulator per state; SIGINT stops both"

# the firmware's own measurements after those sessions (key generation,
# certificates, signing): the stack within the core's 4 KiB budget, the
# mbedTLS pool within its size
stats=$TMP/state/fw-stats.txt
val() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$stats"; }
[ -s "$stats" ] || fail "no $stats"
[ "$(val stack_used)" -gt 0 ] && [ "$(val stack_used)" -le 4096 ] ||
    fail "stack high-water mark $(val stack_used) (budget 4096)"
[ "$(val pool_max)" -gt 0 ] && [ "$(val pool_max)" -lt "$(val pool_size)" ] ||
    fail "pool peak $(val pool_max) of $(val pool_size)"
ok "stack high-water mark $(val stack_used) B <= 4 KiB, pool peak $(val pool_max) B"

start_daemon
run 0 tinyhsm cert ca -o "$TMP/ca2.pem"
cmp -s "$TMP/ca.pem" "$TMP/ca2.pem" || fail "CA changed across a restart"
stop_daemon
[ ! -e "$TMP/tty" ] || fail "link left after SIGTERM"
ok "state persists across restarts; SIGTERM stops cleanly"

# at: sends request lines on one connection, prints the answers' status lines
at() {
    exec 3<>"$TMP/tty"
    stty -F "$TMP/tty" raw -echo
    local req line
    for req in "$@"; do
        printf '%b\r\n' "$req" >&3
        IFS= read -r -t 10 line <&3 || fail "no answer to $req"
        echo "${line%$'\r'}"
        while IFS= read -r -t 10 line <&3 && [ "${line%$'\r'}" != "" ]; do :; done
    done
    exec 3>&-
}

start_daemon
TINYHSM_NEW_PIN=fw-pin-1 run 0 tinyhsm pin set
at "AT+AUTH PIN=fw-pin-1" "AT+HSM_STATUS?" >"$TMP/out"
has "$TMP/out" " AUTH=1 "
at "AT+HSM_STATUS?" >"$TMP/out"
has "$TMP/out" " AUTH=0 "
ok "closing the port ends the login (the relay's EOT)"

at "AT+AUTH PIN=fw-pin-1" "AT\x04" "AT+HSM_STATUS?" >"$TMP/out"
has "$TMP/out" "ERROR BAD_CHAR"
has "$TMP/out" " AUTH=1 "
ok "a client's own EOT byte is refused like any control byte and keeps the login"

run 0 tinyhsm info
cp "$TMP/out" "$TMP/info"

# a client that floods long answers and never reads them (the relay once
# blocked in write() to QEMU while QEMU's output backed up)
timeout 8 sh -c 'yes "AT+LOG? FROM=0" >"$1"' sh "$TMP/tty" || true
run 0 tinyhsm info
cmp -s "$TMP/out" "$TMP/info" || { diff "$TMP/info" "$TMP/out"; fail "info after a log flood"; }
ok "a flood of unread AT+LOG? answers leaves the relay serving"

kill -KILL "$(qemu_of "$DPID")"
wait "$DPID" && fail "exit 0 after QEMU died"
DPID=
has "$TMP/daemon.err" "emulator stopped"
[ ! -e "$TMP/tty" ] || fail "link left after QEMU died"
ok "QEMU dying ends tinyhsmd-qemu with an error, link removed"

# a bit flipped in both state slots: damage, not a power cut
cp "$TMP/state/flash.img" "$TMP/good.img"
for at in 100 $((FLASH_SECTOR + 100)); do
    printf 'X' | dd of="$TMP/state/flash.img" bs=1 seek=$at conv=notrunc status=none
done
sum=$(sha256sum <"$TMP/state/flash.img")
run 1 "$Q" --firmware "$FIRMWARE" --state "$TMP/state" --link "$TMP/tty"
has "$TMP/err" "cannot use the state"
[ "$(sha256sum <"$TMP/state/flash.img")" = "$sum" ] || fail "damaged image changed"
ok "a damaged state slot is refused, not skipped, and left as it was"

head -c 10000 "$TMP/good.img" >"$TMP/state/flash.short"
mv "$TMP/state/flash.short" "$TMP/state/flash.img"
sum=$(sha256sum <"$TMP/state/flash.img")
run 1 "$Q" --firmware "$FIRMWARE" --state "$TMP/state" --link "$TMP/tty"
has "$TMP/err" "flash.img is not a whole number of 8 KiB sectors"
has "$TMP/err" "nothing was changed"
[ "$(sha256sum <"$TMP/state/flash.img")" = "$sum" ] || fail "flash image changed"
ok "a bad flash image is refused with the reason and left as it was"
finish
