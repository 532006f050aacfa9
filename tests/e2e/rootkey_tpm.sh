#!/usr/bin/env bash
# The root key sealed to a TPM 2.0 (swtpm on loopback stands in for the
# machine's TPM): provision and sign with it, restart with the same TPM,
# refuse the key file and state on another TPM, fail fast without one.
. "$(dirname "$0")/lib.sh"
[ "$DEVICE" = tinyhsmd ] || { echo "SKIP: tinyhsmd only"; exit 77; }
command -v swtpm >/dev/null || { echo "SKIP: swtpm is not installed (Debian: swtpm)"; exit 77; }

# Two free loopback ports P and P+1 (the swtpm TCTI finds the control
# port at P+1): prints P.
free_ports() {
    python3 -c '
import socket
while True:
    a, b = socket.socket(), socket.socket()
    a.bind(("127.0.0.1", 0))
    try:
        b.bind(("127.0.0.1", a.getsockname()[1] + 1))
    except OSError:
        continue
    print(a.getsockname()[1])
    break'
}

SWPID=
# swtpm_start DIR: a TPM whose state is DIR; sets TCTI.
swtpm_start() {
    local port ctrl
    mkdir -p "$1"
    port=$(free_ports) ctrl=$((port + 1))
    swtpm socket --tpmstate dir="$1" --tpm2 \
        --server type=tcp,port="$port",bindaddr=127.0.0.1 \
        --ctrl type=tcp,port="$ctrl",bindaddr=127.0.0.1 \
        --flags not-need-init,startup-clear >"$1.log" 2>&1 &
    SWPID=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$ctrl") 2>/dev/null && break
        sleep 0.05
    done
    TCTI="swtpm:host=127.0.0.1,port=$port"
}
swtpm_stop() { kill -TERM "$SWPID"; wait "$SWPID" 2>/dev/null || true; SWPID=; }
trap 'swtpm_stop 2>/dev/null; cleanup' EXIT

swtpm_start "$TMP/tpm1"
if ! "$BIN/tinyhsmd" --new-root-key --root-key "$TMP/probe.key" --tpm "$TCTI" 2>"$TMP/probe.err"; then
    grep -q "without TPM support" "$TMP/probe.err" &&
        { echo "SKIP: tinyhsmd was built without tpm2-tss (libtss2-dev)"; exit 77; }
    fail "cannot seal a key with swtpm: $(cat "$TMP/probe.err")"
fi
start_daemon "$TMP/state" --root-key "$TMP/keys/root.key" --tpm "$TCTI"
has "$TMP/daemon.err" "created a new root key $TMP/keys/root.key, sealed to the TPM"
run 0 tinyhsm config --new all --yes
head -c 4096 /dev/urandom >"$TMP/fw.bin"
printf '\x00\x00\x05\x20\x01\x82\x00\x08' | dd of="$TMP/fw.bin" conv=notrunc status=none
mkdir "$TMP/signed"
run 0 tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 -o "$TMP/signed/" "$TMP/fw.bin" --force
[ -s "$TMP/signed/signed_binary.bin" ] || fail "no signed image"
id=$(tinyhsm info | sed -n 's/^Signer key id: //p')
stop_daemon
head -c 8 "$TMP/keys/root.key" | grep -q THSMTK01 || fail "the root key is not sealed"
ok "--tpm: a new root key is sealed; the device provisions and signs"

start_daemon "$TMP/state" --root-key "$TMP/keys/root.key" --tpm "$TCTI"
[ "$(tinyhsm info | sed -n 's/^Signer key id: //p')" = "$id" ] || fail "not the same device"
stop_daemon
ok "a restart with the same TPM opens the same device"

# Another machine: the sealed key and the state copied, a new TPM.
mkdir "$TMP/copy"
cp -a "$TMP/state" "$TMP/keys" "$TMP/copy/"
swtpm_stop
swtpm_start "$TMP/tpm2"
run 1 "$BIN/tinyhsmd" --state "$TMP/copy/state" --link "$TMP/tty" \
    --root-key "$TMP/copy/keys/root.key" --tpm "$TCTI"
has "$TMP/err" "sealed by another TPM"
ok "the key file and state on another TPM are refused: $(cat "$TMP/err")"

# No TPM at all: a clear failure, quickly.
swtpm_stop
start=$(date +%s)
run 1 timeout 60 "$BIN/tinyhsmd" --state "$TMP/state" --link "$TMP/tty" \
    --root-key "$TMP/keys/root.key" --tpm "$TCTI"
has "$TMP/err" "cannot use the TPM at $TCTI"
[ $(($(date +%s) - start)) -lt 20 ] || fail "took too long without a TPM"
ok "without the TPM running: a clear refusal within seconds"

# A plain key (moved from beside the state) is sealed when --tpm is given.
swtpm_start "$TMP/tpm1"
start_daemon "$TMP/plain"
run 0 tinyhsm config --new all --yes
id=$(tinyhsm info | sed -n 's/^Signer key id: //p')
stop_daemon
start_daemon "$TMP/plain" --root-key "$TMP/keys/plain.key" --tpm "$TCTI"
has "$TMP/daemon.err" "moved the root key from $TMP/plain/device.key"
[ "$(tinyhsm info | sed -n 's/^Signer key id: //p')" = "$id" ] || fail "not the same device"
stop_daemon
head -c 8 "$TMP/keys/plain.key" | grep -q THSMTK01 || fail "the moved key is not sealed"
[ -e "$TMP/plain/device.key" ] && fail "plain device.key left beside the state"
ok "a device.key beside the state is moved and sealed with --tpm"
finish
