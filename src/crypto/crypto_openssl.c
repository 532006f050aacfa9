/*
 * crypto_openssl.c - crypto.h on OpenSSL 3 libcrypto (EVP and friends only;
 * the deprecated low-level APIs are not used).
 */
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"

#define OK THSM_CRYPTO_OK
#define FAIL THSM_CRYPTO_FAIL

/* ---- utilities ---------------------------------------------------------- */

void thsm_wipe(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}

int thsm_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

int thsm_random(uint8_t *buf, size_t len)
{
    return len > (size_t)INT32_MAX || RAND_priv_bytes(buf, (int)len) != 1
               ? FAIL : OK;
}

/* ---- SHA-256 ------------------------------------------------------------ */

int thsm_sha256_init(thsm_sha256_ctx *ctx)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ctx->impl = md;
    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1)
        return OK;
    thsm_sha256_release(ctx);
    return FAIL;
}

int thsm_sha256_update(thsm_sha256_ctx *ctx, const void *data, size_t len)
{
    return ctx->impl && EVP_DigestUpdate(ctx->impl, data, len) == 1 ? OK : FAIL;
}

int thsm_sha256_final(thsm_sha256_ctx *ctx, uint8_t out[THSM_SHA256_LEN])
{
    int rc = ctx->impl && EVP_DigestFinal_ex(ctx->impl, out, NULL) == 1;
    thsm_sha256_release(ctx);
    return rc ? OK : FAIL;
}

void thsm_sha256_release(thsm_sha256_ctx *ctx)
{
    EVP_MD_CTX_free(ctx->impl);
    ctx->impl = NULL;
}

int thsm_sha256(const void *data, size_t len, uint8_t out[THSM_SHA256_LEN])
{
    return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1 ? OK : FAIL;
}

/* ---- MAC and KDF -------------------------------------------------------- */

int thsm_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
                     size_t len, uint8_t out[THSM_SHA256_LEN])
{
    size_t out_len = 0;
    return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data,
                     len, out, THSM_SHA256_LEN, &out_len) != NULL &&
                   out_len == THSM_SHA256_LEN
               ? OK : FAIL;
}

static int kdf_derive(const char *name, OSSL_PARAM *params, uint8_t *out,
                      size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int rc = ctx && EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc ? OK : FAIL;
}

int thsm_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                     size_t salt_len, const char *info, uint8_t *out,
                     size_t out_len)
{
    OSSL_PARAM p[5], *q = p;
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm,
                                             ikm_len);
    if (salt)
        *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                                 (void *)salt, salt_len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
                                             strlen(info));
    *q = OSSL_PARAM_construct_end();
    return kdf_derive("HKDF", p, out, out_len);
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
    return kdf_derive("SCRYPT", params, out, out_len);
}

/* ---- AEAD --------------------------------------------------------------- */

static int gcm(int enc, const uint8_t *key, const uint8_t *nonce,
               const uint8_t *aad, size_t aad_len, const uint8_t *in,
               size_t len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n, ok = c && len <= INT32_MAX && aad_len <= INT32_MAX &&
                EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce,
                                  enc) == 1;
    if (ok && aad_len)
        ok = EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) == 1;
    if (ok && len)
        ok = EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, THSM_AEAD_TAG_LEN,
                                 tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(c, out + len, &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, THSM_AEAD_TAG_LEN,
                                 tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? OK : FAIL;
}

int thsm_aead_seal(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
                   uint8_t tag[THSM_AEAD_TAG_LEN])
{
    return gcm(1, key, nonce, aad, aad_len, pt, len, ct, tag);
}

int thsm_aead_open(const uint8_t key[THSM_AEAD_KEY_LEN],
                   const uint8_t nonce[THSM_AEAD_NONCE_LEN], const uint8_t *aad,
                   size_t aad_len, const uint8_t *ct, size_t len,
                   const uint8_t tag[THSM_AEAD_TAG_LEN], uint8_t *pt)
{
    uint8_t t[THSM_AEAD_TAG_LEN];
    memcpy(t, tag, sizeof(t));
    if (gcm(0, key, nonce, aad, aad_len, ct, len, pt, t) == OK)
        return OK;
    thsm_wipe(pt, len);
    return FAIL;
}

