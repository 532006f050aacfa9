/*
 * x509.c - issuing and reading certificates on mbedTLS.
 *
 * mbedtls_x509write_crt_der in 2.28 writes NULL parameters in the
 * ecdsa-with-SHA256 AlgorithmIdentifier, which RFC 5758 says must be absent
 * (OpenSSL omits them). So the TBSCertificate is assembled here, in the same
 * order as the library does, from mbedTLS's own writers (names, extensions,
 * public key, integers); mbedtls_x509write_cert only collects the names and
 * extensions. The result matches the OpenSSL backend byte for byte up to the
 * signature.
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#if defined(MBEDTLS_PEM_PARSE_C)
#include <mbedtls/pem.h>
#include <mbedtls/platform.h>
#endif

#include "crypto/mbedtls/internal.h"
#include "crypto/x509.h"

#define SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)

/* ---- calendar ----------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct {
    int year, mon, day, hour, min, sec;
} civil_time;

static civil_time civil_from_unix(int64_t t)
{
    int64_t days = (t >= 0 ? t : t - 86399) / 86400, secs = t - days * 86400;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    civil_time c;
    c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.year = (int)(yoe + era * 400 + (c.mon <= 2));
    c.hour = (int)(secs / 3600);
    c.min = (int)(secs / 60 % 60);
    c.sec = (int)(secs % 60);
    return c;
}

/* ---- writing ------------------------------------------------------------ */

/* UTCTime for 1950..2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5). */
static int write_time(unsigned char **c, unsigned char *buf, int64_t t)
{
    civil_time v = civil_from_unix(t);
    char s[24];
    int utc = v.year >= 1950 && v.year < 2050, ret;
    size_t len = 0;
    if (v.year < 0 || v.year > 9999)
        return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
    int n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ", v.year, v.mon,
                     v.day, v.hour, v.min, v.sec);
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(
                                  c, buf, (const unsigned char *)s + (utc ? 2 : 0),
                                  (size_t)n - (utc ? 2 : 0)));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(c, buf, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(
                                  c, buf, utc ? MBEDTLS_ASN1_UTC_TIME
                                              : MBEDTLS_ASN1_GENERALIZED_TIME));
    return (int)len;
}

/* AlgorithmIdentifier ecdsa-with-SHA256, parameters absent. */
static int write_sig_alg(unsigned char **c, unsigned char *buf)
{
    int ret;
    size_t len = 0;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_oid(
                                  c, buf, MBEDTLS_OID_ECDSA_SHA256,
                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA256)));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(c, buf, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(c, buf, SEQ));
    return (int)len;
}

/* Everything a TBSCertificate needs, gathered before writing. */
typedef struct {
    mbedtls_x509write_cert crt; /* names and extensions */
    mbedtls_pk_context subject_pk, issuer_pk;
    mbedtls_mpi serial;
    int64_t not_before, not_after;
} tbs_parts;

static int write_tbs(unsigned char **c, unsigned char *buf, tbs_parts *t)
{
    int ret;
    size_t len = 0, sub = 0;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_x509_write_extensions(c, buf,
                                                            t->crt.extensions));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(c, buf, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(c, buf, SEQ));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(c, buf, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(
                                  c, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC |
                                              MBEDTLS_ASN1_CONSTRUCTED | 3));
    MBEDTLS_ASN1_CHK_ADD(sub, mbedtls_pk_write_pubkey_der(&t->subject_pk, buf,
                                                          (size_t)(*c - buf)));
    *c -= sub;
    len += sub;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_x509_write_names(c, buf, t->crt.subject));
    sub = 0;
    MBEDTLS_ASN1_CHK_ADD(sub, write_time(c, buf, t->not_after));
    MBEDTLS_ASN1_CHK_ADD(sub, write_time(c, buf, t->not_before));
    MBEDTLS_ASN1_CHK_ADD(sub, mbedtls_asn1_write_len(c, buf, sub));
    MBEDTLS_ASN1_CHK_ADD(sub, mbedtls_asn1_write_tag(c, buf, SEQ));
    len += sub;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_x509_write_names(c, buf, t->crt.issuer));
    MBEDTLS_ASN1_CHK_ADD(len, write_sig_alg(c, buf));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_mpi(c, buf, &t->serial));
    sub = 0;
    MBEDTLS_ASN1_CHK_ADD(sub, mbedtls_asn1_write_int(c, buf,
                                                     MBEDTLS_X509_CRT_VERSION_3));
    MBEDTLS_ASN1_CHK_ADD(sub, mbedtls_asn1_write_len(c, buf, sub));
    MBEDTLS_ASN1_CHK_ADD(sub, mbedtls_asn1_write_tag(
                                  c, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC |
                                              MBEDTLS_ASN1_CONSTRUCTED | 0));
    len += sub;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(c, buf, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(c, buf, SEQ));
    return (int)len;
}

