#!/usr/bin/env bash
# tinyhsm log against a real tinyhsmd: a header and ISO 8601 UTC times, and
# --verify finds a cut tail, a deleted log and a rewritten chain.
. "$(dirname "$0")/lib.sh"

start_daemon
run 0 tinyhsm log
[ "$(cat "$TMP/out")" = "The audit log has no records." ] || fail "empty log: $(cat "$TMP/out")"
ok "an empty log says so"
run 0 tinyhsm config --new all
cd "$TMP"
{ printf '\000\040\000\040\001\202\000\010'; head -c 992 /dev/urandom; } \
    >fw.bin # a vector table that sign accepts
for i in 1 2 3; do
    rm -rf "o$i" && mkdir "o$i"
    TINYHSM_NO_PIN_WARNING=1 run 0 tinyhsm sign --board B-U585I-IOT02A \
        --version 1.0.$i -o "o$i/img.bin" --cert-out "o$i/c.pem" \
        --siggen "o$i/SigGen.c" fw.bin
done
run 0 tinyhsm log
head -1 "$TMP/out" | grep -q "^RECORD  *TIME (UTC)  *EVENT  *KEY ID  *RESULT" ||
    fail "no header: $(head -1 "$TMP/out")"
grep -Eq '^[0-9]{8}  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z  SIGN(_SB10)? ' \
    "$TMP/out" || fail "no ISO 8601 time: $(cat "$TMP/out")"
year=$(date -u +%Y)
has "$TMP/out" "$year-"
ok "log prints a header and ISO 8601 UTC times"

run 0 tinyhsm log --verify
has "$TMP/out" "matches the device's anchor"
ok "an intact log verifies against the device's anchor"
stop_daemon
cp -a "$TMP/state" "$TMP/state.bak"
cp "$TMP/state/audit.log" "$TMP/audit.bak"
fresh() { rm -rf "$TMP/state" && cp -a "$TMP/state.bak" "$TMP/state"; }
records=$(($(stat -c %s "$TMP/audit.bak") / 201))

verify_fails() { # WHAT TEXT: the daemon refuses to start, or --verify fails saying TEXT
    if start_daemon_quiet; then
        run 1 tinyhsm log --verify
        has "$TMP/out" "FAIL"
        has "$TMP/out" "$2"
        stop_daemon
    fi
    ok "$1 is found"
}
start_daemon_quiet() {
    rm -f "$TMP/daemon.out"
    "$BIN/tinyhsmd" --state "$TMP/state" --link "$TMP/tty" >"$TMP/daemon.out" \
        2>"$TMP/daemon.err" &
    DPID=$!
    for _ in $(seq 100); do
        [ -s "$TMP/daemon.out" ] && return 0
        kill -0 "$DPID" 2>/dev/null || { wait "$DPID" || true; DPID=; return 1; }
        sleep 0.05
    done
    fail "tinyhsmd neither started nor exited"
}

fresh
head -c $(((records - 2) * 201)) "$TMP/audit.bak" >"$TMP/state/audit.log"
verify_fails "a cut tail" "tail cut"
fresh
rm "$TMP/state/audit.log"
verify_fails "a deleted log" "log deleted"

# rewrite record 1 and recompute every later link, as an attacker would
fresh
python3 - "$TMP/audit.bak" "$TMP/state/audit.log" <<'PY'
import hashlib, sys
data = open(sys.argv[1], 'rb').read()
recs = [bytearray(data[i:i + 201]) for i in range(0, len(data), 201)]
recs[1][20:36] = b'NOTHING_HAPPENED'
head = bytes(32)
for r in recs:
    head = hashlib.sha256(head + bytes(r[:136])).digest()
    r[136:200] = head.hex().upper().encode()
open(sys.argv[2], 'wb').write(b''.join(recs))
PY
verify_fails "a rewritten chain" "rewritten"
fresh
start_daemon
run 0 tinyhsm log --verify
has "$TMP/out" "PASS"
ok "the untouched copy still verifies"

# an old state.bin copied back (the log is newer): info and --verify say so
cp "$TMP/state/state.bin" "$TMP/state.old"
run 0 tinyhsm config --new signer --yes
stop_daemon
cp "$TMP/state.old" "$TMP/state/state.bin"
start_daemon_quiet || fail "tinyhsmd refused a rolled-back state: $(cat "$TMP/daemon.err")"
run 0 tinyhsm info
has "$TMP/out" "State:       ROLLED BACK: the state on disk is older than the device's log;"
has "$TMP/out" "PIN tries may have been restored (see README, Rollback)"
run 0 tinyhsm info --json
has "$TMP/out" '"rolled_back":true'
run 1 tinyhsm log --verify
has "$TMP/out" "FAIL the device reports: its state was ROLLED BACK"
ok "a state.bin copied back shows in info and fails log --verify"
stop_daemon
finish
