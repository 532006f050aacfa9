/*
 * handlers_keys.c - the CA and signer commands: keys, certificates,
 * signatures (layer: handlers).
 *
 * Each handler first validates every parameter, then checks the device state,
 * then acts; state changes are saved before the answer is sent, and a failed
 * save reloads the previous state, so a request that fails changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/sha256.h"
#include "crypto/util.h"
#include "device/audit.h"
#include "device/handlers.h"
#include "device/image.h"
#include "device/policy.h"
#include "device/response.h"
#include "device/state.h"
#include "device/store.h"
#include "util/base64.h"
#include "util/hex.h"

/* ---- shared helpers ----------------------------------------------------- */

/* Puts key (ownership moves) into the slot, wrapped under the session KEK.
 * The slot's certificate goes: it names the old key. */
static int install_key(thsm_device *dev, thsm_slot *s, const char *name,
                       thsm_p256_key *key, uint8_t imported)
{
    thsm_slot_forget_key(s);
    s->key = *key; /* key is not used again */
    s->has_key = s->key_loaded = 1;
    s->imported = imported;
    s->has_cert = 0;
    s->cert_len = 0;
    if (thsm_slot_wrap(s, name, dev->kek) != 0) {
        thsm_device_reload(dev);
        thsm_resp_error(dev, THSM_E_CRYPTO, "key wrapping failed");
        return -1;
    }
    return 0;
}

/* Replaces the slot's key with a fresh one. */
static int new_key(thsm_device *dev, thsm_slot *s, const char *name)
{
    thsm_p256_key fresh = {0};
    if (thsm_p256_generate(&fresh) != 0) {
        thsm_p256_key_clear(&fresh);
        thsm_resp_error(dev, THSM_E_CRYPTO, "key generation failed");
        return -1;
    }
    return install_key(dev, s, name, &fresh, 0);
}

typedef struct {
    thsm_x509_name name;
    int64_t start, end;
} cert_params;

/* Validates C, O, CN, START and DAYS; answers the error itself. */
static int parse_cert_params(thsm_device *dev, const thsm_params *ps,
                             cert_params *cp)
{
    cp->name.c = thsm_params_get(ps, THSM_P_C);
    cp->name.o = thsm_params_get(ps, THSM_P_O);
    cp->name.cn = thsm_params_get(ps, THSM_P_CN);
    const char *why = thsm_cert_values_check(
        cp->name.c, cp->name.o, cp->name.cn, thsm_params_get(ps, THSM_P_START),
        thsm_params_get(ps, THSM_P_DAYS), &cp->start, &cp->end);
    if (why)
        thsm_resp_error(dev, THSM_E_BAD_PARAM, "%s", why);
    return why ? -1 : 0;
}

/* Issues a certificate for key, signed by issuer (issuer_cert NULL: self). */
static int issue(thsm_device *dev, const cert_params *cp, thsm_p256_key *key,
                 int is_ca, thsm_slot *issuer, thsm_slot *into)
{
    thsm_x509_request req = {
        .subject = cp->name,
        .subject_pub = key->pub,
        .not_before = cp->start,
        .not_after = cp->end,
        .is_ca = is_ca,
        .issuer_der = issuer ? issuer->cert : NULL,
        .issuer_der_len = issuer ? issuer->cert_len : 0,
    };
    if (thsm_random(req.serial, sizeof(req.serial)) == 0) {
        req.serial[0] = (uint8_t)((req.serial[0] & 0x7f) | 0x40); /* positive */
        if (thsm_x509_issue(&req, issuer ? &issuer->key : key, into->cert,
                            sizeof(into->cert), &into->cert_len) == 0)
            return 0;
    }
    thsm_resp_error(dev, THSM_E_CRYPTO, "certificate creation failed");
    return -1;
}

static int get_format(thsm_device *dev, const thsm_params *ps, bool *der)
{
    const char *f = thsm_params_get(ps, THSM_P_FORMAT);
    *der = f && strcmp(f, THSM_V_FORMAT_DER) == 0;
    if (f && !*der && strcmp(f, THSM_V_FORMAT_PEM) != 0) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_FORMAT " must be "
                        THSM_V_FORMAT_PEM " or " THSM_V_FORMAT_DER);
        return -1;
    }
    return 0;
}

