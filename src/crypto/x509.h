/*
 * x509.h - what the device needs of X.509: issuing its CA and signer
 * certificates, and reading one back for the INFO answer. Converting PEM,
 * chain checks and public keys from files are host work: crypto/x509_host.h (host only).
 */
#ifndef THSM_CRYPTO_X509_H
#define THSM_CRYPTO_X509_H

#include "crypto/p256.h"

#define THSM_X509_FIELD_MAX 64 /* longest C, O or CN value */
#define THSM_X509_DER_MAX 1024

typedef struct {
    const char *c;  /* country */
    const char *o;  /* organisation */
    const char *cn; /* common name */
} thsm_x509_name;

typedef struct {
    thsm_x509_name subject;
    const uint8_t *subject_pub; /* THSM_P256_PUB_LEN bytes */
    uint8_t serial[16];         /* big-endian, top bit clear: positive */
    int64_t not_before;         /* seconds since 1970-01-01 UTC */
    int64_t not_after;
    int is_ca; /* 1: CA:TRUE, keyCertSign+cRLSign; 0: CA:FALSE, digitalSignature */
    /* Issuer certificate (DER); NULL for a self-signed certificate. */
    const uint8_t *issuer_der;
    size_t issuer_der_len;
} thsm_x509_request;

/* Builds and signs an X.509 v3 certificate (ecdsa-with-SHA256) with
 * issuer_key. For a self-signed certificate issuer_key is the subject's key.
 * Both backends produce the same TBSCertificate for the same request:
 * basicConstraints (critical), keyUsage (critical), subjectKeyIdentifier and,
 * when issued by a CA, authorityKeyIdentifier, in that order. */
int thsm_x509_issue(const thsm_x509_request *req, thsm_p256_key *issuer_key,
                    uint8_t *der, size_t der_cap, size_t *der_len);

/* A certificate read back, for display and checks. */
typedef struct {
    char subject[256]; /* "C=US, O=MyHSM, CN=My_CA" */
    char issuer[256];
    char serial_hex[65]; /* upper-case hex */
    int64_t not_before;
    int64_t not_after;
    uint8_t pub[THSM_P256_PUB_LEN]; /* zero when the key is not P-256 */
    int is_ca;
} thsm_x509_info;

/* Parses one certificate: DER, or PEM where the backend reads PEM (OpenSSL
 * always; mbedTLS when built with MBEDTLS_PEM_PARSE_C, as on the host). */
int thsm_x509_parse(const uint8_t *data, size_t len, thsm_x509_info *info);

#endif