/* One name attribute with the string type OpenSSL gives it. */
static int add_name(mbedtls_asn1_named_data **head, const char *oid,
                    size_t oid_len, int tag, const unsigned char *val,
                    size_t len)
{
    mbedtls_asn1_named_data *d =
        mbedtls_asn1_store_named_data(head, oid, oid_len, val, len);
    if (d)
        d->val.tag = tag;
    return d != NULL;
}

static int set_names(mbedtls_asn1_named_data **head, const thsm_x509_name *n)
{
    return add_name(head, MBEDTLS_OID_AT_COUNTRY,
                    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_COUNTRY),
                    MBEDTLS_ASN1_PRINTABLE_STRING, (const unsigned char *)n->c,
                    strlen(n->c)) &&
           add_name(head, MBEDTLS_OID_AT_ORGANIZATION,
                    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION),
                    MBEDTLS_ASN1_UTF8_STRING, (const unsigned char *)n->o,
                    strlen(n->o)) &&
           add_name(head, MBEDTLS_OID_AT_CN,
                    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN),
                    MBEDTLS_ASN1_UTF8_STRING, (const unsigned char *)n->cn,
                    strlen(n->cn));
}

/* The issuer name is the issuer certificate's subject, entry for entry
 * (stored in reverse, as the writer expects). */
static int set_issuer(mbedtls_x509write_cert *crt, const thsm_x509_request *req)
{
    if (!req->issuer_der) /* self-signed */
        return set_names(&crt->issuer, &req->subject);
    mbedtls_x509_crt ca;
    mbedtls_x509_crt_init(&ca);
    int ok = mbedtls_x509_crt_parse_der(&ca, req->issuer_der,
                                        req->issuer_der_len) == 0;
    for (const mbedtls_x509_name *s = &ca.subject; ok && s; s = s->next)
        ok = add_name(&crt->issuer, (const char *)s->oid.p, s->oid.len,
                      s->val.tag, s->val.p, s->val.len);
    mbedtls_x509_crt_free(&ca);
    return ok;
}

static int load_pk(mbedtls_pk_context *pk, const uint8_t *pub)
{
    return mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0 &&
           thsm_mbed_keypair(mbedtls_pk_ec(*pk), NULL, pub);
}

static int set_extensions(tbs_parts *t, int is_ca, int issued)
{
    static const unsigned char bc_ca[] = {0x30, 0x03, 0x01, 0x01, 0xff};
    static const unsigned char bc_ee[] = {0x30, 0x00};
    mbedtls_x509write_cert *crt = &t->crt;
    mbedtls_x509write_crt_set_subject_key(crt, &t->subject_pk);
    mbedtls_x509write_crt_set_issuer_key(crt, &t->issuer_pk);
    return mbedtls_x509write_crt_set_extension(
               crt, MBEDTLS_OID_BASIC_CONSTRAINTS,
               MBEDTLS_OID_SIZE(MBEDTLS_OID_BASIC_CONSTRAINTS), 1,
               is_ca ? bc_ca : bc_ee, is_ca ? sizeof(bc_ca) : sizeof(bc_ee)) == 0 &&
           mbedtls_x509write_crt_set_key_usage(
               crt, is_ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN
                          : MBEDTLS_X509_KU_DIGITAL_SIGNATURE) == 0 &&
           mbedtls_x509write_crt_set_subject_key_identifier(crt) == 0 &&
           (!issued || mbedtls_x509write_crt_set_authority_key_identifier(crt) == 0);
}