static void send_cert(thsm_device *dev, const thsm_slot *s, bool der)
{
    if (!der) {
        thsm_resp_line(dev, THSM_ANS_OK);
        thsm_resp_pem(dev, s->cert, s->cert_len);
        return;
    }
    char *hex = dev->work.text; /* 2 * THSM_CERT_MAX + 1 bytes */
    thsm_hex(s->cert, s->cert_len, hex);
    thsm_resp_line(dev, THSM_ANS_OK " %lu %s", (unsigned long)s->cert_len, hex);
}

/* Lines of a readable summary; none starts with O, K or a space. */
static void send_info(thsm_device *dev, const thsm_slot *s)
{
    thsm_x509_info info;
    if (thsm_x509_parse(s->cert, s->cert_len, &info) != 0) {
        thsm_resp_error(dev, THSM_E_CRYPTO, "stored certificate does not parse");
        return;
    }
    char from[THSM_TIME_TEXT], to[THSM_TIME_TEXT], fp[2 * THSM_SHA256_LEN + 1];
    uint8_t digest[THSM_SHA256_LEN];
    thsm_format_time(info.not_before, from);
    thsm_format_time(info.not_after, to);
    thsm_sha256(s->key.pub, THSM_P256_PUB_LEN, digest);
    thsm_hex(digest, sizeof(digest), fp);
    thsm_resp_line(dev, THSM_ANS_OK);
    thsm_resp_line(dev, "Subject: %s", info.subject);
    thsm_resp_line(dev, "Issuer: %s", info.issuer);
    thsm_resp_line(dev, "Serial: %s", info.serial_hex);
    thsm_resp_line(dev, "Valid from: %s", from);
    thsm_resp_line(dev, "Valid until: %s", to);
    thsm_resp_line(dev, "Type: %s", info.is_ca ? "CA" : "end entity");
    thsm_resp_line(dev, "Public key: ECDSA P-256, SHA-256 fingerprint %s", fp);
}

/* ---- handlers ----------------------------------------------------------- */

void thsm_h_ca_new_cert(thsm_device *dev, const thsm_params *ps)
{
    cert_params cp;
    if (parse_cert_params(dev, ps, &cp) != 0)
        return;
    if (dev->st.ca.has_key) {
        thsm_resp_error(dev, THSM_E_CA_EXISTS,
                        "a CA exists; " THSM_CMD_DECOMMISSION
                        " erases it first");
        return;
    }
    thsm_slot *ca = &dev->st.ca;
    if (new_key(dev, ca, "ca") != 0)
        return;
    if (issue(dev, &cp, &ca->key, 1, NULL, ca) != 0) {
        thsm_device_reload(dev);
        return;
    }
    ca->has_cert = 1;
    if (thsm_save_or_restore(dev) == 0) {
        thsm_state_changed(dev, THSM_EV_CA_CREATE, ca, NULL);
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}

void thsm_h_ca_cert(thsm_device *dev, const thsm_params *ps)
{
    bool der;
    if (get_format(dev, ps, &der) != 0)
        return;
    if (!dev->st.ca.has_cert)
        thsm_resp_error(dev, THSM_E_NO_CA, "no CA certificate; create one "
                        "with " THSM_CMD_CA_NEW_CERT);
    else
        send_cert(dev, &dev->st.ca, der);
}

void thsm_h_ca_info(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    if (!dev->st.ca.has_cert)
        thsm_resp_error(dev, THSM_E_NO_CA, "no CA certificate");
    else
        send_info(dev, &dev->st.ca);
}

void thsm_h_signer_new_key(thsm_device *dev, const thsm_params *ps)
{
    if (strcmp(thsm_params_get(ps, THSM_P_ALGO), THSM_V_ALGO_P256) != 0) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM,
                        THSM_P_ALGO " must be " THSM_V_ALGO_P256);
        return;
    }
    if (new_key(dev, &dev->st.signer, "signer") == 0 &&
        thsm_save_or_restore(dev) == 0) {
        thsm_state_changed(dev, THSM_EV_SIGNER_KEY, &dev->st.signer, NULL);
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}

