#!/usr/bin/env bash
# The bash completion of tinyhsm (dist/bash-completion/tinyhsm), sourced
# with bash-completion's helpers where they are installed and without them:
# commands, options per command, board names, files where a file goes.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${THSM_BIN:?set THSM_BIN to the directory with tinyhsm}
BIN=$(cd "$BIN" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASSED=0
fail() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }

# complete WITH_HELPERS LINE: the completions of LINE (cursor at its end),
# one a line, sorted, from a fresh bash that sourced the completion.
complete() {
    PATH=$BIN:$PATH bash -c '
        set +eu
        [ "$1" = yes ] && . /usr/share/bash-completion/bash_completion
        . "$2"
        read -ra COMP_WORDS <<<"$3"
        [[ $3 == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE=$3 COMP_POINT=${#3}
        _tinyhsm tinyhsm "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$1" \
        "$src/dist/bash-completion/tinyhsm" "$2"
}
expect() { # HELPERS LINE WANT...: the completions are exactly WANT
    local got want
    got=$(cd "$TMP" && complete "$1" "$2")
    want=$(printf '%s\n' "${@:3}" | sort)
    [ "$got" = "$want" ] || fail "'$2<TAB>' ($1 helpers) gives '$got', not '$want'"
}

boards=$("$BIN/tinyhsm" sign --board _ --version 1.0.0 _ 2>&1 | awk '/^  [A-Z0-9]/ { print $1 }' || true)
[ "$(wc -l <<<"$boards")" -ge 10 ] && grep -qx B-U585I-IOT02A <<<"$boards" ||
    fail "tinyhsm lists no board table: $boards"
touch "$TMP/fw.bin" "$TMP/fw.hex"

helpers=no
[ -r /usr/share/bash-completion/bash_completion ] && helpers="no yes"
for h in $helpers; do
    expect $h "tinyhsm si" sign sign-digest
    expect $h "tinyhsm " info config sign cert verify decommission pin log sign-digest policy import help
    expect $h "tinyhsm import " signer
    expect $h "tinyhsm import signer --pa" --passphrase-file
    expect $h "tinyhsm sign --bo" --board
    expect $h "tinyhsm verify --fl" --flash-dump
    expect $h "tinyhsm --po" --port
    expect $h "tinyhsm -d sign --ver" --version --version-file
    # shellcheck disable=SC2086
    expect $h "tinyhsm sign --board " $boards
    expect $h "tinyhsm sign --board NUCLEO-W" NUCLEO-WB55RG
    expect $h "tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 fw" fw.bin fw.hex
    expect $h "tinyhsm cert " ca signer renew
    expect $h "tinyhsm cert renew " ca signer
    expect $h "tinyhsm cert signer --format " mcuboot-c pubkey-pem
    expect $h "tinyhsm verify --format " mcuboot secureboot10
    expect $h "tinyhsm sign --format " mcuboot secureboot10
    expect $h "tinyhsm sign --public-key-format " full hash
    expect $h "tinyhsm sign --pad" --pad-header
    expect $h "tinyhsm log --j" --json
    expect $h "tinyhsm cert renew signer --d" --days --der
    expect $h "tinyhsm config --new " all signer
    expect $h "tinyhsm pin " change set unblock
    expect $h "tinyhsm pin unblock --so" --so --so-pin-file
    expect $h "tinyhsm pin unblock --so-pin-file fw" fw.bin fw.hex
    expect $h "tinyhsm help si" sign sign-digest
    expect $h "tinyhsm policy " lock set show
    expect $h "tinyhsm policy set --digest-signing " off on
    expect $h "tinyhsm policy set --formats " any mcuboot secureboot10
    expect $h "tinyhsm policy set --max-per" --max-per-day --max-per-hour
    ok "completion ($h helpers): commands, options per command, boards, files, pin and policy actions"
done
echo "$PASSED passed, 0 failed"
