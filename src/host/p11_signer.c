/* p11_signer.c - a key on a PKCS#11 token as a signer (see p11_signer.h). */
#include "host/p11_signer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "crypto/x509.h"

#define ID_MAX 256
#define CERT_DER_MAX 4096

struct thsm_p11_signer {
    thsm_signer signer;
    const thsm_p11_cfg *cfg;
    P11KitUri *uri;
    CK_FUNCTION_LIST *loaded;    /* the module given by path, or NULL */
    CK_FUNCTION_LIST **registered; /* p11-kit's modules, or NULL */
    CK_FUNCTION_LIST *f;         /* the module holding the token */
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE session;   /* CK_INVALID_HANDLE: none */
    bool logged_in, always_auth;
    CK_OBJECT_HANDLE key;
    char token[33];              /* its label, blanks trimmed */
    char label[256];             /* the key's label, for messages */
    uint8_t id[ID_MAX];
    CK_ULONG id_len;
    char pin[THSM_P11_PIN_MAX];
};

/* DER of the P-256 OID: CKA_EC_PARAMS of a P-256 key. */
static const uint8_t p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07};

static void trim(const unsigned char *padded, size_t len, char *out)
{
    while (len > 0 && padded[len - 1] == ' ')
        len--;
    memcpy(out, padded, len);
    out[len] = '\0';
}

/* ---- the module and the token --------------------------------------------- */

static int load_modules(thsm_p11_signer *s, thsm_err *err)
{
    const char *path = s->cfg->module ? s->cfg->module
                                      : p11_kit_uri_get_module_path(s->uri);
    if (!path) {
        s->registered = p11_kit_modules_load_and_initialize(0);
        if (!s->registered)
            return thsm_fail(err, THSM_ERR_FAIL, "p11-kit could not load its "
                             "registered PKCS#11 modules; name one with "
                             "--module PATH or module-path= in the URI");
        return THSM_OK;
    }
    FILE *probe = fopen(path, "rb"); /* a plain reason for a missing file */
    if (!probe)
        return thsm_fail(err, THSM_ERR_FAIL, "cannot load PKCS#11 module %s: "
                         "%s", path, strerror(errno));
    fclose(probe);
    s->loaded = p11_kit_module_load(path, 0);
    if (!s->loaded)
        return thsm_fail(err, THSM_ERR_FAIL, "cannot load PKCS#11 module %s "
                         "(not a PKCS#11 module?)", path);
    CK_RV rv = p11_kit_module_initialize(s->loaded);
    if (rv != CKR_OK) {
        p11_kit_module_release(s->loaded);
        s->loaded = NULL;
        return thsm_fail(err, THSM_ERR_FAIL, "PKCS#11 module %s does not "
                         "start: %s", path, p11_kit_strerror(rv));
    }
    return THSM_OK;
}

/* Whether module f is one the URI allows (module-name=, library-*). */
static bool module_matches(const thsm_p11_signer *s, CK_FUNCTION_LIST *f)
{
    CK_INFO info;
    const char *name = p11_kit_uri_get_module_name(s->uri);
    if (name && s->registered) {
        char *have = p11_kit_module_get_name(f);
        bool same = have && strcmp(have, name) == 0;
        free(have);
        if (!same)
            return false;
    }
    return f->C_GetInfo(&info) == CKR_OK &&
           p11_kit_uri_match_module_info(s->uri, &info);
}

/* Looks at the tokens of module f; counts those the URI matches and keeps
 * the first. seen collects every label, for the message when none does. */
static void match_tokens(thsm_p11_signer *s, CK_FUNCTION_LIST *f, int *found,
                         char *seen, size_t cap)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = 64;
    if (!module_matches(s, f) || f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
        return;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_SLOT_INFO si;
        CK_TOKEN_INFO ti;
        char label[33];
        if (f->C_GetSlotInfo(slots[i], &si) != CKR_OK ||
            f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        trim(ti.label, sizeof(ti.label), label);
        size_t at = strlen(seen);
        snprintf(seen + at, cap - at, "%s'%s'", at ? ", " : "", label);
        if (!p11_kit_uri_match_slot_info(s->uri, &si) ||
            !p11_kit_uri_match_token_info(s->uri, &ti) || (*found)++)
            continue;
        s->f = f;
        s->slot = slots[i];
        memcpy(s->token, label, sizeof(label));
    }
}

