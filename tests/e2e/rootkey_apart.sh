#!/usr/bin/env bash
# The root key apart from the state: its default place, --root-key, a
# systemd credential, the move of a device.key found beside the state, and
# the refusals that keep a key from being lost or replaced.
. "$(dirname "$0")/lib.sh"
[ "$DEVICE" = tinyhsmd ] || { echo "SKIP: tinyhsmd only"; exit 77; }

mode() { stat -c %a "$1"; }
signer() { tinyhsm info | sed -n 's/^Signer key id: //p'; }

# The default state directory: the key goes to $XDG_CONFIG_HOME/tinyhsm.
(
    export XDG_STATE_HOME=$TMP/xs XDG_CONFIG_HOME=$TMP/xc
    unset TINYHSM_STATE TINYHSM_ROOT_KEY CREDENTIALS_DIRECTORY
    "$BIN/tinyhsmd" --link "$TMP/tty" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
    pid=$!
    for _ in $(seq 100); do [ -s "$TMP/daemon.out" ] && break; sleep 0.05; done
    kill -TERM $pid; wait $pid
)
[ "$(mode "$TMP/xc/tinyhsm/root.key")" = 600 ] || fail "no private root key in XDG_CONFIG_HOME"
[ "$(mode "$TMP/xc/tinyhsm")" = 700 ] || fail "root key directory not 0700"
[ -e "$TMP/xs/tinyhsm/device.key" ] && fail "a root key beside the default state"
has "$TMP/daemon.err" "created a new root key $TMP/xc/tinyhsm/root.key"
ok "default state: the root key is created in \$XDG_CONFIG_HOME/tinyhsm, not in the state"

# A state from before: device.key beside state.bin (a given --state keeps it
# there, with a warning).
start_daemon "$TMP/old"
has "$TMP/daemon.err" "warning: the root key is in the state directory"
run 0 tinyhsm config --new all --yes
id=$(signer)
stop_daemon
[ -e "$TMP/old/device.key" ] || fail "no device.key beside a given --state"
ok "a --state without --root-key keeps device.key beside it, with a warning"

cp "$TMP/old/device.key" "$TMP/device.key.orig"
start_daemon "$TMP/old" --root-key "$TMP/keys/root.key"
has "$TMP/daemon.err" "moved the root key from $TMP/old/device.key to $TMP/keys/root.key"
[ "$(signer)" = "$id" ] || fail "the moved key does not open the state"
stop_daemon
[ -e "$TMP/old/device.key" ] && fail "device.key left beside the state after the move"
cmp -s "$TMP/device.key.orig" "$TMP/keys/root.key" || fail "the moved key differs"
[ "$(mode "$TMP/keys/root.key")" = 600 ] || fail "moved key not 0600"
ok "an existing device.key is moved to --root-key, and the device is the same"

# An interrupted move (both copies) is finished; two different keys are refused.
cp -p "$TMP/device.key.orig" "$TMP/old/device.key"
start_daemon "$TMP/old" --root-key "$TMP/keys/root.key"
has "$TMP/daemon.err" "removed $TMP/old/device.key, a copy of the root key"
stop_daemon
head -c 40 /dev/urandom >"$TMP/old/device.key"
printf 'THSMDK01' | dd of="$TMP/old/device.key" conv=notrunc status=none
chmod 600 "$TMP/old/device.key"
run 1 "$BIN/tinyhsmd" --state "$TMP/old" --link "$TMP/tty" --root-key "$TMP/keys/root.key"
has "$TMP/err" "two different root keys"
[ -e "$TMP/old/device.key" ] || fail "a differing device.key was removed"
rm "$TMP/old/device.key"
ok "a copy left by an interrupted move is removed; a different key is refused and kept"

# A state whose key is missing never gets a new one.
run 1 "$BIN/tinyhsmd" --state "$TMP/old" --link "$TMP/tty" --root-key "$TMP/keys/other.key"
has "$TMP/err" "has state but no root key"
[ -e "$TMP/keys/other.key" ] && fail "a new key was made for an existing state"
ok "state without its root key: refused, no new key"

# Owner and mode checks.
chmod 644 "$TMP/keys/root.key"
run 1 "$BIN/tinyhsmd" --state "$TMP/old" --link "$TMP/tty" --root-key "$TMP/keys/root.key"
has "$TMP/err" "chmod 600 $TMP/keys/root.key"
chmod 600 "$TMP/keys/root.key"
ok "a root key others can read is refused"

# A systemd credential ($CREDENTIALS_DIRECTORY/tinyhsm-root-key) is used,
# read-only, whatever the state directory.
mkdir -m 700 "$TMP/creds"
cp -p "$TMP/keys/root.key" "$TMP/creds/tinyhsm-root-key"
chmod 440 "$TMP/creds/tinyhsm-root-key" # as systemd's ACL shows it
CREDENTIALS_DIRECTORY=$TMP/creds start_daemon "$TMP/old"
[ "$(signer)" = "$id" ] || fail "the credential does not open the state"
stop_daemon
grep -q warning "$TMP/daemon.err" && fail "warning with a credential: $(cat "$TMP/daemon.err")"
ok "the key as a systemd credential (mode 0440, as with systemd's ACL) opens the state"

# --new-root-key makes a key for a credential, once.
run 0 "$BIN/tinyhsmd" --new-root-key --root-key "$TMP/new/root.key"
[ "$(stat -c %s "$TMP/new/root.key")" = 40 ] || fail "new root key has the wrong size"
cp "$TMP/new/root.key" "$TMP/new.copy"
run 1 "$BIN/tinyhsmd" --new-root-key --root-key "$TMP/new/root.key"
has "$TMP/err" "cannot write the root key"
cmp -s "$TMP/new/root.key" "$TMP/new.copy" || fail "--new-root-key replaced a key"
run 2 "$BIN/tinyhsmd" --new-root-key
ok "--new-root-key creates a key and never replaces one"
finish
