#!/usr/bin/env bash
# The firmware's state names its writer (format 07, as tinyhsmd's); a state
# a newer firmware wrote is refused by tinyhsmd-qemu naming the release it
# needs, with no advice to start a new device, and left as it was.
THSM_DEVICE=qemu
. "$(dirname "$0")/../e2e/lib.sh"
want=$(head -n1 "$(dirname "$0")/../../VERSION")

start_daemon "$TMP/st"
run 0 tinyhsm config --new all --yes
stop_daemon
# every committed slot: its payload's header becomes a newer format's,
# and its digest (SHA-256 of seq, len, payload) is made to match
python3 - "$TMP/st/flash.img" "$FLASH_SECTOR" "$want" <<'PY' || fail "no committed slot in the image"
import hashlib, struct, sys
path, sector, want = sys.argv[1], int(sys.argv[2]), sys.argv[3]
img = bytearray(open(path, "rb").read())
done = 0
for i in range(2):
    base = i * sector
    if img[base:base + 16] != b"TinyHSM slot v1\0":
        continue
    (n,) = struct.unpack_from("<I", img, base + 20)
    pay = base + 64
    assert img[pay:pay + 8] == b"THSMST07", img[pay:pay + 8]
    assert img[pay + 8:pay + 24].rstrip(b"\0").decode() == want
    img[pay:pay + 24] = b"THSMST08" + b"9.1.0".ljust(16, b"\0")
    img[base + 24:base + 56] = hashlib.sha256(img[base + 16:base + 24] + img[pay:pay + n]).digest()
    done += 1
open(path, "wb").write(img)
sys.exit(0 if done else 1)
PY
ok "the firmware's state is format 07 naming TinyHSM $want"
sum=$(sha256sum <"$TMP/st/flash.img")
run 1 "$BIN/tinyhsmd-qemu" --firmware "$FIRMWARE" --state "$TMP/st" --link "$TMP/tty"
has "$TMP/err" "state.bin was made by TinyHSM 9.1.0 (state format 08); install 9.1.0 or newer"
grep -q "new device" "$TMP/err" && fail "advice to start a new device: $(cat "$TMP/err")"
[ "$(sha256sum <"$TMP/st/flash.img")" = "$sum" ] || fail "the image changed"
ok "a newer firmware's state is refused: install 9.1.0 or newer; nothing changed"
finish
