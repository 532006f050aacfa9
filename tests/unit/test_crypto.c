/*
 * test_crypto.c - the crypto headers against published vectors, and every
 * signature and certificate cross-checked with OpenSSL called directly. The
 * same file runs against each backend (THSM_CRYPTO=openssl and =mbedtls):
 * make check builds it in both trees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/aead.h"
#include "crypto/hmac.h"
#include "crypto/kdf.h"
#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "crypto/util.h"
#include "crypto/x509.h"
#include "crypto/x509_host.h"
#include "testutil.h"
#include "util/hex.h"

/* Hex (lower or upper case) into a fresh buffer; the test's own helper. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    assert_int_equal(thsm_parse_hex(hex, out, n), 0);
    return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
    uint8_t w[256];
    assert_int_equal(unhex(want, w, sizeof(w)), len);
    assert_memory_equal(got, w, len);
}

/* ---- hashes, MAC, KDF ---------------------------------------------------- */

static void sha256_abc(void **state)
{
    (void)state;
    uint8_t d[THSM_SHA256_LEN];
    assert_int_equal(thsm_sha256("abc", 3, d), 0);
    assert_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    thsm_sha256_ctx ctx;
    assert_int_equal(thsm_sha256_init(&ctx), 0);
    assert_int_equal(thsm_sha256_update(&ctx, "a", 1), 0);
    assert_int_equal(thsm_sha256_update(&ctx, "bc", 2), 0);
    assert_int_equal(thsm_sha256_final(&ctx, d), 0);
    assert_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_null(ctx.impl);
}

