/*
 * pin.c - PIN commands (our extension): AT+PIN_SET, AT+AUTH, AT+LOGOUT.
 *
 * The retry counter is decremented and saved before a PIN is checked, so
 * cutting the power during a guess cannot give the attempt back. A right PIN
 * restores the counter; at zero the PIN is blocked and only a decommission,
 * which erases every key, brings the device back.
 */
#include <string.h>

#include "device/internal.h"

static int pin_format_ok(const char *pin)
{
    size_t n = strlen(pin);
    if (n < THSM_PIN_MIN || n > THSM_PIN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (pin[i] < 0x21 || pin[i] > 0x7e)
            return 0;
    return 1;
}

/* Counts one attempt down (saved first), then checks pin. Fills kek when
 * right; otherwise answers the error. */
static int check_pin(thsm_device *dev, const char *pin, uint8_t kek[32])
{
    thsm_pin *p = &dev->st.pin;
    uint8_t check[32];
    if (p->tries == 0) {
        thsm_resp_error(dev, "PIN_LOCKED", "PIN blocked after too many wrong "
                        "attempts; only AT+STSAFE_DECOMMISSION recovers");
        return -1;
    }
    p->tries--;
    if (thsm_save_or_restore(dev) != 0)
        return -1;
    int right = pin_format_ok(pin) &&
                thsm_kek_from_pin(dev->port, pin, p, kek) == 0 &&
                thsm_pin_check_value(kek, check) == 0 &&
                thsm_ct_equal(check, p->check, sizeof(check));
    if (!right) {
        thsm_wipe(kek, 32);
        thsm_audit_state_change(dev, "AUTH", NULL, NULL,
                                p->tries ? "FAILED" : "FAILED_BLOCKED");
        thsm_resp_error(dev, "AUTH_FAILED", "%u tries left", p->tries);
        return -1;
    }
    p->tries = THSM_PIN_TRIES;
    if (thsm_save_or_restore(dev) != 0) {
        thsm_wipe(kek, 32);
        return -1;
    }
    return 0;
}

/* Makes kek this connection's KEK and unwraps the keys with it. */
static int log_in(thsm_device *dev, uint8_t kek[32])
{
    memcpy(dev->kek, kek, 32);
    thsm_wipe(kek, 32);
    dev->kek_known = 1;
    if (thsm_session_unlock(dev) != 0) {
        thsm_session_end(dev);
        thsm_resp_error(dev, "STORAGE", "a stored key does not unwrap");
        return -1;
    }
    dev->authed = 1;
    return 0;
}

void thsm_h_auth(thsm_device *dev, const thsm_params *ps)
{
    uint8_t kek[32];
    if (!dev->st.pin.set) {
        thsm_resp_error(dev, "NO_PIN", "no PIN is set; AT+PIN_SET NEW=<pin> "
                                       "sets one");
        return;
    }
    if (check_pin(dev, thsm_params_get(ps, "PIN"), kek) == 0 &&
        log_in(dev, kek) == 0) {
        thsm_audit_state_change(dev, "AUTH", NULL, NULL, "OK");
        thsm_resp_line(dev, "OK");
    }
}

/* Re-wraps every key under a KEK for new_pin and stores the new record. */
static int install_pin(thsm_device *dev, const char *new_pin)
{
    thsm_pin rec = {.set = 1, .tries = THSM_PIN_TRIES,
                    .kdf_log2n = dev->pin_kdf_log2n};
    uint8_t kek[32];
    if (thsm_random(rec.salt, sizeof(rec.salt)) != 0 ||
        thsm_kek_from_pin(dev->port, new_pin, &rec, kek) != 0 ||
        thsm_pin_check_value(kek, rec.check) != 0 ||
        (dev->st.ca.has_key && thsm_slot_wrap(&dev->st.ca, "ca", kek)) ||
        (dev->st.signer.has_key &&
         thsm_slot_wrap(&dev->st.signer, "signer", kek))) {
        thsm_wipe(kek, sizeof(kek));
        thsm_device_restore(dev);
        thsm_resp_error(dev, "CRYPTO", "PIN key derivation failed");
        return -1;
    }
    dev->st.pin = rec;
    if (thsm_save_or_restore(dev) != 0) {
        thsm_wipe(kek, sizeof(kek));
        return -1;
    }
    memcpy(dev->kek, kek, sizeof(kek));
    thsm_wipe(kek, sizeof(kek));
    dev->authed = 1;
    thsm_audit_state_change(dev, "PIN_SET", NULL, NULL, "OK");
    return 0;
}

void thsm_h_pin_set(thsm_device *dev, const thsm_params *ps)
{
    const char *old = thsm_params_get(ps, "OLD");
    const char *new_pin = thsm_params_get(ps, "NEW");
    uint8_t kek[32];
    if (!pin_format_ok(new_pin)) {
        thsm_resp_error(dev, "BAD_PARAM", "NEW must be %d to %d printable "
                        "characters", THSM_PIN_MIN, THSM_PIN_MAX);
        return;
    }
    if (dev->st.pin.set && !old) {
        thsm_resp_error(dev, "BAD_PARAM", "a PIN is set; give OLD=<pin> too");
        return;
    }
    if (!dev->st.pin.set && old) {
        thsm_resp_error(dev, "BAD_PARAM", "no PIN is set; give only NEW=<pin>");
        return;
    }
    if (old && (check_pin(dev, old, kek) != 0 || log_in(dev, kek) != 0))
        return;
    if (install_pin(dev, new_pin) == 0)
        thsm_resp_line(dev, "OK");
}

void thsm_h_logout(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_session_end(dev);
    thsm_resp_line(dev, "OK");
}