/* ---- P-256 -------------------------------------------------------------- */

static EVP_PKEY *pkey_from_raw(const uint8_t *priv, const uint8_t *pub)
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
static int export_pub(EVP_PKEY *pkey, uint8_t pub[THSM_P256_PUB_LEN])
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

static int is_p256(EVP_PKEY *pkey)
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
    int ok = pkey && export_pub(pkey, key->pub) &&
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

/* 1 when pub == priv * G on P-256. */
static int pub_matches(const uint8_t *priv, const uint8_t *pub)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    BIGNUM *d = BN_secure_new();
    uint8_t calc[THSM_P256_PUB_LEN];
    int ok = p && d && BN_bin2bn(priv, THSM_P256_PRIV_LEN, d) &&
             !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(g)) < 0 &&
             EC_POINT_mul(g, p, d, NULL, NULL, NULL) == 1 &&
             EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, calc,
                                sizeof(calc), NULL) == sizeof(calc) &&
             memcmp(calc, pub, sizeof(calc)) == 0;
    BN_clear_free(d);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    return ok;
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
        key->impl = pkey_from_raw(key->priv, key->pub);
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
    EVP_PKEY *pkey = pkey_from_raw(NULL, pub);
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
                         ? pkey_from_raw(NULL, pub) : NULL;
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

/* ---- X.509 -------------------------------------------------------------- */

static X509_NAME *make_name(const thsm_x509_name *n)
{
    X509_NAME *name = X509_NAME_new();
    const char *field[] = {"C", "O", "CN"};
    const char *value[] = {n->c, n->o, n->cn};
    for (int i = 0; name && i < 3; i++) {
        if (X509_NAME_add_entry_by_txt(name, field[i], MBSTRING_ASC,
                                       (const unsigned char *)value[i], -1, -1,
                                       0) != 1) {
            X509_NAME_free(name);
            return NULL;
        }
    }
    return name;
}

static int add_ext(X509 *cert, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static int add_extensions(X509 *cert, X509 *issuer, int is_ca)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : cert, cert, NULL, NULL, 0);
    int ok = add_ext(cert, &v3, NID_basic_constraints,
                     is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
             add_ext(cert, &v3, NID_key_usage,
                     is_ca ? "critical,keyCertSign,cRLSign"
                           : "critical,digitalSignature") &&
             add_ext(cert, &v3, NID_subject_key_identifier, "hash");
    if (ok && issuer)
        ok = add_ext(cert, &v3, NID_authority_key_identifier, "keyid:always");
    return ok;
}

static int set_body(X509 *cert, const thsm_x509_request *req, X509 *issuer,
                    EVP_PKEY *subject_key)
{
    X509_NAME *subject = make_name(&req->subject);
    ASN1_INTEGER *serial = NULL;
    BIGNUM *bn = BN_bin2bn(req->serial, sizeof(req->serial), NULL);
    int ok = subject && bn && (serial = BN_to_ASN1_INTEGER(bn, NULL)) &&
             X509_set_version(cert, X509_VERSION_3) == 1 &&
             X509_set_serialNumber(cert, serial) == 1 &&
             X509_set_subject_name(cert, subject) == 1 &&
             X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer)
                                               : subject) == 1 &&
             ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)req->not_before) &&
             ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)req->not_after) &&
             X509_set_pubkey(cert, subject_key) == 1;
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    X509_NAME_free(subject);
    return ok;
}