/* The one token the URI names. */
static int find_token(thsm_p11_signer *s, thsm_err *err)
{
    char seen[1024] = "";
    int found = 0;
    if (s->loaded)
        match_tokens(s, s->loaded, &found, seen, sizeof(seen));
    for (size_t i = 0; s->registered && s->registered[i]; i++)
        match_tokens(s, s->registered[i], &found, seen, sizeof(seen));
    if (found == 1)
        return THSM_OK;
    if (found > 1)
        return thsm_fail(err, THSM_ERR_FAIL, "%d tokens match %s (%s); name "
                         "one with token= in the URI", found, s->cfg->uri,
                         seen);
    return thsm_fail(err, THSM_ERR_FAIL, "no PKCS#11 token matches %s (tokens "
                     "present: %s)", s->cfg->uri, seen[0] ? seen : "none");
}

/* ---- the PIN and the login ------------------------------------------------ */

/* The first line of the URI's pin-source (a path or a file: URI). */
static int pin_from_source(thsm_p11_signer *s, const char *src, thsm_err *err)
{
    const char *path = strncmp(src, "file:", 5) == 0 ? src + 5 : src;
    FILE *f = fopen(path, "re");
    if (!f)
        return thsm_fail(err, THSM_ERR_FAIL, "cannot read the PIN from "
                         "pin-source %s: %s", path, strerror(errno));
    bool got = fgets(s->pin, sizeof(s->pin), f) != NULL;
    fclose(f);
    s->pin[got ? strcspn(s->pin, "\r\n") : 0] = '\0';
    if (!s->pin[0])
        return thsm_fail(err, THSM_ERR_FAIL, "pin-source %s holds no PIN: "
                         "put it on its first line", path);
    return THSM_OK;
}

static int get_pin(thsm_p11_signer *s, thsm_err *err)
{
    const char *value = p11_kit_uri_get_pin_value(s->uri);
    const char *src = p11_kit_uri_get_pin_source(s->uri);
    if (value) {
        snprintf(s->pin, sizeof(s->pin), "%s", value);
        return THSM_OK;
    }
    if (src)
        return pin_from_source(s, src, err);
    if (!s->cfg->pin)
        return thsm_fail(err, THSM_ERR_FAIL, "token '%s' needs a PIN and none "
                         "was given", s->token);
    err->msg[0] = '\0';
    return s->cfg->pin(s->cfg->ctx, s->token, s->pin, sizeof(s->pin), err);
}

/* What the token says of its PIN after a wrong one. */
static const char *tries_left(const thsm_p11_signer *s)
{
    CK_TOKEN_INFO ti;
    if (s->f->C_GetTokenInfo(s->slot, &ti) != CKR_OK)
        return "";
    if (ti.flags & CKF_USER_PIN_LOCKED)
        return "; the PIN is now locked";
    if (ti.flags & CKF_USER_PIN_FINAL_TRY)
        return "; one try is left before the PIN locks";
    if (ti.flags & CKF_USER_PIN_COUNT_LOW)
        return "; few tries are left before the PIN locks";
    return "";
}

static int login(thsm_p11_signer *s, CK_USER_TYPE who, thsm_err *err)
{
    CK_RV rv = s->f->C_Login(s->session, who, (CK_UTF8CHAR *)s->pin,
                             (CK_ULONG)strlen(s->pin));
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        return THSM_OK;
    if (rv == CKR_PIN_INCORRECT)
        return thsm_fail(err, THSM_ERR_FAIL, "wrong PIN for token '%s'%s; "
                         "nothing signed", s->token, tries_left(s));
    if (rv == CKR_PIN_LOCKED)
        return thsm_fail(err, THSM_ERR_FAIL, "the PIN of token '%s' is "
                         "locked; nothing signed", s->token);
    return thsm_fail(err, THSM_ERR_FAIL, "cannot log in to token '%s': %s",
                     s->token, p11_kit_strerror(rv));
}

