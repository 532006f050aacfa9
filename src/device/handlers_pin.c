/*
 * handlers_pin.c - PIN commands (our extension): AT+PIN_SET, AT+AUTH,
 * AT+LOGOUT, AT+SO_PIN_SET, AT+PIN_UNBLOCK (layer: handlers).
 *
 * Two roles, as on a smart card: the user (key use) and the security
 * officer (SO, whose PIN is a PUK: it unblocks the user PIN and sets a new
 * one, and never uses the keys). Each role's record seals the same KEK under
 * a key derived from its PIN, so either can reach the keys. Each has its
 * own tries; each wrong PIN doubles a wait (thsm_pin_delay) that refuses
 * the next try with ERROR PIN_DELAY and spends nothing.
 *
 * Every key derivation happens first: an internal failure (scrypt cannot get
 * its memory, or the record names a KDF this crypto backend does not have,
 * such as scrypt on the MCU) answers ERROR CRYPTO and changes nothing, so it
 * can never cost a try or look like a wrong PIN. A new PIN is set with the
 * backend's KDF (dev->pin_kdf); an existing one is checked with the KDF its
 * record names. Then the retry counter is decremented and
 * saved before the comparison, so cutting the power during a guess cannot
 * give the attempt back. A right PIN restores the counter; at zero the PIN is
 * blocked and only a decommission, which erases every key, brings the device
 * back, unless an SO PIN still has tries.
 *
 * A login belongs to the session that made it (see state.c). No answer ever
 * repeats a PIN parameter's text.
 */
#include <stdbool.h>
#include <string.h>

#include "crypto/util.h"
#include "device/handlers.h"
#include "device/response.h"
#include "device/state.h"
#include "device/store.h"

/* Whether the transport refuses logins (a shared port); answers the
 * refusal. */
static bool login_refused(thsm_device *dev)
{
    if (!dev->sess->login_blocked)
        return false;
    thsm_resp_error(dev, THSM_E_AUTH_REFUSED, "the port is open by more than one "
                    "process; log in over a connection of your own");
    return true;
}

/* Whether pin is well-formed; a malformed PIN is a malformed request:
 * answers BAD_PARAM naming param (never its text), and no try is spent. */
static bool pin_param_ok(thsm_device *dev, const char *param, const char *pin)
{
    if (thsm_pin_format_ok(pin))
        return true;
    thsm_resp_error(dev, THSM_E_BAD_PARAM, "%s must be %d to %d printable "
                    "characters without spaces", param, THSM_PIN_MIN,
                    THSM_PIN_MAX);
    return false;
}

/* A role: the user's PIN or the security officer's. */
typedef struct {
    thsm_pin *rec;
    uint8_t max;      /* its tries when right */
    int so;
    const char *name; /* binds its KEK wrap */
    const char *ev_ok, *ev_failed, *ev_blocked;
} role;

static role role_of(thsm_device *dev, int so)
{
    if (so)
        return (role){&dev->st.so, THSM_SO_PIN_TRIES, 1, "so", THSM_EV_SO_AUTH,
                      THSM_EV_SO_AUTH_FAILED, THSM_EV_SO_AUTH_BLOCKED};
    return (role){&dev->st.pin, THSM_PIN_TRIES, 0, "user", THSM_EV_AUTH,
                  THSM_EV_AUTH_FAILED, THSM_EV_AUTH_BLOCKED};
}

/* Derives the role key that a well-formed pin gives under rec. Answers
 * ERROR CRYPTO and returns -1 when the derivation itself failed. */
static int derive(thsm_device *dev, const char *pin, const thsm_pin *rec,
                  uint8_t key[32], uint8_t check[32])
{
    memset(check, 0, 32);
    if (thsm_kek_from_pin(dev->port, pin, rec, key) == 0 &&
        thsm_pin_check_value(key, check) == 0)
        return 0;
    thsm_wipe(key, 32);
    thsm_resp_error(dev, THSM_E_CRYPTO, "PIN key derivation failed; no try was "
                    "spent");
    return -1;
}

/* Whether r's wait after wrong PINs is still running; answers
 * ERROR PIN_DELAY <seconds>. */
static bool delay_refused(thsm_device *dev, const role *r)
{
    int64_t now = dev->port->now(dev->port->ctx);
    if (now < r->rec->last_fail)
        r->rec->last_fail = now; /* the clock went back: wait from now */
    uint32_t left = thsm_pin_delay(dev, r->rec, r->max);
    if (left == 0)
        return false;
    thsm_resp_error(dev, THSM_E_PIN_DELAY, "%lu seconds to wait before the next "
                    "try; no try was spent", (unsigned long)left);
    return true;
}

