# Shared by the PKCS#11 shell tests: tests/e2e/lib.sh, the module, and the
# way external tools load it. Source it.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
MODULE=${THSM_MODULE:-$BIN/../lib/libtinyhsm-pkcs11.so}
[ -r "$MODULE" ] || MODULE=$BIN/libtinyhsm-pkcs11.so
[ -r "$MODULE" ] || fail "no module at $MODULE"
MODULE=$(cd "$(dirname "$MODULE")" && pwd)/$(basename "$MODULE")
PIN=pkcs11-pin
export TINYHSM_NO_PIN_WARNING=1

# A module built with ASan needs its runtime in the tools that load it (the
# tools' own leaks are not ours: leak checks off for them).
TOOL_ENV=()
undefined=$(nm -D --undefined-only "$MODULE") # not piped into grep -q: pipefail
if [[ $undefined == *__asan_init* ]]; then
    rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
    [ -r "$rt" ] || fail "the module needs the ASan runtime, none at $rt"
    TOOL_ENV=(env "LD_PRELOAD=$rt" ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0)
fi
tool() { "${TOOL_ENV[@]}" "$@"; }
p11() { tool pkcs11-tool --module "$MODULE" "$@"; }

# provision: a device with a CA, a signer and the PIN $PIN.
provision() {
    run 0 tinyhsm config --new all --yes
    TINYHSM_NEW_PIN=$PIN run 0 tinyhsm pin set
}

# verify_sig SIG DATA CERT_DER: openssl checks the DER signature of DATA.
verify_sig() {
    openssl x509 -inform DER -in "$3" -pubkey -noout >"$TMP/pub.pem"
    openssl dgst -sha256 -verify "$TMP/pub.pem" -signature "$1" "$2" >"$TMP/v.out" 2>&1 \
        || { cat "$TMP/v.out"; fail "signature $1 does not verify"; }
}
