#!/usr/bin/env bash
# Sign a firmware with the variables of the original sign script.
#   BOARD (required), VERSION or VERSION_FILE (application_version.h),
#   FIRMWARE (else the firmware is among the arguments), OUTPUT
#   (signed_binary.bin), CERT_OUT (stsafe_signer_cert.pem), SIGGEN (SigGen.c),
#   MAX_SIZE, PORT, TRUST (SigGen.c, certificate or public key the signer key
#   must match), FORCE=1|yes|true (sign what the preflight checks refuse)
#   TINYHSM_PIN: the device PIN, needed when the device has one (on a
#   terminal tinyhsm asks for it instead)
#   TINYHSM: the tinyhsm to run (default: the one beside this script, else PATH)
# The arguments go to 'tinyhsm sign' after the variables' options, so they
# win: tinyhsm-sign [-o FILE] [--json] ... FIRMWARE. See tinyhsm sign --help.
set -euo pipefail
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then # the comment above
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
fi
me=$(basename "$0")
here=$(dirname "$(readlink -f "$0")")
if [ -z "${TINYHSM:-}" ]; then
    TINYHSM=tinyhsm
    [ -x "$here/tinyhsm" ] && TINYHSM=$here/tinyhsm
fi
# yes_no NAME VALUE: 1 for 1/yes/true, 0 for unset/0/no/false, else refused
yes_no() {
    case "${2,,}" in
    1 | yes | true) echo 1 ;;
    '' | 0 | no | false) echo 0 ;;
    *) echo "$me: $1 must be 1, yes or true (or 0, no, false), not '$2'" >&2
       return 2 ;;
    esac
}
[ -n "${BOARD:-}" ] || { echo "$me: set BOARD, e.g. BOARD=B-U585I-IOT02A" >&2; exit 2; }
force=$(yes_no FORCE "${FORCE:-}") || exit 2
[ -n "${FIRMWARE:-}" ] || [ $# -gt 0 ] ||
    { echo "usage: BOARD=... VERSION=x.y.z $me FIRMWARE.bin" >&2; exit 2; }
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
[ "$force" = 1 ] && args+=(--force)
port=()
[ -n "${PORT:-}" ] && port=(--port "$PORT")
fw=()
[ -n "${FIRMWARE:-}" ] && fw=("$FIRMWARE")
exec "$TINYHSM" "${port[@]}" "${args[@]}" "$@" "${fw[@]}"