/* Spends one try (saved first, with the time of the failure it may be),
 * then compares. 0 when the PIN was right; otherwise answers the error. */
static int spend_and_compare(thsm_device *dev, const role *r,
                             const uint8_t check[32])
{
    thsm_pin *p = r->rec;
    p->tries--;
    p->last_fail = dev->port->now(dev->port->ctx);
    if (thsm_save_or_restore(dev) != 0)
        return -1;
    if (!thsm_ct_equal(check, p->check, 32)) {
        thsm_state_changed(dev, p->tries ? r->ev_failed : r->ev_blocked, NULL,
                           NULL);
        thsm_resp_error(dev, THSM_E_AUTH_FAILED, "%u tries left", p->tries);
        return -1;
    }
    p->tries = r->max;
    p->last_fail = 0;
    return thsm_save_or_restore(dev);
}

static void locked(thsm_device *dev, const role *r)
{
    if (r->so)
        thsm_resp_error(dev, THSM_E_PIN_LOCKED, "SO PIN blocked after too many "
                        "wrong attempts; only " THSM_CMD_DECOMMISSION
                        " recovers a blocked user PIN now");
    else if (dev->st.so.set && dev->st.so.tries)
        thsm_resp_error(dev, THSM_E_PIN_LOCKED, "PIN blocked after too many "
                        "wrong attempts; the security officer unblocks it: "
                        THSM_CMD_AUTH_SO " " THSM_P_PIN "=<puk>, then "
                        THSM_CMD_PIN_UNBLOCK " " THSM_P_NEW "=<pin>");
    else
        thsm_resp_error(dev, THSM_E_PIN_LOCKED, "PIN blocked after too many "
                        "wrong attempts; only " THSM_CMD_DECOMMISSION
                        " recovers");
}

/* Checks pin against r's record; fills kek when right. */
static int check_pin(thsm_device *dev, const role *r, const char *pin,
                     uint8_t kek[32])
{
    uint8_t key[32], check[32];
    if (r->rec->tries == 0) {
        locked(dev, r);
        return -1;
    }
    if (delay_refused(dev, r))
        return -1;
    int rc = derive(dev, pin, r->rec, key, check);
    if (rc == 0)
        rc = spend_and_compare(dev, r, check);
    if (rc == 0 && thsm_pin_unwrap_kek(r->rec, r->name, key, kek) != 0) {
        thsm_resp_error(dev, THSM_E_STORAGE, "the PIN record's key does not "
                        "unwrap");
        rc = -1;
    }
    if (rc != 0)
        thsm_wipe(kek, 32);
    thsm_wipe(key, sizeof(key));
    thsm_wipe(check, sizeof(check));
    return rc;
}

/* Makes kek the device's KEK, unwraps the keys and logs this session in
 * (as the SO when so). */
static int log_in(thsm_device *dev, int so, uint8_t kek[32])
{
    memcpy(dev->kek, kek, 32);
    thsm_wipe(kek, 32);
    dev->kek_known = 1;
    if (thsm_keys_unlock(dev) != 0) {
        thsm_login_end(dev, dev->sess);
        thsm_resp_error(dev, THSM_E_STORAGE, "a stored key does not unwrap");
        return -1;
    }
    thsm_login_role(dev, dev->sess, so);
    return 0;
}

