/*
 * handlers_pin.c - PIN commands (our extension): AT+PIN_SET, AT+AUTH,
 * AT+LOGOUT (layer: handlers).
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
 * back.
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

/* Derives the KEK that a well-formed pin gives under rec. Answers
 * ERROR CRYPTO and returns -1 when the derivation itself failed. */
static int derive(thsm_device *dev, const char *pin, const thsm_pin *rec,
                  uint8_t kek[32], uint8_t check[32])
{
    memset(check, 0, 32);
    if (thsm_kek_from_pin(dev->port, pin, rec, kek) == 0 &&
        thsm_pin_check_value(kek, check) == 0)
        return 0;
    thsm_wipe(kek, 32);
    thsm_resp_error(dev, THSM_E_CRYPTO, "PIN key derivation failed; no try was "
                    "spent");
    return -1;
}

/* Spends one try (saved first), then compares. 0 when the PIN was right;
 * otherwise answers the error. */
static int spend_and_compare(thsm_device *dev, const uint8_t check[32])
{
    thsm_pin *p = &dev->st.pin;
    p->tries--;
    if (thsm_save_or_restore(dev) != 0)
        return -1;
    if (!thsm_ct_equal(check, p->check, 32)) {
        thsm_state_changed(dev, p->tries ? THSM_EV_AUTH_FAILED : THSM_EV_AUTH_BLOCKED,
                           NULL, NULL);
        thsm_resp_error(dev, THSM_E_AUTH_FAILED, "%u tries left", p->tries);
        return -1;
    }
    p->tries = THSM_PIN_TRIES;
    return thsm_save_or_restore(dev);
}

/* Checks pin against the stored record; fills kek when right. */
static int check_pin(thsm_device *dev, const char *pin, uint8_t kek[32])
{
    uint8_t check[32];
    if (dev->st.pin.tries == 0) {
        thsm_resp_error(dev, THSM_E_PIN_LOCKED, "PIN blocked after too many "
                        "wrong attempts; only " THSM_CMD_DECOMMISSION
                        " recovers");
        return -1;
    }
    int rc = derive(dev, pin, &dev->st.pin, kek, check);
    if (rc == 0)
        rc = spend_and_compare(dev, check);
    if (rc != 0)
        thsm_wipe(kek, 32);
    thsm_wipe(check, sizeof(check));
    return rc;
}

/* Makes kek the device's KEK, unwraps the keys and logs this session in. */
static int log_in(thsm_device *dev, uint8_t kek[32])
{
    memcpy(dev->kek, kek, 32);
    thsm_wipe(kek, 32);
    dev->kek_known = 1;
    if (thsm_keys_unlock(dev) != 0) {
        thsm_login_end(dev, dev->sess);
        thsm_resp_error(dev, THSM_E_STORAGE, "a stored key does not unwrap");
        return -1;
    }
    thsm_login_begin(dev, dev->sess);
    return 0;
}

void thsm_h_auth(thsm_device *dev, const thsm_params *ps)
{
    uint8_t kek[32];
    if (!dev->st.pin.set) {
        thsm_resp_error(dev, THSM_E_NO_PIN, "no PIN is set; " THSM_CMD_PIN_SET
                        " " THSM_P_NEW "=<pin> sets one");
        return;
    }
    const char *pin = thsm_params_get(ps, THSM_P_PIN);
    if (login_refused(dev) || !pin_param_ok(dev, THSM_P_PIN, pin))
        return;
    if (check_pin(dev, pin, kek) == 0 &&
        log_in(dev, kek) == 0) {
        thsm_state_changed(dev, THSM_EV_AUTH, NULL, NULL);
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}

/* A new PIN record and its KEK; answers ERROR CRYPTO on failure. */
static int new_record(thsm_device *dev, const char *new_pin, thsm_pin *rec,
                      uint8_t kek[32])
{
    *rec = (thsm_pin){.set = 1, .tries = THSM_PIN_TRIES, .kdf = dev->pin_kdf};
    if (thsm_random(rec->salt, sizeof(rec->salt)) != 0) {
        thsm_resp_error(dev, THSM_E_CRYPTO, "no random numbers");
        return -1;
    }
    return derive(dev, new_pin, rec, kek, rec->check);
}

/* Re-wraps every key under kek and stores rec; logs this session in and
 * every other one out. */
static int install_pin(thsm_device *dev, const thsm_pin *rec, uint8_t kek[32])
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
    thsm_login_begin(dev, dev->sess);
    thsm_login_end_others(dev, dev->sess);
    thsm_state_changed(dev, THSM_EV_PIN_SET, NULL, NULL);
    return 0;
}

/* Whether the parameters are present and well-formed; answers the error. */
static bool pin_set_params_ok(thsm_device *dev, const char *old,
                             const char *new_pin)
{
    if (!pin_param_ok(dev, THSM_P_NEW, new_pin) ||
        (old && !pin_param_ok(dev, THSM_P_OLD, old)))
        return false;
    if (thsm_pin_weak(new_pin))
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_NEW " is too easy to "
                        "guess: " THSM_PIN_WEAK_TEXT);
    else if (dev->st.pin.set && !old)
        thsm_resp_error(dev, THSM_E_BAD_PARAM,
                        "a PIN is set; give " THSM_P_OLD "=<pin> too");
    else if (!dev->st.pin.set && old)
        thsm_resp_error(dev, THSM_E_BAD_PARAM,
                        "no PIN is set; give only " THSM_P_NEW "=<pin>");
    else
        return true;
    return false;
}

void thsm_h_pin_set(thsm_device *dev, const thsm_params *ps)
{
    const char *old = thsm_params_get(ps, THSM_P_OLD);
    const char *new_pin = thsm_params_get(ps, THSM_P_NEW);
    uint8_t kek[32], old_kek[32];
    thsm_pin rec;
    if (!pin_set_params_ok(dev, old, new_pin) || login_refused(dev))
        return;
    /* both derivations before any try is spent or anything is changed */
    if (new_record(dev, new_pin, &rec, kek) != 0)
        return;
    if ((!old || (check_pin(dev, old, old_kek) == 0 &&
                  log_in(dev, old_kek) == 0)) &&
        install_pin(dev, &rec, kek) == 0)
        thsm_resp_line(dev, THSM_ANS_OK);
    thsm_wipe(kek, sizeof(kek));
    thsm_wipe(old_kek, sizeof(old_kek));
    thsm_wipe(&rec, sizeof(rec));
}

void thsm_h_logout(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_login_end(dev, dev->sess);
    thsm_resp_line(dev, THSM_ANS_OK);
}
