/* hsm.c - TinyHSM operations over an AT connection (see hsm.h). */
#include "host/hsm.h"

#include "util/hex.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* What to tell the user for a device error code. */
static const char *advice(const char *code)
{
    if (strcmp(code, "NO_CA") == 0)
        return "; provision it with: tinyhsm config --new all";
    if (strcmp(code, "NO_SIGNER") == 0 || strcmp(code, "NO_SIGNER_CERT") == 0)
        return "; provision it with: tinyhsm config --new all "
               "(or --new signer to keep the existing CA)";
    if (strcmp(code, "AUTH_REQUIRED") == 0)
        return "; give the PIN with --pin-file or TINYHSM_PIN";
    return "";
}

int thsm_hsm_expect_ok(thsm_at *at, const char *request, thsm_at_resp *resp,
                       char *err, size_t cap)
{
    int rc = thsm_at_cmd(at, request, resp);
    if (rc != THSM_AT_OK) {
        snprintf(err, cap, "no answer to %.40s: %s", request,
                 thsm_at_strerror(rc));
        return -1;
    }
    if (!resp->ok) {
        const char *status = resp->nlines ? resp->lines[0] : "(empty)";
        snprintf(err, cap, "the device refused %.40s: %.200s%s", request,
                 status, advice(resp->code));
        return -1;
    }
    return 0;
}

int thsm_hsm_cert_pem(thsm_at *at, int ca, char *pem, size_t pem_cap,
                      char *err, size_t cap)
{
    static thsm_at_resp resp;
    const char *req = ca ? "AT+HSM_CA_CERT? FORMAT=PEM" : "AT+SIGNER_CERT?";
    if (thsm_hsm_expect_ok(at, req, &resp, err, cap) != 0)
        return -1;
    size_t n = 0;
    int in_pem = 0;
    for (size_t i = 0; i < resp.nlines; i++) {
        const char *l = resp.lines[i];
        if (strncmp(l, "-----BEGIN ", 11) == 0)
            in_pem = 1;
        if (!in_pem)
            continue;
        int w = snprintf(pem + n, pem_cap - n, "%s\n", l);
        if (w < 0 || (size_t)w >= pem_cap - n) {
            snprintf(err, cap, "certificate larger than %zu bytes", pem_cap);
            return -1;
        }
        n += (size_t)w;
        if (strncmp(l, "-----END ", 9) == 0)
            return 0;
    }
    snprintf(err, cap, "the device's answer to %s holds no complete PEM "
                       "certificate", req);
    return -1;
}

/* Parses "<len> <HEX>" into der; returns the length or -1. */
static long parse_len_hex(const char *text, uint8_t *der, size_t cap)
{
    unsigned long len;
    int used;
    if (sscanf(text, "%lu %n", &len, &used) != 1 || len == 0 || len > cap ||
        thsm_parse_hex(text + used, der, len) != 0)
        return -1;
    return (long)len;
}

int thsm_hsm_sign_digest(thsm_at *at, const uint8_t digest[THSM_SHA256_LEN],
                         uint8_t sig[THSM_P256_SIG_RAW_LEN], char *err,
                         size_t cap)
{
    static thsm_at_resp resp;
    char req[100] = "AT+SIGNER_SIGN HASH=";
    thsm_hex(digest, THSM_SHA256_LEN, req + 20);
    if (thsm_hsm_expect_ok(at, req, &resp, err, cap) != 0)
        return -1;
    uint8_t der[THSM_P256_SIG_DER_MAX];
    long len = parse_len_hex(resp.text, der, sizeof(der));
    if (len < 0 || thsm_p256_sig_der_to_raw(der, (size_t)len, sig) != 0) {
        snprintf(err, cap, "the device's signature is malformed: %.160s",
                 resp.lines[0]);
        return -1;
    }
    return 0;
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

int thsm_hsm_provision(thsm_at *at, int all, const thsm_subject *ca,
                       const thsm_subject *signer, char *err, size_t cap)
{
    static thsm_at_resp resp;
    const char *init[] = {"AT+RESET", "AT+STSAFE_INIT", "AT+HSM_CA_INIT",
                          "AT+SIGNER_INIT"};
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        if (thsm_hsm_expect_ok(at, init[i], &resp, err, cap) != 0)
            return -1;
    if (all &&
        (thsm_hsm_expect_ok(at, "AT+STSAFE_DECOMMISSION", &resp, err, cap) ||
         send_subject(at, "AT+HSM_CA_NEW_CERT", ca, err, cap)))
        return -1;
    if (thsm_hsm_expect_ok(at, "AT+SIGNER_NEW_KEY ALGO=SECP256R1", &resp, err,
                           cap))
        return -1;
    return send_subject(at, "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED", signer, err,
                        cap);
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
