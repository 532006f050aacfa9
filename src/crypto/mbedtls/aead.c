/* aead.c - AES-256-GCM on mbedTLS. */
#include <mbedtls/gcm.h>

#include "crypto/aead.h"
#include "crypto/mbedtls/internal.h"

int thsm_aead_seal(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
                   uint8_t tag[THSM_AEAD_TAG_LEN])
{
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int ok = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) == 0 &&
             mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, nonce,
                                       THSM_AEAD_NONCE_LEN, aad, aad_len, pt,
                                       ct, THSM_AEAD_TAG_LEN, tag) == 0;
    mbedtls_gcm_free(&gcm);
    return ok ? OK : FAIL;
}

int thsm_aead_open(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *ct, size_t len,
                   const uint8_t tag[THSM_AEAD_TAG_LEN], uint8_t *pt)
{
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int ok = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) == 0 &&
             mbedtls_gcm_auth_decrypt(&gcm, len, nonce, THSM_AEAD_NONCE_LEN,
                                      aad, aad_len, tag, THSM_AEAD_TAG_LEN, ct,
                                      pt) == 0;
    mbedtls_gcm_free(&gcm);
    if (!ok)
        thsm_wipe(pt, len); /* mbedTLS wipes on a bad tag; not on other errors */
    return ok ? OK : FAIL;
}
