/*
 * fuzz_mcuboot.c - arbitrary bytes as an MCUboot image: the whole verifier
 * (file and slot modes, with and without a slot size), the header parser,
 * and the version parser on the same bytes as text. Then the builder's
 * round trip: the first bytes as its options, the rest as the application;
 * what it builds must pass the verifier.
 * The key is fuzz/boot_test_key.pem's, so the seeds' signatures verify
 * (fuzz/make_mcuboot_seeds.sh writes them).
 */
#include <string.h>

#include "boot/mcuboot.h"
#include "crypto/p256.h"
#include "host/mcuboot_image.h"

/* fuzz/boot_test_key.pem's private scalar (a test key, public). */
static const uint8_t priv[32] = {
0xa9, 0xf9, 0x88, 0xbc, 0x1c, 0xa7, 0xde, 0x28, 0x08, 0x62, 0xd9, 0x5e,
0x25, 0xb5, 0xbe, 0xac, 0x3f, 0x5a, 0x2e, 0x32, 0xf4, 0x69, 0x51, 0xbb,
0x02, 0x46, 0x89, 0xd2, 0xbc, 0x58, 0xad, 0xa3};

static const uint8_t pub[65] = {
0x04, 0x25, 0x0e, 0x61, 0x1d, 0xbe, 0x94, 0xae, 0x6a, 0x31, 0xa6, 0x2e,
0x25, 0xc9, 0xc4, 0xdb, 0xc1, 0x67, 0xcb, 0x37, 0x9e, 0x91, 0xd8, 0x6d,
0x39, 0x91, 0xde, 0x45, 0xda, 0xe1, 0x13, 0xa6, 0x3b, 0x34, 0x19, 0xd5,
0xdc, 0x54, 0x19, 0xfe, 0x22, 0xf1, 0x98, 0xa6, 0x0d, 0x48, 0xe9, 0xca,
0x94, 0x30, 0xc3, 0x85, 0xfb, 0x74, 0xe5, 0x01, 0x2d, 0x36, 0x5a, 0xf2,
0x1b, 0xd5, 0x8d, 0x5d, 0x54};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign_cb(void *ctx, const uint8_t digest[32], uint8_t sig[64])
{
    uint8_t der[THSM_P256_SIG_DER_MAX];
    size_t len;
    return thsm_p256_sign(ctx, digest, der, &len) != 0 ||
           thsm_p256_sig_der_to_raw(der, len, sig) != 0;
}

/* Options from 8 bytes, the application after them; a build that
 * succeeds must verify, in its slot. */
static void round_trip(const uint8_t *data, size_t size)
{
    static const uint32_t aligns[] = {1, 2, 4, 8, 16, 32};
    thsm_mcuboot_build b;
    thsm_p256_key key;
    char err[300];
    if (size < 8)
        return;
    if (thsm_p256_load(&key, priv, pub) != 0)
        __builtin_trap(); /* priv is not pub's */
    thsm_mcuboot_opts o = {
        .header_size = 32 + (data[0] & 0x3F) * 8, .pad_header = data[1] & 1,
        .slot_size = (data[1] & 2) ? 0 : 4096u << (data[2] & 7),
        .align = aligns[data[3] % 6],
        .version = {data[4], data[5], (uint16_t)(data[6] * 257), data[7]},
        .has_security_counter = (data[1] & 4) != 0,
        .security_counter = data[2] * 0x01010101u,
        .key_format = (data[1] & 8) ? THSM_MCUBOOT_KEY_FULL
                                    : THSM_MCUBOOT_KEY_HASH};
    if (thsm_mcuboot_sign(data + 8, size - 8, &o, pub, sign_cb, &key, &b, err,
                          sizeof(err)) == 0) {
        thsm_mcuboot_expect e = {pub, o.slot_size, o.align, 1};
        thsm_mcuboot_report r;
        if (thsm_mcuboot_verify(b.data, b.len, &e, &r) != THSM_MCUBOOT_OK)
            __builtin_trap();
        thsm_mcuboot_build_free(&b);
    }
    thsm_p256_key_clear(&key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    thsm_mcuboot_report r;
    thsm_mcuboot_header h;
    thsm_mcuboot_version v;
    char text[40];
    for (int exact = 0; exact < 2; exact++) {
        thsm_mcuboot_expect e = {pub, exact ? 0 : 0x20000, exact ? 8 : 1,
                                 exact};
        int rc = thsm_mcuboot_verify(data, size, &e, &r);
        /* the first failure is one of the reported results */
        int seen = rc == THSM_MCUBOOT_OK;
        for (int c = 0; c < THSM_MCUBOOT_CHECK_COUNT; c++)
            seen |= r.result[c] == rc;
        if (!seen)
            __builtin_trap();
    }
    thsm_mcuboot_parse_header(data, size, &h);
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    thsm_mcuboot_parse_version(text, &v);
    round_trip(data, size);
    return 0;
}