/* AT+AUTH and AT+AUTH_SO: logs this session in as the role so says. */
static void auth_as(thsm_device *dev, const thsm_params *ps, int so)
{
    const char *pin = thsm_params_get(ps, THSM_P_PIN);
    role r = role_of(dev, so);
    uint8_t kek[32];
    if (!dev->st.pin.set || !r.rec->set) {
        thsm_resp_error(dev, THSM_E_NO_PIN, so ? "no SO PIN is set; "
                        THSM_CMD_SO_PIN_SET " " THSM_P_NEW "=<puk> sets one"
                        : "no PIN is set; " THSM_CMD_PIN_SET " " THSM_P_NEW
                        "=<pin> sets one");
        return;
    }
    if (login_refused(dev) || !pin_param_ok(dev, THSM_P_PIN, pin))
        return;
    if (check_pin(dev, &r, pin, kek) == 0 && log_in(dev, so, kek) == 0) {
        thsm_state_changed(dev, r.ev_ok, NULL, NULL);
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}

void thsm_h_auth(thsm_device *dev, const thsm_params *ps)
{
    auth_as(dev, ps, 0);
}

void thsm_h_auth_so(thsm_device *dev, const thsm_params *ps)
{
    auth_as(dev, ps, 1);
}

/* A new PIN record with max tries and its role key; answers ERROR CRYPTO
 * on failure. */
static int new_record(thsm_device *dev, const char *new_pin, uint8_t max,
                      thsm_pin *rec, uint8_t key[32])
{
    *rec = (thsm_pin){.set = 1, .tries = max, .kdf = dev->pin_kdf};
    if (thsm_random(rec->salt, sizeof(rec->salt)) != 0) {
        thsm_resp_error(dev, THSM_E_CRYPTO, "no random numbers");
        return -1;
    }
    return derive(dev, new_pin, rec, key, rec->check);
}

/* Seals kek in rec under the role key; answers ERROR CRYPTO on failure. */
static int wrap(thsm_device *dev, thsm_pin *rec, const char *name,
                const uint8_t key[32], const uint8_t kek[32])
{
    if (thsm_pin_wrap_kek(rec, name, key, kek) == 0)
        return 0;
    thsm_resp_error(dev, THSM_E_CRYPTO, "key wrapping failed");
    return -1;
}

/* Re-wraps every key under kek and stores rec; logs this session in (as
 * the SO when so) and every other one out. */
static int install_pin(thsm_device *dev, const thsm_pin *rec, uint8_t kek[32],
                       int so, const char *event)
{
    if ((dev->st.ca.has_key && thsm_slot_wrap(&dev->st.ca, "ca", kek)) ||
        (dev->st.signer.has_key &&
         thsm_slot_wrap(&dev->st.signer, "signer", kek))) {
        thsm_device_reload(dev);
        thsm_resp_error(dev, THSM_E_CRYPTO, "key wrapping failed");
        return -1;
    }
    dev->st.pin = *rec;
    if (thsm_save_or_restore(dev) != 0)
        return -1;
    memcpy(dev->kek, kek, 32);
    dev->kek_known = 1;
    thsm_login_role(dev, dev->sess, so);
    thsm_login_end_others(dev, dev->sess);
    thsm_state_changed(dev, event, NULL, NULL);
    return 0;
}

/* Whether a new PIN (user or SO) is well-formed and not too easy to guess;
 * answers the error. */
static bool new_pin_ok(thsm_device *dev, const char *new_pin)
{
    if (!pin_param_ok(dev, THSM_P_NEW, new_pin))
        return false;
    if (!thsm_pin_weak(new_pin))
        return true;
    thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_NEW " is too easy to "
                    "guess: " THSM_PIN_WEAK_TEXT);
    return false;
}

/* Whether the parameters are present and well-formed; answers the error. */
static bool pin_set_params_ok(thsm_device *dev, const char *old,
                             const char *new_pin)
{
    if (!new_pin_ok(dev, new_pin) ||
        (old && !pin_param_ok(dev, THSM_P_OLD, old)))
        return false;
    if (dev->st.pin.set && !old)
        thsm_resp_error(dev, THSM_E_BAD_PARAM,
                        "a PIN is set; give " THSM_P_OLD "=<pin> too");
    else if (!dev->st.pin.set && old)
        thsm_resp_error(dev, THSM_E_BAD_PARAM,
                        "no PIN is set; give only " THSM_P_NEW "=<pin>");
    else
        return true;
    return false;
}

/* The KEK a new user PIN seals: the one the old PIN opens while an SO PIN
 * seals it too, otherwise a fresh one. */
static int pin_set_kek(thsm_device *dev, const char *old, uint8_t kek[32])
{
    role user = role_of(dev, 0);
    if (old && (check_pin(dev, &user, old, kek) != 0 ||
                log_in(dev, 0, kek) != 0))
        return -1;
    if (old && dev->st.so.set) {
        memcpy(kek, dev->kek, 32);
        return 0;
    }
    if (thsm_random(kek, 32) == 0)
        return 0;
    thsm_resp_error(dev, THSM_E_CRYPTO, "no random numbers");
    return -1;
}

void thsm_h_pin_set(thsm_device *dev, const thsm_params *ps)
{
    const char *old = thsm_params_get(ps, THSM_P_OLD);
    const char *new_pin = thsm_params_get(ps, THSM_P_NEW);
    uint8_t key[32], kek[32];
    thsm_pin rec;
    if (!pin_set_params_ok(dev, old, new_pin) || login_refused(dev))
        return;
    /* both derivations before any try is spent or anything is changed */
    if (new_record(dev, new_pin, THSM_PIN_TRIES, &rec, key) == 0 &&
        pin_set_kek(dev, old, kek) == 0 &&
        wrap(dev, &rec, "user", key, kek) == 0 &&
        install_pin(dev, &rec, kek, 0, THSM_EV_PIN_SET) == 0)
        thsm_resp_line(dev, THSM_ANS_OK);
    thsm_wipe(key, sizeof(key));
    thsm_wipe(kek, sizeof(kek));
    thsm_wipe(&rec, sizeof(rec));
}

