/*
 * util.h - return codes, wiping, constant-time compare and random bytes.
 *
 * Every crypto header follows the same conventions: functions return
 * THSM_CRYPTO_OK (0) on success and THSM_CRYPTO_FAIL (-1) on any failure;
 * buffers are caller-owned; lengths are in bytes; nothing prints.
 */
#ifndef THSM_CRYPTO_UTIL_H
#define THSM_CRYPTO_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define THSM_CRYPTO_OK 0
#define THSM_CRYPTO_FAIL (-1)

/* Overwrite memory in a way the compiler may not optimise away. */
void thsm_wipe(void *p, size_t len);

/* 1 when equal, 0 otherwise; time depends only on len. */
int thsm_ct_equal(const void *a, const void *b, size_t len);

/* Cryptographically secure random bytes from a DRBG seeded by the entropy
 * source below. */
int thsm_random(uint8_t *buf, size_t len);

/* A platform entropy source: fills buf with len bytes of true randomness and
 * returns 0, or returns non-zero when it cannot. */
typedef int (*thsm_entropy_fn)(void *ctx, uint8_t *buf, size_t len);

/* Sets the source that seeds (and reseeds) the DRBG. A firmware port must call
 * it before any other crypto call (its TRNG). When it is never called, the
 * mbedTLS backend uses getrandom() on Linux, BCryptGenRandom on Windows and
 * fails on a bare MCU;
 * the OpenSSL backend always seeds from the operating system and ignores it. */
void thsm_crypto_set_entropy(thsm_entropy_fn fn, void *ctx);

#endif
