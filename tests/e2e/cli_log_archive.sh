#!/usr/bin/env bash
# Issue 16, findings 2 and 9: a flood of refused requests is counted into a
# few records, not one each; a log is archived to the host and cleared under
# the PIN, keys kept, and verifies with its archive as one chain; a finding
# is acknowledged (who, which) and log --verify passes again, still showing
# it, until a new finding. Also runs against the firmware (qemu.*).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/firmware.sh"
FLOOD="$(cd "$(dirname "$0")" && pwd)/tools/flood.py"

records() { run 0 tinyhsm info --json; sed -n 's/.*"log_records":\([0-9]*\).*/\1/p' "$TMP/out"; }
state_copy() { # save|restore: the sealed state alone (an old copy put back)
    if [ "$DEVICE" = qemu ]; then
        local n=$((FLASH_SLOTS * FLASH_SECTOR))
        if [ "$1" = save ]; then
            head -c $n "$TMP/state/flash.img" >"$TMP/slots.old"
        else
            dd if="$TMP/slots.old" of="$TMP/state/flash.img" conv=notrunc status=none
        fi
    elif [ "$1" = save ]; then
        cp "$TMP/state/state.bin" "$TMP/state.old"
    else
        cp "$TMP/state.old" "$TMP/state/state.bin"
    fi
}

start_daemon
cd "$TMP"
run 0 tinyhsm config --new all
TINYHSM_NEW_PIN=archive-pin run 0 tinyhsm pin set
export TINYHSM_PIN=archive-pin
firmware 4000 >fw.bin
sign() { run "$1" tinyhsm sign --board B-U585I-IOT02A --version "1.0.$2" -o out.bin fw.bin; }
sign 0 1
run 0 tinyhsm cert signer -o signer.pem

# a flood of unauthenticated signing requests on the socket
run 0 tinyhsm log
n0=$(grep -c '^[0-9]' "$TMP/out")
read -r answers refused secs < <(python3 "$FLOOD" "$(flood_link)" 3)
sleep 1 # the request in flight when the client left is answered to no one
[ "$refused" -ge 50 ] && [ "$answers" = "$refused" ] ||
    fail "flood: $answers answers, $refused refused in ${secs}s"
run 0 tinyhsm log
n1=$(grep -c '^[0-9]' "$TMP/out")
[ $((n1 - n0)) -le 2 ] || fail "$refused refusals wrote $((n1 - n0)) records"
ok "$refused refusals in ${secs}s wrote $((n1 - n0)) records"

sign 0 2 # a login: the counted refusals are recorded first
run 0 tinyhsm log
# the client stops with up to 64 requests unanswered: the device saw them
counted=$(sed -n 's/.* AUTH_REQUIRED .* SIGNER_SIGN  *COUNT=\([0-9]*\),FROM=[0-9]*,TO=[0-9]*.*/\1/p' "$TMP/out")
[ -n "$counted" ] && [ "$counted" -ge $((refused - 1)) ] &&
    [ "$counted" -le $((refused + 64)) ] || { cat "$TMP/out"; fail "counted '$counted' of $refused"; }
[ "$DEVICE" = qemu ] || grep -q "UID=$(id -u)" "$TMP/out" || fail "no UID in the records"
run 0 tinyhsm log --verify
ok "the repeats are one counted record, and the chain verifies"

# archive, then clear under the PIN
run 0 tinyhsm log --archive archive.log
has "$TMP/out" "Archived"
lines=$(wc -l <archive.log)
[ "$lines" -ge "$n1" ] || fail "archive holds $lines records"
run 2 tinyhsm log --clear
has "$TMP/err" "--archive FILE"
cp archive.log forged.log
sed -i '2s/ -  /X-  /' forged.log
run 1 tinyhsm log --clear --archive forged.log
total=$(records)
run 0 tinyhsm log --verify
has "$TMP/out" "PASS $total records"
ok "a clear refuses an archive that does not match, and changes nothing"

run 0 tinyhsm log --clear --archive archive.log
has "$TMP/out" "Cleared records 0-"
run 0 tinyhsm log
[ "$(grep -c '^[0-9]' "$TMP/out")" -le 3 ] || fail "the log was not emptied: $(cat "$TMP/out")"
has "$TMP/out" " LOG_CLEARED "
run 0 tinyhsm log --verify
has "$TMP/out" "were archived and cleared"
run 0 tinyhsm log --verify --archive archive.log
has "$TMP/out" "one hash chain"
run 0 tinyhsm log --json
has "$TMP/out" '"event":"LOG_CLEARED"'
run 0 tinyhsm log --verify --json
has "$TMP/out" '"ok":true'
sign 0 3
run 0 tinyhsm cert signer -o signer2.pem
cmp -s signer.pem signer2.pem || fail "the signer changed"
run 0 tinyhsm log --verify --archive archive.log
ok "a cleared log keeps the keys and verifies with its archive as one chain"

printf 'X' | dd of=archive.log bs=1 seek=$((201 + 30)) conv=notrunc status=none
run 1 tinyhsm log --verify --archive archive.log
has "$TMP/out" "FAIL"
ok "a changed archive fails"

stop_daemon
start_daemon
run 0 tinyhsm log --verify
sign 0 4
ok "a cleared log survives a restart"

# a rollback, acknowledged
state_copy save
run 0 tinyhsm config --new signer --yes
stop_daemon
state_copy restore
start_daemon
run 1 tinyhsm log --verify
has "$TMP/out" "ROLLED BACK"
run 0 tinyhsm log --acknowledge
has "$TMP/out" "Acknowledged in record"
run 0 tinyhsm log --verify
has "$TMP/out" "NOTE the device reports (acknowledged in record"
has "$TMP/out" "ROLLED BACK"
has "$TMP/out" "PASS"
run 0 tinyhsm log
has "$TMP/out" " FINDING_ACK "
[ "$DEVICE" = qemu ] || has "$TMP/out" "STATE=ROLLED_BACK,UID=$(id -u)"
stop_daemon
start_daemon
run 0 tinyhsm log --verify
has "$TMP/out" "acknowledged in record"
run 0 tinyhsm info
has "$TMP/out" "ROLLED BACK"
has "$TMP/out" "Findings:    acknowledged in audit record"
ok "an acknowledged finding passes log --verify, shown, after a restart too"

state_copy save
sign 0 5
run 0 tinyhsm config --new signer --yes
stop_daemon
state_copy restore
start_daemon
run 1 tinyhsm log --verify
has "$TMP/out" "FAIL the device reports: its state was ROLLED BACK"
ok "a new rollback after the acknowledgement is open again"
stop_daemon
finish
