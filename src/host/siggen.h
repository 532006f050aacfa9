/*
 * siggen.h - SigGen.c, the signer's public key as the Tiny Secure Boot
 * bootloader compiles it in: two 32-byte arrays, Qx and Qy, big-endian.
 * Unlike the reference script, leading zero bytes are always kept.
 */
#ifndef THSM_SIGGEN_H
#define THSM_SIGGEN_H

#include <stddef.h>
#include <stdint.h>

#define THSM_SIGGEN_MAX 1024

/* SigGen.c text for pub (0x04 || Qx || Qy); returns its length. */
size_t thsm_siggen_format(const uint8_t pub[65], char *out, size_t cap);

/* Reads the two arrays back; each must hold exactly 32 bytes. */
int thsm_siggen_parse(const char *text, uint8_t pub[65], char *err, size_t cap);

#endif
