#!/usr/bin/env bash
# Provision a TinyHSM with the variables of the original config script.
#   CA_COUNTRY CA_ORG CA_CN CA_START CA_DURATION
#   SIGNER_COUNTRY SIGNER_ORG SIGNER_CN SIGNER_START SIGNER_DURATION
#   NEW=all|signer (default all), PORT (default: tinyhsm's default port)
#   YES=1 (replace an existing CA or signer without asking)
# Unset dates start now; durations default to 3650 (CA) and 730 (signer) days.
set -euo pipefail
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then # the comment above
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
fi
TINYHSM=${TINYHSM:-tinyhsm}
args=(config --new "${NEW:-all}")
add() { [ -n "${2:-}" ] && args+=("$1" "$2"); return 0; }
add --ca-country "${CA_COUNTRY:-}"
add --ca-org "${CA_ORG:-}"
add --ca-cn "${CA_CN:-}"
add --ca-start "${CA_START:-}"
add --ca-days "${CA_DURATION:-}"
add --signer-country "${SIGNER_COUNTRY:-}"
add --signer-org "${SIGNER_ORG:-}"
add --signer-cn "${SIGNER_CN:-}"
add --signer-start "${SIGNER_START:-}"
add --signer-days "${SIGNER_DURATION:-}"
[ "${YES:-}" = 1 ] && args+=(--yes)
port=()
[ -n "${PORT:-}" ] && port=(--port "$PORT")
exec "$TINYHSM" "${port[@]}" "${args[@]}" "$@"