static void hmac_rfc4231(void **state)
{
    (void)state;
    uint8_t key[131], mac[THSM_SHA256_LEN];
    memset(key, 0x0b, 20); /* test case 1 */
    assert_int_equal(thsm_hmac_sha256(key, 20, "Hi There", 8, mac), 0);
    assert_hex(mac, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    memset(key, 0xaa, sizeof(key)); /* test case 6: key longer than a block */
    const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
    assert_int_equal(thsm_hmac_sha256(key, sizeof(key), m, strlen(m), mac), 0);
    assert_hex(mac, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void hkdf_rfc5869(void **state)
{
    (void)state;
    uint8_t ikm[22], salt[13], okm[42];
    memset(ikm, 0x0b, sizeof(ikm));
    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (uint8_t)i;
    /* test case 1 */
    assert_int_equal(thsm_hkdf_sha256(ikm, 22, salt, 13,
                                      "\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9",
                                      okm, 42), 0);
    assert_hex(okm, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
                        "2d56ecc4c5bf34007208d5b887185865");
    /* test case 3: no salt, no info */
    assert_int_equal(thsm_hkdf_sha256(ikm, 22, NULL, 0, "", okm, 42), 0);
    assert_hex(okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec345"
                        "4e5f3c738d2d9d201395faa4b61a96c8");
}

static void pbkdf2_vectors(void **state)
{
    (void)state;
    uint8_t out[32];
    thsm_kdf_params kp = {THSM_KDF_PBKDF2_SHA256, 1}; /* 2 iterations */
    assert_int_equal(thsm_pin_kdf(&kp, "password", 8, (const uint8_t *)"salt",
                                  4, out, 32), 0);
    assert_hex(out, 32, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43");
    kp.log2_cost = 12; /* 4096 iterations */
    assert_int_equal(thsm_pin_kdf(&kp, "password", 8, (const uint8_t *)"salt",
                                  4, out, 32), 0);
    assert_hex(out, 32, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
    kp.log2_cost = 0;
    assert_int_equal(thsm_pin_kdf(&kp, "password", 8, (const uint8_t *)"salt",
                                  4, out, 32), THSM_CRYPTO_FAIL);
    kp = (thsm_kdf_params){7, 4};
    assert_int_equal(thsm_pin_kdf(&kp, "password", 8, (const uint8_t *)"salt",
                                  4, out, 32), THSM_CRYPTO_FAIL);
}

/* scrypt is the host's KDF; the MCU backend refuses it plainly. */
static void scrypt_by_backend(void **state)
{
    (void)state;
    uint8_t out[64];
    thsm_kdf_params kp, scrypt = {THSM_KDF_SCRYPT, 4};
    thsm_pin_kdf_default(&kp);
#if defined(THSM_TEST_MBEDTLS)
    assert_int_equal(kp.id, THSM_KDF_PBKDF2_SHA256);
    assert_int_equal(thsm_pin_kdf(&scrypt, "", 0, (const uint8_t *)"", 0, out,
                                  64), THSM_CRYPTO_FAIL);
#else
    assert_int_equal(kp.id, THSM_KDF_SCRYPT);
    assert_int_equal(kp.log2_cost, 15); /* 32 MiB */
    /* RFC 7914 section 12, first vector: N = 16, r = 1, p = 1 */
    assert_int_equal(thsm_scrypt("", 0, (const uint8_t *)"", 0, 16, 1, 1, out,
                                 64), 0);
    assert_hex(out, 64, "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                        "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
    uint8_t same[64];
    assert_int_equal(thsm_pin_kdf(&scrypt, "1234", 4, (const uint8_t *)"s", 1,
                                  out, 32), 0);
    assert_int_equal(thsm_scrypt("1234", 4, (const uint8_t *)"s", 1, 16, 8, 1,
                                 same, 32), 0);
    assert_memory_equal(out, same, 32);
#endif
}

/* ---- AES-256-GCM ---------------------------------------------------------- */

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16. */
static void gcm_vector(void **state)
{
    (void)state;
    uint8_t key[32], iv[12], pt[60], aad[20], ct[60], tag[16], back[60];
    unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key, 32);
    unhex("cafebabefacedbaddecaf888", iv, 12);
    unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", pt, 60);
    unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, 20);
    assert_int_equal(thsm_aead_seal(key, iv, aad, 20, pt, 60, ct, tag), 0);
    assert_hex(ct, 60, "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                       "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
    assert_hex(tag, 16, "76fc6ece0f4e1768cddf8853bb2d551b");
    assert_int_equal(thsm_aead_open(key, iv, aad, 20, ct, 60, tag, back), 0);
    assert_memory_equal(back, pt, 60);
    /* a changed byte anywhere fails and leaves nothing behind */
    aad[0] ^= 1;
    assert_int_equal(thsm_aead_open(key, iv, aad, 20, ct, 60, tag, back),
                     THSM_CRYPTO_FAIL);
    uint8_t zero[60] = {0};
    assert_memory_equal(back, zero, 60);
    aad[0] ^= 1;
    tag[15] ^= 0x80;
    assert_int_equal(thsm_aead_open(key, iv, aad, 20, ct, 60, tag, back),
                     THSM_CRYPTO_FAIL);
}

/* ---- ECDSA P-256, cross-checked with OpenSSL ----------------------------- */

static EVP_PKEY *ossl_pub(const uint8_t pub[THSM_P256_PUB_LEN])
{
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         "prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub,
                                          THSM_P256_PUB_LEN),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, p), 1);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static int ossl_verify(const uint8_t *pub, const uint8_t *digest,
                       const uint8_t *der, size_t der_len)
{
    EVP_PKEY *pkey = ossl_pub(pub);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
    int ok = EVP_PKEY_verify_init(ctx) == 1 &&
             EVP_PKEY_verify(ctx, der, der_len, digest, 32) == 1;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}

static void ecdsa_ours_verified_by_openssl(void **state)
{
    (void)state;
    thsm_p256_key key;
    uint8_t digest[32], der[THSM_P256_SIG_DER_MAX], raw[64];
    size_t der_len = 0;
    assert_int_equal(thsm_p256_generate(&key), 0);
    assert_true(thsm_p256_pub_valid(key.pub));
    thsm_sha256("firmware", 8, digest);
    for (int i = 0; i < 8; i++) { /* r or s with a high bit: padded DER */
        assert_int_equal(thsm_p256_sign(&key, digest, der, &der_len), 0);
        assert_true(ossl_verify(key.pub, digest, der, der_len));
        assert_int_equal(thsm_p256_sig_der_to_raw(der, der_len, raw), 0);
        assert_int_equal(thsm_p256_verify(key.pub, digest, raw), 0);
        digest[0]++;
    }
    digest[0]--;
    digest[1] ^= 1;
    assert_false(ossl_verify(key.pub, digest, der, der_len));
    assert_int_equal(thsm_p256_verify(key.pub, digest, raw), THSM_CRYPTO_FAIL);
    thsm_p256_key_clear(&key);
}

static void ecdsa_openssl_verified_by_ours(void **state)
{
    (void)state;
    EVP_PKEY *pkey = EVP_EC_gen("prime256v1");
    uint8_t pub[THSM_P256_PUB_LEN], digest[32], der[80], raw[64];
    size_t pub_len = 0, der_len = sizeof(der);
    assert_int_equal(EVP_PKEY_get_octet_string_param(
                         pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                         sizeof(pub), &pub_len), 1);
    assert_int_equal(pub_len, THSM_P256_PUB_LEN);
    thsm_sha256("image", 5, digest);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
    assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
    assert_int_equal(EVP_PKEY_sign(ctx, der, &der_len, digest, 32), 1);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    assert_int_equal(thsm_p256_sig_der_to_raw(der, der_len, raw), 0);
    assert_int_equal(thsm_p256_verify(pub, digest, raw), 0);
    raw[63] ^= 1;
    assert_int_equal(thsm_p256_verify(pub, digest, raw), THSM_CRYPTO_FAIL);
    /* strict DER: trailing bytes and a needless leading zero are refused */
    der[der_len] = 0;
    assert_int_equal(thsm_p256_sig_der_to_raw(der, der_len + 1, raw),
                     THSM_CRYPTO_FAIL);
    static const uint8_t padded[] = {0x30, 0x07, 0x02, 0x02, 0x00, 0x01,
                                     0x02, 0x01, 0x01};
    assert_int_equal(thsm_p256_sig_der_to_raw(padded, sizeof(padded), raw),
                     THSM_CRYPTO_FAIL);
    static const uint8_t minimal[] = {0x30, 0x06, 0x02, 0x01, 0x01,
                                      0x02, 0x01, 0x02};
    assert_int_equal(thsm_p256_sig_der_to_raw(minimal, sizeof(minimal), raw), 0);
    assert_int_equal(raw[31], 1);
    assert_int_equal(raw[63], 2);
}

#define CA_PRIV "fb34b5924031072723ccd98fa8763a5d01672d71d83ffea0e7d1bd533778e023"
#define CA_PUB "04cc05f7b681685c7b37a75ce453c854795ae3c3f2a37a2b177eb91c077f081d87" \
               "77f4a84bbaf854988ad2cadf278d0abf964332413bdfac7475259ea814bed185"
#define SG_PRIV "32f86bb36391c937266bedef510eaa9e920f3119932db087589c9ed73b571ef0"
#define SG_PUB "04bea64e880d63345e2717964ee4a24d9efa52e324e703cfbbf0393df8cc5cef71" \
               "b162994e0208d991c24609c0b9fdb908f4d8a8d7856f50fc4316beb3e8e4bd3e"

static void load_key(thsm_p256_key *key, const char *priv_hex,
                     const char *pub_hex)
{
    uint8_t priv[32], pub[65];
    unhex(priv_hex, priv, 32);
    unhex(pub_hex, pub, 65);
    assert_int_equal(thsm_p256_load(key, priv, pub), 0);
}

static void p256_load_checks_the_pair(void **state)
{
    (void)state;
    thsm_p256_key key;
    uint8_t priv[32], pub[65], order[32];
    unhex(CA_PRIV, priv, 32);
    unhex(SG_PUB, pub, 65);
    assert_int_equal(thsm_p256_load(&key, priv, pub), THSM_CRYPTO_FAIL);
    unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
          order, 32); /* n itself is out of range */
    assert_int_equal(thsm_p256_load(&key, order, pub), THSM_CRYPTO_FAIL);
    pub[64] ^= 1; /* off the curve */
    assert_false(thsm_p256_pub_valid(pub));
    load_key(&key, CA_PRIV, CA_PUB);
    thsm_p256_key_clear(&key);
}

/* An imported scalar gives its known public key and signs; 0 and n do not
 * import. */
static void p256_import_computes_the_public_key(void **state)
{
    (void)state;
    thsm_p256_key key;
    uint8_t priv[32], pub[65], digest[32] = {7}, der[THSM_P256_SIG_DER_MAX];
    uint8_t raw[64];
    size_t der_len;
    unhex(SG_PRIV, priv, 32);
    unhex(SG_PUB, pub, 65);
    assert_int_equal(thsm_p256_import(&key, priv), 0);
    assert_memory_equal(key.pub, pub, 65);
    assert_memory_equal(key.priv, priv, 32);
    assert_int_equal(thsm_p256_sign(&key, digest, der, &der_len), 0);
    assert_int_equal(thsm_p256_sig_der_to_raw(der, der_len, raw), 0);
    assert_int_equal(thsm_p256_verify(pub, digest, raw), 0);
    thsm_p256_key_clear(&key);
    memset(priv, 0, 32);
    assert_int_equal(thsm_p256_import(&key, priv), THSM_CRYPTO_FAIL);
    unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
          priv, 32);
    assert_int_equal(thsm_p256_import(&key, priv), THSM_CRYPTO_FAIL);
    priv[31] = 0x50; /* n - 1 is the largest scalar */
    assert_int_equal(thsm_p256_import(&key, priv), 0);
    thsm_p256_key_clear(&key);
}

/* ---- X.509 ---------------------------------------------------------------- */

#define T_START INT64_C(1767225600) /* 2026-01-01 00:00:00 UTC */
#define T_END INT64_C(2713910400)   /* 2056-01-01: GeneralizedTime */

typedef struct {
    uint8_t ca[THSM_X509_DER_MAX], sg[THSM_X509_DER_MAX];
    size_t ca_len, sg_len;
} certs;

static void issue_pair(certs *c)
{
    thsm_p256_key ca, sg;
    load_key(&ca, CA_PRIV, CA_PUB);
    load_key(&sg, SG_PRIV, SG_PUB);
    thsm_x509_request r = {
        .subject = {"US", "MyHSM", "My_CA"},
        .subject_pub = ca.pub,
        .not_before = T_START,
        .not_after = T_END,
        .is_ca = 1,
    };
    unhex("4a5f0102030405060708090a0b0c0d0e", r.serial, 16);
    assert_int_equal(thsm_x509_issue(&r, &ca, c->ca, sizeof(c->ca), &c->ca_len), 0);
    r = (thsm_x509_request){
        .subject = {"US", "MyHSM", "My Signer, Inc."},
        .subject_pub = sg.pub,
        .not_before = T_START,
        .not_after = T_START + 365 * 86400,
        .is_ca = 0,
        .issuer_der = c->ca,
        .issuer_der_len = c->ca_len,
    };
    unhex("7f0000000000000000000000000000aa", r.serial, 16);
    assert_int_equal(thsm_x509_issue(&r, &ca, c->sg, sizeof(c->sg), &c->sg_len), 0);
    thsm_p256_key_clear(&ca);
    thsm_p256_key_clear(&sg);
}

/* SHA-256 of the TBSCertificate (the certificate minus its signature). */
static void tbs_digest(const uint8_t *der, size_t len, char hex[65])
{
    assert_true(len > 8 && der[0] == 0x30 && der[1] == 0x82 && der[4] == 0x30);
    size_t tbs_len = der[5] == 0x82 ? 4 + ((size_t)der[6] << 8 | der[7])
                                    : 3 + (size_t)der[6];
    uint8_t d[32];
    assert_true(4 + tbs_len <= len);
    thsm_sha256(der + 4, tbs_len, d);
    thsm_hex(d, 32, hex);
}

/* The same TBSCertificate, byte for byte, as the OpenSSL backend (and the
 * device before the split) builds from the same request; the signature alone
 * differs. */
static void x509_same_certificates_on_every_backend(void **state)
{
    (void)state;
    certs c;
    char hex[65];
    issue_pair(&c);
    tbs_digest(c.ca, c.ca_len, hex);
    assert_string_equal(hex, "5D5EE54CFD689EBEA2D1C925B1899171286C19062A899CDFDCAA8C246E382C21");
    tbs_digest(c.sg, c.sg_len, hex);
    assert_string_equal(hex, "54C140CAEBAE4CB8D51C4558966AEF4402E8C46650D9764DB1DA3F3717EC28F8");
}

static X509 *ossl_cert(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    assert_non_null(x);
    assert_ptr_equal(p, der + len);
    return x;
}

static void x509_checked_by_openssl(void **state)
{
    (void)state;
    certs c;
    issue_pair(&c);
    X509 *ca = ossl_cert(c.ca, c.ca_len), *sg = ossl_cert(c.sg, c.sg_len);
    /* extensions as documented, critical where they must be */
    assert_true(X509_check_ca(ca));
    assert_false(X509_check_ca(sg));
    assert_int_equal(X509_get_key_usage(ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_int_equal(X509_get_key_usage(sg), KU_DIGITAL_SIGNATURE);
    for (int i = 0; i < 2; i++) {
        X509 *x = i ? sg : ca;
        int crit = 0;
        BASIC_CONSTRAINTS *bc =
            X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
        assert_non_null(bc);
        assert_int_equal(crit, 1);
        BASIC_CONSTRAINTS_free(bc);
        ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
        assert_int_equal(crit, 1);
        ASN1_BIT_STRING_free(ku);
        assert_non_null(X509_get0_subject_key_id(x));
        assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
    }
    assert_null(X509_get0_authority_key_id(ca));
    assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(sg),
                                           X509_get0_subject_key_id(ca)), 0);
    /* the chain verifies inside the validity period, and not after it */
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    for (int when = 0; when < 2; when++) {
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        X509_STORE_CTX_init(ctx, store, sg, NULL);
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
                                   when ? T_START + 366 * 86400 : T_START + 60);
        assert_int_equal(X509_verify_cert(ctx), when ? 0 : 1);
        X509_STORE_CTX_free(ctx);
    }
    X509_STORE_free(store);
    X509_free(sg);
    X509_free(ca);
}

