#!/usr/bin/env bash
# A disk that fills up mid-record is a storage failure, not tampering: the
# half record is cut back, the signature refused with ERROR STORAGE, and
# once there is room again the log verifies (issue 16, finding 4). Needs
# root for a small tmpfs; skips visibly otherwise.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/disk"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=64k tinyhsm-full "$TMP/disk" 2>/dev/null; then
    echo "SKIP: needs root to mount a small tmpfs"
    exit 77
fi
mkdir -p "$TMP/outdisk"
mount -t tmpfs -o size=32k tinyhsm-full "$TMP/outdisk"
trap '[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
      umount "$TMP/disk" "$TMP/outdisk"; rm -rf "$TMP"' EXIT
cd "$TMP"
{ printf '\000\040\000\040\001\202\000\010'; head -c 992 /dev/urandom; } \
    >fw.bin # a vector table that sign accepts
sign() {
    rm -rf "$TMP/o" && mkdir "$TMP/o"
    TINYHSM_NO_PIN_WARNING=1 tinyhsm sign --board B-U585I-IOT02A \
        --version "1.0.$1" -o "$TMP/o/img.bin" --cert-out "$TMP/o/c.pem" \
        --siggen "$TMP/o/SigGen.c" fw.bin
}

start_daemon "$TMP/disk/state"
run 0 tinyhsm config --new all
dd if=/dev/zero of="$TMP/disk/fill" bs=1k 2>/dev/null || true # until ENOSPC
signed=0
while [ $signed -lt 40 ] && sign $signed >"$TMP/out" 2>"$TMP/err"; do
    signed=$((signed + 1))
done
[ $signed -lt 40 ] || fail "40 signatures on a full disk"
has "$TMP/err" "audit log"
size=$(stat -c %s "$TMP/disk/state/audit.log")
[ $((size % 201)) -eq 0 ] || fail "a half record stays in the log ($size bytes)"
ok "a full disk refuses the signature ($signed made) and leaves whole records"

rm -f "$TMP/disk/fill"
run 0 sign 99
run 0 tinyhsm log --verify
stop_daemon
start_daemon "$TMP/disk/state"
run 0 tinyhsm log --verify
ok "with room again the log verifies: no finding of tampering"

# the image's own disk full: said as such, and no signature spent
{ printf '\000\040\000\040\001\202\000\010'; head -c 65528 /dev/urandom; } >big.bin
before=$(stat -c %s "$TMP/disk/state/audit.log")
TINYHSM_NO_PIN_WARNING=1 run 1 tinyhsm sign --board B-U585I-IOT02A \
    --version 2.0.0 -o "$TMP/outdisk/img.bin" --cert-out "$TMP/o/c2.pem" \
    --siggen "$TMP/o/S2.c" big.bin
has "$TMP/err" "No space left on device; nothing signed"
[ "$(stat -c %s "$TMP/disk/state/audit.log")" = "$before" ] ||
    fail "a signature was spent for an image that could not be written"
[ -z "$(ls "$TMP/outdisk")" ] || fail "left in the full disk: $(ls "$TMP/outdisk")"
ok "an image that does not fit costs no signature and names the full disk"
stop_daemon
finish
