/* hmac.c - HMAC-SHA-256 and HKDF on OpenSSL 3. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include "crypto/hmac.h"
#include "crypto/openssl/internal.h"

int thsm_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
                     size_t len, uint8_t out[THSM_SHA256_LEN])
{
    size_t out_len = 0;
    return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data,
                     len, out, THSM_SHA256_LEN, &out_len) != NULL &&
                   out_len == THSM_SHA256_LEN
               ? OK : FAIL;
}

int thsm_ossl_kdf_derive(const char *name, OSSL_PARAM *params, uint8_t *out,
                         size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int rc = ctx && EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc ? OK : FAIL;
}

int thsm_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                     size_t salt_len, const char *info, uint8_t *out,
                     size_t out_len)
{
    OSSL_PARAM p[5], *q = p;
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm,
                                             ikm_len);
    if (salt)
        *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                 (void *)salt, salt_len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
                                             strlen(info));
    *q = OSSL_PARAM_construct_end();
    return thsm_ossl_kdf_derive("HKDF", p, out, out_len);
}
