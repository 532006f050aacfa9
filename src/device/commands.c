/*
 * commands.c - the AT command table and its handlers.
 *
 * Each handler first validates every parameter, then checks the device state,
 * then acts; state changes are saved before the answer is sent, and a failed
 * save reloads the previous state, so a request that fails changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "device/internal.h"

#define MAX_DAYS 36500 /* 100 years: anything longer is a typo */

enum {
    NEEDS_STORE = 1, /* refused while the stored state is unreadable */
    NEEDS_AUTH = 2,  /* refused without AT+AUTH once a PIN is set */
    BLOCKED_OK = 4,  /* allowed without AT+AUTH when the PIN is blocked */
    SECRET = 8,      /* carries a PIN: no answer repeats its parameter text */
};

typedef struct {
    const char *name;
    void (*run)(thsm_device *dev, const thsm_params *ps);
    const char *required[6];
    const char *optional[2];
    unsigned flags;
} command;

/* ---- shared helpers ----------------------------------------------------- */

/* Replaces the slot's key with a fresh one, wrapped under the session KEK.
 * The slot's certificate goes: it names the old key. */
static int new_key(thsm_device *dev, thsm_slot *s, const char *name)
{
    thsm_p256_key fresh = {0};
    if (thsm_p256_generate(&fresh) != 0) {
        thsm_p256_key_clear(&fresh);
        thsm_resp_error(dev, "CRYPTO", "key generation failed");
        return -1;
    }
    thsm_slot_forget_key(s);
    s->key = fresh; /* ownership moves: fresh is not used again */
    s->has_key = s->key_loaded = 1;
    s->has_cert = 0;
    s->cert_len = 0;
    if (thsm_slot_wrap(s, name, dev->kek) != 0) {
        thsm_device_reload(dev);
        thsm_resp_error(dev, "CRYPTO", "key wrapping failed");
        return -1;
    }
    return 0;
}

static int field_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > THSM_X509_FIELD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x21 || v[i] > 0x7e)
            return 0;
    return 1;
}

static int country_ok(const char *v)
{
    return strlen(v) == 2 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' &&
           v[1] <= 'Z';
}

typedef struct {
    thsm_x509_name name;
    int64_t start, end;
} cert_params;

/* Validates C, O, CN, START and DAYS; answers the error itself. */
static int parse_cert_params(thsm_device *dev, const thsm_params *ps,
                             cert_params *cp)
{
    cp->name.c = thsm_params_get(ps, "C");
    cp->name.o = thsm_params_get(ps, "O");
    cp->name.cn = thsm_params_get(ps, "CN");
    uint32_t days;
    if (!country_ok(cp->name.c)) {
        thsm_resp_error(dev, "BAD_PARAM", "C must be two capital letters");
    } else if (!field_ok(cp->name.o) || !field_ok(cp->name.cn)) {
        thsm_resp_error(dev, "BAD_PARAM",
                        "O and CN must be 1 to %d printable ASCII characters",
                        THSM_X509_FIELD_MAX);
    } else if (thsm_parse_start(thsm_params_get(ps, "START"), &cp->start)) {
        thsm_resp_error(dev, "BAD_PARAM",
                        "START must be a valid date YYYYMMDDhhmmss from 1970");
    } else if (thsm_parse_uint(thsm_params_get(ps, "DAYS"), 1, MAX_DAYS,
                               &days)) {
        thsm_resp_error(dev, "BAD_PARAM", "DAYS must be a number from 1 to %d",
                        MAX_DAYS);
    } else if ((cp->end = cp->start + (int64_t)days * 86400) > THSM_TIME_MAX) {
        thsm_resp_error(dev, "BAD_PARAM", "validity would end after year 9999");
    } else {
        return 0;
    }
    return -1;
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
    thsm_resp_error(dev, "CRYPTO", "certificate creation failed");
    return -1;
}

static int get_format(thsm_device *dev, const thsm_params *ps, int *der)
{
    const char *f = thsm_params_get(ps, "FORMAT");
    *der = f && strcmp(f, "DER") == 0;
    if (f && !*der && strcmp(f, "PEM") != 0) {
        thsm_resp_error(dev, "BAD_PARAM", "FORMAT must be PEM or DER");
        return -1;
    }
    return 0;
}