void thsm_h_signer_new_cert(thsm_device *dev, const thsm_params *ps)
{
    const char *type = thsm_params_get(ps, THSM_P_TYPE);
    bool self = strcmp(type, THSM_V_TYPE_SELF_SIGNED) == 0;
    cert_params cp;
    if (!self && strcmp(type, THSM_V_TYPE_CA_SIGNED) != 0) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_TYPE " must be "
                        THSM_V_TYPE_CA_SIGNED " or " THSM_V_TYPE_SELF_SIGNED);
        return;
    }
    if (parse_cert_params(dev, ps, &cp) != 0)
        return;
    thsm_slot *s = &dev->st.signer;
    if (!s->has_key) {
        thsm_resp_error(dev, THSM_E_NO_SIGNER, "no signer key; create one "
                        "with " THSM_CMD_SIGNER_NEW_KEY " " THSM_P_ALGO "="
                        THSM_V_ALGO_P256);
        return;
    }
    if (!self && !dev->st.ca.has_cert) {
        thsm_resp_error(dev, THSM_E_NO_CA, "no CA to sign the certificate");
        return;
    }
    if (issue(dev, &cp, &s->key, 0, self ? NULL : &dev->st.ca, s) != 0) {
        thsm_device_reload(dev);
        return;
    }
    s->has_cert = 1;
    if (thsm_save_or_restore(dev) == 0) {
        uint8_t cert_hash[THSM_SHA256_LEN];
        thsm_sha256(s->cert, s->cert_len, cert_hash);
        thsm_state_changed(dev, self ? THSM_EV_SIGNER_CERT_SELF : THSM_EV_SIGNER_CERT, s,
                           cert_hash);
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}

/* Whether the signer can be used; answers the error when not. */
static bool signer_usable(thsm_device *dev)
{
    if (!dev->st.signer.has_key) {
        thsm_resp_error(dev, THSM_E_NO_SIGNER, "no signer key");
        return false;
    }
    if (!dev->st.signer.has_cert) {
        thsm_resp_error(dev, THSM_E_NO_SIGNER_CERT,
                        "the signer key has no certificate; issue one with "
                        THSM_CMD_SIGNER_NEW_CERT);
        return false;
    }
    return true;
}

void thsm_h_signer_cert(thsm_device *dev, const thsm_params *ps)
{
    bool der;
    if (get_format(dev, ps, &der) == 0 && signer_usable(dev))
        send_cert(dev, &dev->st.signer, der);
}

void thsm_h_signer_info(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    if (signer_usable(dev))
        send_info(dev, &dev->st.signer);
}

/* Splits a certificate's subject "C=US, O=MyHSM, CN=My_CA" (in info)
 * into name. The values hold no spaces (certvalues.h), so ", " separates
 * the entries. 0, or -1 when C, O or CN is missing. */
static int split_subject(char *subject, thsm_x509_name *name)
{
    memset(name, 0, sizeof(*name));
    for (char *e = subject, *next; e; e = next) {
        next = strstr(e, ", ");
        if (next) {
            *next = '\0';
            next += 2;
        }
        if (strncmp(e, "C=", 2) == 0)
            name->c = e + 2;
        else if (strncmp(e, "O=", 2) == 0)
            name->o = e + 2;
        else if (strncmp(e, "CN=", 3) == 0)
            name->cn = e + 3;
    }
    return name->c && name->o && name->cn ? 0 : -1;
}

/* The slot whose certificate AT+CERT_RENEW renews, with the new validity
 * in cp; NULL when refused (answered). */
static thsm_slot *renew_slot(thsm_device *dev, const thsm_params *ps,
                             cert_params *cp)
{
    const char *which = thsm_params_get(ps, THSM_P_CERT);
    bool ca = strcmp(which, THSM_V_CERT_CA) == 0;
    if (!ca && strcmp(which, THSM_V_CERT_SIGNER) != 0) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_CERT " must be "
                        THSM_V_CERT_CA " or " THSM_V_CERT_SIGNER);
        return NULL;
    }
    /* the checks of a new certificate; the subject stays as it is */
    const char *why = thsm_cert_values_check(
        "XX", "x", "x", thsm_params_get(ps, THSM_P_START),
        thsm_params_get(ps, THSM_P_DAYS), &cp->start, &cp->end);
    if (why) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM, "%s", why);
        return NULL;
    }
    if (ca && !dev->st.ca.has_cert)
        thsm_resp_error(dev, THSM_E_NO_CA, "no CA certificate to renew");
    else if (ca)
        return &dev->st.ca;
    else if (signer_usable(dev))
        return &dev->st.signer;
    return NULL;
}

