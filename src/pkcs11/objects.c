/* objects.c - the token's objects, built from the device's certificates:
 * for the signer and the CA, a public key and a certificate; for the
 * signer, its private key (the device signs with no other key). */
#include "pkcs11/module.h"

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

/* DER of the OID prime256v1 (CKA_EC_PARAMS). */
const CK_BYTE p11_p256_params[P11_P256_PARAMS_LEN] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                      0xce, 0x3d, 0x03, 0x01, 0x07};

static int der_of(const void *obj, int (*enc)(const void *, unsigned char **),
                  unsigned char *out, size_t cap, unsigned long *len)
{
    int n = enc(obj, NULL);
    unsigned char *p = out;
    if (n <= 0 || (size_t)n > cap)
        return -1;
    enc(obj, &p);
    *len = (unsigned long)n;
    return 0;
}

static int name_der(const void *n, unsigned char **p)
{
    return i2d_X509_NAME((const X509_NAME *)n, p);
}

static int int_der(const void *n, unsigned char **p)
{
    return i2d_ASN1_INTEGER((const ASN1_INTEGER *)n, p);
}

/* The subjectPublicKeyInfo's point, read as bytes: no EVP_PKEY, so an
 * engine the application loaded (the pkcs11 engine) plays no part. */
static int p256_point(X509 *x, unsigned char point[65])
{
    const unsigned char *pk;
    int len, ptype;
    const void *pval;
    X509_ALGOR *alg;
    if (X509_PUBKEY_get0_param(NULL, &pk, &len, &alg,
                               X509_get_X509_PUBKEY(x)) != 1)
        return -1;
    X509_ALGOR_get0(NULL, &ptype, &pval, alg);
    if (ptype != V_ASN1_OBJECT ||
        OBJ_obj2nid(pval) != NID_X9_62_prime256v1 || len != 65 || pk[0] != 4)
        return -1;
    memcpy(point, pk, 65);
    return 0;
}

int p11_cert_parse(p11_cert *c)
{
    const unsigned char *p = c->der;
    unsigned char digest[32];
    X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
    int ok = x && p256_point(x, c->point) == 0 &&
             thsm_sha256(c->point, sizeof(c->point), digest) == 0 &&
             der_of(X509_get_subject_name(x), name_der, c->subject,
                    sizeof(c->subject), &c->subject_len) == 0 &&
             der_of(X509_get_issuer_name(x), name_der, c->issuer,
                    sizeof(c->issuer), &c->issuer_len) == 0 &&
             der_of(X509_get0_serialNumber(x), int_der, c->serial,
                    sizeof(c->serial), &c->serial_len) == 0;
    if (ok)
        memcpy(c->id, digest, sizeof(c->id));
    X509_free(x);
    return ok ? 0 : -1;
}

static void name_entry(X509_NAME *n, int nid, char *out, size_t cap)
{
    if (X509_NAME_get_text_by_NID(n, nid, out, (int)cap) < 0)
        out[0] = '\0';
}

int p11_cert_subject(const p11_cert *c, char *cc, char *o, char *cn,
                     size_t cap, unsigned *days)
{
    const unsigned char *p = c->der;
    int d = 0, s = 0;
    X509 *x = c->present ? d2i_X509(NULL, &p, (long)c->der_len) : NULL;
    if (!x)
        return -1;
    X509_NAME *n = X509_get_subject_name(x);
    name_entry(n, NID_countryName, cc, cap);
    name_entry(n, NID_organizationName, o, cap);
    name_entry(n, NID_commonName, cn, cap);
    int ok = ASN1_TIME_diff(&d, &s, X509_get0_notBefore(x),
                            X509_get0_notAfter(x)) == 1 && d > 0;
    *days = ok ? (unsigned)d : 0;
    X509_free(x);
    return ok && *cc && *o && *cn ? 0 : -1;
}

/* ---- attributes ------------------------------------------------------------ */

typedef struct {
    CK_ATTRIBUTE_TYPE type;
    const void *value;
    CK_ULONG len;
} attr;

