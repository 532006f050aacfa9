#!/usr/bin/env bash
# The firmware ELF is a static Cortex-M image with no OpenSSL symbol, no
# host library and no unresolved symbol. Usage: check_elf.sh FIRMWARE.elf [HOST_BINARY]
# With HOST_BINARY (e.g. tinyhsmd), also checks that the same test rejects it,
# so a check that cannot fail would be noticed.
set -euo pipefail
fw=${1:?usage: check_elf.sh FIRMWARE.elf [HOST_BINARY]}
if [ ! -r "$fw" ]; then
    echo "SKIP: no firmware at $fw (run make firmware)"
    exit 77
fi
NM=arm-none-eabi-nm
command -v "$NM" >/dev/null || { echo "SKIP: no $NM"; exit 77; }

# problems FILE: prints what makes FILE unfit for the MCU; nothing when fit.
problems() {
    local f=$1
    readelf -h "$f" 2>/dev/null | grep -q "Machine:.*ARM$" || echo "not an ARM ELF"
    readelf -d "$f" 2>/dev/null | grep -q "NEEDED" && echo "links shared libraries"
    readelf -l "$f" 2>/dev/null | grep -q "INTERP" && echo "has a program interpreter"
    local syms
    syms=$("$NM" "$f" 2>/dev/null || nm -D "$f" 2>/dev/null || true)
    grep -E ' (EVP_|OPENSSL_|OSSL_|SSL_|BIO_|ERR_|RAND_|X509_|PEM_|d2i_|i2d_|CRYPTO_)' \
        <<<"$syms" | head -3 | sed 's/^/OpenSSL symbol: /'
    grep -E ' (getrandom|pthread_[a-z_]+|dlopen|__libc_start_main|__libc_stack_end|fork|execv[a-z]*)(@.*)?$|@GLIBC' \
        <<<"$syms" | head -3 | sed 's/^/host library symbol: /'
    grep -E '^ +U ' <<<"$syms" | head -3 | sed 's/^/unresolved: /'
    return 0 # a grep that finds nothing is good news
}

found=$(problems "$fw")
if [ -n "$found" ]; then
    echo "FAIL: $fw:"; echo "$found"
    exit 1
fi
echo "ok 1 - $fw: static ARM image, no OpenSSL or host library symbol"
if [ -n "${2:-}" ]; then
    [ -n "$(problems "$2")" ] || { echo "FAIL: the check accepts host binary $2"; exit 1; }
    echo "ok 2 - the same check rejects $2"
fi
echo "$((1 + ${2:+1})) passed, 0 failed"
