#!/usr/bin/env bash
# The PowerShell wrappers (scripts/tinyhsm-sign.ps1, tinyhsm-config.ps1).
# pwsh is not in Debian's mirror: check_ps1.py evaluates the part of each
# .ps1 that builds tinyhsm's command line and compares it with what the .sh
# twin runs, for many sets of variables; then it must catch broken copies.
. "$(dirname "$0")/../e2e/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
scripts=$here/../../scripts
if command -v pwsh >/dev/null; then echo "# pwsh is installed, yet not used: see check_ps1.py"; fi
run 0 python3 "$here/check_ps1.py" "$scripts"
cat "$TMP/out"
ok "the .ps1 wrappers read the .sh wrappers' variables and build their command lines"

# broken copies: each mutation must be caught
mutate() { # FILE SED-EXPR WANT
    rm -rf "$TMP/s"
    cp -r "$scripts" "$TMP/s"
    sed -i "$2" "$TMP/s/$1"
    cmp -s "$scripts/$1" "$TMP/s/$1" && fail "mutation '$2' changed nothing"
    echo "# mutation: $1: $2"
    run 1 python3 "$here/check_ps1.py" "$TMP/s"
    has "$TMP/out" "$3"
}
mutate tinyhsm-sign.ps1 "s/'--cert-out'/'--cert'/" "tinyhsm-sign.ps1 with"
mutate tinyhsm-sign.ps1 "/Option '--trust'/d" "does not read TRUST"
mutate tinyhsm-sign.ps1 "s/@args @fw/@fw @args/" "tinyhsm-sign.ps1 with"
mutate tinyhsm-config.ps1 "s/{ 'all' }/{ 'signer' }/" "tinyhsm-config.ps1 with"
mutate tinyhsm-config.ps1 "s/'1', 'yes', 'true'/'1', 'yes'/" "tinyhsm-config.ps1 with"
mutate tinyhsm-config.ps1 "/CA_START CA_DURATION/s/CA_START //" "help does not name CA_START"
mutate config_TinyHSM.sh 's/add --ca-org/add --ca-organization/' "tinyhsm-config.ps1 with"
ok "the check catches a wrong option, a missing variable, argument order, defaults, flag values and help"
finish
