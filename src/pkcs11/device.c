/* device.c - the module's calls into the host library (see device.h). */
#include "pkcs11/device.h"

#include "host/at_client.h"
#include "host/hsm.h"
#include "crypto/x509_host.h"
#include "proto/at.h"
#include "util/hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The response lives with the connection: never static, since the module
 * runs on many threads at once. */
struct p11_dev {
    thsm_at at;
    thsm_at_resp resp;
};

int p11_dev_open(const char *port, int timeout_ms, p11_dev **out)
{
    char err[THSM_ERR_MAX];
    p11_dev *d = calloc(1, sizeof(*d));
    *out = NULL;
    if (!d)
        return DEV_ERROR;
    if (thsm_at_open(&d->at, port, err, sizeof(err)) != THSM_AT_OK) {
        free(d);
        return DEV_GONE;
    }
    d->at.timeout_ms = timeout_ms;
    *out = d;
    return DEV_OK;
}

void p11_dev_close(p11_dev *d)
{
    if (!d)
        return;
    thsm_at_close(&d->at);
    free(d);
}

static int map_code(const char *code)
{
    static const struct {
        const char *code;
        int rc;
    } map[] = {
        {THSM_E_AUTH_REQUIRED, DEV_AUTH_REQUIRED},
        {THSM_E_AUTH_FAILED, DEV_PIN_INCORRECT},
        {THSM_E_PIN_LOCKED, DEV_PIN_LOCKED},
        {THSM_E_NO_PIN, DEV_NO_PIN},
        {THSM_E_NO_CA, DEV_NO_KEY},
        {THSM_E_NO_SIGNER, DEV_NO_KEY},
        {THSM_E_NO_SIGNER_CERT, DEV_NO_KEY},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(code, map[i].code) == 0)
            return map[i].rc;
    return DEV_ERROR;
}

/* Sends request; DEV_OK when the device answered OK. A client error
 * leaves the connection unusable: DEV_GONE. */
static int cmd(p11_dev *d, const char *request)
{
    int rc = thsm_at_cmd(&d->at, request, &d->resp);
    if (rc == THSM_AT_ERR_TOO_BIG)
        return DEV_ERROR;
    if (rc != THSM_AT_OK)
        return DEV_GONE;
    return d->resp.ok ? DEV_OK : map_code(d->resp.code);
}

int p11_dev_status(p11_dev *d, p11_dev_state *st)
{
    thsm_status s;
    int rc = cmd(d, THSM_CMD_HSM_STATUS);
    if (rc != DEV_OK)
        return rc;
    if (thsm_parse_status(d->resp.text, &s) != 0)
        return DEV_ERROR;
    st->pin = s.pin == THSM_PIN_SET       ? DEV_PIN_SET
              : s.pin == THSM_PIN_BLOCKED ? DEV_PIN_BLOCKED
                                          : DEV_PIN_NONE;
    st->auth = s.auth;
    st->tries = s.tries;
    st->so = s.so == THSM_PIN_SET       ? DEV_PIN_SET
             : s.so == THSM_PIN_BLOCKED ? DEV_PIN_BLOCKED
                                        : DEV_PIN_NONE;
    st->so_tries = s.so_tries;
    st->signer_imported = strcmp(s.signer_origin, THSM_ST_ORIGIN_IMPORTED) == 0;
    return DEV_OK;
}

int p11_dev_serial(p11_dev *d, char *out, size_t cap)
{
    int rc = cmd(d, THSM_CMD_STSAFE_SERIAL);
    if (rc != DEV_OK)
        return rc;
    snprintf(out, cap, "%s", d->resp.text);
    return DEV_OK;
}

/* A PIN command's refusal (the host library's reading of it). */
static int deny_rc(const thsm_deny *why)
{
    switch (why->kind) {
    case THSM_DENY_NONE: return DEV_OK;
    case THSM_DENY_NO_ANSWER:
        return why->at_rc == THSM_AT_ERR_TOO_BIG ? DEV_ERROR : DEV_GONE;
    case THSM_DENY_WRONG_PIN: return DEV_PIN_INCORRECT;
    case THSM_DENY_LOCKED: return DEV_PIN_LOCKED;
    case THSM_DENY_DELAY: return DEV_PIN_DELAY;
    default:
        return strcmp(why->code, THSM_E_BAD_PARAM) == 0 ? DEV_PIN_REFUSED
                                                        : map_code(why->code);
    }
}

