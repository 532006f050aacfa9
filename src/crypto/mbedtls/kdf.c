/* kdf.c - PIN key derivation on mbedTLS: PBKDF2-HMAC-SHA-256 only. */
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include "crypto/kdf.h"
#include "crypto/mbedtls/internal.h"

void thsm_pin_kdf_default(thsm_kdf_params *kp)
{
    kp->id = THSM_KDF_PBKDF2_SHA256;
    kp->log2_cost = THSM_KDF_PBKDF2_LOG2_DEFAULT;
}

int thsm_pin_kdf(const thsm_kdf_params *kp, const void *pin, size_t pin_len,
                 const uint8_t *salt, size_t salt_len, uint8_t *out,
                 size_t out_len)
{
    if (kp->id != THSM_KDF_PBKDF2_SHA256 || kp->log2_cost < 1 ||
        kp->log2_cost > THSM_KDF_LOG2_MAX || out_len > UINT32_MAX)
        return FAIL;
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    int rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                              1) == 0 &&
             mbedtls_pkcs5_pbkdf2_hmac(&md, pin, pin_len, salt, salt_len,
                                       1u << kp->log2_cost, (uint32_t)out_len,
                                       out) == 0;
    mbedtls_md_free(&md);
    return rc ? OK : FAIL;
}