int thsm_x509_issue(const thsm_x509_request *req, thsm_p256_key *issuer_key,
                    uint8_t *der, size_t der_cap, size_t *der_len)
{
    const unsigned char *p = req->issuer_der;
    X509 *issuer = req->issuer_der
                       ? d2i_X509(NULL, &p, (long)req->issuer_der_len) : NULL;
    X509 *cert = X509_new();
    EVP_PKEY *subject_key = pkey_from_raw(NULL, req->subject_pub);
    if (!issuer_key->impl)
        issuer_key->impl = pkey_from_raw(issuer_key->priv, issuer_key->pub);
    unsigned char *out = NULL;
    int n = -1;
    if (cert && subject_key && issuer_key->impl &&
        (issuer || !req->issuer_der) &&
        set_body(cert, req, issuer, subject_key) &&
        add_extensions(cert, issuer, req->is_ca) &&
        X509_sign(cert, issuer_key->impl, EVP_sha256()) > 0)
        n = i2d_X509(cert, &out);
    int ok = n > 0 && (size_t)n <= der_cap;
    if (ok) {
        memcpy(der, out, (size_t)n);
        *der_len = (size_t)n;
    }
    OPENSSL_free(out);
    EVP_PKEY_free(subject_key);
    X509_free(cert);
    X509_free(issuer);
    return ok ? OK : FAIL;
}

/* Parses PEM or DER (detected by the leading SEQUENCE tag). */
static X509 *load_cert(const uint8_t *data, size_t len)
{
    if (len > INT32_MAX)
        return NULL;
    if (len > 0 && data[0] == 0x30) {
        const unsigned char *p = data;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (x && p != data + len) {
            X509_free(x);
            return NULL;
        }
        return x;
    }
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return x;
}

static void format_name(X509_NAME *name, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
        const char *sn =
            OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)));
        int n = snprintf(out + used, cap - used, "%s%s=%.*s", i ? ", " : "",
                         sn, ASN1_STRING_length(v),
                         (const char *)ASN1_STRING_get0_data(v));
        if (n < 0 || (size_t)n >= cap - used)
            return;
        used += (size_t)n;
    }
}

static int asn1_time_to_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    *out = (int64_t)timegm(&tm);
    return 1;
}

static int fill_info(X509 *x, thsm_x509_info *info)
{
    memset(info, 0, sizeof(*info));
    format_name(X509_get_subject_name(x), info->subject, sizeof(info->subject));
    format_name(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    int ok = hex && strlen(hex) < sizeof(info->serial_hex) &&
             asn1_time_to_unix(X509_get0_notBefore(x), &info->not_before) &&
             asn1_time_to_unix(X509_get0_notAfter(x), &info->not_after);
    if (ok)
        strcpy(info->serial_hex, hex);
    OPENSSL_free(hex);
    BN_free(bn);
    EVP_PKEY *pkey = X509_get0_pubkey(x);
    if (pkey && is_p256(pkey))
        export_pub(pkey, info->pub);
    info->is_ca = X509_check_ca(x) != 0;
    return ok;
}

int thsm_x509_parse(const uint8_t *data, size_t len, thsm_x509_info *info)
{
    X509 *x = load_cert(data, len);
    int ok = x && fill_info(x, info);
    X509_free(x);
    return ok ? OK : FAIL;
}

int thsm_x509_to_der(const uint8_t *data, size_t len, uint8_t *der,
                     size_t der_cap, size_t *der_len)
{
    X509 *x = load_cert(data, len);
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

static void say(char *why, size_t cap, const char *text)
{
    if (cap)
        snprintf(why, cap, "%s", text);
}

int thsm_x509_check_chain(const uint8_t *ca, size_t ca_len, const uint8_t *cert,
                          size_t cert_len, int64_t now, char *why,
                          size_t why_cap)
{
    X509 *c = load_cert(ca, ca_len), *x = load_cert(cert, cert_len);
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
        if (!ok)
            say(why, why_cap, X509_verify_cert_error_string(
                                  X509_STORE_CTX_get_error(ctx)));
    } else
        say(why, why_cap, "out of memory");
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(x);
    X509_free(c);
    return ok ? OK : FAIL;
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
        X509 *x = load_cert(data, len);
        pkey = x ? X509_get_pubkey(x) : NULL;
        X509_free(x);
    }
    int ok = pkey && is_p256(pkey) && export_pub(pkey, pub);
    EVP_PKEY_free(pkey);
    return ok ? OK : FAIL;
}
