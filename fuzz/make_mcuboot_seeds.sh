#!/usr/bin/env bash
# Writes the MCUboot fuzzer's seed images into fuzz/corpus/mcuboot/, signed
# with fuzz/boot_test_key.pem (a test key, used for nothing else), with the
# openssl command only. Run from the repository root.
set -euo pipefail
out=fuzz/corpus/mcuboot
key=fuzz/boot_test_key.pem
mkdir -p "$out"
le16() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))"; }
le32() { le16 $(($1 & 65535)); le16 $(($1 >> 16 & 65535)); }
tlv() { le16 "$1"; le16 "$(stat -c %s "$2")"; cat "$2"; } # TYPE FILE
image() { # NAME PAYLOAD-BYTES HEADER-SIZE SECURITY-COUNTER|- KEY-TLV(1|2)
    local tmp prot=0
    tmp=$(mktemp -d)
    [ "$4" != - ] && prot=12
    { le32 $((0x96f3b83d)); le32 0; le16 "$3"; le16 $prot; le32 "$2"; le32 0
      printf '\001\002'; le16 3; le32 4; le32 0
      head -c $(($3 - 32)) /dev/zero | tr '\0' '\377'
      head -c "$2" /dev/urandom
      if [ "$4" != - ]; then le16 $((0x6908)); le16 12; le16 $((0x50)); le16 4; le32 "$4"; fi
    } >"$tmp/signed"
    openssl dgst -sha256 -binary "$tmp/signed" >"$tmp/hash"
    openssl pkey -in "$key" -pubout -outform DER -out "$tmp/pub.der"
    if [ "$5" = 1 ]; then openssl dgst -sha256 -binary "$tmp/pub.der" >"$tmp/key"
    else cp "$tmp/pub.der" "$tmp/key"; fi
    openssl dgst -sha256 -sign "$key" -out "$tmp/sig" "$tmp/signed"
    { tlv $((0x10)) "$tmp/hash"; tlv "$5" "$tmp/key"; tlv $((0x22)) "$tmp/sig"; } >"$tmp/tlvs"
    { cat "$tmp/signed"; le16 $((0x6907)); le16 $(($(stat -c %s "$tmp/tlvs") + 4))
      cat "$tmp/tlvs"; } >"$out/$1"
    rm -rf "$tmp"
}
image valid_keyhash 1000 512 7 1
image valid_pubkey 300 32 - 2
image valid_no_counter 2000 256 - 1
head -c 1500 "$out/valid_keyhash" >"$out/truncated"
{ cat "$out/valid_keyhash"; printf 'x'; } >"$out/trailing"
