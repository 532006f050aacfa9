/* hsm.c - TinyHSM operations over an AT connection (see hsm.h). */
#include "host/hsm.h"

#include "util/certvalues.h"
#include "util/escape.h"
#include "util/hex.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEVICE_TEXT_MAX 300 /* device text quoted in a message, escaped */

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

static int parse_flag(const char *v, size_t n, int *out)
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
    static const char *const names[] = {"NONE", "SET", "BLOCKED"};
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
    if (KEY("PIN"))
        return parse_pin_state(v, vn, &st->pin);
    if (KEY("AUTH"))
        return parse_flag(v, vn, &st->auth);
    if (KEY("TRIES"))
        return parse_num(v, vn, &st->tries);
    if (KEY("CA"))
        return parse_flag(v, vn, &st->ca);
    if (KEY("SIGNER"))
        return parse_flag(v, vn, &st->signer);
    if (KEY("SIGNER_CERT"))
        return parse_flag(v, vn, &st->signer_cert);
    if (KEY("SIGNATURES"))
        return parse_num(v, vn, &st->signatures);
    if (KEY("LOG"))
        return parse_num(v, vn, &st->log);
    if (KEY("CA_KEY"))
        return parse_word(v, vn, st->ca_key, sizeof(st->ca_key));
    if (KEY("SIGNER_KEY"))
        return parse_word(v, vn, st->signer_key, sizeof(st->signer_key));
    if (KEY("LOG_STATE"))
        return parse_word(v, vn, st->log_state, sizeof(st->log_state));
    if (KEY("STATE"))
        return parse_word(v, vn, st->state, sizeof(st->state));
    return 0;
#undef KEY
}

