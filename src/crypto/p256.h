/* p256.h - ECDSA on NIST P-256 with SHA-256 digests. */
#ifndef THSM_CRYPTO_P256_H
#define THSM_CRYPTO_P256_H

#include "crypto/sha256.h"

#define THSM_P256_PRIV_LEN 32
#define THSM_P256_PUB_LEN 65     /* uncompressed point: 0x04 || X || Y */
#define THSM_P256_SIG_RAW_LEN 64 /* r || s, each 32 bytes big-endian */
#define THSM_P256_SIG_DER_MAX 72

/* A key pair. priv and pub are the raw values; impl may cache the library's
 * object so that repeated signing is fast. Never copy a key whose impl is set;
 * always end its life with thsm_p256_key_clear, which wipes priv. */
typedef struct {
    uint8_t priv[THSM_P256_PRIV_LEN];
    uint8_t pub[THSM_P256_PUB_LEN];
    void *impl;
} thsm_p256_key;

/* Fresh key pair from the secure random source. */
int thsm_p256_generate(thsm_p256_key *key);

/* Fill key from stored raw values (impl becomes NULL, built on first use).
 * Fails when priv is out of range or does not match pub. */
int thsm_p256_load(thsm_p256_key *key, const uint8_t priv[THSM_P256_PRIV_LEN],
                   const uint8_t pub[THSM_P256_PUB_LEN]);

/* Fill key from a private scalar from outside (an imported key): priv must
 * be in [1, n-1]; pub is computed from it (impl becomes NULL). */
int thsm_p256_import(thsm_p256_key *key, const uint8_t priv[THSM_P256_PRIV_LEN]);

void thsm_p256_key_clear(thsm_p256_key *key);

/* ECDSA signature of a SHA-256 digest, DER-encoded ECDSA-Sig-Value. */
int thsm_p256_sign(thsm_p256_key *key, const uint8_t digest[THSM_SHA256_LEN],
                   uint8_t der[THSM_P256_SIG_DER_MAX], size_t *der_len);

/* 1 when pub is a valid uncompressed point on P-256, else 0. */
int thsm_p256_pub_valid(const uint8_t pub[THSM_P256_PUB_LEN]);

/* Verifies a raw r||s signature. OK only when it verifies. */
int thsm_p256_verify(const uint8_t pub[THSM_P256_PUB_LEN],
                     const uint8_t digest[THSM_SHA256_LEN],
                     const uint8_t sig[THSM_P256_SIG_RAW_LEN]);

/* r||s -> DER ECDSA-Sig-Value (at most THSM_P256_SIG_DER_MAX bytes). */
int thsm_p256_sig_raw_to_der(const uint8_t raw[THSM_P256_SIG_RAW_LEN],
                             uint8_t der[THSM_P256_SIG_DER_MAX], size_t *der_len);

/* Strict DER ECDSA-Sig-Value -> r||s, each left-padded to 32 bytes.
 * Fails on trailing bytes, non-minimal encodings or values over 32 bytes. */
int thsm_p256_sig_der_to_raw(const uint8_t *der, size_t der_len,
                             uint8_t raw[THSM_P256_SIG_RAW_LEN]);

#endif
