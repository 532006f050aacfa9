#!/usr/bin/env bash
# Code size of the mbedTLS crypto backend on a Cortex-M33, per primitive:
# each row links a program that calls only that header's functions
# (arm-none-eabi-gcc -mcpu=cortex-m33 -mthumb -Os, newlib-nano, gc-sections)
# and prints its size minus an empty program's.
# Usage: crypto-size.sh [MBEDTLS_CACHE] [OUT_DIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$root/build/mbedtls-src}
out=${2:-$root/build/crypto-size}
bash "$root/scripts/fetch-mbedtls.sh" "$cache"
mbed=$cache/src
mkdir -p "$out/obj"
cflags=(-mcpu=cortex-m33 -mthumb -Os -ffunction-sections -fdata-sections
        --specs=nano.specs -std=c11 -I"$root/src" -I"$mbed/include"
        -I"$root/src/crypto/mbedtls/config"
        "-DMBEDTLS_CONFIG_FILE=\"thsm_mbedtls_config.h\"")
modules="aes asn1parse asn1write bignum cipher cipher_wrap constant_time
         ctr_drbg ecdsa ecp ecp_curves gcm hkdf hmac_drbg md oid pk pk_wrap
         pkcs5 pkparse pkwrite platform_util sha1 sha256 x509 x509_create
         x509_crt x509write_crt"
objs=()
for m in $modules; do
    arm-none-eabi-gcc "${cflags[@]}" -w -c "$mbed/library/$m.c" -o "$out/obj/mbedtls_$m.o"
    objs+=("$out/obj/mbedtls_$m.o")
done
for f in "$root"/src/crypto/mbedtls/*.c; do
    o=$out/obj/thsm_$(basename "$f" .c).o
    arm-none-eabi-gcc "${cflags[@]}" -Wall -Wextra -Werror -c "$f" -o "$o"
    objs+=("$o")
done
rm -f "$out/libcrypto-mcu.a"
arm-none-eabi-ar rcs "$out/libcrypto-mcu.a" "${objs[@]}"

# name|calls (each a function pointer the program keeps)
rows=(
    "empty program|"
    "sha256.h|thsm_sha256 thsm_sha256_init thsm_sha256_update thsm_sha256_final"
    "hmac.h (HMAC+HKDF)|thsm_hmac_sha256 thsm_hkdf_sha256"
    "kdf.h (PBKDF2)|thsm_pin_kdf"
    "aead.h (AES-256-GCM)|thsm_aead_seal thsm_aead_open"
    "util.h (CTR_DRBG)|thsm_random thsm_crypto_set_entropy"
    "p256.h (ECDSA)|thsm_p256_generate thsm_p256_load thsm_p256_sign thsm_p256_verify thsm_p256_pub_valid thsm_p256_sig_der_to_raw"
    "x509.h issue|thsm_x509_issue"
    "x509.h parse (DER)|thsm_x509_parse"
    "all of the above|thsm_sha256 thsm_sha256_init thsm_sha256_update thsm_sha256_final thsm_hmac_sha256 thsm_hkdf_sha256 thsm_pin_kdf thsm_aead_seal thsm_aead_open thsm_random thsm_crypto_set_entropy thsm_p256_generate thsm_p256_load thsm_p256_sign thsm_p256_verify thsm_p256_pub_valid thsm_p256_sig_der_to_raw thsm_x509_issue thsm_x509_parse"
)
base=0
printf '%-24s %8s %8s %8s %10s\n' primitive text data bss "text-empty"
for row in "${rows[@]}"; do
    name=${row%%|*}
    calls=${row#*|}
    {
        for h in aead hmac kdf p256 sha256 util x509; do echo "#include \"crypto/$h.h\""; done
        echo 'void *volatile keep[32];'
        echo 'int main(void) { int i = 0; (void)i;'
        for c in $calls; do echo "    keep[i++] = (void *)$c;"; done
        echo '    return 0; }'
    } >"$out/prog.c"
    arm-none-eabi-gcc "${cflags[@]}" -Wl,--gc-sections --specs=nosys.specs \
        "$out/prog.c" "$out/libcrypto-mcu.a" -o "$out/prog.elf"
    read -r text data bss _ < <(arm-none-eabi-size "$out/prog.elf" | tail -n1)
    [ "$name" = "empty program" ] && base=$text
    printf '%-24s %8d %8d %8d %10d\n' "$name" "$text" "$data" "$bss" $((text - base))
done