static void send_cert(thsm_device *dev, const thsm_slot *s, int der)
{
    if (!der) {
        thsm_resp_line(dev, "OK");
        thsm_resp_pem(dev, s->cert, s->cert_len);
        return;
    }
    char hex[2 * THSM_CERT_MAX + 1];
    thsm_hex(s->cert, s->cert_len, hex);
    thsm_resp_line(dev, "OK %lu %s", (unsigned long)s->cert_len, hex);
}

/* Lines of a readable summary; none starts with O, K or a space. */
static void send_info(thsm_device *dev, const thsm_slot *s)
{
    thsm_x509_info info;
    if (thsm_x509_parse(s->cert, s->cert_len, &info) != 0) {
        thsm_resp_error(dev, "CRYPTO", "stored certificate does not parse");
        return;
    }
    char from[THSM_TIME_TEXT], to[THSM_TIME_TEXT], fp[2 * THSM_SHA256_LEN + 1];
    uint8_t digest[THSM_SHA256_LEN];
    thsm_format_time(info.not_before, from);
    thsm_format_time(info.not_after, to);
    thsm_sha256(s->key.pub, THSM_P256_PUB_LEN, digest);
    thsm_hex(digest, sizeof(digest), fp);
    thsm_resp_line(dev, "OK");
    thsm_resp_line(dev, "Subject: %s", info.subject);
    thsm_resp_line(dev, "Issuer: %s", info.issuer);
    thsm_resp_line(dev, "Serial: %s", info.serial_hex);
    thsm_resp_line(dev, "Valid from: %s", from);
    thsm_resp_line(dev, "Valid until: %s", to);
    thsm_resp_line(dev, "Type: %s", info.is_ca ? "CA" : "end entity");
    thsm_resp_line(dev, "Public key: ECDSA P-256, SHA-256 fingerprint %s", fp);
}

/* ---- handlers ----------------------------------------------------------- */

static void h_at(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_resp_line(dev, "OK");
}

/* Ends this session's login and reloads the stored state. */
static void h_reset(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_login_end(dev, dev->sess);
    int rc = thsm_device_reload(dev);
    if (rc == -2)
        thsm_resp_error(dev, "STORAGE", "state.bin is older than the state in "
                        "memory; kept the newer state and saved it again");
    else if (rc != 0)
        thsm_resp_error(dev, "STORAGE", "%s", dev->storage_reason);
    else
        thsm_resp_line(dev, "OK Reset");
}

static void h_version(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_resp_line(dev, "OK tinyhsmd %s", THSM_VERSION);
}

static void h_about(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_resp_line(dev, "OK TinyHSM software device: ECDSA P-256 CA and "
                        "signer keys for secure boot");
}

static void h_ready(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_resp_line(dev, dev->storage_error ? "OK NOT_READY" : "OK READY");
}

static void h_host_key(thsm_device *dev, const thsm_params *ps)
{
    (void)ps; /* no host pairing key: the link is a local pseudo-terminal */
    thsm_resp_line(dev, "OK NOT_USED");
}

static void h_serial(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    uint8_t dk[THSM_DEVICE_KEY_LEN], serial[9];
    char hex[2 * sizeof(serial) + 1];
    int rc = dev->port->device_key(dev->port->ctx, dk) == THSM_PORT_OK &&
             thsm_hkdf_sha256(dk, sizeof(dk), NULL, 0, "tinyhsm/serial/v1",
                              serial, sizeof(serial)) == 0;
    thsm_wipe(dk, sizeof(dk));
    if (!rc) {
        thsm_resp_error(dev, "STORAGE", "device key unavailable");
        return;
    }
    thsm_hex(serial, sizeof(serial), hex);
    thsm_resp_line(dev, "OK %s", hex);
}

static void h_store_ok(thsm_device *dev, const thsm_params *ps)
{
    (void)ps; /* the store is opened at start; NEEDS_STORE did the check */
    thsm_resp_line(dev, "OK");
}

static void h_decommission(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    uint32_t gen = dev->st.generation; /* never goes back: see load_state */
    thsm_state_clear(&dev->st); /* the PIN too: the device is new again */
    dev->st.generation = gen;
    if (thsm_save_or_restore(dev) == 0) {
        thsm_login_end(dev, dev->sess);
        thsm_login_end_others(dev, dev->sess);
        thsm_device_reload(dev);
        thsm_state_changed(dev, "DECOMMISSION", NULL, NULL);
        thsm_resp_line(dev, "OK");
    }
}

