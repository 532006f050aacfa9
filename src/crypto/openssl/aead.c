/* aead.c - AES-256-GCM on OpenSSL 3 EVP. */
#include <string.h>

#include "crypto/aead.h"
#include "crypto/openssl/internal.h"

static int gcm(int enc, const uint8_t *key, const uint8_t *nonce,
               const uint8_t *aad, size_t aad_len, const uint8_t *in,
               size_t len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n, ok = c && len <= INT32_MAX && aad_len <= INT32_MAX &&
                EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce,
                                  enc) == 1;
    if (ok && aad_len)
        ok = EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) == 1;
    if (ok && len)
        ok = EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, THSM_AEAD_TAG_LEN,
                                 tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(c, out + len, &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, THSM_AEAD_TAG_LEN,
                                 tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? OK : FAIL;
}

int thsm_aead_seal(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
                   uint8_t tag[THSM_AEAD_TAG_LEN])
{
    return gcm(1, key, nonce, aad, aad_len, pt, len, ct, tag);
}

int thsm_aead_open(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *ct, size_t len,
                   const uint8_t tag[THSM_AEAD_TAG_LEN], uint8_t *pt)
{
    uint8_t t[THSM_AEAD_TAG_LEN];
    memcpy(t, tag, sizeof(t));
    if (gcm(0, key, nonce, aad, aad_len, ct, len, pt, t) == OK)
        return OK;
    thsm_wipe(pt, len);
    return FAIL;
}