static int open_session(thsm_p11_signer *s, thsm_err *err)
{
    CK_TOKEN_INFO ti;
    CK_RV rv = s->f->C_OpenSession(s->slot, CKF_SERIAL_SESSION, NULL, NULL,
                                   &s->session);
    if (rv != CKR_OK) {
        s->session = CK_INVALID_HANDLE;
        return thsm_fail(err, THSM_ERR_FAIL, "cannot open a session on token "
                         "'%s': %s", s->token, p11_kit_strerror(rv));
    }
    if (s->f->C_GetTokenInfo(s->slot, &ti) != CKR_OK ||
        !(ti.flags & CKF_LOGIN_REQUIRED))
        return THSM_OK;
    if (ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH)
        s->pin[0] = '\0'; /* the token asks on its own keypad */
    else if (get_pin(s, err) != THSM_OK)
        return err->code ? err->code : (err->code = THSM_ERR_FAIL);
    if (login(s, CKU_USER, err) != THSM_OK)
        return err->code;
    s->logged_in = true;
    return THSM_OK;
}

/* ---- objects -------------------------------------------------------------- */

/* Up to cap objects matching tmpl; their number (cap + 1 means more). */
static CK_ULONG find(thsm_p11_signer *s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                     CK_OBJECT_HANDLE *out, CK_ULONG cap)
{
    CK_ULONG got = 0;
    if (s->f->C_FindObjectsInit(s->session, tmpl, n) != CKR_OK)
        return 0;
    if (s->f->C_FindObjects(s->session, out, cap, &got) != CKR_OK)
        got = 0;
    s->f->C_FindObjectsFinal(s->session);
    return got;
}

/* The URI's attributes with CKA_CLASS set to class. */
static CK_ULONG uri_template(thsm_p11_signer *s, CK_OBJECT_CLASS *class,
                             CK_ATTRIBUTE *tmpl, CK_ULONG cap)
{
    CK_ULONG n_attrs = 0, n = 0;
    CK_ATTRIBUTE *attrs = p11_kit_uri_get_attributes(s->uri, &n_attrs);
    for (CK_ULONG i = 0; i < n_attrs && n + 1 < cap; i++)
        if (attrs[i].type != CKA_CLASS)
            tmpl[n++] = attrs[i];
    tmpl[n++] = (CK_ATTRIBUTE){CKA_CLASS, class, sizeof(*class)};
    return n;
}

/* The one private key the URI names. */
static int find_key(thsm_p11_signer *s, thsm_err *err)
{
    CK_OBJECT_CLASS class = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl[8];
    CK_OBJECT_HANDLE keys[2];
    CK_ULONG n = find(s, tmpl, uri_template(s, &class, tmpl, 8), keys, 2);
    if (n == 0)
        return thsm_fail(err, THSM_ERR_FAIL, "no private key on token '%s' "
                         "matches %s%s", s->token, s->cfg->uri,
                         s->logged_in ? "" : " (without a login, the token "
                         "may hide its keys)");
    if (n > 1)
        return thsm_fail(err, THSM_ERR_FAIL, "more than one private key on "
                         "token '%s' matches %s; name one with object= or "
                         "id=", s->token, s->cfg->uri);
    s->key = keys[0];
    return THSM_OK;
}

/* The key must be an EC P-256 key allowed to sign. */
static int check_key(thsm_p11_signer *s, thsm_err *err)
{
    CK_KEY_TYPE type = (CK_KEY_TYPE)-1;
    CK_BBOOL can_sign = CK_TRUE, always = CK_FALSE;
    uint8_t params[64];
    CK_ATTRIBUTE a[] = {
        {CKA_KEY_TYPE, &type, sizeof(type)},
        {CKA_EC_PARAMS, params, sizeof(params)},
        {CKA_ID, s->id, sizeof(s->id)},
        {CKA_LABEL, s->label, sizeof(s->label) - 1},
        {CKA_SIGN, &can_sign, sizeof(can_sign)},
        {CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always)},
    };
    s->f->C_GetAttributeValue(s->session, s->key, a, 6); /* each on its own */
    s->id_len = a[2].ulValueLen == CK_UNAVAILABLE_INFORMATION ? 0 : a[2].ulValueLen;
    s->label[a[3].ulValueLen == CK_UNAVAILABLE_INFORMATION ? 0 : a[3].ulValueLen] = '\0';
    s->always_auth = a[5].ulValueLen == sizeof(always) && always;
    bool p256 = type == CKK_EC && a[1].ulValueLen == sizeof(p256_oid) &&
                memcmp(params, p256_oid, sizeof(p256_oid)) == 0;
    if (!p256)
        return thsm_fail(err, THSM_ERR_FAIL, "key '%s' on token '%s' is not an "
                         "EC P-256 key (%s): SECUREBOOT10 images are signed "
                         "with ECDSA P-256; nothing signed", s->label, s->token,
                         type == CKK_EC ? "another curve"
                         : type == CKK_RSA ? "RSA" : "another key type");
    if (a[4].ulValueLen == sizeof(can_sign) && !can_sign)
        return thsm_fail(err, THSM_ERR_FAIL, "key '%s' on token '%s' may not "
                         "sign (CKA_SIGN is false)", s->label, s->token);
    return THSM_OK;
}

