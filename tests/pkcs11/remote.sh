#!/usr/bin/env bash
# Another machine's view: p11-kit server exposes the module on a Unix
# socket; p11-kit-client.so signs through it; openssl verifies.
source "$(dirname "$0")/lib.sh"
CLIENT=$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null || true)/p11-kit-client.so
[ -r "$CLIENT" ] || CLIENT=/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so
[ -r "$CLIENT" ] || fail "no p11-kit-client.so (Debian: p11-kit-modules)"
start_daemon
provision
head -c 5000 /dev/urandom >"$TMP/data"
openssl dgst -sha256 -binary "$TMP/data" >"$TMP/digest"

mkdir -m 700 "$TMP/run"
SPID=
# p11-kit runs the server as a child of its own: stop that one by its pid
stop_server() {
    local pid
    pid=$(sed -n 's/^P11_KIT_SERVER_PID=\([0-9]*\);.*/\1/p' "$TMP/server.out" 2>/dev/null || true)
    # either may be gone already: not a failure (set -e)
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    [ -z "$SPID" ] || kill "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
}
trap 'stop_server; cleanup' EXIT
XDG_RUNTIME_DIR=$TMP/run tool p11-kit server -f --provider "$MODULE" \
    -n "$TMP/run/p11.sock" 'pkcs11:' >"$TMP/server.out" 2>"$TMP/server.err" &
SPID=$!
for _ in $(seq 100); do [ -S "$TMP/run/p11.sock" ] && break; sleep 0.05; done
has "$TMP/server.out" "P11_KIT_SERVER_ADDRESS=unix:path=$TMP/run/p11.sock"
export P11_KIT_SERVER_ADDRESS=unix:path=$TMP/run/p11.sock
client() { pkcs11-tool --module "$CLIENT" "$@"; }

run 0 client -L
has "$TMP/out" "token label        : TinyHSM"
run 0 client --read-object --type cert --label signer -o "$TMP/signer.der"
run 0 client --login --pin "$PIN" --sign -m ECDSA --label signer -i "$TMP/digest" \
    -o "$TMP/sig" --signature-format openssl
verify_sig "$TMP/sig" "$TMP/data" "$TMP/signer.der"
ok "p11-kit server + p11-kit-client.so: a client signs, openssl verifies"
stop_server
SPID=
finish
