/*
 * session.c - one request of one session (layer: session): the command
 * table, parameter checks, the storage and login gates, and the records of
 * refused key and PIN commands. Calls the handlers through the table.
 */
#include <stdbool.h>
#include <string.h>

#include "crypto/util.h"
#include "device/audit.h"
#include "device/handlers.h"
#include "device/response.h"
#include "device/session.h"
#include "device/state.h"

enum {
    NEEDS_STORE = 1, /* refused while the stored state is unreadable */
    NEEDS_AUTH = 2,  /* refused without AT+AUTH once a PIN is set */
    BLOCKED_OK = 4,  /* allowed without AT+AUTH when the PIN is blocked */
    SECRET = 8,      /* carries a PIN or a key: no answer repeats its
                        parameter text */
};

typedef struct {
    const char *name;
    thsm_handler *run;
    const char *required[6];
    const char *optional[8];
    unsigned flags;
} command;

#define CERT_FIELDS THSM_P_C, THSM_P_O, THSM_P_CN, THSM_P_START, THSM_P_DAYS

static const command commands[] = {
    {THSM_CMD_AT, thsm_h_at, {0}, {0}, 0},
    {THSM_CMD_RESET, thsm_h_reset, {0}, {0}, 0},
    {THSM_CMD_VERSION, thsm_h_version, {0}, {0}, 0},
    {THSM_CMD_ABOUT, thsm_h_about, {0}, {0}, 0},
    {THSM_CMD_STSAFE_INIT, thsm_h_store_ok, {0}, {0}, NEEDS_STORE},
    {THSM_CMD_HSM_CA_INIT, thsm_h_store_ok, {0}, {0}, NEEDS_STORE},
    {THSM_CMD_SIGNER_INIT, thsm_h_store_ok, {0}, {0}, NEEDS_STORE},
    {THSM_CMD_STSAFE_READY, thsm_h_ready, {0}, {0}, 0},
    {THSM_CMD_STSAFE_HOST_KEY, thsm_h_host_key, {0}, {0}, 0},
    {THSM_CMD_STSAFE_SERIAL, thsm_h_serial, {0}, {0}, 0},
    {THSM_CMD_DECOMMISSION, thsm_h_decommission, {0}, {0},
     NEEDS_STORE | NEEDS_AUTH | BLOCKED_OK},
    {THSM_CMD_CA_NEW_CERT, thsm_h_ca_new_cert, {CERT_FIELDS}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_CA_CERT, thsm_h_ca_cert, {0}, {THSM_P_FORMAT}, NEEDS_STORE},
    {THSM_CMD_CA_CERT_INFO, thsm_h_ca_info, {0}, {0}, NEEDS_STORE},
    {THSM_CMD_SIGNER_NEW_KEY, thsm_h_signer_new_key, {THSM_P_ALGO}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_SIGNER_NEW_CERT, thsm_h_signer_new_cert,
     {THSM_P_TYPE, CERT_FIELDS}, {0}, NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_SIGNER_CERT, thsm_h_signer_cert, {0}, {THSM_P_FORMAT},
     NEEDS_STORE},
    {THSM_CMD_SIGNER_CERT_INFO, thsm_h_signer_info, {0}, {0}, NEEDS_STORE},
    {THSM_CMD_SIGNER_SIGN, thsm_h_signer_sign, {THSM_P_HASH}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_SIGNER_PUBKEY, thsm_h_signer_pubkey, {0}, {0}, NEEDS_STORE},
    /* our extensions */
    {THSM_CMD_AUTH, thsm_h_auth, {THSM_P_PIN}, {0}, NEEDS_STORE | SECRET},
    {THSM_CMD_PIN_SET, thsm_h_pin_set, {THSM_P_NEW}, {THSM_P_OLD},
     NEEDS_STORE | SECRET},
    {THSM_CMD_LOGOUT, thsm_h_logout, {0}, {0}, 0},
    {THSM_CMD_HSM_STATUS, thsm_h_status, {0}, {0}, NEEDS_STORE},
    {THSM_CMD_LOG, thsm_h_log, {0}, {THSM_P_FROM}, 0},
    {THSM_CMD_AUTH_SO, thsm_h_auth_so, {THSM_P_PIN}, {0},
     NEEDS_STORE | SECRET},
    {THSM_CMD_PIN_UNBLOCK, thsm_h_pin_unblock, {THSM_P_NEW}, {0},
     NEEDS_STORE | SECRET},
    {THSM_CMD_SO_PIN_SET, thsm_h_so_pin_set, {THSM_P_NEW}, {THSM_P_OLD},
     NEEDS_STORE | SECRET},
    {THSM_CMD_CERT_RENEW, thsm_h_cert_renew,
     {THSM_P_CERT, THSM_P_START, THSM_P_DAYS}, {0}, NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_LOG_ACK, thsm_h_log_ack, {0}, {0}, NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_LOG_CLEAR, thsm_h_log_clear, {THSM_P_COUNT, THSM_P_HEAD}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_POLICY, thsm_h_policy, {0}, {0}, NEEDS_STORE},
    {THSM_CMD_POLICY_SET, thsm_h_policy_set, {0},
     {THSM_P_BOARDS, THSM_P_FORMATS, THSM_P_RISING, THSM_P_MAX_SIZE,
      THSM_P_PER_HOUR, THSM_P_PER_DAY, THSM_P_DIGEST, THSM_P_IMPORTS},
     NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_POLICY_LOCK, thsm_h_policy_lock, {0}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_SIGNER_IMPORT, thsm_h_signer_import, {THSM_P_KEY}, {0},
     NEEDS_STORE | NEEDS_AUTH | SECRET},
    {THSM_CMD_SIGNER_CERT_SET, thsm_h_signer_cert_set, {THSM_P_CERT}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_IMG_BEGIN, thsm_h_img_begin, {THSM_P_FORMAT, THSM_P_SIZE},
     {THSM_P_NAME}, NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_IMG_DATA, thsm_h_img_data, {THSM_P_SEQ, THSM_P_DATA}, {0},
     NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_IMG_END, thsm_h_img_end, {0}, {0}, NEEDS_STORE | NEEDS_AUTH},
    {THSM_CMD_IMG_ABORT, thsm_h_img_abort, {0}, {0}, NEEDS_STORE | NEEDS_AUTH},
};