/* A P-256 point from CKA_EC_POINT: DER OCTET STRING, or (some tokens) raw. */
static bool point_of(const uint8_t *v, CK_ULONG len, uint8_t pub[65])
{
    if (len == THSM_P256_PUB_LEN + 2 && v[0] == 0x04 && v[1] == 65)
        v += 2, len -= 2;
    if (len != THSM_P256_PUB_LEN || v[0] != 0x04)
        return false;
    memcpy(pub, v, THSM_P256_PUB_LEN);
    return true;
}

/* The first object of class with the key's CKA_ID (and of type X.509 for a
 * certificate); CK_INVALID_HANDLE when there is none. */
static CK_OBJECT_HANDLE with_key_id(thsm_p11_signer *s, CK_OBJECT_CLASS class)
{
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    CK_OBJECT_HANDLE h[1];
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &class, sizeof(class)},
                           {CKA_ID, s->id, s->id_len},
                           {CKA_CERTIFICATE_TYPE, &x509, sizeof(x509)}};
    if (s->id_len == 0)
        return CK_INVALID_HANDLE;
    return find(s, tmpl, class == CKO_CERTIFICATE ? 3 : 2, h, 1) ? h[0]
                                                                 : CK_INVALID_HANDLE;
}

static bool ec_point(thsm_p11_signer *s, CK_OBJECT_HANDLE h, uint8_t pub[65])
{
    uint8_t v[THSM_P256_PUB_LEN + 8];
    CK_ATTRIBUTE a = {CKA_EC_POINT, v, sizeof(v)};
    return h != CK_INVALID_HANDLE &&
           s->f->C_GetAttributeValue(s->session, h, &a, 1) == CKR_OK &&
           point_of(v, a.ulValueLen, pub);
}

/* DER to PEM ("-----BEGIN CERTIFICATE-----", 64 columns). */
static int cert_pem(const uint8_t *der, size_t len, char *pem, size_t cap)
{
    size_t at = (size_t)snprintf(pem, cap, "-----BEGIN CERTIFICATE-----\n");
    for (size_t off = 0; off < len; off += 48) {
        size_t n = len - off < 48 ? len - off : 48;
        if (at + 66 >= cap)
            return -1;
        at += (size_t)EVP_EncodeBlock((unsigned char *)pem + at, der + off, (int)n);
        pem[at++] = '\n';
    }
    int w = snprintf(pem + at, cap - at, "-----END CERTIFICATE-----\n");
    return w < 0 || (size_t)w >= cap - at ? -1 : 0;
}

/* The certificate with the key's CKA_ID as PEM, or "". */
static int read_cert(thsm_p11_signer *s, char *pem, size_t cap, thsm_err *err)
{
    uint8_t der[CERT_DER_MAX];
    CK_OBJECT_HANDLE h = with_key_id(s, CKO_CERTIFICATE);
    CK_ATTRIBUTE a = {CKA_VALUE, der, sizeof(der)};
    pem[0] = '\0';
    if (h == CK_INVALID_HANDLE)
        return THSM_OK;
    if (s->f->C_GetAttributeValue(s->session, h, &a, 1) != CKR_OK ||
        cert_pem(der, a.ulValueLen, pem, cap) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "cannot read the certificate of "
                         "key '%s' on token '%s' (larger than %d bytes?)",
                         s->label, s->token, CERT_DER_MAX);
    return THSM_OK;
}

/* ---- the signer ----------------------------------------------------------- */

static int p11_open(void *ctx, thsm_err *err)
{
    thsm_p11_signer *s = ctx;
    if (load_modules(s, err) != THSM_OK || find_token(s, err) != THSM_OK ||
        open_session(s, err) != THSM_OK || find_key(s, err) != THSM_OK)
        return err->code;
    return check_key(s, err);
}

