/* p256.c - ECDSA P-256 on OpenSSL 3 (EVP, plus EC_POINT for the key check). */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include "crypto/openssl/internal.h"
#include "crypto/p256.h"

EVP_PKEY *thsm_ossl_pkey_from_raw(const uint8_t *priv, const uint8_t *pub)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *d = priv ? BN_secure_new() : NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    int ok = bld &&
             OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                             "prime256v1", 0) &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                              THSM_P256_PUB_LEN);
    if (ok && priv)
        ok = d && BN_bin2bn(priv, THSM_P256_PRIV_LEN, d) &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
    if (ok)
        ok = (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
             (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL &&
             EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &pkey,
                               priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                               params) == 1;
    if (!ok) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    BN_clear_free(d);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* Uncompressed public point of pkey into pub. */
int thsm_ossl_export_pub(EVP_PKEY *pkey, uint8_t pub[THSM_P256_PUB_LEN])
{
    BIGNUM *x = NULL, *y = NULL;
    int ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
             EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
             BN_bn2binpad(x, pub + 1, 32) == 32 &&
             BN_bn2binpad(y, pub + 33, 32) == 32;
    pub[0] = 0x04;
    BN_free(x);
    BN_free(y);
    return ok;
}

int thsm_ossl_is_p256(EVP_PKEY *pkey)
{
    char group[32];
    return EVP_PKEY_is_a(pkey, "EC") &&
           EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                          group, sizeof(group), NULL) == 1 &&
           strcmp(group, "prime256v1") == 0;
}

int thsm_p256_generate(thsm_p256_key *key)
{
    EVP_PKEY *pkey = EVP_EC_gen("prime256v1");
    BIGNUM *d = NULL;
    int ok = pkey && thsm_ossl_export_pub(pkey, key->pub) &&
             EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
             BN_bn2binpad(d, key->priv, THSM_P256_PRIV_LEN) == THSM_P256_PRIV_LEN;
    BN_clear_free(d);
    if (!ok) {
        EVP_PKEY_free(pkey);
        thsm_wipe(key->priv, sizeof(key->priv));
        key->impl = NULL;
        return FAIL;
    }
    key->impl = pkey;
    return OK;
}

/* pub = priv * G on P-256; 0 when priv is not in [1, n-1]. */
static int pub_from_priv(const uint8_t *priv, uint8_t pub[THSM_P256_PUB_LEN])
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    BIGNUM *d = BN_secure_new();
    int ok = p && d && BN_bin2bn(priv, THSM_P256_PRIV_LEN, d) &&
             !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(g)) < 0 &&
             EC_POINT_mul(g, p, d, NULL, NULL, NULL) == 1 &&
             EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pub,
                                THSM_P256_PUB_LEN, NULL) == THSM_P256_PUB_LEN;
    BN_clear_free(d);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    return ok;
}

/* 1 when pub == priv * G on P-256. */
static int pub_matches(const uint8_t *priv, const uint8_t *pub)
{
    uint8_t calc[THSM_P256_PUB_LEN];
    return pub_from_priv(priv, calc) && memcmp(calc, pub, sizeof(calc)) == 0;
}

int thsm_p256_import(thsm_p256_key *key, const uint8_t priv[THSM_P256_PRIV_LEN])
{
    key->impl = NULL;
    if (!pub_from_priv(priv, key->pub))
        return FAIL;
    memcpy(key->priv, priv, THSM_P256_PRIV_LEN);
    return OK;
}

int thsm_p256_load(thsm_p256_key *key, const uint8_t priv[THSM_P256_PRIV_LEN],
                   const uint8_t pub[THSM_P256_PUB_LEN])
{
    key->impl = NULL;
    if (!pub_matches(priv, pub))
        return FAIL;
    memcpy(key->priv, priv, THSM_P256_PRIV_LEN);
    memcpy(key->pub, pub, THSM_P256_PUB_LEN);
    return OK;
}

