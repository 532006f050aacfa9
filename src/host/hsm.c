/* hsm.c - TinyHSM operations over an AT connection (see hsm.h). */
#include "host/hsm.h"

#include "crypto/x509_host.h"
#include "proto/at.h"
#include "util/certvalues.h"
#include "util/escape.h"
#include "util/hex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEVICE_TEXT_MAX 300 /* device text quoted in a message, escaped */
/* The record's key id and digest fields follow its event (proto/log.h). */
#define LOG_KEY_AT (THSM_LOG_EVENT_AT + THSM_LOG_EVENT_LEN + 1)
#define LOG_DIGEST_AT (LOG_KEY_AT + 17)

int thsm_fail(thsm_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

/* ---- parsers -------------------------------------------------------------- */

/* Decimal of 1 to 9 digits (no sign, no space) in v[0..n). */
static int parse_num(const char *v, size_t n, unsigned long *out)
{
    unsigned long x = 0;
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (unsigned long)(v[i] - '0');
    }
    *out = x;
    return 0;
}

static int parse_flag(const char *v, size_t n, bool *out)
{
    if (n != 1 || (v[0] != '0' && v[0] != '1'))
        return -1;
    *out = v[0] == '1';
    return 0;
}

/* A word of printable characters that fits out. */
static int parse_word(const char *v, size_t n, char *out, size_t cap)
{
    if (n == 0 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x21 || v[i] > 0x7e)
            return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

static int parse_pin_state(const char *v, size_t n, int *out)
{
    static const char *const names[] = {THSM_ST_PIN_NONE, THSM_ST_PIN_SET,
                                        THSM_ST_PIN_BLOCKED};
    for (int i = 0; i < 3; i++) {
        if (n == strlen(names[i]) && memcmp(v, names[i], n) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* One KEY=VALUE word of the status; unknown keys are skipped. */
static int status_word(thsm_status *st, const char *k, size_t kn,
                       const char *v, size_t vn)
{
#define KEY(name) (kn == sizeof(name) - 1 && memcmp(k, name, kn) == 0)
    if (KEY(THSM_ST_PIN))
        return parse_pin_state(v, vn, &st->pin);
    if (KEY(THSM_ST_AUTH))
        return parse_flag(v, vn, &st->auth);
    if (KEY(THSM_ST_TRIES))
        return parse_num(v, vn, &st->tries);
    if (KEY(THSM_ST_CA))
        return parse_flag(v, vn, &st->ca);
    if (KEY(THSM_ST_SIGNER))
        return parse_flag(v, vn, &st->signer);
    if (KEY(THSM_ST_SIGNER_CERT))
        return parse_flag(v, vn, &st->signer_cert);
    if (KEY(THSM_ST_SIGNATURES))
        return parse_num(v, vn, &st->signatures);
    if (KEY(THSM_ST_LOG))
        return parse_num(v, vn, &st->log);
    if (KEY(THSM_ST_CA_KEY))
        return parse_word(v, vn, st->ca_key, sizeof(st->ca_key));
    if (KEY(THSM_ST_SIGNER_KEY))
        return parse_word(v, vn, st->signer_key, sizeof(st->signer_key));
    if (KEY(THSM_ST_LOG_STATE))
        return parse_word(v, vn, st->log_state, sizeof(st->log_state));
    if (KEY(THSM_ST_SIGNER_ORIGIN))
        return parse_word(v, vn, st->signer_origin, sizeof(st->signer_origin));
    if (KEY(THSM_ST_STATE))
        return parse_word(v, vn, st->state, sizeof(st->state));
    if (KEY(THSM_ST_DELAY))
        return parse_num(v, vn, &st->delay);
    if (KEY(THSM_ST_SO)) {
        st->has_so = true;
        return parse_pin_state(v, vn, &st->so);
    }
    if (KEY(THSM_ST_SO_AUTH))
        return parse_flag(v, vn, &st->so_auth);
    if (KEY(THSM_ST_SO_TRIES))
        return parse_num(v, vn, &st->so_tries);
    if (KEY(THSM_ST_SO_DELAY))
        return parse_num(v, vn, &st->so_delay);

    if (KEY(THSM_ST_ACK))
        return parse_word(v, vn, st->ack, sizeof(st->ack));
    if (KEY(THSM_ST_LOG_BASE))
        return parse_num(v, vn, &st->log_base);
    return 0;
#undef KEY
}

int thsm_parse_status(const char *text, thsm_status *st)
{
    bool has_auth = false;
    memset(st, 0, sizeof(*st));
    st->pin = -1;
    for (const char *s = text; *s;) {
        size_t n = strcspn(s, " ");
        const char *eq = memchr(s, '=', n);
        if (n && (!eq || status_word(st, s, (size_t)(eq - s), eq + 1,
                                     n - (size_t)(eq - s) - 1) != 0))
            return -1;
        has_auth |= eq && (size_t)(eq - s) == sizeof(THSM_ST_AUTH) - 1 &&
                    memcmp(s, THSM_ST_AUTH, sizeof(THSM_ST_AUTH) - 1) == 0;
        s += n + (s[n] == ' ');
    }
    st->answered = true;
    return st->pin < 0 || !has_auth ? -1 : 0;
}

int thsm_parse_pem(char *const *lines, size_t nlines, char *pem, size_t cap)
{
    size_t n = 0;
    int in_pem = 0;
    for (size_t i = 0; i < nlines; i++) {
        const char *l = lines[i];
        if (strncmp(l, "-----BEGIN ", 11) == 0)
            in_pem = 1;
        if (!in_pem)
            continue;
        int w = snprintf(pem + n, cap - n, "%s\n", l);
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
        if (strncmp(l, "-----END ", 9) == 0)
            return 0;
    }
    return -1;
}

int thsm_parse_len_hex(const char *text, uint8_t *out, size_t cap,
                       size_t *len)
{
    unsigned long n_out;
    size_t n = strcspn(text, " ");
    if (text[n] != ' ' || parse_num(text, n, &n_out) != 0 || n_out == 0 ||
        n_out > cap || thsm_parse_hex(text + n + 1, out, n_out) != 0)
        return -1;
    *len = (size_t)n_out;
    return 0;
}

int thsm_parse_sig(const char *text, uint8_t sig[THSM_P256_SIG_RAW_LEN])
{
    uint8_t der[THSM_P256_SIG_DER_MAX];
    size_t len;
    return thsm_parse_len_hex(text, der, sizeof(der), &len) != 0 ||
                   thsm_p256_sig_der_to_raw(der, len, sig) != 0
               ? -1 : 0;
}

int thsm_parse_log_page(const char *text, thsm_log_page *p)
{
    size_t n1 = strcspn(text, " ");
    memset(p, 0, sizeof(*p));
    if (text[n1] != ' ' || parse_num(text, n1, &p->count) != 0)
        return -1;
    const char *t = text + n1 + 1;
    size_t n2 = strcspn(t, " ");
    if (parse_num(t, n2, &p->total) != 0 || p->count > p->total ||
        p->total > THSM_LOG_TOTAL_MAX)
        return -1;
    if (t[n2] == '\0')
        return 0;
    p->has_head = true;
    if (strlen(t + n2 + 1) == 64)
        return thsm_parse_hex(t + n2 + 1, p->head, 32);
    /* after a clear: "<head> <base> <base head>" */
    char head[65];
    if (strlen(t + n2 + 1) < 65 || t[n2 + 1 + 64] != ' ')
        return -1;
    const char *b = t + n2 + 1 + 65;
    size_t n3 = strcspn(b, " ");
    memcpy(head, t + n2 + 1, 64);
    head[64] = '\0';
    if (thsm_parse_hex(head, p->head, 32) != 0 ||
        b[n3] != ' ' || parse_num(b, n3, &p->base) != 0 ||
        p->base > p->total || strlen(b + n3 + 1) != 64)
        return -1;
    return thsm_parse_hex(b + n3 + 1, p->base_head, 32);
}

/* Field of width w at line+at: printable, padded with trailing spaces. */
static int record_field(const char *line, size_t at, size_t w, char *out)
{
    size_t n = w;
    while (n > 0 && line[at + n - 1] == ' ')
        n--;
    return parse_word(line + at, n, out, w + 1);
}

int thsm_parse_log_record(const char *line, thsm_log_record *r)
{
    static const size_t gaps[] = {8, THSM_LOG_EVENT_AT - 1, LOG_KEY_AT - 1,
                                  LOG_DIGEST_AT - 1, THSM_LOG_RESULT_AT - 1,
                                  THSM_LOG_CHAIN_AT - 1};
    unsigned long t;
    uint8_t chain[32];
    if (strlen(line) != THSM_LOG_LINE)
        return -1;
    for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++)
        if (line[gaps[i]] != ' ')
            return -1;
    if (parse_num(line, 8, &r->index) != 0 || line[9] < '0' || line[9] > '9' ||
        parse_num(line + 10, 9, &t) != 0)
        return -1;
    r->time = (int64_t)(line[9] - '0') * 1000000000 + (int64_t)t;
    if (record_field(line, THSM_LOG_EVENT_AT, THSM_LOG_EVENT_LEN, r->event) ||
        record_field(line, LOG_KEY_AT, 16, r->key) ||
        record_field(line, LOG_DIGEST_AT, 64, r->digest) ||
        record_field(line, THSM_LOG_RESULT_AT, 16, r->result) ||
        thsm_parse_hex(line + THSM_LOG_CHAIN_AT, chain, 32) != 0)
        return -1;
    memcpy(r->chain, line + THSM_LOG_CHAIN_AT, 64);
    r->chain[64] = '\0';
    return 0;
}

bool thsm_log_chain_next(uint8_t head[32], const char *line)
{
    uint8_t link[32], stored[32];
    thsm_sha256_ctx c;
    if (strlen(line) != THSM_LOG_LINE)
        return false;
    if (thsm_sha256_init(&c) != 0 || thsm_sha256_update(&c, head, 32) != 0 ||
        thsm_sha256_update(&c, line, THSM_LOG_CHAIN_AT) != 0 ||
        thsm_sha256_final(&c, link) != 0)
        return false;
    memcpy(head, link, 32);
    return thsm_parse_hex(line + THSM_LOG_CHAIN_AT, stored, 32) == 0 &&
           memcmp(stored, link, 32) == 0;
}

/* ---- operations ----------------------------------------------------------- */

const char *thsm_hsm_plain_error(const char *code)
{
    static const struct {
        const char *code, *text;
    } plain[] = {
        {THSM_E_NO_CA, "the device has no CA yet; create one with: tinyhsm "
                       "config --new all"},
        {THSM_E_NO_SIGNER, "the device has no signer key yet; create one "
                           "with: tinyhsm config --new all (or --new signer "
                           "to keep the existing CA)"},
        {THSM_E_NO_SIGNER_CERT, "the device's signer key has no certificate; "
                                "make a new signer with: tinyhsm config --new "
                                "signer"},
        {THSM_E_AUTH_REQUIRED, "the device needs its PIN; give it with "
                               "--pin-file or TINYHSM_PIN"},
    };
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strcmp(code, plain[i].code) == 0)
            return plain[i].text;
    return NULL;
}

/* The request as a message shows it: everything from a PIN value on is
 * masked, and nothing is cut. */
static void shown_request(const char *request, char *out, size_t cap)
{
    static const char *const secret[] = {" " THSM_P_PIN "=", " " THSM_P_OLD "=",
                                         " " THSM_P_NEW "=", " " THSM_P_KEY "="};
    size_t cut = strlen(request);
    for (int i = 0; i < 4; i++) {
        const char *s = strstr(request, secret[i]);
        if (s && (size_t)(s - request) + 5 < cut)
            cut = (size_t)(s - request) + 5;
    }
    char plain[THSM_AT_RESP_MAX];
    snprintf(plain, sizeof(plain), "%.*s%s", (int)cut, request,
             request[cut] ? "****" : "");
    thsm_escape(plain, out, cap);
}

int thsm_hsm_expect_ok(thsm_at *at, const char *request, thsm_err *err)
{
    char req[THSM_ERR_MAX], status[DEVICE_TEXT_MAX];
    const thsm_at_resp *resp = &at->resp;
    int rc = thsm_at_cmd(at, request, &at->resp);
    if (rc == THSM_AT_OK && resp->ok)
        return THSM_OK;
    shown_request(request, req, sizeof(req));
    if (rc != THSM_AT_OK)
        return thsm_fail(err, THSM_ERR_FAIL, "no answer to %s: %s", req,
                         thsm_at_strerror(rc));
    const char *plain = thsm_hsm_plain_error(resp->code);
    if (plain)
        return thsm_fail(err, THSM_ERR_FAIL, "%s", plain);
    thsm_escape(resp->nlines ? resp->lines[0] : "(empty)", status,
                sizeof(status));
    return thsm_fail(err, THSM_ERR_FAIL, "the device refused %s: %s", req,
                     status);
}

static int no_answer(thsm_err *err, int rc)
{
    return thsm_fail(err, THSM_ERR_FAIL, "no answer from the device: %s",
                     thsm_at_strerror(rc));
}

int thsm_hsm_status(thsm_at *at, thsm_status *st, thsm_err *err)
{
    const thsm_at_resp *resp = &at->resp;
    char shown[DEVICE_TEXT_MAX];
    memset(st, 0, sizeof(*st));
    int rc = thsm_at_cmd(at, THSM_CMD_HSM_STATUS, &at->resp);
    if (rc != THSM_AT_OK)
        return no_answer(err, rc);
    if (!resp->ok && strcmp(resp->code, THSM_E_STORAGE) == 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device cannot read its key "
                         "store: %s",
                         thsm_escape(resp->lines[0], shown, sizeof(shown)));
    if (!resp->ok)
        return THSM_OK; /* the original board: no status, no PIN */
    if (thsm_parse_status(resp->text, st) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's status is "
                         "malformed: %s",
                         thsm_escape(resp->lines[0], shown, sizeof(shown)));
    return THSM_OK;
}

bool thsm_hsm_signer_imported(thsm_at *at)
{
    thsm_status st;
    thsm_err e;
    return thsm_hsm_status(at, &st, &e) == THSM_OK &&
           strcmp(st.signer_origin, THSM_ST_ORIGIN_IMPORTED) == 0;
}

bool thsm_hsm_status_text(thsm_at *at, char *text, size_t cap)
{
    if (thsm_at_cmd(at, THSM_CMD_HSM_STATUS, &at->resp) != THSM_AT_OK ||
        !at->resp.ok)
        return false;
    snprintf(text, cap, "%s", at->resp.text);
    return true;
}

/* The payload of a one-line answer to request. */
static int ask_text(thsm_at *at, const char *request, char *out, size_t cap,
                    thsm_err *err)
{
    int rc = thsm_hsm_expect_ok(at, request, err);
    if (rc == THSM_OK)
        snprintf(out, cap, "%s", at->resp.text);
    return rc;
}

int thsm_hsm_version(thsm_at *at, char *out, size_t cap, thsm_err *err)
{
    return ask_text(at, THSM_CMD_VERSION, out, cap, err);
}

int thsm_hsm_serial(thsm_at *at, char *out, size_t cap, thsm_err *err)
{
    return ask_text(at, THSM_CMD_STSAFE_SERIAL, out, cap, err);
}

bool thsm_hsm_signer_pubkey(thsm_at *at, uint8_t pub[THSM_P256_PUB_LEN])
{
    return thsm_at_cmd(at, THSM_CMD_SIGNER_PUBKEY, &at->resp) == THSM_AT_OK &&
           at->resp.ok &&
           thsm_parse_hex(at->resp.text, pub, THSM_P256_PUB_LEN) == 0;
}

int thsm_hsm_cert_pem(thsm_at *at, bool ca, char *pem, size_t pem_cap,
                      thsm_err *err)
{
    const char *req = ca ? THSM_CMD_CA_CERT " " THSM_P_FORMAT
                           "=" THSM_V_FORMAT_PEM
                         : THSM_CMD_SIGNER_CERT;
    int rc = thsm_hsm_expect_ok(at, req, err);
    if (rc != THSM_OK)
        return rc;
    uint8_t der[THSM_PEM_MAX]; /* DER is shorter than its PEM */
    size_t der_len;
    if (thsm_parse_pem(at->resp.lines, at->resp.nlines, pem, pem_cap) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's answer to %s holds "
                         "no complete PEM certificate of at most %zu bytes",
                         req, pem_cap);
    /* the text as the device sent it may hold anything OpenSSL skips (a
     * line of escape sequences before BEGIN): only the DER goes on */
    if (thsm_x509_to_der((uint8_t *)pem, strlen(pem), der, sizeof(der),
                         &der_len) != 0 ||
        thsm_x509_to_pem(der, der_len, pem, pem_cap) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's certificate does "
                         "not parse");
    return THSM_OK;
}

int thsm_hsm_sign_digest(thsm_at *at, const uint8_t digest[THSM_SHA256_LEN],
                         uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err)
{
    static const char prefix[] = THSM_CMD_SIGNER_SIGN " " THSM_P_HASH "=";
    char req[sizeof(prefix) + 2 * THSM_SHA256_LEN], shown[DEVICE_TEXT_MAX];
    memcpy(req, prefix, sizeof(prefix) - 1);
    thsm_hex(digest, THSM_SHA256_LEN, req + sizeof(prefix) - 1);
    int rc = thsm_hsm_expect_ok(at, req, err);
    if (rc != THSM_OK)
        return rc;
    if (thsm_parse_sig(at->resp.text, sig) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's signature is "
                         "malformed: %s",
                         thsm_escape(at->resp.lines[0], shown, sizeof(shown)));
    return THSM_OK;
}

/* The answer to a PIN command; its text is read only for the tries left. */
static int pin_answer(const thsm_at *at, int rc, thsm_deny *why)
{
    const thsm_at_resp *r = &at->resp;
    memset(why, 0, sizeof(*why));
    if (rc == THSM_AT_OK && r->ok)
        return THSM_OK;
    why->at_rc = rc;
    if (rc != THSM_AT_OK)
        why->kind = THSM_DENY_NO_ANSWER;
    else if (strcmp(r->code, THSM_E_AUTH_FAILED) == 0) {
        why->kind = THSM_DENY_WRONG_PIN;
        why->has_left = sscanf(r->text, "%lu tries left", &why->left) == 1;
    } else if (strcmp(r->code, THSM_E_PIN_LOCKED) == 0)
        why->kind = THSM_DENY_LOCKED;
    else if (strcmp(r->code, THSM_E_PIN_DELAY) == 0 &&
             sscanf(r->text, "%lu", &why->wait) == 1 && why->wait > 0)
        why->kind = THSM_DENY_DELAY;
    else
        why->kind = THSM_DENY_OTHER;
    snprintf(why->code, sizeof(why->code), "%s", r->code);
    return THSM_ERR_FAIL;
}

int thsm_hsm_auth(thsm_at *at, const char *pin, thsm_deny *why)
{
    int rc = thsm_at_cmdf(at, &at->resp, THSM_CMD_AUTH " " THSM_P_PIN "=%s",
                          pin);
    return pin_answer(at, rc, why);
}

int thsm_hsm_pin_set(thsm_at *at, const char *old, const char *fresh,
                     thsm_deny *why)
{
    int rc = old ? thsm_at_cmdf(at, &at->resp,
                                THSM_CMD_PIN_SET " " THSM_P_OLD "=%s "
                                THSM_P_NEW "=%s", old, fresh)
                 : thsm_at_cmdf(at, &at->resp,
                                THSM_CMD_PIN_SET " " THSM_P_NEW "=%s", fresh);
    return pin_answer(at, rc, why);
}

int thsm_hsm_auth_so(thsm_at *at, const char *puk, thsm_deny *why)
{
    int rc = thsm_at_cmdf(at, &at->resp, THSM_CMD_AUTH_SO " " THSM_P_PIN "=%s",
                          puk);
    return pin_answer(at, rc, why);
}

int thsm_hsm_so_pin_set(thsm_at *at, const char *old, const char *fresh,
                        thsm_deny *why)
{
    int rc = old ? thsm_at_cmdf(at, &at->resp,
                                THSM_CMD_SO_PIN_SET " " THSM_P_OLD "=%s "
                                THSM_P_NEW "=%s", old, fresh)
                 : thsm_at_cmdf(at, &at->resp,
                                THSM_CMD_SO_PIN_SET " " THSM_P_NEW "=%s", fresh);
    return pin_answer(at, rc, why);
}

int thsm_hsm_pin_unblock(thsm_at *at, const char *fresh, thsm_deny *why)
{
    int rc = thsm_at_cmdf(at, &at->resp, THSM_CMD_PIN_UNBLOCK " " THSM_P_NEW
                          "=%s", fresh);
    return pin_answer(at, rc, why);
}

int thsm_hsm_decommission(thsm_at *at, thsm_err *err)
{
    return thsm_hsm_expect_ok(at, THSM_CMD_DECOMMISSION, err);
}

int thsm_hsm_cert_renew(thsm_at *at, bool ca, const char *start,
                        unsigned days, thsm_err *err)
{
    char req[96];
    snprintf(req, sizeof(req),
             THSM_CMD_CERT_RENEW " " THSM_P_CERT "=%s " THSM_P_START "=%.14s "
             THSM_P_DAYS "=%u", ca ? THSM_V_CERT_CA : THSM_V_CERT_SIGNER,
             start, days);
    return thsm_hsm_expect_ok(at, req, err);
}

int thsm_hsm_log_ack(thsm_at *at, unsigned long *record, thsm_err *err)
{
    int rc = thsm_hsm_expect_ok(at, THSM_CMD_LOG_ACK, err);
    if (rc != THSM_OK)
        return rc;
    if (parse_num(at->resp.text, strlen(at->resp.text), record) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's answer to "
                         THSM_CMD_LOG_ACK " names no record");
    return THSM_OK;
}

int thsm_hsm_log_clear(thsm_at *at, unsigned long count,
                       const uint8_t head[32], thsm_err *err)
{
    char req[160], hex[65];
    thsm_hex(head, 32, hex);
    snprintf(req, sizeof(req), THSM_CMD_LOG_CLEAR " " THSM_P_COUNT "=%lu "
             THSM_P_HEAD "=%s", count, hex);
    return thsm_hsm_expect_ok(at, req, err);
}

/* Checks one page's shape against what came before it. */
static int log_page_ok(const thsm_at_resp *r, unsigned long next,
                       thsm_log_page *anchor, thsm_log_page *p, thsm_err *err)
{
    char shown[DEVICE_TEXT_MAX];
    if (thsm_parse_log_page(r->text, p) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's log answer is "
                         "malformed: %s",
                         thsm_escape(r->lines[0], shown, sizeof(shown)));
    if (next == 0)
        *anchor = *p;
    if (p->total < anchor->total)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's log shrank from "
                         "%lu to %lu records while being read", anchor->total,
                         p->total);
    if (p->count != r->nlines - 1)
        return thsm_fail(err, THSM_ERR_FAIL, "the device announced %lu log "
                         "records from record %lu but sent %zu", p->count,
                         next, r->nlines - 1);
    return THSM_OK;
}

int thsm_hsm_log_read(thsm_at *at, thsm_log_fn fn, void *ctx,
                      thsm_log_page *anchor, unsigned long *got,
                      thsm_err *err)
{
    const thsm_at_resp *r = &at->resp;
    thsm_log_page p;
    unsigned long next = 0;
    char req[40];
    int rc;
    memset(anchor, 0, sizeof(*anchor));
    /* every round reads at least one new record or ends: at most total
     * rounds, and total is bounded */
    do {
        snprintf(req, sizeof(req), THSM_CMD_LOG " " THSM_P_FROM "=%lu", next);
        if ((rc = thsm_hsm_expect_ok(at, req, err)) != THSM_OK ||
            (rc = log_page_ok(r, next, anchor, &p, err)) != THSM_OK) {
            *got = next;
            return rc;
        }
        if (next < p.base) /* the ones before were archived and cleared */
            next = p.base;
        for (size_t i = 1; i < r->nlines && next < anchor->total; i++)
            fn(ctx, next++, r->lines[i]);
    } while (p.count > 0 && next < anchor->total);
    *got = next;
    return THSM_OK;
}

/* ---- provisioning --------------------------------------------------------- */

const char *thsm_subject_check(const thsm_subject *s)
{
    char days[16];
    int64_t from, to;
    snprintf(days, sizeof(days), "%u", s->days);
    return thsm_cert_values_check(s->country, s->org, s->cn, s->start, days,
                                  &from, &to);
}

static int send_subject(thsm_at *at, const char *cmd, const thsm_subject *s,
                        thsm_err *err)
{
    char req[512];
    snprintf(req, sizeof(req),
             "%s " THSM_P_C "=%s " THSM_P_O "=%s " THSM_P_CN "=%s "
             THSM_P_START "=%s " THSM_P_DAYS "=%u",
             cmd, s->country, s->org, s->cn, s->start, s->days);
    return thsm_hsm_expect_ok(at, req, err);
}

int thsm_hsm_signer_ca_cert(thsm_at *at, const thsm_subject *signer,
                            thsm_err *err)
{
    return send_subject(at, THSM_CMD_SIGNER_NEW_CERT " " THSM_P_TYPE
                        "=" THSM_V_TYPE_CA_SIGNED, signer, err);
}

int thsm_hsm_prepare(thsm_at *at, thsm_err *err)
{
    static const char *const init[] = {THSM_CMD_RESET, THSM_CMD_STSAFE_INIT,
                                       THSM_CMD_HSM_CA_INIT,
                                       THSM_CMD_SIGNER_INIT};
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
        int rc = thsm_hsm_expect_ok(at, init[i], err);
        if (rc != THSM_OK)
            return rc;
    }
    return THSM_OK;
}

