/*
 * x509_file.c - certificate and key files on the host (crypto/x509_host.h)
 * over mbedTLS: the Windows build (win/), which has no OpenSSL. Messages
 * follow the OpenSSL variant's (src/crypto/openssl/x509_file.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "crypto/mbedtls/internal.h"
#include "crypto/x509_host.h"

int thsm_x509_to_der(const uint8_t *data, size_t len, uint8_t *der,
                     size_t der_cap, size_t *der_len)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int ok = thsm_mbed_load_cert(&crt, data, len) && crt.raw.len <= der_cap;
    if (ok) {
        memcpy(der, crt.raw.p, crt.raw.len);
        *der_len = crt.raw.len;
    }
    mbedtls_x509_crt_free(&crt);
    return ok ? OK : FAIL;
}

int thsm_x509_to_pem(const uint8_t *data, size_t len, char *pem,
                     size_t pem_cap)
{
    mbedtls_x509_crt crt;
    size_t olen = 0;
    mbedtls_x509_crt_init(&crt);
    int ok = thsm_mbed_load_cert(&crt, data, len) &&
             mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
                                      "-----END CERTIFICATE-----\n",
                                      crt.raw.p, crt.raw.len,
                                      (unsigned char *)pem, pem_cap,
                                      &olen) == 0;
    mbedtls_x509_crt_free(&crt);
    return ok ? OK : FAIL;
}

static void say(char *why, size_t cap, const char *text)
{
    if (cap)
        snprintf(why, cap, "%s", text);
}

/* OpenSSL's words for the first problem with a certificate at now. */
static const char *time_problem(const uint8_t *der, size_t len, int64_t now)
{
    thsm_x509_info info;
    if (now == THSM_X509_ANY_TIME || thsm_x509_parse(der, len, &info) != OK)
        return NULL;
    if (now < info.not_before)
        return "certificate is not yet valid";
    return now > info.not_after ? "certificate has expired" : NULL;
}

static int chain_fails(const mbedtls_x509_crt *c, const mbedtls_x509_crt *x,
                       int64_t now, char *why, size_t cap)
{
    uint32_t flags = 0;
    const char *t;
    if ((t = time_problem(x->raw.p, x->raw.len, now)) != NULL) {
        snprintf(why, cap, "the signer certificate: %s", t);
        return 1;
    }
    if ((t = time_problem(c->raw.p, c->raw.len, now)) != NULL) {
        snprintf(why, cap, "the CA certificate: %s", t);
        return 1;
    }
    /* the chain's signatures and names; times were checked above */
    if (mbedtls_x509_crt_verify((mbedtls_x509_crt *)x, (mbedtls_x509_crt *)c,
                                NULL, NULL, &flags, NULL, NULL) == 0)
        return 0;
    snprintf(why, cap, "the signer certificate: %s",
             x->issuer_raw.len == c->subject_raw.len &&
                     memcmp(x->issuer_raw.p, c->subject_raw.p,
                            x->issuer_raw.len) == 0
                 ? "certificate signature failure"
                 : "unable to get local issuer certificate");
    return 1;
}

int thsm_x509_check_chain(const uint8_t *ca, size_t ca_len, const uint8_t *cert,
                          size_t cert_len, int64_t now, char *why,
                          size_t why_cap)
{
    mbedtls_x509_crt c, x;
    mbedtls_x509_crt_init(&c);
    mbedtls_x509_crt_init(&x);
    int c_ok = thsm_mbed_load_cert(&c, ca, ca_len);
    int x_ok = thsm_mbed_load_cert(&x, cert, cert_len);
    int ok = 0;
    if (!c_ok || !x_ok)
        say(why, why_cap, !c_ok ? "the CA certificate does not parse"
                                : "the certificate does not parse");
    else if (!c.ca_istrue)
        say(why, why_cap, "the CA certificate is not a CA");
    else
        ok = !chain_fails(&c, &x, now, why, why_cap);
    mbedtls_x509_crt_free(&x);
    mbedtls_x509_crt_free(&c);
    return ok ? OK : FAIL;
}

/* The uncompressed point of a P-256 key. */
static int p256_point(const mbedtls_pk_context *pk,
                      uint8_t pub[THSM_P256_PUB_LEN])
{
    size_t n = 0;
    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY)
        return 0;
    const mbedtls_ecp_keypair *kp = mbedtls_pk_ec(*pk);
    return kp->grp.id == MBEDTLS_ECP_DP_SECP256R1 &&
           mbedtls_ecp_point_write_binary(&kp->grp, &kp->Q,
                                          MBEDTLS_ECP_PF_UNCOMPRESSED, &n, pub,
                                          THSM_P256_PUB_LEN) == 0 &&
           n == THSM_P256_PUB_LEN;
}

int thsm_pubkey_from_pem(const uint8_t *data, size_t len,
                         uint8_t pub[THSM_P256_PUB_LEN])
{
    mbedtls_pk_context pk;
    mbedtls_x509_crt crt;
    unsigned char *text = calloc(1, len + 1); /* the PEM reader wants a string */
    mbedtls_pk_init(&pk);
    mbedtls_x509_crt_init(&crt);
    int ok = 0;
    if (text) {
        memcpy(text, data, len);
        ok = mbedtls_pk_parse_public_key(&pk, text, len + 1) == 0
                 ? p256_point(&pk, pub)
                 : thsm_mbed_load_cert(&crt, data, len) && p256_point(&crt.pk, pub);
    }
    free(text);
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&pk);
    return ok ? OK : FAIL;
}