static bool so_pin_set_params_ok(thsm_device *dev, const char *old,
                                 const char *new_puk)
{
    if (!new_pin_ok(dev, new_puk) ||
        (old && !pin_param_ok(dev, THSM_P_OLD, old)))
        return false;
    if (!dev->st.pin.set)
        thsm_resp_error(dev, THSM_E_NO_PIN, "set the user PIN first: "
                        THSM_CMD_PIN_SET " " THSM_P_NEW "=<pin>");
    else if (dev->st.so.set && !old)
        thsm_resp_error(dev, THSM_E_BAD_PARAM,
                        "an SO PIN is set; give " THSM_P_OLD "=<puk> too");
    else if (!dev->st.so.set && old)
        thsm_resp_error(dev, THSM_E_BAD_PARAM,
                        "no SO PIN is set; give only " THSM_P_NEW "=<puk>");
    else
        return true;
    return false;
}

/* The KEK the new SO PIN seals: the old SO PIN opens it (and logs this
 * session in as the SO); a first one needs this session's user login. */
static int so_pin_kek(thsm_device *dev, const char *old, uint8_t kek[32])
{
    role so = role_of(dev, 1);
    if (old && (check_pin(dev, &so, old, kek) != 0 || log_in(dev, 1, kek) != 0))
        return -1;
    if (!old && !thsm_logged_in(dev, dev->sess)) {
        thsm_resp_error(dev, THSM_E_AUTH_REQUIRED, "the user sets the first SO "
                        "PIN: log in first with " THSM_CMD_AUTH " " THSM_P_PIN
                        "=<pin>");
        return -1;
    }
    memcpy(kek, dev->kek, 32);
    return 0;
}

void thsm_h_so_pin_set(thsm_device *dev, const thsm_params *ps)
{
    const char *old = thsm_params_get(ps, THSM_P_OLD);
    const char *new_puk = thsm_params_get(ps, THSM_P_NEW);
    uint8_t key[32], kek[32];
    thsm_pin rec;
    if (!so_pin_set_params_ok(dev, old, new_puk) || login_refused(dev))
        return;
    if (new_record(dev, new_puk, THSM_SO_PIN_TRIES, &rec, key) == 0 &&
        so_pin_kek(dev, old, kek) == 0 &&
        wrap(dev, &rec, "so", key, kek) == 0) {
        dev->st.so = rec;
        if (thsm_save_or_restore(dev) == 0) {
            thsm_state_changed(dev, THSM_EV_SO_PIN_SET, NULL, NULL);
            thsm_resp_line(dev, THSM_ANS_OK);
        }
    }
    thsm_wipe(key, sizeof(key));
    thsm_wipe(kek, sizeof(kek));
    thsm_wipe(&rec, sizeof(rec));
}

/* A new user PIN from the SO: the keys stay, the tries and wait reset,
 * every other session is logged out. */
void thsm_h_pin_unblock(thsm_device *dev, const thsm_params *ps)
{
    const char *new_pin = thsm_params_get(ps, THSM_P_NEW);
    uint8_t key[32], kek[32];
    thsm_pin rec;
    if (!new_pin_ok(dev, new_pin) || login_refused(dev))
        return;
    if (!thsm_so_logged_in(dev, dev->sess)) {
        thsm_resp_error(dev, THSM_E_AUTH_REQUIRED, "log in as the security "
                        "officer first with " THSM_CMD_AUTH_SO " "
                        THSM_P_PIN "=<puk>");
        return;
    }
    memcpy(kek, dev->kek, 32);
    if (new_record(dev, new_pin, THSM_PIN_TRIES, &rec, key) == 0 &&
        wrap(dev, &rec, "user", key, kek) == 0 &&
        install_pin(dev, &rec, kek, 1, THSM_EV_PIN_UNBLOCK) == 0)
        thsm_resp_line(dev, THSM_ANS_OK);
    thsm_wipe(key, sizeof(key));
    thsm_wipe(kek, sizeof(kek));
    thsm_wipe(&rec, sizeof(rec));
}

void thsm_h_logout(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_login_end(dev, dev->sess);
    thsm_resp_line(dev, THSM_ANS_OK);
}
