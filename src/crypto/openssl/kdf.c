/* kdf.c - PIN key derivation on OpenSSL 3: scrypt and PBKDF2-HMAC-SHA-256. */
#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include "crypto/kdf.h"
#include "crypto/openssl/internal.h"

void thsm_pin_kdf_default(thsm_kdf_params *kp)
{
    kp->id = THSM_KDF_SCRYPT;
    kp->log2_cost = THSM_KDF_SCRYPT_LOG2_DEFAULT;
}

int thsm_scrypt(const void *pw, size_t pw_len, const uint8_t *salt,
                size_t salt_len, uint64_t n, uint32_t r, uint32_t p,
                uint8_t *out, size_t out_len)
{
    uint64_t maxmem = 128 * (uint64_t)r * n * 2 + (1u << 20);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw,
                                          pw_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
                                          salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    return thsm_ossl_kdf_derive("SCRYPT", params, out, out_len);
}

static int pbkdf2(const void *pw, size_t pw_len, const uint8_t *salt,
                  size_t salt_len, uint64_t iterations, uint8_t *out,
                  size_t out_len)
{
    int no_checks = 1; /* PKCS#5 mode: the cost is the caller's choice */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw,
                                          pw_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
                                          salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iterations),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &no_checks),
        OSSL_PARAM_construct_end(),
    };
    return thsm_ossl_kdf_derive("PBKDF2", params, out, out_len);
}

int thsm_pin_kdf(const thsm_kdf_params *kp, const void *pin, size_t pin_len,
                 const uint8_t *salt, size_t salt_len, uint8_t *out,
                 size_t out_len)
{
    if (kp->log2_cost < 1 || kp->log2_cost > THSM_KDF_LOG2_MAX)
        return FAIL;
    uint64_t cost = UINT64_C(1) << kp->log2_cost;
    if (kp->id == THSM_KDF_SCRYPT)
        return thsm_scrypt(pin, pin_len, salt, salt_len, cost, 8, 1, out,
                           out_len);
    if (kp->id == THSM_KDF_PBKDF2_SHA256)
        return pbkdf2(pin, pin_len, salt, salt_len, cost, out, out_len);
    return FAIL;
}
