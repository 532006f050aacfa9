/*
 * fuzz_mcuboot.c - arbitrary bytes as an MCUboot image: the whole verifier
 * (file and slot modes, with and without a slot size), the header parser,
 * and the version parser on the same bytes as text.
 * The key is fuzz/boot_test_key.pem's, so the seeds' signatures verify
 * (fuzz/make_mcuboot_seeds.sh writes them).
 */
#include <string.h>

#include "boot/mcuboot.h"

static const uint8_t pub[65] = {
0x04, 0x25, 0x0e, 0x61, 0x1d, 0xbe, 0x94, 0xae, 0x6a, 0x31, 0xa6, 0x2e,
0x25, 0xc9, 0xc4, 0xdb, 0xc1, 0x67, 0xcb, 0x37, 0x9e, 0x91, 0xd8, 0x6d,
0x39, 0x91, 0xde, 0x45, 0xda, 0xe1, 0x13, 0xa6, 0x3b, 0x34, 0x19, 0xd5,
0xdc, 0x54, 0x19, 0xfe, 0x22, 0xf1, 0x98, 0xa6, 0x0d, 0x48, 0xe9, 0xca,
0x94, 0x30, 0xc3, 0x85, 0xfb, 0x74, 0xe5, 0x01, 0x2d, 0x36, 0x5a, 0xf2,
0x1b, 0xd5, 0x8d, 0x5d, 0x54};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    return 0;
}
