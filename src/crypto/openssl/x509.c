/* x509.c - issuing and reading certificates on OpenSSL 3. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/openssl/cert_load.h"
#include "crypto/openssl/internal.h"
#include "crypto/x509.h"

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
    EVP_PKEY *subject_key = thsm_ossl_pkey_from_raw(NULL, req->subject_pub);
    if (!issuer_key->impl)
        issuer_key->impl =
            thsm_ossl_pkey_from_raw(issuer_key->priv, issuer_key->pub);
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
    if (pkey && thsm_ossl_is_p256(pkey))
        thsm_ossl_export_pub(pkey, info->pub);
    info->is_ca = X509_check_ca(x) != 0;
    return ok;
}

int thsm_x509_parse(const uint8_t *data, size_t len, thsm_x509_info *info)
{
    X509 *x = thsm_ossl_load_cert(data, len);
    int ok = x && fill_info(x, info);
    X509_free(x);
    return ok ? OK : FAIL;
}
