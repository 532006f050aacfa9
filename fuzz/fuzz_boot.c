/*
 * fuzz_boot.c - arbitrary bytes as a SECUREBOOT10 image: the strict header
 * parser, the whole verifier (file and flash-slot modes), the erased-tail
 * check of flash dumps and the update rule.
 * The key is fuzz/boot_test_key.pem's, so the seeds' signatures verify.
 */
#include <string.h>

#include "boot/boot.h"

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
    static const thsm_boot_board board = {"B-U585I-IOT02A", 1007616};
    thsm_boot_header h, installed;
    for (int exact = 0; exact < 2; exact++)
        thsm_boot_verify(data, size, exact, &board, pub, &h);
    if (thsm_boot_parse_header(data, size, &h) == THSM_BOOT_OK &&
        thsm_boot_check_layout(&h, size, 0) == THSM_BOOT_OK)
        thsm_boot_check_erased_tail(data, &h, size); /* --flash-dump */
    if (thsm_boot_parse_header(data, size, &h) == THSM_BOOT_OK) {
        memset(&installed, 0, sizeof(installed));
        strcpy(installed.board, "B-U585I-IOT02A");
        installed.version = (thsm_boot_version){1, 2, 3};
        thsm_boot_check_update(&installed, &h);
    }
    return 0;
}
