#!/usr/bin/env bash
# The PowerShell wrappers (scripts/tinyhsm-sign.ps1, tinyhsm-config.ps1).
# pwsh is not in Debian's mirror: check_ps1.py evaluates the part of each
# .ps1 that builds tinyhsm's command line and compares it with what the .sh
# twin runs, for many sets of variables; its selftest then breaks copies
# (a wrong option, a missing variable, argument order, defaults, flag
# values, help, name) and each must be caught.
. "$(dirname "$0")/../e2e/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
run 0 python3 "$here/check_ps1.py" selftest "$here/../../scripts"
cat "$TMP/out"
has "$TMP/out" "ok - tinyhsm-sign.ps1: "
has "$TMP/out" "ok - tinyhsm-config.ps1: "
ok "the .ps1 wrappers read the .sh wrappers' variables and build their command lines"
[ "$(grep -c '^ok - caught' "$TMP/out")" -ge 10 ] || fail "too few broken copies caught"
ok "the check catches each broken copy"
finish