static int p11_key(void *ctx, uint8_t pub[THSM_P256_PUB_LEN], char *pem,
                   size_t cap, thsm_err *err)
{
    thsm_p11_signer *s = ctx;
    thsm_x509_info cert;
    if (read_cert(s, pem, cap, err) != THSM_OK)
        return err->code;
    if (ec_point(s, with_key_id(s, CKO_PUBLIC_KEY), pub) ||
        ec_point(s, s->key, pub))
        return THSM_OK;
    if (pem[0] && thsm_x509_parse((uint8_t *)pem, strlen(pem), &cert) == 0) {
        memcpy(pub, cert.pub, THSM_P256_PUB_LEN);
        return THSM_OK;
    }
    return thsm_fail(err, THSM_ERR_FAIL, "cannot find the public key of key "
                     "'%s' on token '%s': no public key or certificate object "
                     "has its CKA_ID", s->label, s->token);
}

static int p11_sign(void *ctx, const uint8_t digest[THSM_SHA256_LEN],
                    uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err)
{
    thsm_p11_signer *s = ctx;
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    CK_ULONG len = THSM_P256_SIG_RAW_LEN;
    CK_RV rv = s->f->C_SignInit(s->session, &ecdsa, s->key);
    if (rv == CKR_OK && s->always_auth && login(s, CKU_CONTEXT_SPECIFIC, err))
        return err->code;
    if (rv == CKR_OK)
        rv = s->f->C_Sign(s->session, (CK_BYTE *)digest, THSM_SHA256_LEN, sig,
                          &len);
    if (rv != CKR_OK)
        return thsm_fail(err, THSM_ERR_FAIL, "token '%s' did not sign with key "
                         "'%s': %s", s->token, s->label, p11_kit_strerror(rv));
    if (len != THSM_P256_SIG_RAW_LEN)
        return thsm_fail(err, THSM_ERR_FAIL, "token '%s' returned a %lu-byte "
                         "signature, not the 64 bytes of ECDSA P-256",
                         s->token, (unsigned long)len);
    return THSM_OK;
}

int thsm_p11_signer_new(const thsm_p11_cfg *cfg, thsm_p11_signer **out,
                        thsm_err *err)
{
    thsm_p11_signer *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (!s || !(s->uri = p11_kit_uri_new())) {
        free(s);
        return thsm_fail(err, THSM_ERR_FAIL, "out of memory");
    }
    s->cfg = cfg;
    s->session = CK_INVALID_HANDLE;
    s->signer = (thsm_signer){"the PKCS#11 key", p11_open, p11_key, p11_sign, s};
    int rc = p11_kit_uri_parse(cfg->uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE,
                               s->uri);
    CK_ATTRIBUTE *class = rc == P11_KIT_URI_OK
                              ? p11_kit_uri_get_attribute(s->uri, CKA_CLASS)
                              : NULL;
    if (rc != P11_KIT_URI_OK)
        rc = thsm_fail(err, THSM_ERR_USAGE, "--key %s is not a PKCS#11 URI "
                       "(RFC 7512): %s", cfg->uri, p11_kit_uri_message(rc));
    else if (class && (class->ulValueLen != sizeof(CK_OBJECT_CLASS) ||
                       *(CK_OBJECT_CLASS *)class->pValue != CKO_PRIVATE_KEY))
        rc = thsm_fail(err, THSM_ERR_USAGE, "--key %s: the URI names another "
                       "object type; sign with type=private (or no type=)",
                       cfg->uri);
    if (rc != THSM_OK) {
        thsm_p11_signer_free(s);
        return rc;
    }
    *out = s;
    return THSM_OK;
}

const thsm_signer *thsm_p11_signer_get(const thsm_p11_signer *s)
{
    return &s->signer;
}

void thsm_p11_signer_free(thsm_p11_signer *s)
{
    if (!s)
        return;
    if (s->session != CK_INVALID_HANDLE) {
        if (s->logged_in)
            s->f->C_Logout(s->session);
        s->f->C_CloseSession(s->session);
    }
    if (s->loaded) {
        p11_kit_module_finalize(s->loaded);
        p11_kit_module_release(s->loaded);
    }
    if (s->registered)
        p11_kit_modules_finalize_and_release(s->registered);
    if (s->uri)
        p11_kit_uri_free(s->uri);
    explicit_bzero(s, sizeof(*s));
    free(s);
}
