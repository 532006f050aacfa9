/* hmac.c - HMAC-SHA-256 and HKDF on mbedTLS. */
#include <string.h>

#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

#include "crypto/hmac.h"
#include "crypto/mbedtls/internal.h"

int thsm_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
                     size_t len, uint8_t out[THSM_SHA256_LEN])
{
    return mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key,
                           key_len, data, len, out) == 0
               ? OK : FAIL;
}

int thsm_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                     size_t salt_len, const char *info, uint8_t *out,
                     size_t out_len)
{
    return mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), salt,
                        salt ? salt_len : 0, ikm, ikm_len,
                        (const unsigned char *)info, strlen(info), out,
                        out_len) == 0
               ? OK : FAIL;
}
