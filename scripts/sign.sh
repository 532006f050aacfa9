#!/usr/bin/env bash
# Sign a firmware with the variables of the original sign script.
#   BOARD (required), VERSION or VERSION_FILE (application_version.h),
#   FIRMWARE (default: the first argument), OUTPUT (signed_binary.bin),
#   CERT_OUT (stsafe_signer_cert.pem), SIGGEN (SigGen.c), MAX_SIZE, PORT,
#   TRUST (SigGen.c, certificate or public key the signer key must match),
#   FORCE=1 (sign what the preflight checks refuse; see tinyhsm sign --help)
set -euo pipefail
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then # the comment above
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
fi
TINYHSM=${TINYHSM:-tinyhsm}
[ -n "${BOARD:-}" ] || { echo "$(basename "$0"): set BOARD, e.g. BOARD=B-U585I-IOT02A" >&2; exit 2; }
fw=${FIRMWARE:-${1:-}}
[ -n "$fw" ] || { echo "usage: BOARD=... VERSION=x.y.z $0 FIRMWARE.bin" >&2; exit 2; }
args=(sign --board "$BOARD")
if [ -n "${VERSION:-}" ]; then
    args+=(--version "$VERSION")
else
    args+=(--version-file "${VERSION_FILE:-application_version.h}")
fi
[ -n "${OUTPUT:-}" ] && args+=(-o "$OUTPUT")
[ -n "${CERT_OUT:-}" ] && args+=(--cert-out "$CERT_OUT")
[ -n "${SIGGEN:-}" ] && args+=(--siggen "$SIGGEN")
[ -n "${MAX_SIZE:-}" ] && args+=(--max-size "$MAX_SIZE")
[ -n "${TRUST:-}" ] && args+=(--trust "$TRUST")
[ "${FORCE:-0}" = 1 ] && args+=(--force)
port=()
[ -n "${PORT:-}" ] && port=(--port "$PORT")
exec "$TINYHSM" "${port[@]}" "${args[@]}" "$fw"
