/*
 * x509_file.c - certificate and key files on the host (crypto/x509_host.h),
 * over OpenSSL 3 whichever crypto backend the device core uses.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/openssl/cert_load.h"
#include "crypto/x509_host.h"

#define OK THSM_CRYPTO_OK
#define FAIL THSM_CRYPTO_FAIL

int thsm_x509_to_der(const uint8_t *data, size_t len, uint8_t *der,
                     size_t der_cap, size_t *der_len)
{
    X509 *x = thsm_ossl_load_cert(data, len);
    unsigned char *out = NULL;
    int n = x ? i2d_X509(x, &out) : -1;
    int ok = n > 0 && (size_t)n <= der_cap;
    if (ok) {
        memcpy(der, out, (size_t)n);
        *der_len = (size_t)n;
    }
    OPENSSL_free(out);
    X509_free(x);
    return ok ? OK : FAIL;
}

int thsm_x509_to_pem(const uint8_t *data, size_t len, char *pem,
                     size_t pem_cap)
{
    X509 *x = thsm_ossl_load_cert(data, len);
    BIO *mem = x ? BIO_new(BIO_s_mem()) : NULL;
    char *text = NULL;
    long n = mem && PEM_write_bio_X509(mem, x) == 1
                 ? BIO_get_mem_data(mem, &text) : 0;
    int ok = n > 0 && (size_t)n < pem_cap;
    if (ok) {
        memcpy(pem, text, (size_t)n);
        pem[n] = '\0';
    }
    BIO_free(mem);
    X509_free(x);
    return ok ? OK : FAIL;
}

static void say(char *why, size_t cap, const char *text)
{
    if (cap)
        snprintf(why, cap, "%s", text);
}

int thsm_x509_check_chain(const uint8_t *ca, size_t ca_len, const uint8_t *cert,
                          size_t cert_len, int64_t now, char *why,
                          size_t why_cap)
{
    X509 *c = thsm_ossl_load_cert(ca, ca_len), *x = thsm_ossl_load_cert(cert, cert_len);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;
    if (!c || !x)
        say(why, why_cap, !c ? "the CA certificate does not parse"
                             : "the certificate does not parse");
    else if (X509_check_ca(c) == 0)
        say(why, why_cap, "the CA certificate is not a CA");
    else if (store && ctx && X509_STORE_add_cert(store, c) == 1 &&
             X509_STORE_CTX_init(ctx, store, x, NULL) == 1) {
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
        if (now == THSM_X509_ANY_TIME)
            X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
        else
            X509_VERIFY_PARAM_set_time(param, (time_t)now);
        ok = X509_verify_cert(ctx) == 1;
        if (!ok) /* name the certificate: an expired CA is not the signer */
            snprintf(why, why_cap, "%s: %s",
                     X509_STORE_CTX_get_error_depth(ctx) == 0
                         ? "the signer certificate" : "the CA certificate",
                     X509_verify_cert_error_string(
                         X509_STORE_CTX_get_error(ctx)));
    } else
        say(why, why_cap, "out of memory");
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(x);
    X509_free(c);
    return ok ? OK : FAIL;
}

/* The uncompressed point of a P-256 key. */
static int p256_point(EVP_PKEY *pkey, uint8_t pub[THSM_P256_PUB_LEN])
{
    char group[32];
    size_t len = 0;
    return EVP_PKEY_is_a(pkey, "EC") &&
           EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                          group, sizeof(group), NULL) == 1 &&
           strcmp(group, "prime256v1") == 0 &&
           EVP_PKEY_get_octet_string_param(
               pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
               THSM_P256_PUB_LEN, &len) == 1 &&
           len == THSM_P256_PUB_LEN && pub[0] == 0x04;
}

int thsm_pubkey_from_pem(const uint8_t *data, size_t len,
                         uint8_t pub[THSM_P256_PUB_LEN])
{
    if (len > INT32_MAX)
        return FAIL;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!pkey) {
        X509 *x = thsm_ossl_load_cert(data, len);
        pkey = x ? X509_get_pubkey(x) : NULL;
        X509_free(x);
    }
    int ok = pkey && p256_point(pkey, pub);
    EVP_PKEY_free(pkey);
    return ok ? OK : FAIL;
}

typedef struct {
    thsm_pass_fn fn;
    void *ctx;
    int asked; /* the PEM is encrypted: OpenSSL asked for its passphrase */
    int given; /* ... and fn gave one */
} pass_req;

static int give_pass(char *buf, int size, int rwflag, void *u)
{
    pass_req *p = u;
    (void)rwflag;
    if (p->asked++) /* one passphrase: never ask the user twice */
        return -1;
    int n = size > 0 ? p->fn(p->ctx, buf, (size_t)size) : -1;
    p->given = n >= 0;
    return n;
}

/* "RSA", "EC secp384r1", ... of a key that is not P-256. */
static void kind_of(EVP_PKEY *pkey, char *why, size_t cap)
{
    char group[32] = "";
    const char *type = EVP_PKEY_get0_type_name(pkey);
    if (EVP_PKEY_is_a(pkey, "EC"))
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), NULL);
    snprintf(why, cap, "%s%s%s", type ? type : "unknown", group[0] ? " " : "",
             group);
}

int thsm_p256_priv_from_pem(const uint8_t *data, size_t len, thsm_pass_fn pass,
                            void *pass_ctx, uint8_t priv[THSM_P256_PRIV_LEN],
                            uint8_t pub[THSM_P256_PUB_LEN], char *why,
                            size_t why_cap)
{
    pass_req pc = {pass, pass_ctx, 0, 0};
    BIGNUM *d = NULL;
    if (len > INT32_MAX)
        return THSM_KEYFILE_UNREADABLE;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, give_pass, &pc)
                         : NULL;
    BIO_free(bio);
    int rc = THSM_KEYFILE_OK;
    if (!pkey)
        rc = !pc.asked  ? THSM_KEYFILE_UNREADABLE
             : pc.given ? THSM_KEYFILE_WRONG_PASS
                        : THSM_KEYFILE_NEEDS_PASS;
    else if (!p256_point(pkey, pub)) {
        kind_of(pkey, why, why_cap);
        rc = THSM_KEYFILE_NOT_P256;
    } else if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
               BN_bn2binpad(d, priv, THSM_P256_PRIV_LEN) != THSM_P256_PRIV_LEN)
        rc = THSM_KEYFILE_UNREADABLE;
    BN_clear_free(d);
    EVP_PKEY_free(pkey);
    if (rc != THSM_KEYFILE_OK)
        OPENSSL_cleanse(priv, THSM_P256_PRIV_LEN);
    return rc;
}
