#!/usr/bin/env bash
# tinyhsmd-qemu --root-key: the firmware's huk.bin kept apart from the state
# directory (a link to it there), an old huk.bin moved out, never a new key
# for an existing flash image.
THSM_DEVICE=qemu
. "$(dirname "$0")/../e2e/lib.sh"
signer() { tinyhsm info | sed -n 's/^Signer key id: //p'; }

start_daemon "$TMP/new" --root-key "$TMP/keys/huk.bin"
has "$TMP/daemon.err" "created a new root key $TMP/keys/huk.bin"
run 0 tinyhsm config --new all --yes
id=$(signer)
stop_daemon
[ -L "$TMP/new/huk.bin" ] || fail "huk.bin in the state is not a link"
[ "$(stat -c '%a %s' "$TMP/keys/huk.bin")" = "600 32" ] || fail "root key not 0600, 32 bytes"
start_daemon "$TMP/new" --root-key "$TMP/keys/huk.bin"
[ "$(signer)" = "$id" ] || fail "not the same device after a restart"
stop_daemon
ok "a new device keeps its root key in --root-key, a link in the state"

start_daemon "$TMP/old"
run 0 tinyhsm config --new all --yes
id=$(signer)
stop_daemon
[ -f "$TMP/old/huk.bin" ] && [ ! -L "$TMP/old/huk.bin" ] || fail "no plain huk.bin without --root-key"
cp "$TMP/old/huk.bin" "$TMP/huk.orig"
start_daemon "$TMP/old" --root-key "$TMP/keys/old.bin"
has "$TMP/daemon.err" "moved the root key from the state directory's huk.bin to $TMP/keys/old.bin"
[ "$(signer)" = "$id" ] || fail "the moved key does not open the device"
stop_daemon
cmp -s "$TMP/huk.orig" "$TMP/keys/old.bin" || fail "the moved key differs"
[ -L "$TMP/old/huk.bin" ] || fail "huk.bin not replaced by a link"
ok "an old huk.bin is moved to --root-key and the device is the same"

cp -a "$TMP/old" "$TMP/copy"
rm "$TMP/copy/huk.bin"
run 1 timeout 60 "$BIN/tinyhsmd-qemu" --firmware "$FIRMWARE" --state "$TMP/copy" \
    --link "$TMP/tty" --root-key "$TMP/keys/none.bin"
has "$TMP/err" "has a flash image but no root key"
[ -e "$TMP/keys/none.bin" ] && fail "a new key was made for an existing flash image"
head -c 32 /dev/urandom >"$TMP/other.bin"
chmod 600 "$TMP/other.bin"
cp "$TMP/other.bin" "$TMP/copy/huk.bin"
run 1 timeout 60 "$BIN/tinyhsmd-qemu" --firmware "$FIRMWARE" --state "$TMP/copy" \
    --link "$TMP/tty" --root-key "$TMP/keys/old.bin"
has "$TMP/err" "two different root keys"
ok "a flash image without its key, or with a different key, is refused"
finish
