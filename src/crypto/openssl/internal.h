/* internal.h - helpers shared by the OpenSSL backend's files. */
#ifndef THSM_CRYPTO_OPENSSL_INTERNAL_H
#define THSM_CRYPTO_OPENSSL_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/p256.h"

#define OK THSM_CRYPTO_OK
#define FAIL THSM_CRYPTO_FAIL

/* A P-256 EVP_PKEY from raw values; priv may be NULL for a public key. */
EVP_PKEY *thsm_ossl_pkey_from_raw(const uint8_t *priv, const uint8_t *pub);

/* Uncompressed public point of pkey into pub; 1 on success. */
int thsm_ossl_export_pub(EVP_PKEY *pkey, uint8_t pub[THSM_P256_PUB_LEN]);

/* 1 when pkey is an EC key on P-256. */
int thsm_ossl_is_p256(EVP_PKEY *pkey);

/* Runs the named EVP_KDF with params into out. */
int thsm_ossl_kdf_derive(const char *name, OSSL_PARAM *params, uint8_t *out,
                         size_t out_len);

#endif