/* One PIN command (op) with its parameters. */
typedef struct {
    int op; /* 0 login, 1 set */
    int so;
    const char *pin, *old;
} pin_cmd;

static int pin_cmd_send(p11_dev *d, const pin_cmd *c, thsm_deny *why)
{
    if (c->op == 0)
        return c->so ? thsm_hsm_auth_so(&d->at, c->pin, why)
                     : thsm_hsm_auth(&d->at, c->pin, why);
    return c->so ? thsm_hsm_so_pin_set(&d->at, c->old, c->pin, why)
                 : thsm_hsm_pin_set(&d->at, c->old, c->pin, why);
}

/* Sends c; waits out the device's delay while the total stays within
 * max_wait seconds. A wait costs no try, so waiting is what a caller
 * retrying at once would get anyway, minus the refusals. */
static int pin_cmd_run(p11_dev *d, const pin_cmd *c, unsigned max_wait)
{
    thsm_deny why;
    unsigned long waited = 0;
    for (;;) {
        pin_cmd_send(d, c, &why);
        if (why.kind != THSM_DENY_DELAY || waited + why.wait > max_wait)
            return deny_rc(&why);
        sleep((unsigned)why.wait);
        waited += why.wait;
    }
}

int p11_dev_login(p11_dev *d, int so, const char *pin, unsigned max_wait)
{
    pin_cmd c = {0, so, pin, NULL};
    return pin_cmd_run(d, &c, max_wait);
}

int p11_dev_set_pin(p11_dev *d, int so, const char *old, const char *fresh,
                    unsigned max_wait)
{
    pin_cmd c = {1, so, fresh, old};
    return pin_cmd_run(d, &c, max_wait);
}

int p11_dev_unblock(p11_dev *d, const char *fresh)
{
    thsm_deny why;
    thsm_hsm_pin_unblock(&d->at, fresh, &why);
    return deny_rc(&why);
}

int p11_dev_cert_der(p11_dev *d, int ca, uint8_t *der, size_t cap,
                     size_t *len)
{
    char pem[THSM_PEM_MAX];
    int rc = cmd(d, ca ? THSM_CMD_CA_CERT " " THSM_P_FORMAT "=" THSM_V_FORMAT_PEM
                       : THSM_CMD_SIGNER_CERT);
    if (rc != DEV_OK)
        return rc;
    if (thsm_parse_pem(d->resp.lines, d->resp.nlines, pem, sizeof(pem)) != 0 ||
        thsm_x509_to_der((const uint8_t *)pem, strlen(pem), der, cap, len) != 0)
        return DEV_ERROR;
    return DEV_OK;
}

int p11_dev_sign(p11_dev *d, const uint8_t digest[32], uint8_t sig[64])
{
    char req[100] = THSM_CMD_SIGNER_SIGN " " THSM_P_HASH "=";
    thsm_hex(digest, 32, req + strlen(req));
    int rc = cmd(d, req);
    if (rc != DEV_OK)
        return rc;
    return thsm_parse_sig(d->resp.text, sig) == 0 ? DEV_OK : DEV_ERROR;
}

int p11_dev_new_signer(p11_dev *d, const char *c, const char *o,
                       const char *cn, const char *start, unsigned days)
{
    char req[512];
    int rc = cmd(d, THSM_CMD_SIGNER_NEW_KEY " " THSM_P_ALGO "=" THSM_V_ALGO_P256);
    if (rc != DEV_OK)
        return rc;
    snprintf(req, sizeof(req),
             THSM_CMD_SIGNER_NEW_CERT " " THSM_P_TYPE "=" THSM_V_TYPE_CA_SIGNED
             " " THSM_P_C "=%s " THSM_P_O "=%s " THSM_P_CN "=%s " THSM_P_START
             "=%s " THSM_P_DAYS "=%u",
             c, o, cn, start, days);
    return cmd(d, req);
}
