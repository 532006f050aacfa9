/* p256.c - ECDSA P-256 on mbedTLS. */
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ecdsa.h>

#include "crypto/mbedtls/internal.h"
#include "crypto/p256.h"

int thsm_mbed_keypair(mbedtls_ecp_keypair *kp, const uint8_t *priv,
                      const uint8_t pub[THSM_P256_PUB_LEN])
{
    return mbedtls_ecp_group_load(&kp->grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
           mbedtls_ecp_point_read_binary(&kp->grp, &kp->Q, pub,
                                         THSM_P256_PUB_LEN) == 0 &&
           mbedtls_ecp_check_pubkey(&kp->grp, &kp->Q) == 0 &&
           (!priv ||
            (mbedtls_mpi_read_binary(&kp->d, priv, THSM_P256_PRIV_LEN) == 0 &&
             mbedtls_ecp_check_privkey(&kp->grp, &kp->d) == 0));
}

static int write_point(const mbedtls_ecp_group *grp, const mbedtls_ecp_point *q,
                       uint8_t pub[THSM_P256_PUB_LEN])
{
    size_t n = 0;
    return mbedtls_ecp_point_write_binary(grp, q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                          &n, pub, THSM_P256_PUB_LEN) == 0 &&
           n == THSM_P256_PUB_LEN;
}

int thsm_p256_generate(thsm_p256_key *key)
{
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    int ok = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &kp, thsm_mbed_rng,
                                 NULL) == 0 &&
             mbedtls_mpi_write_binary(&kp.d, key->priv, THSM_P256_PRIV_LEN) == 0 &&
             write_point(&kp.grp, &kp.Q, key->pub);
    mbedtls_ecp_keypair_free(&kp);
    key->impl = NULL;
    if (!ok)
        thsm_wipe(key->priv, sizeof(key->priv));
    return ok ? OK : FAIL;
}