static bool listed(const char *const *names, size_t n, const char *key)
{
    for (size_t i = 0; i < n && names[i]; i++)
        if (strcmp(names[i], key) == 0)
            return true;
    return false;
}

/* Whether c's parameters are all known and present; answers the error
 * itself when not. */
static bool params_ok(thsm_device *dev, const command *c,
                      const thsm_params *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        const char *k = ps->p[i].key;
        if (listed(c->required, 6, k) || listed(c->optional, 8, k))
            continue;
        if (c->flags & SECRET) /* the "name" may be part of a PIN */
            thsm_resp_error(dev, THSM_E_BAD_PARAM, "unknown parameter for "
                            "%s (a PIN cannot contain spaces)", c->name);
        else
            thsm_resp_error(dev, THSM_E_BAD_PARAM,
                            "unknown parameter %.20s for %s", k, c->name);
        return false;
    }
    for (size_t i = 0; i < 6 && c->required[i]; i++) {
        if (!thsm_params_get(ps, c->required[i])) {
            thsm_resp_error(dev, THSM_E_BAD_PARAM, "missing parameter %s",
                            c->required[i]);
            return false;
        }
    }
    return true;
}

/* Storage and PIN gates; answers the refusal itself. */
static bool allowed(thsm_device *dev, const command *c)
{
    const thsm_pin *p = &dev->st.pin;
    if ((c->flags & NEEDS_STORE) && dev->storage_error) {
        thsm_resp_error(dev, THSM_E_STORAGE, "key store unreadable: %s",
                        dev->storage_reason);
        return false;
    }
    if (!(c->flags & NEEDS_AUTH) || !p->set ||
        thsm_logged_in(dev, dev->sess))
        return true;
    if (p->tries == 0 && (c->flags & BLOCKED_OK))
        return true;
    if (p->tries == 0)
        thsm_resp_error(dev, THSM_E_PIN_LOCKED, "PIN blocked; "
                        THSM_CMD_PIN_UNBLOCK " (as the security officer) or "
                        THSM_CMD_DECOMMISSION " recovers the device");
    else
        thsm_resp_error(dev, THSM_E_AUTH_REQUIRED, "log in first with "
                        THSM_CMD_AUTH " " THSM_P_PIN "=<pin>");
    return false;
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
 * request) leaves a record: event = the error code, result = the command;
 * repeats are counted into one record (thsm_audit_refused). Handlers that
 * recorded the outcome themselves (a wrong PIN) are not recorded twice. */
static void log_refusal(thsm_device *dev, const command *c)
{
    char why[THSM_AUDIT_WHY];
    if (!(c->flags & (NEEDS_AUTH | SECRET)) || !dev->err_code ||
        strcmp(dev->err_code, THSM_E_BAD_PARAM) == 0 || dev->outcome_recorded)
        return;
    if (thsm_audit_recover(dev, why, sizeof(why)))
        thsm_device_flush(dev); /* a new segment started: seal it */
    thsm_audit_refused(dev, dev->err_code,
                       c->name + sizeof(THSM_CMD_PREFIX) - 1, dev->sess->peer);
}

void thsm_session_request(thsm_device *dev, char *line)
{
    char *name = trim(line), *args = strchr(name, ' '), why[96];
    thsm_params ps;
    dev->outcome_recorded = 0;
    if (args)
        *args++ = '\0';
    const command *c = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            c = &commands[i];
    if (!c) {
        thsm_resp_error(dev, THSM_E_UNKNOWN_COMMAND, "unknown command %.40s",
                        name);
    } else if (thsm_params_parse(args ? args : "", &ps, why, sizeof(why))) {
        if (c->flags & SECRET) /* why quotes the request's text */
            thsm_resp_error(dev, THSM_E_BAD_PARAM, "%s takes KEY=VALUE "
                            "parameters (a PIN cannot contain spaces)",
                            c->name);
        else
            thsm_resp_error(dev, THSM_E_BAD_PARAM, "%s", why);
    } else if (params_ok(dev, c, &ps) && allowed(dev, c)) {
        c->run(dev, &ps);
    }
    if (c)
        log_refusal(dev, c);
    thsm_wipe(why, sizeof(why));
    thsm_wipe(&ps, sizeof(ps));
}