/* A new certificate for the same key, subject and kind (CA, CA-signed or
 * self-signed signer): what a bootloader holds (the key) stays valid. */
void thsm_h_cert_renew(thsm_device *dev, const thsm_params *ps)
{
    cert_params cp;
    thsm_x509_info old;
    thsm_slot *s = renew_slot(dev, ps, &cp);
    if (!s)
        return;
    bool ca = s == &dev->st.ca;
    if (thsm_x509_parse(s->cert, s->cert_len, &old) != 0) {
        thsm_resp_error(dev, THSM_E_CRYPTO, "stored certificate does not parse");
        return;
    }
    /* a signer certificate the CA issued is issued by it again */
    bool by_ca = !ca && strcmp(old.issuer, old.subject) != 0;
    if (by_ca && !dev->st.ca.has_cert) {
        thsm_resp_error(dev, THSM_E_NO_CA, "no CA to sign the certificate");
        return;
    }
    if (split_subject(old.subject, &cp.name) != 0) {
        thsm_resp_error(dev, THSM_E_CRYPTO, "stored certificate has no C, O "
                        "and CN");
        return;
    }
    if (issue(dev, &cp, &s->key, ca, by_ca ? &dev->st.ca : NULL, s) != 0) {
        thsm_device_reload(dev);
        return;
    }
    if (thsm_save_or_restore(dev) == 0) {
        uint8_t cert_hash[THSM_SHA256_LEN];
        thsm_sha256(s->cert, s->cert_len, cert_hash);
        thsm_state_changed(dev, ca ? THSM_EV_CA_RENEW : THSM_EV_SIGNER_RENEW,
                           s, cert_hash);
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}

/* The records of a signature: an image's (its details, then the
 * signature naming its format and SHA-256), or a bare digest's. */
static int record_signature(thsm_device *dev, const uint8_t *digest,
                            const thsm_image_info *img)
{
    char detail[THSM_LOG_DETAIL_IMAGE_MAX];
    int rc = 0;
    if (img) {
        /* at most 2+16+3+24+3+10 characters: within the digest field */
        snprintf(detail, sizeof(detail), THSM_LOG_DETAIL_BOARD "%.16s,"
                 THSM_LOG_DETAIL_VERSION "%.24s," THSM_LOG_DETAIL_SIZE "%lu",
                 img->board[0] ? img->board : THSM_LOG_FIELD_NONE,
                 img->version_text, (unsigned long)img->size);
        rc = thsm_audit_append_text(dev, THSM_EV_IMAGE, &dev->st.signer,
                                    detail, img->format == THSM_IMG_MCUBOOT
                                                ? THSM_V_MCUBOOT
                                                : THSM_V_SECUREBOOT10);
    }
    if (rc == 0)
        rc = thsm_audit_append(dev, !img ? THSM_EV_SIGN
                               : img->format == THSM_IMG_MCUBOOT
                                   ? THSM_EV_SIGN_MCUBOOT
                                   : THSM_EV_SIGN_SB10,
                               &dev->st.signer, digest, THSM_LOG_RESULT_OK);
    if (rc == THSM_AUDIT_FULL)
        thsm_resp_error(dev, THSM_E_STORAGE, "audit log full: no room for the "
                        "record of another signature; signature withheld");
    else if (rc != 0)
        thsm_resp_error(dev, THSM_E_STORAGE, "audit log not writable; "
                        "signature withheld");
    return rc == 0 ? 0 : -1;
}

/* Signs digest (of img, or a bare one when img is NULL) once its records
 * are written and the policy's state saved, and answers the signature. */
static void sign_recorded(thsm_device *dev, const uint8_t *digest,
                          const thsm_image_info *img)
{
    uint8_t der[THSM_P256_SIG_DER_MAX];
    char hex[2 * THSM_P256_SIG_DER_MAX + 1];
    size_t der_len;
    if (thsm_p256_sign(&dev->st.signer.key, digest, der, &der_len) != 0) {
        thsm_resp_error(dev, THSM_E_CRYPTO, "signing failed");
        return;
    }
    char why[THSM_AUDIT_WHY];
    if (thsm_audit_recover(dev, why, sizeof(why))) {
        thsm_device_flush(dev); /* the finding is sealed at once */
        thsm_resp_error(dev, THSM_E_STORAGE, "%s; signature withheld", why);
        return;
    }
    if (record_signature(dev, digest, img) != 0)
        return;
    /* a power cut leaves the old or the new last version, and never a
       signature out whose record the state does not hold */
    if (thsm_policy_note_signed(dev, img) && thsm_save_or_restore(dev) != 0)
        return;
    dev->signatures++;
    thsm_hex(der, der_len, hex);
    thsm_resp_line(dev, THSM_ANS_OK " %lu %s", (unsigned long)der_len, hex);
}

void thsm_h_signer_sign(thsm_device *dev, const thsm_params *ps)
{
    uint8_t digest[THSM_SHA256_LEN];
    if (thsm_parse_hex(thsm_params_get(ps, THSM_P_HASH), digest, sizeof(digest))) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_HASH " must be 64 hex digits");
        return;
    }
    if (signer_usable(dev) && thsm_policy_check_digest(dev) == 0)
        sign_recorded(dev, digest, NULL);
}

