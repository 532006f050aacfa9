#!/usr/bin/env bash
# Writes the boot fuzzer's seed images into fuzz/corpus/boot/, signed with
# fuzz/boot_test_key.pem (a test key, used for nothing else), with the openssl
# command only. Run from the repository root.
set -euo pipefail
out=fuzz/corpus/boot
key=fuzz/boot_test_key.pem
mkdir -p "$out"
field() { # TEXT WIDTH [NULS]
    printf '%s' "$1"
    head -c "${3:-1}" /dev/zero
    head -c $(($2 - ${#1} - ${3:-1})) /dev/zero | tr '\0' '\377'
}
image() { # NAME BOARD VERSION FIRMWARE-BYTES [SIZE-NULS]
    local tmp size
    tmp=$(mktemp -d)
    size=$((512 + ($4 + 511) / 512 * 512))
    # the reference script ends SIZE with two NULs; older tinyhsm with one
    { field SECUREBOOT10 16; field "$size" 16 "${5:-2}"; field "$2" 16; field "$3" 464
      head -c "$4" /dev/urandom
      head -c $((size - 512 - $4)) /dev/zero | tr '\0' '\377'; } >"$tmp/img"
    openssl dgst -sha256 -sign "$key" -out "$tmp/sig.der" "$tmp/img"
    openssl asn1parse -inform DER -in "$tmp/sig.der" | awk -F: '/INTEGER/ {print $NF}' |
        while read -r v; do printf '%064s' "$v" | tr ' ' 0; done | xxd -r -p >>"$tmp/img"
    mv "$tmp/img" "$out/$1"
    rm -rf "$tmp"
}
image valid_u585 B-U585I-IOT02A 1.2.3 1000
image valid_g071 NUCLEO-G071RB 10.0.7 3000
image zero_version B-U585I-IOT02A 0.0.0 10
image other_board NUCLEO-H503RB 1.0.0 512
image one_nul_size B-U585I-IOT02A 1.2.4 700 1
head -c 700 "$out/valid_u585" >"$out/truncated"
{ cat "$out/valid_u585"; printf 'x'; } >"$out/trailing"
{ cat "$out/valid_u585"; head -c 600 /dev/zero | tr '\0' '\377'; } >"$out/flash_dump"