static int gather(tbs_parts *t, const thsm_x509_request *req,
                  const thsm_p256_key *issuer_key)
{
    t->not_before = req->not_before;
    t->not_after = req->not_after;
    return req->subject.c && req->subject.o && req->subject.cn &&
           load_pk(&t->subject_pk, req->subject_pub) &&
           load_pk(&t->issuer_pk, issuer_key->pub) &&
           mbedtls_mpi_read_binary(&t->serial, req->serial,
                                   sizeof(req->serial)) == 0 &&
           set_names(&t->crt.subject, &req->subject) &&
           set_issuer(&t->crt, req) &&
           set_extensions(t, req->is_ca, req->issuer_der != NULL);
}

/* Signs the TBSCertificate at tbs (inside der) and lays out
 * SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING signature } from der[0]. */
static int finish(thsm_p256_key *issuer_key, const unsigned char *tbs,
                  size_t tbs_len, uint8_t *der, size_t der_cap, size_t *der_len)
{
    uint8_t digest[THSM_SHA256_LEN], sig[THSM_P256_SIG_DER_MAX];
    unsigned char tail[THSM_P256_SIG_DER_MAX + 24], *t = tail + sizeof(tail);
    unsigned char head[8], *h = head + sizeof(head);
    size_t sig_len = 0, tail_len = 0, head_len = 0;
    int ret;
    if (mbedtls_sha256_ret(tbs, tbs_len, digest, 0) != 0 ||
        thsm_p256_sign(issuer_key, digest, sig, &sig_len) != OK)
        return FAIL;
    MBEDTLS_ASN1_CHK_ADD(tail_len, mbedtls_asn1_write_bitstring(&t, tail, sig,
                                                                sig_len * 8));
    MBEDTLS_ASN1_CHK_ADD(tail_len, write_sig_alg(&t, tail));
    MBEDTLS_ASN1_CHK_ADD(head_len, mbedtls_asn1_write_len(&h, head,
                                                          tbs_len + tail_len));
    MBEDTLS_ASN1_CHK_ADD(head_len, mbedtls_asn1_write_tag(&h, head, SEQ));
    if (head_len + tbs_len + tail_len > der_cap)
        return FAIL;
    memmove(der + head_len, tbs, tbs_len);
    memcpy(der, h, head_len);
    memcpy(der + head_len + tbs_len, t, tail_len);
    *der_len = head_len + tbs_len + tail_len;
    return OK;
}