/* openssl verify -CAfile, as the issue asks, on PEM files. */
static void x509_openssl_verify_command(void **state)
{
    (void)state;
    certs c;
    char dir[256], path[300], out[2048];
    issue_pair(&c);
    thsm_test_tmpdir(dir, sizeof(dir));
    for (int i = 0; i < 2; i++) {
        const unsigned char *p = i ? c.sg : c.ca;
        X509 *x = d2i_X509(NULL, &p, (long)(i ? c.sg_len : c.ca_len));
        snprintf(path, sizeof(path), "%s/%s.pem", dir, i ? "signer" : "ca");
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(PEM_write_X509(f, x), 1);
        fclose(f);
        X509_free(x);
    }
    int rc = thsm_test_run(out, sizeof(out),
                           "openssl verify -attime %lld -CAfile %s/ca.pem "
                           "%s/signer.pem",
                           (long long)(T_START + 60), dir, dir);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "signer.pem: OK"));
    thsm_test_rmtree(dir);
}

static void x509_read_back(void **state)
{
    (void)state;
    certs c;
    thsm_x509_info info;
    issue_pair(&c);
    assert_int_equal(thsm_x509_parse(c.ca, c.ca_len, &info), 0);
    assert_string_equal(info.subject, "C=US, O=MyHSM, CN=My_CA");
    assert_string_equal(info.issuer, "C=US, O=MyHSM, CN=My_CA");
    assert_string_equal(info.serial_hex, "4A5F0102030405060708090A0B0C0D0E");
    assert_true(info.not_before == T_START && info.not_after == T_END);
    assert_true(info.is_ca);
    assert_hex(info.pub, 65, CA_PUB);
    assert_int_equal(thsm_x509_parse(c.sg, c.sg_len, &info), 0);
    assert_string_equal(info.issuer, "C=US, O=MyHSM, CN=My_CA");
    assert_false(info.is_ca);
    assert_true(info.not_after == T_START + 365 * 86400);
    assert_hex(info.pub, 65, SG_PUB);
    /* a byte more, or a byte less, is not a certificate */
    assert_int_equal(thsm_x509_parse(c.sg, c.sg_len - 1, &info), THSM_CRYPTO_FAIL);
    c.sg[c.sg_len] = 0;
    assert_int_equal(thsm_x509_parse(c.sg, c.sg_len + 1, &info), THSM_CRYPTO_FAIL);
}

