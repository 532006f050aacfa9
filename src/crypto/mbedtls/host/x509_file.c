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

/* mbedTLS parses PEM only from NUL-terminated text: a copy, wiped after. */
static int parse_key(mbedtls_pk_context *pk, const uint8_t *data, size_t len,
                     const char *pw, size_t pw_len)
{
    unsigned char *text = malloc(len + 1);
    if (!text)
        return MBEDTLS_ERR_PK_ALLOC_FAILED;
    memcpy(text, data, len);
    text[len] = 0;
    int rc = mbedtls_pk_parse_key(pk, text, len + 1,
                                  (const unsigned char *)pw, pw_len);
    thsm_wipe(text, len + 1);
    free(text);
    return rc;
}

/* The key in data, asking pass once when it is encrypted. */
static int load_key(mbedtls_pk_context *pk, const uint8_t *data, size_t len,
                    thsm_pass_fn pass, void *pass_ctx)
{
    char pw[1024];
    int rc = parse_key(pk, data, len, NULL, 0);
    if (rc != MBEDTLS_ERR_PK_PASSWORD_REQUIRED)
        return rc == 0 ? THSM_KEYFILE_OK : THSM_KEYFILE_UNREADABLE;
    int n = pass ? pass(pass_ctx, pw, sizeof(pw)) : -1;
    if (n < 0)
        return THSM_KEYFILE_NEEDS_PASS;
    mbedtls_pk_free(pk);
    mbedtls_pk_init(pk);
    rc = parse_key(pk, data, len, pw, (size_t)n);
    thsm_wipe(pw, sizeof(pw));
    return rc == 0 ? THSM_KEYFILE_OK : THSM_KEYFILE_WRONG_PASS;
}

int thsm_p256_priv_from_pem(const uint8_t *data, size_t len, thsm_pass_fn pass,
                            void *pass_ctx, uint8_t priv[THSM_P256_PRIV_LEN],
                            uint8_t pub[THSM_P256_PUB_LEN], char *why,
                            size_t why_cap)
{
    mbedtls_pk_context pk;
    size_t olen = 0;
    mbedtls_pk_init(&pk);
    int rc = load_key(&pk, data, len, pass, pass_ctx);
    if (rc == THSM_KEYFILE_OK) {
        const mbedtls_ecp_keypair *ec =
            mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECKEY) ? mbedtls_pk_ec(pk) : NULL;
        if (!ec || ec->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
            /* RSA and other curves are not built in: they do not parse */
            snprintf(why, why_cap, "%s", mbedtls_pk_get_name(&pk));
            rc = THSM_KEYFILE_NOT_P256;
        } else if (mbedtls_mpi_write_binary(&ec->d, priv,
                                            THSM_P256_PRIV_LEN) != 0 ||
                   mbedtls_ecp_point_write_binary(
                       &ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                       pub, THSM_P256_PUB_LEN) != 0 ||
                   olen != THSM_P256_PUB_LEN)
            rc = THSM_KEYFILE_UNREADABLE;
    }
    mbedtls_pk_free(&pk);
    if (rc != THSM_KEYFILE_OK)
        thsm_wipe(priv, THSM_P256_PRIV_LEN);
    return rc;
}