int thsm_x509_issue(const thsm_x509_request *req, thsm_p256_key *issuer_key,
                    uint8_t *der, size_t der_cap, size_t *der_len)
{
    tbs_parts t;
    mbedtls_x509write_crt_init(&t.crt);
    mbedtls_pk_init(&t.subject_pk);
    mbedtls_pk_init(&t.issuer_pk);
    mbedtls_mpi_init(&t.serial);
    unsigned char *c = der + der_cap;
    int n = gather(&t, req, issuer_key) ? write_tbs(&c, der, &t) : -1;
    int rc = n > 0 ? finish(issuer_key, c, (size_t)n, der, der_cap, der_len)
                   : FAIL;
    mbedtls_mpi_free(&t.serial);
    mbedtls_pk_free(&t.issuer_pk);
    mbedtls_pk_free(&t.subject_pk);
    mbedtls_x509write_crt_free(&t.crt);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

static int64_t unix_from(const mbedtls_x509_time *t)
{
    return days_from_civil(t->year, t->mon, t->day) * 86400 + t->hour * 3600 +
           t->min * 60 + t->sec;
}

/* Upper-case hex without leading zero bytes, as OpenSSL's BN_bn2hex. */
static int serial_hex(const mbedtls_x509_buf *s, char *out, size_t cap)
{
    size_t i = 0, used = 0;
    while (i + 1 < s->len && s->p[i] == 0)
        i++;
    if (2 * (s->len - i) >= cap)
        return 0;
    for (; i < s->len; i++)
        used += (size_t)snprintf(out + used, cap - used, "%02X", s->p[i]);
    return 1;
}

/* "C=US, O=MyHSM, CN=My_CA", values unescaped, as the OpenSSL backend. */
static int format_name(const mbedtls_x509_name *n, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (; n; n = n->next) {
        const char *sn = "?";
        mbedtls_oid_get_attr_short_name(&n->oid, &sn);
        int k = snprintf(out + used, cap - used, "%s%s=%.*s", used ? ", " : "",
                         sn, (int)n->val.len, (const char *)n->val.p);
        if (k < 0 || (size_t)k >= cap - used)
            return 0;
        used += (size_t)k;
    }
    return 1;
}

static int fill_info(const mbedtls_x509_crt *crt, thsm_x509_info *info)
{
    memset(info, 0, sizeof(*info));
    info->not_before = unix_from(&crt->valid_from);
    info->not_after = unix_from(&crt->valid_to);
    info->is_ca = crt->ca_istrue;
    if (mbedtls_pk_get_type(&crt->pk) == MBEDTLS_PK_ECKEY) {
        const mbedtls_ecp_keypair *kp = mbedtls_pk_ec(crt->pk);
        size_t n = 0;
        if (kp->grp.id != MBEDTLS_ECP_DP_SECP256R1 ||
            mbedtls_ecp_point_write_binary(&kp->grp, &kp->Q,
                                           MBEDTLS_ECP_PF_UNCOMPRESSED, &n,
                                           info->pub, sizeof(info->pub)) != 0)
            memset(info->pub, 0, sizeof(info->pub));
    }
    return format_name(&crt->subject, info->subject, sizeof(info->subject)) &&
           format_name(&crt->issuer, info->issuer, sizeof(info->issuer)) &&
           serial_hex(&crt->serial, info->serial_hex, sizeof(info->serial_hex));
}

/* DER, with no bytes after the certificate. */
static int parse_der(mbedtls_x509_crt *crt, const uint8_t *data, size_t len)
{
    return mbedtls_x509_crt_parse_der(crt, data, len) == 0 && crt->raw.len == len;
}

#if defined(MBEDTLS_PEM_PARSE_C)
static int parse_pem(mbedtls_x509_crt *crt, const uint8_t *data, size_t len)
{
    mbedtls_pem_context pem;
    size_t used = 0;
    char *text = mbedtls_calloc(1, len + 1); /* the PEM reader wants a string */
    if (!text)
        return 0;
    memcpy(text, data, len);
    mbedtls_pem_init(&pem);
    int ok = mbedtls_pem_read_buffer(&pem, "-----BEGIN CERTIFICATE-----",
                                     "-----END CERTIFICATE-----",
                                     (const unsigned char *)text, NULL, 0,
                                     &used) == 0 &&
             parse_der(crt, pem.buf, pem.buflen);
    mbedtls_pem_free(&pem);
    mbedtls_free(text);
    return ok;
}
#endif

int thsm_mbed_load_cert(mbedtls_x509_crt *crt, const uint8_t *data, size_t len)
{
    int ok = len > 0 && data[0] == 0x30 && parse_der(crt, data, len);
#if defined(MBEDTLS_PEM_PARSE_C)
    if (len > 0 && data[0] != 0x30)
        ok = parse_pem(crt, data, len);
#endif
    return ok;
}

int thsm_x509_parse(const uint8_t *data, size_t len, thsm_x509_info *info)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int ok = thsm_mbed_load_cert(&crt, data, len) && fill_info(&crt, info);
    mbedtls_x509_crt_free(&crt);
    return ok ? OK : FAIL;
}