/* ---- image mode (AT+IMG_*) ------------------------------------------------ */

static void img_error(thsm_device *dev, const thsm_img_err *e)
{
    thsm_resp_error(dev, e->code, "%s", e->text);
}

void thsm_h_img_begin(thsm_device *dev, const thsm_params *ps)
{
    const char *f = thsm_params_get(ps, THSM_P_FORMAT);
    const char *name = thsm_params_get(ps, THSM_P_NAME);
    uint8_t format = strcmp(f, THSM_V_SECUREBOOT10) == 0 ? THSM_IMG_SECUREBOOT10
                     : strcmp(f, THSM_V_MCUBOOT) == 0   ? THSM_IMG_MCUBOOT
                                                            : 0;
    uint32_t size;
    thsm_img_err e;
    thsm_session *s = dev->sess;
    thsm_img_abandon(&s->img);
    if (!format)
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_FORMAT " must be "
                        THSM_V_SECUREBOOT10 " or " THSM_V_MCUBOOT);
    else if (thsm_parse_uint(thsm_params_get(ps, THSM_P_SIZE), 1, UINT32_MAX,
                             &size) != 0)
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_SIZE " must be a "
                        "number of bytes");
    else if (thsm_policy_check_size(dev, size) != 0)
        return; /* refused before a byte is hashed: answered and logged */
    else if (thsm_img_begin(&s->img, format, size, name ? name : "",
                            s->login_serial, &e) != 0)
        img_error(dev, &e);
    else if (signer_usable(dev))
        thsm_resp_line(dev, THSM_ANS_OK);
    else
        thsm_img_abandon(&s->img);
}

void thsm_h_img_data(thsm_device *dev, const thsm_params *ps)
{
    thsm_session *s = dev->sess;
    uint8_t *chunk = (uint8_t *)dev->work.text; /* > THSM_PROTO_IMG_CHUNK */
    uint32_t seq;
    thsm_img_err e;
    long n = thsm_base64_decode(thsm_params_get(ps, THSM_P_DATA), chunk,
                                THSM_PROTO_IMG_CHUNK);
    if (thsm_parse_uint(thsm_params_get(ps, THSM_P_SEQ), 0, UINT32_MAX,
                        &seq) != 0 || n <= 0) {
        thsm_img_abandon(&s->img);
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_SEQ " must be a number "
                        "and " THSM_P_DATA " 1 to 512 bytes in base64; the "
                        "stream is abandoned");
    } else if (thsm_img_data(&s->img, s->login_serial, seq, chunk,
                             (size_t)n, &e) != 0) {
        img_error(dev, &e);
    } else {
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}