static void h_ca_new_cert(thsm_device *dev, const thsm_params *ps)
{
    cert_params cp;
    if (parse_cert_params(dev, ps, &cp) != 0)
        return;
    if (dev->st.ca.has_key) {
        thsm_resp_error(dev, "CA_EXISTS",
                        "a CA exists; AT+STSAFE_DECOMMISSION erases it first");
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
        thsm_state_changed(dev, "CA_CREATE", ca, NULL);
        thsm_resp_line(dev, "OK");
    }
}

static void h_ca_cert(thsm_device *dev, const thsm_params *ps)
{
    int der;
    if (get_format(dev, ps, &der) != 0)
        return;
    if (!dev->st.ca.has_cert)
        thsm_resp_error(dev, "NO_CA", "no CA certificate; create one with "
                                      "AT+HSM_CA_NEW_CERT");
    else
        send_cert(dev, &dev->st.ca, der);
}

static void h_ca_info(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    if (!dev->st.ca.has_cert)
        thsm_resp_error(dev, "NO_CA", "no CA certificate");
    else
        send_info(dev, &dev->st.ca);
}

static void h_signer_new_key(thsm_device *dev, const thsm_params *ps)
{
    if (strcmp(thsm_params_get(ps, "ALGO"), "SECP256R1") != 0) {
        thsm_resp_error(dev, "BAD_PARAM", "ALGO must be SECP256R1");
        return;
    }
    if (new_key(dev, &dev->st.signer, "signer") == 0 &&
        thsm_save_or_restore(dev) == 0) {
        thsm_state_changed(dev, "SIGNER_KEY", &dev->st.signer, NULL);
        thsm_resp_line(dev, "OK");
    }
}

static void h_signer_new_cert(thsm_device *dev, const thsm_params *ps)
{
    const char *type = thsm_params_get(ps, "TYPE");
    int self = strcmp(type, "SELF-SIGNED") == 0;
    cert_params cp;
    if (!self && strcmp(type, "CA-SIGNED") != 0) {
        thsm_resp_error(dev, "BAD_PARAM", "TYPE must be CA-SIGNED or SELF-SIGNED");
        return;
    }
    if (parse_cert_params(dev, ps, &cp) != 0)
        return;
    thsm_slot *s = &dev->st.signer;
    if (!s->has_key) {
        thsm_resp_error(dev, "NO_SIGNER", "no signer key; create one with "
                                          "AT+SIGNER_NEW_KEY ALGO=SECP256R1");
        return;
    }
    if (!self && !dev->st.ca.has_cert) {
        thsm_resp_error(dev, "NO_CA", "no CA to sign the certificate");
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
        thsm_state_changed(dev, self ? "SIGNER_CERT_SELF" : "SIGNER_CERT", s,
                           cert_hash);
        thsm_resp_line(dev, "OK");
    }
}

/* Answers the error when the signer cannot be used; 0 when it can. */
static int signer_usable(thsm_device *dev)
{
    if (!dev->st.signer.has_key) {
        thsm_resp_error(dev, "NO_SIGNER", "no signer key");
        return -1;
    }
    if (!dev->st.signer.has_cert) {
        thsm_resp_error(dev, "NO_SIGNER_CERT",
                        "the signer key has no certificate; issue one with "
                        "AT+SIGNER_NEW_CERT");
        return -1;
    }
    return 0;
}

static void h_signer_cert(thsm_device *dev, const thsm_params *ps)
{
    int der;
    if (get_format(dev, ps, &der) == 0 && signer_usable(dev) == 0)
        send_cert(dev, &dev->st.signer, der);
}

static void h_signer_info(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    if (signer_usable(dev) == 0)
        send_info(dev, &dev->st.signer);
}

