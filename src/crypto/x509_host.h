/*
 * x509_host.h - certificate and key files on the host: PEM to DER, chain
 * checks and public keys from PEM. Host only (src/LAYERS): OpenSSL on Linux
 * (src/crypto/openssl/x509_file.c) whichever backend the device core uses;
 * mbedTLS in tinyhsm.exe (src/crypto/mbedtls/host/x509_file.c, win/).
 */
#ifndef THSM_CRYPTO_X509_HOST_H
#define THSM_CRYPTO_X509_HOST_H

#include "crypto/x509.h"

/* Converts one PEM (or DER, copied) certificate to DER. */
int thsm_x509_to_der(const uint8_t *data, size_t len, uint8_t *der,
                     size_t der_cap, size_t *der_len);

/* One certificate (PEM or DER) as PEM written anew from its DER: nothing of
 * the text it came in (lines before BEGIN, headers, escape sequences)
 * survives. pem is NUL-terminated; it may not overlap data. */
int thsm_x509_to_pem(const uint8_t *data, size_t len, char *pem,
                     size_t pem_cap);

/* Checks that cert (PEM or DER) is signed by ca (PEM or DER), that ca is a CA
 * and that both are valid at time now (not checked when now is
 * THSM_X509_ANY_TIME). On failure writes a short reason. */
#define THSM_X509_ANY_TIME INT64_MIN
int thsm_x509_check_chain(const uint8_t *ca, size_t ca_len, const uint8_t *cert,
                          size_t cert_len, int64_t now, char *why,
                          size_t why_cap);

/* Reads a P-256 public key from a PEM SubjectPublicKeyInfo or certificate. */
int thsm_pubkey_from_pem(const uint8_t *data, size_t len,
                         uint8_t pub[THSM_P256_PUB_LEN]);

/* What thsm_p256_priv_from_pem found. */
enum {
    THSM_KEYFILE_OK = 0,
    THSM_KEYFILE_UNREADABLE = -1, /* no private key PEM in the text */
    THSM_KEYFILE_NEEDS_PASS = -2, /* encrypted, and pass gave none */
    THSM_KEYFILE_WRONG_PASS = -3, /* encrypted, and the passphrase fails */
    THSM_KEYFILE_NOT_P256 = -4,   /* a key of another kind: why names it */
};

/* Writes the passphrase of an encrypted key into buf (cap bytes, no NUL
 * needed); returns its length, or -1 when there is none. */
typedef int (*thsm_pass_fn)(void *ctx, char *buf, size_t cap);

/* The private scalar and public key of a PEM private key: PKCS#8 (also
 * encrypted: pass is called then, once) or SEC1 "EC PRIVATE KEY". why (at
 * least 48 bytes) names a key of another kind. priv is wiped on failure;
 * the caller wipes it after use. */
int thsm_p256_priv_from_pem(const uint8_t *data, size_t len, thsm_pass_fn pass,
                            void *pass_ctx, uint8_t priv[THSM_P256_PRIV_LEN],
                            uint8_t pub[THSM_P256_PUB_LEN], char *why,
                            size_t why_cap);

#endif