#define MAX_ATTRS 32

typedef struct {
    attr a[MAX_ATTRS];
    int n;
    int sensitive; /* a private key: secret attributes are refused */
    /* storage for values built here */
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE key_type;
    CK_CERTIFICATE_TYPE cert_type;
    CK_MECHANISM_TYPE gen_mech;
    CK_BYTE point[67]; /* OCTET STRING around 04||X||Y */
    CK_ULONG cat;
} attrs;

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static void add(attrs *l, CK_ATTRIBUTE_TYPE t, const void *v, CK_ULONG len)
{
    l->a[l->n++] = (attr){t, v, len};
}

static void add_bool(attrs *l, CK_ATTRIBUTE_TYPE t, int v)
{
    add(l, t, v ? &yes : &no, sizeof(CK_BBOOL));
}

static void key_common(attrs *l, const p11_cert *c)
{
    l->key_type = CKK_EC;
    /* an imported key was not made here: no mechanism, not local */
    l->gen_mech = c->imported ? CK_UNAVAILABLE_INFORMATION : CKM_EC_KEY_PAIR_GEN;
    add(l, CKA_KEY_TYPE, &l->key_type, sizeof(l->key_type));
    add(l, CKA_EC_PARAMS, p11_p256_params, sizeof(p11_p256_params));
    add(l, CKA_SUBJECT, c->subject, c->subject_len);
    add_bool(l, CKA_LOCAL, !c->imported);
    add(l, CKA_KEY_GEN_MECHANISM, &l->gen_mech, sizeof(l->gen_mech));
    add_bool(l, CKA_DERIVE, 0);
}

static void private_key(attrs *l, const p11_cert *c)
{
    l->sensitive = 1;
    add_bool(l, CKA_PRIVATE, 1);
    add_bool(l, CKA_SIGN, 1);
    add_bool(l, CKA_SIGN_RECOVER, 0);
    add_bool(l, CKA_DECRYPT, 0);
    add_bool(l, CKA_UNWRAP, 0);
    add_bool(l, CKA_SENSITIVE, 1);
    add_bool(l, CKA_EXTRACTABLE, 0);
    add_bool(l, CKA_ALWAYS_SENSITIVE, !c->imported); /* it was outside */
    add_bool(l, CKA_NEVER_EXTRACTABLE, !c->imported);
    add_bool(l, CKA_ALWAYS_AUTHENTICATE, 0);
    add_bool(l, CKA_WRAP_WITH_TRUSTED, 0);
    key_common(l, c);
}

static void public_key(attrs *l, const p11_cert *c)
{
    l->point[0] = 0x04; /* DER OCTET STRING, 65 bytes */
    l->point[1] = 65;
    memcpy(l->point + 2, c->point, 65);
    add_bool(l, CKA_PRIVATE, 0);
    add_bool(l, CKA_VERIFY, 1);
    add_bool(l, CKA_VERIFY_RECOVER, 0);
    add_bool(l, CKA_ENCRYPT, 0);
    add_bool(l, CKA_WRAP, 0);
    add_bool(l, CKA_TRUSTED, 0);
    add(l, CKA_EC_POINT, l->point, sizeof(l->point));
    key_common(l, c);
}

static void certificate(attrs *l, const p11_cert *c, int ca)
{
    l->cert_type = CKC_X_509;
    l->cat = ca ? 2 : 3; /* certificate authority, end entity */
    add_bool(l, CKA_PRIVATE, 0);
    add(l, CKA_CERTIFICATE_TYPE, &l->cert_type, sizeof(l->cert_type));
    add(l, CKA_CERTIFICATE_CATEGORY, &l->cat, sizeof(l->cat));
    add_bool(l, CKA_TRUSTED, 0);
    add(l, CKA_VALUE, c->der, c->der_len);
    add(l, CKA_SUBJECT, c->subject, c->subject_len);
    add(l, CKA_ISSUER, c->issuer, c->issuer_len);
    add(l, CKA_SERIAL_NUMBER, c->serial, c->serial_len);
}