void thsm_h_img_end(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_image_info img;
    thsm_img_err e;
    thsm_session *s = dev->sess;
    if (thsm_img_finish(&s->img, s->login_serial, &img, &e) != 0) {
        img_error(dev, &e);
        return;
    }
    if (signer_usable(dev) && thsm_policy_check_image(dev, &img) == 0)
        sign_recorded(dev, img.sha256, &img);
}

void thsm_h_img_abort(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_img_stream *st = &dev->sess->img;
    if (!st->active) {
        thsm_resp_error(dev, THSM_E_IMG_STATE, "no image stream open");
        return;
    }
    thsm_img_abandon(st);
    thsm_resp_line(dev, THSM_ANS_OK);
}

void thsm_h_signer_pubkey(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    char hex[2 * THSM_P256_PUB_LEN + 1];
    if (!dev->st.signer.has_key) {
        thsm_resp_error(dev, THSM_E_NO_SIGNER, "no signer key");
        return;
    }
    thsm_hex(dev->st.signer.key.pub, THSM_P256_PUB_LEN, hex);
    thsm_resp_line(dev, THSM_ANS_OK " %s", hex);
}

/* Importing needs a PIN: without one anybody on the line could swap the
 * key. Answers the refusal itself. */
static bool pin_required(thsm_device *dev, const char *what)
{
    if (dev->st.pin.set)
        return true;
    thsm_resp_error(dev, THSM_E_NO_PIN, "%s needs a PIN; set one first with "
                    THSM_CMD_PIN_SET, what);
    return false;
}

/* The signer key from outside: KEY= holds its private scalar (64 hex
 * digits). The line is secret (the session wipes it and never echoes it). */
void thsm_h_signer_import(thsm_device *dev, const thsm_params *ps)
{
    uint8_t priv[THSM_P256_PRIV_LEN];
    thsm_p256_key key = {0};
    int bad = thsm_parse_hex(thsm_params_get(ps, THSM_P_KEY), priv,
                             sizeof(priv)) != 0 ||
              thsm_p256_import(&key, priv) != 0;
    thsm_wipe(priv, sizeof(priv));
    if (bad) {
        thsm_p256_key_clear(&key);
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_KEY " must be a P-256 "
                        "private key: 64 hex digits, 1 to n-1");
        return;
    }
    if (!pin_required(dev, "importing a key") ||
        thsm_policy_check_import(dev) != 0) {
        thsm_p256_key_clear(&key);
        return;
    }
    if (install_key(dev, &dev->st.signer, "signer", &key, 1) == 0 &&
        thsm_save_or_restore(dev) == 0) {
        thsm_state_changed(dev, THSM_EV_SIGNER_IMPORT, &dev->st.signer, NULL);
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}

/* A signer certificate from outside (CERT=: base64 DER), for the signer's
 * own key only. */
void thsm_h_signer_cert_set(thsm_device *dev, const thsm_params *ps)
{
    uint8_t *der = (uint8_t *)dev->work.text; /* leaf use of the work area */
    thsm_x509_info info;
    thsm_slot *s = &dev->st.signer;
    long len = thsm_base64_decode(thsm_params_get(ps, THSM_P_CERT), der,
                                  THSM_PROTO_CERT_SET_MAX);
    if (len <= 0 || thsm_x509_parse(der, (size_t)len, &info) != 0) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_CERT " must be a DER "
                        "X.509 certificate in base64, at most %d bytes",
                        THSM_PROTO_CERT_SET_MAX);
        return;
    }
    if (!pin_required(dev, "setting a certificate"))
        return;
    if (!s->has_key) {
        thsm_resp_error(dev, THSM_E_NO_SIGNER, "no signer key");
        return;
    }
    if (memcmp(info.pub, s->key.pub, THSM_P256_PUB_LEN) != 0) {
        thsm_resp_error(dev, THSM_E_CERT_MISMATCH, "the certificate is not for "
                        "the signer key (its public key differs)");
        return;
    }
    memcpy(s->cert, der, (size_t)len);
    s->cert_len = (size_t)len;
    s->has_cert = 1;
    if (thsm_save_or_restore(dev) == 0) {
        uint8_t cert_hash[THSM_SHA256_LEN];
        thsm_sha256(s->cert, s->cert_len, cert_hash);
        thsm_state_changed(dev, THSM_EV_SIGNER_CERT_SET, s, cert_hash);
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}
