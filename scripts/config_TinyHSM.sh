#!/usr/bin/env bash
# Provision a TinyHSM with the variables of the original config script.
#   CA_COUNTRY CA_ORG CA_CN CA_START CA_DURATION
#   SIGNER_COUNTRY SIGNER_ORG SIGNER_CN SIGNER_START SIGNER_DURATION
#   NEW=all|signer (default all), PORT (default: tinyhsm's default port)
#   YES=1|yes|true (replace an existing CA or signer without asking)
#   TINYHSM_PIN: the device PIN, needed when the device has one (on a
#   terminal tinyhsm asks for it instead)
#   TINYHSM: the tinyhsm to run (default: the one beside this script, else PATH)
# Unset dates start now; durations default to 3650 (CA) and 730 (signer) days.
# The arguments go to 'tinyhsm config' after the variables' options, so they
# win. See tinyhsm config --help.
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
yes=$(yes_no YES "${YES:-}") || exit 2
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
[ "$yes" = 1 ] && args+=(--yes)
port=()
[ -n "${PORT:-}" ] && port=(--port "$PORT")
[ -t 0 ] && exec "$TINYHSM" "${port[@]}" "${args[@]}" "$@"
# Without a terminal tinyhsm cannot ask: its advice names this script's way.
status=0
{ "$TINYHSM" "${port[@]}" "${args[@]}" "$@" 2>&1 1>&3 3>&- |
    sed -u 's/pass --yes to confirm/set YES=1 (or pass --yes) to confirm/' >&2
  status=${PIPESTATUS[0]}; } 3>&1 || true
exit "$status"