static void h_signer_sign(thsm_device *dev, const thsm_params *ps)
{
    uint8_t digest[THSM_SHA256_LEN], der[THSM_P256_SIG_DER_MAX];
    char hex[2 * THSM_P256_SIG_DER_MAX + 1];
    size_t der_len;
    if (thsm_parse_hex(thsm_params_get(ps, "HASH"), digest, sizeof(digest))) {
        thsm_resp_error(dev, "BAD_PARAM", "HASH must be 64 hex digits");
        return;
    }
    if (signer_usable(dev) != 0)
        return;
    if (thsm_p256_sign(&dev->st.signer.key, digest, der, &der_len) != 0) {
        thsm_resp_error(dev, "CRYPTO", "signing failed");
        return;
    }
    if (thsm_audit_append(dev, "SIGN", &dev->st.signer, digest, "OK") != 0) {
        thsm_resp_error(dev, "STORAGE", "audit log not writable; signature "
                                        "withheld");
        return;
    }
    dev->signatures++;
    thsm_hex(der, der_len, hex);
    thsm_resp_line(dev, "OK %lu %s", (unsigned long)der_len, hex);
}

static void h_signer_pubkey(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    char hex[2 * THSM_P256_PUB_LEN + 1];
    if (!dev->st.signer.has_key) {
        thsm_resp_error(dev, "NO_SIGNER", "no signer key");
        return;
    }
    thsm_hex(dev->st.signer.key.pub, THSM_P256_PUB_LEN, hex);
    thsm_resp_line(dev, "OK %s", hex);
}

static void h_status(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    const thsm_pin *p = &dev->st.pin;
    char ca[17], signer[17], log[THSM_LOG_STATE_TEXT];
    thsm_audit_state_text(dev, log);
    thsm_key_id(&dev->st.ca, ca);
    thsm_key_id(&dev->st.signer, signer);
    thsm_resp_line(dev, "OK CA=%d SIGNER=%d SIGNER_CERT=%d PIN=%s TRIES=%u "
                        "AUTH=%d SIGNATURES=%lu CA_KEY=%s SIGNER_KEY=%s "
                        "LOG=%lu LOG_STATE=%s STATE=%s",
                   dev->st.ca.has_cert, dev->st.signer.has_key,
                   dev->st.signer.has_cert,
                   !p->set ? "NONE" : p->tries ? "SET" : "BLOCKED",
                   p->set ? p->tries : 0, thsm_logged_in(dev, dev->sess),
                   (unsigned long)dev->signatures, ca, signer,
                   (unsigned long)dev->log_count, log,
                   dev->anchor.rolled_back ? "ROLLED_BACK" : "OK");
}

#define CERT_FIELDS "C", "O", "CN", "START", "DAYS"

