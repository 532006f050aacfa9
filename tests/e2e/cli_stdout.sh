#!/usr/bin/env bash
# What tinyhsm prints on standard output is part of its result: when it
# cannot be written (a full disk, /dev/full), the command fails (it used to
# exit 0 with nothing written).
. "$(dirname "$0")/lib.sh"
start_daemon
run 0 tinyhsm config --new all
head -c 32 /dev/urandom >"$TMP/digest.bin"
for cmd in "cert signer" "cert signer --format mcuboot-c" "info --json" "log" \
           "sign-digest --der --base64 $TMP/digest.bin"; do
    # shellcheck disable=SC2086
    if "$BIN/tinyhsm" $cmd >/dev/full 2>"$TMP/err"; then
        fail "tinyhsm $cmd >/dev/full exited 0"
    fi
    has "$TMP/err" "cannot write to standard output"
done
ok "cert, info, log and sign-digest fail when standard output cannot be written"
finish
