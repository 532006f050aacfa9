/* aead.h - AES-256-GCM with a 96-bit nonce and a 128-bit tag. */
#ifndef THSM_CRYPTO_AEAD_H
#define THSM_CRYPTO_AEAD_H

#include "crypto/util.h"

#define THSM_AEAD_KEY_LEN 32
#define THSM_AEAD_NONCE_LEN 12
#define THSM_AEAD_TAG_LEN 16

/* ct may equal pt. aad may be NULL when aad_len is 0. */
int thsm_aead_seal(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
                   uint8_t tag[THSM_AEAD_TAG_LEN]);

/* Fails, and leaves pt wiped, when the tag does not authenticate. */
int thsm_aead_open(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *ct, size_t len,
                   const uint8_t tag[THSM_AEAD_TAG_LEN], uint8_t *pt);

#endif
