#!/usr/bin/env bash
# Installs the Debian packages given as arguments that are not installed yet.
# Does nothing (and needs no network) when all are present.
set -eu
missing=()
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing missing packages: ${missing[*]}"
run=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        run=(sudo)
    else
        echo "error: not root and no sudo; run: apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