/* After the erase: the PIN went with it; set it again (logs in). The
 * device's text is not shown: an answer to a PIN command may quote it. */
static int restore_pin(thsm_at *at, const char *pin, unsigned *done,
                       thsm_err *err)
{
    thsm_status st;
    thsm_deny why;
    char code[THSM_ESCAPED_MAX(sizeof(why.code))];
    if (!pin || !*pin || thsm_hsm_status(at, &st, err) != THSM_OK ||
        !st.answered || st.pin != THSM_PIN_NONE)
        return THSM_OK;
    if (thsm_hsm_pin_set(at, NULL, pin, &why) == THSM_OK) {
        *done |= THSM_PROV_PIN;
        return THSM_OK;
    }
    return thsm_fail(err, THSM_ERR_FAIL, "setting the PIN again after the "
                     "erase failed: %s",
                     why.kind == THSM_DENY_NO_ANSWER
                         ? thsm_at_strerror(why.at_rc)
                         : thsm_escape(why.code, code, sizeof(code)));
}

int thsm_hsm_provision_steps(thsm_at *at, bool all, const thsm_subject *ca,
                             const thsm_subject *signer, const char *pin,
                             unsigned *done, thsm_err *err)
{
    const char *ca_why = all ? thsm_subject_check(ca) : NULL;
    const char *signer_why = thsm_subject_check(signer);
    *done = 0;
    if (ca_why || signer_why)
        return thsm_fail(err, THSM_ERR_USAGE, "the %s values were refused "
                         "before anything was sent: %s",
                         ca_why ? "CA" : "signer",
                         ca_why ? ca_why : signer_why);
    if (all) {
        if (thsm_hsm_decommission(at, err) != THSM_OK)
            return err->code;
        *done |= THSM_PROV_ERASED;
        if (restore_pin(at, pin, done, err) != THSM_OK ||
            send_subject(at, THSM_CMD_CA_NEW_CERT, ca, err) != THSM_OK)
            return err->code;
        *done |= THSM_PROV_CA;
    }
    if (thsm_hsm_expect_ok(at, THSM_CMD_SIGNER_NEW_KEY " " THSM_P_ALGO
                           "=" THSM_V_ALGO_P256, err) != THSM_OK)
        return err->code;
    *done |= THSM_PROV_SIGNER_KEY;
    if (thsm_hsm_signer_ca_cert(at, signer, err) != THSM_OK)
        return err->code;
    *done |= THSM_PROV_SIGNER_CERT;
    return THSM_OK;
}

int thsm_hsm_provision(thsm_at *at, bool all, const thsm_subject *ca,
                       const thsm_subject *signer, thsm_err *err)
{
    unsigned done;
    int rc = thsm_hsm_prepare(at, err);
    return rc != THSM_OK ? rc
                         : thsm_hsm_provision_steps(at, all, ca, signer, NULL,
                                                    &done, err);
}

int thsm_hsm_has_ca(thsm_at *at, bool *has, thsm_err *err)
{
    int rc = thsm_at_cmd(at, THSM_CMD_CA_CERT " " THSM_P_FORMAT
                         "=" THSM_V_FORMAT_PEM, &at->resp);
    if (rc != THSM_AT_OK)
        return no_answer(err, rc);
    *has = at->resp.ok;
    return THSM_OK;
}

void thsm_now_start(char out[15])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}
