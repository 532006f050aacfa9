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
trap '[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
      umount "$TMP/disk"; rm -rf "$TMP"' EXIT
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
stop_daemon
finish
