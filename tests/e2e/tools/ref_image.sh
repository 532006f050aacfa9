#!/usr/bin/env bash
# Builds a SECUREBOOT10 image the way the reference sign.py does, from
# shared/spec/IMAGE.md alone (bash, coreutils, openssl; none of our code):
#   ref_image.sh [-1] [-k KEY.pem | -s SIG.bin] FIRMWARE BOARD VERSION|FILE.h >OUT
# Each header field is its text, a NUL (two NULs for SIZE: the string gets
# one and the helper appends another), then 0xFF up to the next 16-byte
# boundary; the version field is padded with 0xFF to the end of the 512-byte
# header. The firmware follows, padded with 0xFF to a multiple of 512, then
# the 64-byte raw r||s signature: from SIG.bin, or made with KEY.pem.
# A VERSION ending in .h is an application_version.h, read as the reference
# reads it: every "#define NAME VALUE" line counts, the last one wins.
# -1 writes SIZE with one NUL, as tinyhsm before 0.2 did.
set -euo pipefail
size_nuls=2 key= sig=
while getopts 1k:s: o; do
    case $o in
    1) size_nuls=1 ;;
    k) key=$OPTARG ;;
    s) sig=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || { echo "usage: $0 [-1] [-k KEY|-s SIG] FIRMWARE BOARD VERSION" >&2; exit 2; }
fw=$1 board=$2 version=$3

if [[ $version == *.h ]]; then
    version=$(awk '$1 == "#define" && $2 ~ /^APP_VERSION_(MAJOR|MINOR|BUILD)$/ {
                       v[$2] = $3 }
                   END { printf "%s.%s.%s", v["APP_VERSION_MAJOR"],
                         v["APP_VERSION_MINOR"], v["APP_VERSION_BUILD"] }' "$version")
fi

ff() { head -c "$1" /dev/zero | tr '\0' '\377'; }
# field TEXT NULS [WIDTH]: TEXT, NULS NUL bytes, 0xFF to WIDTH (default: the
# next multiple of 16)
field() {
    local n=$((${#1} + $2)) width=${3:-}
    [ -n "$width" ] || width=$(((n + 15) / 16 * 16))
    printf '%s' "$1"
    head -c "$2" /dev/zero
    ff $((width - n))
}
fw_len=$(stat -c %s "$fw")
size=$((512 + (fw_len + 511) / 512 * 512))
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
    field SECUREBOOT10 1
    field "$size" "$size_nuls"
    field "$board" 1
    field "$version" 1 $((512 - 48))
    cat "$fw"
    ff $((size - 512 - fw_len))
} >"$tmp"
[ "$(stat -c %s "$tmp")" -eq "$size" ] || { echo "$0: header overflows" >&2; exit 1; }
cat "$tmp"
if [ -n "$sig" ]; then
    cat "$sig"
elif [ -n "$key" ]; then
    openssl dgst -sha256 -sign "$key" "$tmp" |
        openssl asn1parse -inform DER | awk -F: '/INTEGER/ {print $NF}' |
        while read -r v; do printf '%064s' "$v" | tr ' ' 0; done | xxd -r -p
fi