int thsm_parse_status(const char *text, thsm_status *st)
{
    memset(st, 0, sizeof(*st));
    st->pin = -1;
    st->auth = -1;
    for (const char *s = text; *s;) {
        size_t n = strcspn(s, " ");
        const char *eq = memchr(s, '=', n);
        if (n && (!eq || status_word(st, s, (size_t)(eq - s), eq + 1,
                                     n - (size_t)(eq - s) - 1) != 0))
            return -1;
        s += n + (s[n] == ' ');
    }
    return st->pin < 0 || st->auth < 0 ? -1 : 0;
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

long thsm_parse_len_hex(const char *text, uint8_t *out, size_t cap)
{
    unsigned long len;
    size_t n = strcspn(text, " ");
    if (text[n] != ' ' || parse_num(text, n, &len) != 0 || len == 0 ||
        len > cap || thsm_parse_hex(text + n + 1, out, len) != 0)
        return -1;
    return (long)len;
}

int thsm_parse_sig(const char *text, uint8_t sig[THSM_P256_SIG_RAW_LEN])
{
    uint8_t der[THSM_P256_SIG_DER_MAX];
    long len = thsm_parse_len_hex(text, der, sizeof(der));
    return len < 0 || thsm_p256_sig_der_to_raw(der, (size_t)len, sig) != 0
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
    p->has_head = 1;
    return thsm_parse_hex(t + n2 + 1, p->head, 32);
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
    static const size_t gaps[] = {8, 19, 36, 53, 118, 135};
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
    if (record_field(line, 20, 16, r->event) || record_field(line, 37, 16, r->key) ||
        record_field(line, 54, 64, r->digest) ||
        record_field(line, 119, 16, r->result) ||
        thsm_parse_hex(line + THSM_LOG_CHAIN_AT, chain, 32) != 0)
        return -1;
    memcpy(r->chain, line + THSM_LOG_CHAIN_AT, 64);
    r->chain[64] = '\0';
    return 0;
}

int thsm_log_chain_next(uint8_t head[32], const char *line)
{
    uint8_t link[32], stored[32];
    thsm_sha256_ctx c;
    if (strlen(line) != THSM_LOG_LINE)
        return -1;
    if (thsm_sha256_init(&c) != 0 || thsm_sha256_update(&c, head, 32) != 0 ||
        thsm_sha256_update(&c, line, THSM_LOG_CHAIN_AT) != 0 ||
        thsm_sha256_final(&c, link) != 0)
        return -1;
    memcpy(head, link, 32);
    return thsm_parse_hex(line + THSM_LOG_CHAIN_AT, stored, 32) == 0 &&
                   memcmp(stored, link, 32) == 0
               ? 0 : -1;
}

/* ---- operations ----------------------------------------------------------- */

/* A device error in the user's words, for the codes that have a plain
 * meaning and a command that fixes them; NULL for the others. */
static const char *in_user_words(const char *code)
{
    static const struct {
        const char *code, *text;
    } plain[] = {
        {"NO_CA", "the device has no CA yet; create one with: tinyhsm config "
                  "--new all"},
        {"NO_SIGNER", "the device has no signer key yet; create one with: "
                      "tinyhsm config --new all (or --new signer to keep the "
                      "existing CA)"},
        {"NO_SIGNER_CERT", "the device's signer key has no certificate; make "
                           "a new signer with: tinyhsm config --new signer"},
        {"AUTH_REQUIRED", "the device needs its PIN; give it with --pin-file "
                          "or TINYHSM_PIN"},
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
    static const char *const secret[] = {" PIN=", " OLD=", " NEW="};
    size_t cut = strlen(request);
    for (int i = 0; i < 3; i++) {
        const char *s = strstr(request, secret[i]);
        if (s && (size_t)(s - request) + 5 < cut)
            cut = (size_t)(s - request) + 5;
    }
    char plain[THSM_AT_RESP_MAX];
    snprintf(plain, sizeof(plain), "%.*s%s", (int)cut, request,
             request[cut] ? "****" : "");
    thsm_escape(plain, out, cap);
}

int thsm_hsm_expect_ok(thsm_at *at, const char *request, thsm_at_resp *resp,
                       char *err, size_t cap)
{
    char req[THSM_ERR_MAX], status[DEVICE_TEXT_MAX];
    int rc = thsm_at_cmd(at, request, resp);
    if (rc == THSM_AT_OK && resp->ok)
        return 0;
    shown_request(request, req, sizeof(req));
    if (rc != THSM_AT_OK) {
        snprintf(err, cap, "no answer to %s: %s", req, thsm_at_strerror(rc));
        return -1;
    }
    const char *plain = in_user_words(resp->code);
    if (plain) {
        snprintf(err, cap, "%s", plain);
        return -1;
    }
    thsm_escape(resp->nlines ? resp->lines[0] : "(empty)", status,
                sizeof(status));
    snprintf(err, cap, "the device refused %s: %s", req, status);
    return -1;
}

int thsm_hsm_status(thsm_at *at, thsm_status *st, char *err, size_t cap)
{
    static thsm_at_resp resp;
    char shown[DEVICE_TEXT_MAX];
    int rc = thsm_at_cmd(at, "AT+HSM_STATUS?", &resp);
    if (rc != THSM_AT_OK) {
        snprintf(err, cap, "no answer from the device: %s",
                 thsm_at_strerror(rc));
        return -1;
    }
    if (!resp.ok && strcmp(resp.code, "STORAGE") == 0) {
        snprintf(err, cap, "the device cannot read its key store: %s",
                 thsm_escape(resp.lines[0], shown, sizeof(shown)));
        return -1;
    }
    if (!resp.ok)
        return 0; /* the original board: no status, no PIN */
    if (thsm_parse_status(resp.text, st) != 0) {
        snprintf(err, cap, "the device's status is malformed: %s",
                 thsm_escape(resp.lines[0], shown, sizeof(shown)));
        return -1;
    }
    return 1;
}

int thsm_hsm_cert_pem(thsm_at *at, int ca, char *pem, size_t pem_cap,
                      char *err, size_t cap)
{
    static thsm_at_resp resp;
    const char *req = ca ? "AT+HSM_CA_CERT? FORMAT=PEM" : "AT+SIGNER_CERT?";
    if (thsm_hsm_expect_ok(at, req, &resp, err, cap) != 0)
        return -1;
    if (thsm_parse_pem(resp.lines, resp.nlines, pem, pem_cap) != 0) {
        snprintf(err, cap, "the device's answer to %s holds no complete PEM "
                           "certificate of at most %zu bytes", req, pem_cap);
        return -1;
    }
    return 0;
}

int thsm_hsm_sign_digest(thsm_at *at, const uint8_t digest[THSM_SHA256_LEN],
                         uint8_t sig[THSM_P256_SIG_RAW_LEN], char *err,
                         size_t cap)
{
    static thsm_at_resp resp;
    char req[100] = "AT+SIGNER_SIGN HASH=", shown[DEVICE_TEXT_MAX];
    thsm_hex(digest, THSM_SHA256_LEN, req + 20);
    if (thsm_hsm_expect_ok(at, req, &resp, err, cap) != 0)
        return -1;
    if (thsm_parse_sig(resp.text, sig) != 0) {
        snprintf(err, cap, "the device's signature is malformed: %s",
                 thsm_escape(resp.lines[0], shown, sizeof(shown)));
        return -1;
    }
    return 0;
}

/* Checks one page's shape against what came before it. */
static int log_page_ok(const thsm_at_resp *r, unsigned long next,
                       thsm_log_page *anchor, thsm_log_page *p, char *err,
                       size_t cap)
{
    char shown[DEVICE_TEXT_MAX];
    if (thsm_parse_log_page(r->text, p) != 0) {
        snprintf(err, cap, "the device's log answer is malformed: %s",
                 thsm_escape(r->lines[0], shown, sizeof(shown)));
        return -1;
    }
    if (next == 0)
        *anchor = *p;
    if (p->total < anchor->total) {
        snprintf(err, cap, "the device's log shrank from %lu to %lu records "
                 "while being read", anchor->total, p->total);
        return -1;
    }
    if (p->count != r->nlines - 1) {
        snprintf(err, cap, "the device announced %lu log records from record "
                 "%lu but sent %zu", p->count, next, r->nlines - 1);
        return -1;
    }
    return 0;
}

int thsm_hsm_log_read(thsm_at *at, thsm_log_fn fn, void *ctx,
                      thsm_log_page *anchor, unsigned long *got, char *err,
                      size_t cap)
{
    static thsm_at_resp r;
    thsm_log_page p;
    unsigned long next = 0;
    char req[40];
    memset(anchor, 0, sizeof(*anchor));
    /* every round reads at least one new record or ends: at most total
     * rounds, and total is bounded */
    do {
        snprintf(req, sizeof(req), "AT+LOG? FROM=%lu", next);
        if (thsm_hsm_expect_ok(at, req, &r, err, cap) != 0 ||
            log_page_ok(&r, next, anchor, &p, err, cap) != 0) {
            *got = next;
            return -1;
        }
        for (size_t i = 1; i < r.nlines && next < anchor->total; i++)
            fn(ctx, next++, r.lines[i]);
    } while (p.count > 0 && next < anchor->total);
    *got = next;
    return 0;
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
                        char *err, size_t cap)
{
    static thsm_at_resp resp;
    char req[512];
    snprintf(req, sizeof(req), "%s C=%s O=%s CN=%s START=%s DAYS=%u", cmd,
             s->country, s->org, s->cn, s->start, s->days);
    return thsm_hsm_expect_ok(at, req, &resp, err, cap);
}

int thsm_hsm_prepare(thsm_at *at, char *err, size_t cap)
{
    static thsm_at_resp resp;
    const char *init[] = {"AT+RESET", "AT+STSAFE_INIT", "AT+HSM_CA_INIT",
                          "AT+SIGNER_INIT"};
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        if (thsm_hsm_expect_ok(at, init[i], &resp, err, cap) != 0)
            return -1;
    return 0;
}

/* After the erase: the PIN went with it; set it again (logs in). The
 * device's text is not shown: an answer to a PIN command may quote it. */
static int restore_pin(thsm_at *at, const char *pin, unsigned *done, char *err,
                       size_t cap)
{
    static thsm_at_resp resp;
    thsm_status st;
    char code[THSM_ESCAPED_MAX(sizeof(resp.code_buf))];
    if (!pin || !*pin || thsm_hsm_status(at, &st, err, cap) != 1 ||
        st.pin != THSM_PIN_NONE)
        return 0;
    int rc = thsm_at_cmdf(at, &resp, "AT+PIN_SET NEW=%s", pin);
    if (rc == THSM_AT_OK && resp.ok) {
        *done |= THSM_PROV_PIN;
        return 0;
    }
    snprintf(err, cap, "setting the PIN again after the erase failed: %s",
             rc != THSM_AT_OK ? thsm_at_strerror(rc)
                              : thsm_escape(resp.code, code, sizeof(code)));
    return -1;
}

int thsm_hsm_provision_steps(thsm_at *at, int all, const thsm_subject *ca,
                             const thsm_subject *signer, const char *pin,
                             unsigned *done, char *err, size_t cap)
{
    static thsm_at_resp resp;
    const char *ca_why = all ? thsm_subject_check(ca) : NULL;
    const char *signer_why = thsm_subject_check(signer);
    *done = 0;
    if (ca_why || signer_why) {
        snprintf(err, cap, "the %s values were refused before anything was "
                 "sent: %s", ca_why ? "CA" : "signer",
                 ca_why ? ca_why : signer_why);
        return -1;
    }
    if (all) {
        if (thsm_hsm_expect_ok(at, "AT+STSAFE_DECOMMISSION", &resp, err, cap))
            return -1;
        *done |= THSM_PROV_ERASED;
        if (restore_pin(at, pin, done, err, cap) != 0 ||
            send_subject(at, "AT+HSM_CA_NEW_CERT", ca, err, cap) != 0)
            return -1;
        *done |= THSM_PROV_CA;
    }
    if (thsm_hsm_expect_ok(at, "AT+SIGNER_NEW_KEY ALGO=SECP256R1", &resp, err,
                           cap))
        return -1;
    *done |= THSM_PROV_SIGNER_KEY;
    if (send_subject(at, "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED", signer, err, cap))
        return -1;
    *done |= THSM_PROV_SIGNER_CERT;
    return 0;
}

int thsm_hsm_provision(thsm_at *at, int all, const thsm_subject *ca,
                       const thsm_subject *signer, char *err, size_t cap)
{
    unsigned done;
    return thsm_hsm_prepare(at, err, cap) != 0
               ? -1
               : thsm_hsm_provision_steps(at, all, ca, signer, NULL, &done,
                                          err, cap);
}

int thsm_hsm_has_ca(thsm_at *at, char *err, size_t cap)
{
    static thsm_at_resp resp;
    int rc = thsm_at_cmd(at, "AT+HSM_CA_CERT? FORMAT=PEM", &resp);
    if (rc != THSM_AT_OK) {
        snprintf(err, cap, "no answer from the device: %s",
                 thsm_at_strerror(rc));
        return -1;
    }
    return resp.ok ? 1 : 0;
}

void thsm_now_start(char out[15])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}