static const command commands[] = {
    {"AT", h_at, {0}, {0}, 0},
    {"AT+RESET", h_reset, {0}, {0}, 0},
    {"AT+VERSION?", h_version, {0}, {0}, 0},
    {"AT+ABOUT?", h_about, {0}, {0}, 0},
    {"AT+STSAFE_INIT", h_store_ok, {0}, {0}, NEEDS_STORE},
    {"AT+HSM_CA_INIT", h_store_ok, {0}, {0}, NEEDS_STORE},
    {"AT+SIGNER_INIT", h_store_ok, {0}, {0}, NEEDS_STORE},
    {"AT+STSAFE_READY?", h_ready, {0}, {0}, 0},
    {"AT+STSAFE_HOST_KEY?", h_host_key, {0}, {0}, 0},
    {"AT+STSAFE_SERIAL?", h_serial, {0}, {0}, 0},
    {"AT+STSAFE_DECOMMISSION", h_decommission, {0}, {0},
     NEEDS_STORE | NEEDS_AUTH | BLOCKED_OK},
    {"AT+HSM_CA_NEW_CERT", h_ca_new_cert, {CERT_FIELDS}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {"AT+HSM_CA_CERT?", h_ca_cert, {0}, {"FORMAT"}, NEEDS_STORE},
    {"AT+HSM_CA_CERT_INFO?", h_ca_info, {0}, {0}, NEEDS_STORE},
    {"AT+SIGNER_NEW_KEY", h_signer_new_key, {"ALGO"}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {"AT+SIGNER_NEW_CERT", h_signer_new_cert, {"TYPE", CERT_FIELDS}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {"AT+SIGNER_CERT?", h_signer_cert, {0}, {"FORMAT"}, NEEDS_STORE},
    {"AT+SIGNER_CERT_INFO?", h_signer_info, {0}, {0}, NEEDS_STORE},
    {"AT+SIGNER_SIGN", h_signer_sign, {"HASH"}, {0}, NEEDS_STORE | NEEDS_AUTH},
    {"AT+SIGNER_PUBKEY?", h_signer_pubkey, {0}, {0}, NEEDS_STORE},
    /* our extensions */
    {"AT+AUTH", thsm_h_auth, {"PIN"}, {0}, NEEDS_STORE | SECRET},
    {"AT+PIN_SET", thsm_h_pin_set, {"NEW"}, {"OLD"}, NEEDS_STORE | SECRET},
    {"AT+LOGOUT", thsm_h_logout, {0}, {0}, 0},
    {"AT+HSM_STATUS?", h_status, {0}, {0}, NEEDS_STORE},
    {"AT+LOG?", thsm_h_log, {0}, {"FROM"}, 0},
};

static int listed(const char *const *names, size_t n, const char *key)
{
    for (size_t i = 0; i < n && names[i]; i++)
        if (strcmp(names[i], key) == 0)
            return 1;
    return 0;
}

/* Unknown or missing parameters; answers the error itself. */
static int check_params(thsm_device *dev, const command *c,
                        const thsm_params *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        const char *k = ps->p[i].key;
        if (listed(c->required, 6, k) || listed(c->optional, 2, k))
            continue;
        if (c->flags & SECRET) /* the "name" may be part of a PIN */
            thsm_resp_error(dev, "BAD_PARAM", "unknown parameter for %s (a "
                            "PIN cannot contain spaces)", c->name);
        else
            thsm_resp_error(dev, "BAD_PARAM", "unknown parameter %.20s for %s",
                            k, c->name);
        return -1;
    }
    for (size_t i = 0; i < 6 && c->required[i]; i++) {
        if (!thsm_params_get(ps, c->required[i])) {
            thsm_resp_error(dev, "BAD_PARAM", "missing parameter %s",
                            c->required[i]);
            return -1;
        }
    }
    return 0;
}

/* Storage and PIN gates; answers the refusal itself. */
static int allowed(thsm_device *dev, const command *c)
{
    const thsm_pin *p = &dev->st.pin;
    if ((c->flags & NEEDS_STORE) && dev->storage_error) {
        thsm_resp_error(dev, "STORAGE", "key store unreadable: %s",
                        dev->storage_reason);
        return 0;
    }
    if (!(c->flags & NEEDS_AUTH) || !p->set ||
        thsm_logged_in(dev, dev->sess))
        return 1;
    if (p->tries == 0 && (c->flags & BLOCKED_OK))
        return 1;
    if (p->tries == 0)
        thsm_resp_error(dev, "PIN_LOCKED", "PIN blocked; only "
                        "AT+STSAFE_DECOMMISSION recovers the device");
    else
        thsm_resp_error(dev, "AUTH_REQUIRED", "log in first with "
                        "AT+AUTH PIN=<pin>");
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

/* A key or PIN command that was refused (other than for a malformed
 * request) leaves a record: event = the error code, result = the command.
 * Handlers that recorded the outcome themselves (a wrong PIN) are not
 * recorded twice. */
static void log_refusal(thsm_device *dev, const command *c, uint32_t records)
{
    if (!(c->flags & (NEEDS_AUTH | SECRET)) || !dev->err_code ||
        strcmp(dev->err_code, "BAD_PARAM") == 0 || dev->log_count != records)
        return;
    thsm_audit_append(dev, dev->err_code, NULL, NULL, c->name + 3);
}

void thsm_dispatch(thsm_device *dev, char *line)
{
    char *name = trim(line), *args = strchr(name, ' '), why[96];
    thsm_params ps;
    uint32_t records = dev->log_count;
    if (args)
        *args++ = '\0';
    const command *c = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            c = &commands[i];
    if (!c) {
        thsm_resp_error(dev, "UNKNOWN_COMMAND", "unknown command %.40s", name);
    } else if (thsm_params_parse(args ? args : "", &ps, why, sizeof(why))) {
        if (c->flags & SECRET) /* why quotes the request's text */
            thsm_resp_error(dev, "BAD_PARAM", "%s takes KEY=VALUE parameters "
                            "(a PIN cannot contain spaces)", c->name);
        else
            thsm_resp_error(dev, "BAD_PARAM", "%s", why);
    } else if (check_params(dev, c, &ps) == 0 && allowed(dev, c)) {
        c->run(dev, &ps);
    }
    if (c)
        log_refusal(dev, c, records);
    thsm_wipe(why, sizeof(why));
    thsm_wipe(&ps, sizeof(ps));
}
