/*
 * kdf.h - password-based key derivation for the PIN.
 *
 * A PIN record stores the thsm_kdf_params it was made with, so a device can
 * read PINs set under another KDF or cost. Both backends run PBKDF2; only the
 * OpenSSL (host) backend runs scrypt, whose memory (32 MiB at the default
 * cost) a microcontroller does not have. There, the try counter is the
 * defence against guessing, and PBKDF2 only slows a thief of the flash.
 */
#ifndef THSM_CRYPTO_KDF_H
#define THSM_CRYPTO_KDF_H

#include "crypto/util.h"

#define THSM_KDF_SCRYPT 1        /* N = 2^log2_cost, r = 8, p = 1 */
#define THSM_KDF_PBKDF2_SHA256 2 /* 2^log2_cost iterations of HMAC-SHA-256 */

#define THSM_KDF_SCRYPT_LOG2_DEFAULT 15 /* 32 MiB, about 0.1 s on a PC */
#define THSM_KDF_PBKDF2_LOG2_DEFAULT 14 /* 16384 iterations */
#define THSM_KDF_LOG2_MAX 20

typedef struct {
    uint8_t id;        /* THSM_KDF_* */
    uint8_t log2_cost; /* 1..THSM_KDF_LOG2_MAX */
} thsm_kdf_params;

/* The backend's choice for new PINs: scrypt on OpenSSL, PBKDF2 on mbedTLS. */
void thsm_pin_kdf_default(thsm_kdf_params *kp);

/* Derives out from the PIN. Fails on an unknown id, a cost out of range or a
 * KDF this backend does not have (scrypt on mbedTLS). */
int thsm_pin_kdf(const thsm_kdf_params *kp, const void *pin, size_t pin_len,
                 const uint8_t *salt, size_t salt_len, uint8_t *out,
                 size_t out_len);

/* scrypt (RFC 7914), OpenSSL backend only. n must be a power of two. Memory
 * use is 128*r*n bytes. */
int thsm_scrypt(const void *pw, size_t pw_len, const uint8_t *salt,
                size_t salt_len, uint64_t n, uint32_t r, uint32_t p,
                uint8_t *out, size_t out_len);

#endif
