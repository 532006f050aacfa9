/* hmac.h - HMAC-SHA-256 and HKDF-SHA-256. */
#ifndef THSM_CRYPTO_HMAC_H
#define THSM_CRYPTO_HMAC_H

#include "crypto/sha256.h"

int thsm_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
                     size_t len, uint8_t out[THSM_SHA256_LEN]);

/* HKDF-SHA-256 (RFC 5869), extract then expand. salt may be NULL. */
int thsm_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                     size_t salt_len, const char *info, uint8_t *out,
                     size_t out_len);

#endif