void thsm_p256_key_clear(thsm_p256_key *key)
{
    EVP_PKEY_free(key->impl);
    key->impl = NULL;
    thsm_wipe(key->priv, sizeof(key->priv));
}

int thsm_p256_sign(thsm_p256_key *key, const uint8_t digest[THSM_SHA256_LEN],
                   uint8_t der[THSM_P256_SIG_DER_MAX], size_t *der_len)
{
    if (!key->impl)
        key->impl = thsm_ossl_pkey_from_raw(key->priv, key->pub);
    EVP_PKEY_CTX *ctx = key->impl ? EVP_PKEY_CTX_new(key->impl, NULL) : NULL;
    size_t len = THSM_P256_SIG_DER_MAX;
    int ok = ctx && EVP_PKEY_sign_init(ctx) == 1 &&
             EVP_PKEY_sign(ctx, der, &len, digest, THSM_SHA256_LEN) == 1;
    EVP_PKEY_CTX_free(ctx);
    *der_len = ok ? len : 0;
    return ok ? OK : FAIL;
}

int thsm_p256_pub_valid(const uint8_t pub[THSM_P256_PUB_LEN])
{
    if (pub[0] != 0x04)
        return 0;
    EVP_PKEY *pkey = thsm_ossl_pkey_from_raw(NULL, pub);
    EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new(pkey, NULL) : NULL;
    int ok = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}

int thsm_p256_verify(const uint8_t pub[THSM_P256_PUB_LEN],
                     const uint8_t digest[THSM_SHA256_LEN],
                     const uint8_t sig[THSM_P256_SIG_RAW_LEN])
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *sv = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    int der_len = -1, ok = 0;
    if (s && r && sv && ECDSA_SIG_set0(s, r, sv) == 1) {
        r = sv = NULL; /* owned by s now */
        der_len = i2d_ECDSA_SIG(s, &der);
    }
    EVP_PKEY *pkey = der_len > 0 && thsm_p256_pub_valid(pub)
                         ? thsm_ossl_pkey_from_raw(NULL, pub) : NULL;
    EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new(pkey, NULL) : NULL;
    ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
         EVP_PKEY_verify(ctx, der, (size_t)der_len, digest,
                         THSM_SHA256_LEN) == 1;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    OPENSSL_free(der);
    BN_free(r);
    BN_free(sv);
    ECDSA_SIG_free(s);
    return ok ? OK : FAIL;
}

int thsm_p256_sig_der_to_raw(const uint8_t *der, size_t der_len,
                             uint8_t raw[THSM_P256_SIG_RAW_LEN])
{
    const unsigned char *p = der;
    ECDSA_SIG *s = der_len <= THSM_P256_SIG_DER_MAX
                       ? d2i_ECDSA_SIG(NULL, &p, (long)der_len) : NULL;
    unsigned char *again = NULL;
    int ok = s && p == der + der_len;
    if (ok) { /* strict DER: re-encoding must give the same bytes */
        int n = i2d_ECDSA_SIG(s, &again);
        ok = n == (int)der_len && memcmp(again, der, der_len) == 0;
    }
    if (ok) {
        const BIGNUM *r, *sv;
        ECDSA_SIG_get0(s, &r, &sv);
        ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(sv, raw + 32, 32) == 32;
    }
    OPENSSL_free(again);
    ECDSA_SIG_free(s);
    return ok ? OK : FAIL;
}

int thsm_p256_sig_raw_to_der(const uint8_t raw[THSM_P256_SIG_RAW_LEN],
                             uint8_t der[THSM_P256_SIG_DER_MAX], size_t *der_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
    int n = -1;
    if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* owned by sig now */
        if (i2d_ECDSA_SIG(sig, NULL) <= THSM_P256_SIG_DER_MAX)
            n = i2d_ECDSA_SIG(sig, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    if (n <= 0)
        return FAIL;
    *der_len = (size_t)n;
    return OK;
}