/* pub = priv * G; 0 when priv is not in [1, n-1]. */
static int pub_from_priv(const uint8_t *priv, uint8_t pub[THSM_P256_PUB_LEN])
{
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    int ok = mbedtls_ecp_group_load(&kp.grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
             mbedtls_mpi_read_binary(&kp.d, priv, THSM_P256_PRIV_LEN) == 0 &&
             mbedtls_ecp_check_privkey(&kp.grp, &kp.d) == 0 &&
             mbedtls_ecp_mul(&kp.grp, &kp.Q, &kp.d, &kp.grp.G, thsm_mbed_rng,
                             NULL) == 0 &&
             write_point(&kp.grp, &kp.Q, pub);
    mbedtls_ecp_keypair_free(&kp);
    return ok;
}

int thsm_p256_load(thsm_p256_key *key, const uint8_t priv[THSM_P256_PRIV_LEN],
                   const uint8_t pub[THSM_P256_PUB_LEN])
{
    uint8_t calc[THSM_P256_PUB_LEN];
    key->impl = NULL;
    if (!pub_from_priv(priv, calc) || memcmp(calc, pub, sizeof(calc)) != 0)
        return FAIL;
    memcpy(key->priv, priv, THSM_P256_PRIV_LEN);
    memcpy(key->pub, pub, THSM_P256_PUB_LEN);
    return OK;
}

int thsm_p256_import(thsm_p256_key *key, const uint8_t priv[THSM_P256_PRIV_LEN])
{
    key->impl = NULL;
    if (!pub_from_priv(priv, key->pub))
        return FAIL;
    memcpy(key->priv, priv, THSM_P256_PRIV_LEN);
    return OK;
}

void thsm_p256_key_clear(thsm_p256_key *key)
{
    key->impl = NULL; /* nothing cached: keys are loaded per operation */
    thsm_wipe(key->priv, sizeof(key->priv));
}

int thsm_p256_sign(thsm_p256_key *key, const uint8_t digest[THSM_SHA256_LEN],
                   uint8_t der[THSM_P256_SIG_DER_MAX], size_t *der_len)
{
    mbedtls_ecdsa_context kp;
    unsigned char sig[MBEDTLS_ECDSA_MAX_LEN];
    size_t n = 0;
    mbedtls_ecdsa_init(&kp);
    int ok = thsm_mbed_keypair(&kp, key->priv, key->pub) &&
             mbedtls_ecdsa_write_signature(&kp, MBEDTLS_MD_SHA256, digest,
                                           THSM_SHA256_LEN, sig, &n,
                                           thsm_mbed_rng, NULL) == 0 &&
             n <= THSM_P256_SIG_DER_MAX;
    mbedtls_ecdsa_free(&kp);
    if (ok)
        memcpy(der, sig, n);
    *der_len = ok ? n : 0;
    return ok ? OK : FAIL;
}

int thsm_p256_pub_valid(const uint8_t pub[THSM_P256_PUB_LEN])
{
    mbedtls_ecp_keypair kp;
    mbedtls_ecp_keypair_init(&kp);
    int ok = thsm_mbed_keypair(&kp, NULL, pub);
    mbedtls_ecp_keypair_free(&kp);
    return ok;
}

int thsm_p256_verify(const uint8_t pub[THSM_P256_PUB_LEN],
                     const uint8_t digest[THSM_SHA256_LEN],
                     const uint8_t sig[THSM_P256_SIG_RAW_LEN])
{
    mbedtls_ecp_keypair kp;
    mbedtls_mpi r, s;
    mbedtls_ecp_keypair_init(&kp);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int ok = thsm_mbed_keypair(&kp, NULL, pub) &&
             mbedtls_mpi_read_binary(&r, sig, 32) == 0 &&
             mbedtls_mpi_read_binary(&s, sig + 32, 32) == 0 &&
             mbedtls_ecdsa_verify(&kp.grp, digest, THSM_SHA256_LEN, &kp.Q, &r,
                                  &s) == 0;
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_keypair_free(&kp);
    return ok ? OK : FAIL;
}

/* DER of SEQUENCE { r, s } at the end of buf; its length, or < 0. */
static int encode_sig(const mbedtls_mpi *r, const mbedtls_mpi *s,
                      unsigned char *buf, size_t cap)
{
    unsigned char *c = buf + cap;
    int ret;
    size_t len = 0;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_mpi(&c, buf, s));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_mpi(&c, buf, r));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&c, buf, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(
                                  &c, buf, MBEDTLS_ASN1_CONSTRUCTED |
                                               MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

int thsm_p256_sig_der_to_raw(const uint8_t *der, size_t der_len,
                             uint8_t raw[THSM_P256_SIG_RAW_LEN])
{
    unsigned char *p = (unsigned char *)der, *end = p + der_len;
    unsigned char again[MBEDTLS_ECDSA_MAX_LEN + 8];
    size_t len = 0;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int ok = der_len <= THSM_P256_SIG_DER_MAX &&
             mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED |
                                                     MBEDTLS_ASN1_SEQUENCE) == 0 &&
             p + len == end && mbedtls_asn1_get_mpi(&p, end, &r) == 0 &&
             mbedtls_asn1_get_mpi(&p, end, &s) == 0 && p == end &&
             mbedtls_mpi_size(&r) <= 32 && mbedtls_mpi_size(&s) <= 32;
    if (ok) { /* strict DER: re-encoding must give the same bytes */
        int n = encode_sig(&r, &s, again, sizeof(again));
        ok = n == (int)der_len &&
             memcmp(again + sizeof(again) - der_len, der, der_len) == 0 &&
             mbedtls_mpi_write_binary(&r, raw, 32) == 0 &&
             mbedtls_mpi_write_binary(&s, raw + 32, 32) == 0;
    }
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    return ok ? OK : FAIL;
}

int thsm_p256_sig_raw_to_der(const uint8_t raw[THSM_P256_SIG_RAW_LEN],
                             uint8_t der[THSM_P256_SIG_DER_MAX], size_t *der_len)
{
    unsigned char buf[THSM_P256_SIG_DER_MAX];
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int n = mbedtls_mpi_read_binary(&r, raw, 32) == 0 &&
                    mbedtls_mpi_read_binary(&s, raw + 32, 32) == 0
                ? encode_sig(&r, &s, buf, sizeof(buf)) : -1;
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    if (n <= 0)
        return FAIL;
    memcpy(der, buf + sizeof(buf) - n, (size_t)n);
    *der_len = (size_t)n;
    return OK;
}