/* The host's PEM path reads what the device issued. */
static void x509_pem_on_the_host(void **state)
{
    (void)state;
    certs c;
    issue_pair(&c);
    const unsigned char *p = c.sg;
    X509 *x = d2i_X509(NULL, &p, (long)c.sg_len);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    uint8_t der[THSM_X509_DER_MAX], pub[65];
    size_t der_len = 0;
    thsm_x509_info info;
    assert_int_equal(thsm_x509_parse((uint8_t *)pem, (size_t)n, &info), 0);
    assert_string_equal(info.subject, "C=US, O=MyHSM, CN=My Signer, Inc.");
    assert_int_equal(thsm_x509_to_der((uint8_t *)pem, (size_t)n, der,
                                      sizeof(der), &der_len), 0);
    assert_int_equal(der_len, c.sg_len);
    assert_memory_equal(der, c.sg, c.sg_len);
    assert_int_equal(thsm_pubkey_from_pem((uint8_t *)pem, (size_t)n, pub), 0);
    assert_hex(pub, 65, SG_PUB);
    char why[128];
    assert_int_equal(thsm_x509_check_chain(c.ca, c.ca_len, (uint8_t *)pem,
                                           (size_t)n, T_START + 60, why,
                                           sizeof(why)), 0);
    BIO_free(bio);
    X509_free(x);
}

