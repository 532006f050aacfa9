/*
 * crypto.h - the only door between TinyHSM code and a cryptographic library.
 *
 * The device core (src/device) and the boot verifier (src/boot) must run on a
 * microcontroller one day, so they see cryptography only through this file.
 * The POSIX build implements it with OpenSSL 3 (crypto_openssl.c); a firmware
 * build would implement it with the MCU's crypto accelerator or a small library.
 *
 * Conventions: functions return THSM_CRYPTO_OK (0) on success and
 * THSM_CRYPTO_FAIL (-1) on any failure; buffers are caller-owned; lengths are
 * in bytes. Nothing here prints, and nothing here ever exposes private key
 * bytes except through the thsm_p256_key structure the caller owns.
 */
#ifndef THSM_CRYPTO_H
#define THSM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define THSM_CRYPTO_OK 0
#define THSM_CRYPTO_FAIL (-1)

#define THSM_SHA256_LEN 32
#define THSM_P256_PRIV_LEN 32
#define THSM_P256_PUB_LEN 65     /* uncompressed point: 0x04 || X || Y */
#define THSM_P256_SIG_RAW_LEN 64 /* r || s, each 32 bytes big-endian */
#define THSM_P256_SIG_DER_MAX 72
#define THSM_AEAD_KEY_LEN 32
#define THSM_AEAD_NONCE_LEN 12
#define THSM_AEAD_TAG_LEN 16

/* ---- utilities ---------------------------------------------------------- */

/* Overwrite memory in a way the compiler may not optimise away. */
void thsm_wipe(void *p, size_t len);

/* 1 when equal, 0 otherwise; time depends only on len. */
int thsm_ct_equal(const void *a, const void *b, size_t len);

/* Cryptographically secure random bytes, seeded from the platform entropy. */
int thsm_random(uint8_t *buf, size_t len);

/* ---- SHA-256 ------------------------------------------------------------ */

/* Streaming context. impl is owned by the implementation: call final or
 * release exactly once after a successful init. Do not copy a live context. */
typedef struct {
    void *impl;
} thsm_sha256_ctx;

int thsm_sha256_init(thsm_sha256_ctx *ctx);
int thsm_sha256_update(thsm_sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest and releases the context (also on failure). */
int thsm_sha256_final(thsm_sha256_ctx *ctx, uint8_t out[THSM_SHA256_LEN]);
/* Releases a context without producing a digest; safe on a released one. */
void thsm_sha256_release(thsm_sha256_ctx *ctx);
/* One-shot digest. */
int thsm_sha256(const void *data, size_t len, uint8_t out[THSM_SHA256_LEN]);

/* ---- MAC and key derivation --------------------------------------------- */

int thsm_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
                     size_t len, uint8_t out[THSM_SHA256_LEN]);

/* HKDF-SHA-256 (RFC 5869), extract then expand. salt may be NULL. */
int thsm_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                     size_t salt_len, const char *info, uint8_t *out,
                     size_t out_len);

/* scrypt (RFC 7914). n must be a power of two. Memory use is 128*r*n bytes. */
int thsm_scrypt(const void *pw, size_t pw_len, const uint8_t *salt,
                size_t salt_len, uint64_t n, uint32_t r, uint32_t p,
                uint8_t *out, size_t out_len);

/* ---- AEAD: AES-256-GCM -------------------------------------------------- */

/* ct may equal pt. aad may be NULL when aad_len is 0. */
int thsm_aead_seal(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
                   uint8_t tag[THSM_AEAD_TAG_LEN]);

/* Fails, and leaves pt wiped, when the tag does not authenticate. */
int thsm_aead_open(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *ct, size_t len,
                   const uint8_t tag[THSM_AEAD_TAG_LEN], uint8_t *pt);

/* ---- ECDSA P-256 -------------------------------------------------------- */

/* A key pair. priv and pub are the raw values; impl caches the library's
 * object so that repeated signing is fast. Never copy a key whose impl is set;
 * always end its life with thsm_p256_key_clear, which wipes priv. */
typedef struct {
    uint8_t priv[THSM_P256_PRIV_LEN];
    uint8_t pub[THSM_P256_PUB_LEN];
    void *impl;
} thsm_p256_key;

/* Fresh key pair from the secure random source. */
int thsm_p256_generate(thsm_p256_key *key);

/* Fill key from stored raw values (impl becomes NULL, built on first use).
 * Fails when priv is out of range or does not match pub. */
int thsm_p256_load(thsm_p256_key *key, const uint8_t priv[THSM_P256_PRIV_LEN],
                   const uint8_t pub[THSM_P256_PUB_LEN]);

void thsm_p256_key_clear(thsm_p256_key *key);

/* ECDSA signature of a SHA-256 digest, DER-encoded ECDSA-Sig-Value. */
int thsm_p256_sign(thsm_p256_key *key, const uint8_t digest[THSM_SHA256_LEN],
                   uint8_t der[THSM_P256_SIG_DER_MAX], size_t *der_len);

/* 1 when pub is a valid uncompressed point on P-256, else 0. */
int thsm_p256_pub_valid(const uint8_t pub[THSM_P256_PUB_LEN]);

/* Verifies a raw r||s signature. OK only when it verifies. */
int thsm_p256_verify(const uint8_t pub[THSM_P256_PUB_LEN],
                     const uint8_t digest[THSM_SHA256_LEN],
                     const uint8_t sig[THSM_P256_SIG_RAW_LEN]);

/* Strict DER ECDSA-Sig-Value -> r||s, each left-padded to 32 bytes.
 * Fails on trailing bytes, non-minimal encodings or values over 32 bytes. */
int thsm_p256_sig_der_to_raw(const uint8_t *der, size_t der_len,
                             uint8_t raw[THSM_P256_SIG_RAW_LEN]);

/* ---- X.509 -------------------------------------------------------------- */

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
 * issuer_key. For a self-signed certificate issuer_key is the subject's key. */
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

/* Parses one certificate, PEM or DER (detected). */
int thsm_x509_parse(const uint8_t *data, size_t len, thsm_x509_info *info);

/* Converts one PEM (or DER, copied) certificate to DER. */
int thsm_x509_to_der(const uint8_t *data, size_t len, uint8_t *der,
                     size_t der_cap, size_t *der_len);

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

#endif
