#!/usr/bin/env bash
# The state's format across versions (tinyhsmd): a state of format 04
# (tests/fixtures, device key 32 x 0x5a) is served, the file as it was is
# kept as state.bin.v04 and tinyhsmd says so; the next change writes
# format 07 naming the version that wrote it. A state of a newer format is
# refused naming the release it needs, never with advice to start anew.
. "$(dirname "$0")/lib.sh"
fixtures=$(cd "$(dirname "$0")/../fixtures" && pwd)
want=$(head -n1 "$(dirname "$0")/../../VERSION")
[ "$DEVICE" = qemu ] && { echo "SKIP: tinyhsmd's state directory"; exit 77; }

st=$TMP/st
mkdir -m 700 "$st"
cp "$fixtures/state_v04.bin" "$st/state.bin"
cp "$fixtures/audit_v04.log" "$st/audit.log"
{ printf THSMDK01; head -c 32 /dev/zero | tr '\0' '\132'; } >"$st/device.key"
chmod 600 "$st/device.key" "$st/state.bin" "$st/audit.log"

start_daemon "$st"
has "$TMP/daemon.err" "state.bin has the older state format 04; the next change writes format 07; the file as it was is kept as state.bin.v04, for a downgrade"
cmp -s "$fixtures/state_v04.bin" "$st/state.bin.v04" || fail "state.bin.v04 is not the old file"
run 0 tinyhsm info
has "$TMP/out" "CA certificate"
firmware_file=$TMP/fw.bin
printf '\000\040\000\040\001\202\000\010' >"$firmware_file"
head -c 1000 /dev/urandom >>"$firmware_file"
run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 -o "$TMP/signed.bin" \
    --cert-out "$TMP/c.pem" --siggen "$TMP/S.c" "$firmware_file"
[ "$(head -c 8 "$st/state.bin")" = THSMST07 ] || fail "state.bin not rewritten in format 07"
[ "$(head -c 24 "$st/state.bin" | tail -c 16 | tr -d '\0')" = "$want" ] ||
    fail "state.bin does not name TinyHSM $want as its writer"
cmp -s "$fixtures/state_v04.bin" "$st/state.bin.v04" || fail "state.bin.v04 changed"
stop_daemon
ok "a format 04 state is served, kept as state.bin.v04, rewritten as 07 by $want"

# what a newer TinyHSM would write: its header names it
nw=$TMP/newer
mkdir -m 700 "$nw"
cp "$st/device.key" "$nw/"
{ printf 'THSMST08%s' 9.1.0; head -c 11 /dev/zero; head -c 300 /dev/urandom; } >"$nw/state.bin"
cp "$nw/state.bin" "$TMP/newer.bin"
run 1 "$BIN/tinyhsmd" --state "$nw" --link "$TMP/tty2"
has "$TMP/err" "state.bin was made by TinyHSM 9.1.0 (state format 08); install 9.1.0 or newer"
grep -q "new device" "$TMP/err" && fail "advice to start a new device: $(cat "$TMP/err")"
cmp -s "$nw/state.bin" "$TMP/newer.bin" || fail "the newer state.bin was changed"
ok "a newer format is refused: install 9.1.0 or newer; nothing changed"
finish