static void random_bytes_differ(void **state)
{
    (void)state;
    uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};
    assert_int_equal(thsm_random(a, sizeof(a)), 0);
    assert_int_equal(thsm_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, zero, 32);
    assert_memory_not_equal(a, b, 32);
    assert_true(thsm_ct_equal(a, a, 32));
    assert_false(thsm_ct_equal(a, b, 32));
    thsm_wipe(a, sizeof(a));
    assert_memory_equal(a, zero, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_abc),
        cmocka_unit_test(hmac_rfc4231),
        cmocka_unit_test(hkdf_rfc5869),
        cmocka_unit_test(pbkdf2_vectors),
        cmocka_unit_test(scrypt_by_backend),
        cmocka_unit_test(gcm_vector),
        cmocka_unit_test(random_bytes_differ),
        cmocka_unit_test(ecdsa_ours_verified_by_openssl),
        cmocka_unit_test(ecdsa_openssl_verified_by_ours),
        cmocka_unit_test(p256_load_checks_the_pair),
        cmocka_unit_test(p256_import_computes_the_public_key),
        cmocka_unit_test(x509_same_certificates_on_every_backend),
        cmocka_unit_test(x509_checked_by_openssl),
        cmocka_unit_test(x509_openssl_verify_command),
        cmocka_unit_test(x509_read_back),
        cmocka_unit_test(x509_pem_on_the_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