/* The attributes of object h of slot s; 0, or -1 when there is none. */
static int object(const p11_slot *s, CK_ULONG h, attrs *l)
{
    CK_ULONG which = h % 16;
    int ca = which == OBJ_CA_PUB || which == OBJ_CA_CERT;
    const p11_cert *c = &s->cert[ca];
    static const CK_OBJECT_CLASS classes[] = {
        0, CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE, CKO_PUBLIC_KEY,
        CKO_CERTIFICATE};
    memset(l, 0, sizeof(*l));
    if (which < 1 || which > OBJ_COUNT || !c->present)
        return -1;
    const char *label = ca ? "ca" : "signer";
    l->cls = classes[which];
    add(l, CKA_CLASS, &l->cls, sizeof(l->cls));
    add(l, CKA_ID, c->id, sizeof(c->id));
    add(l, CKA_LABEL, label, strlen(label));
    add_bool(l, CKA_TOKEN, 1);
    add_bool(l, CKA_MODIFIABLE, 0);
    add_bool(l, CKA_COPYABLE, 0);
    add_bool(l, CKA_DESTROYABLE, 0);
    if (which == OBJ_SIGNER_PRIV)
        private_key(l, c);
    else if (which == OBJ_SIGNER_PUB || which == OBJ_CA_PUB)
        public_key(l, c);
    else
        certificate(l, c, ca);
    return 0;
}

static const attr *lookup(const attrs *l, CK_ATTRIBUTE_TYPE t)
{
    for (int i = 0; i < l->n; i++)
        if (l->a[i].type == t)
            return &l->a[i];
    return NULL;
}

/* Called with p11_lock held. */
CK_RV p11_attrs(p11_slot *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n)
{
    attrs l;
    CK_RV rv = CKR_OK;
    if (object(s, h, &l) != 0)
        return CKR_OBJECT_HANDLE_INVALID;
    for (CK_ULONG i = 0; i < n; i++) {
        const attr *a = lookup(&l, t[i].type);
        if (!a) {
            t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            /* a private key's secret parts exist, but never leave */
            if (l.sensitive && (t[i].type == CKA_VALUE ||
                                t[i].type == CKA_PRIVATE_EXPONENT ||
                                t[i].type == CKA_PRIME_1 ||
                                t[i].type == CKA_PRIME_2))
                rv = CKR_ATTRIBUTE_SENSITIVE;
            else if (rv == CKR_OK)
                rv = CKR_ATTRIBUTE_TYPE_INVALID;
        } else if (!t[i].pValue) {
            t[i].ulValueLen = a->len;
        } else if (t[i].ulValueLen < a->len) {
            t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = CKR_BUFFER_TOO_SMALL;
        } else {
            memcpy(t[i].pValue, a->value, a->len);
            t[i].ulValueLen = a->len;
        }
    }
    return rv;
}

static int matches(const attrs *l, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++) {
        const attr *a = lookup(l, t[i].type);
        if (!a || a->len != t[i].ulValueLen ||
            (a->len && (!t[i].pValue || memcmp(a->value, t[i].pValue, a->len))))
            return 0;
    }
    return 1;
}

/* Called with p11_lock held. Private objects show only after a login,
 * when the device has a PIN. */
void p11_find(p11_session *ss, CK_ATTRIBUTE *t, CK_ULONG n)
{
    p11_slot *s = p11_slots[ss->slot];
    attrs l;
    ss->nfound = ss->pos = 0;
    for (CK_ULONG w = 1; w <= OBJ_COUNT; w++) {
        CK_OBJECT_HANDLE h = ss->slot * 16 + w;
        if (object(s, h, &l) != 0 || !matches(&l, t, n))
            continue;
        if (w == OBJ_SIGNER_PRIV && s->pin_set && s->logged_in != ROLE_USER)
            continue;
        ss->found[ss->nfound++] = h;
    }
}
