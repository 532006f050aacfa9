/*
 * state.c - the device's state in memory (layer: state): logins and the
 * key-encryption key, loading and saving state.bin with the audit log's
 * anchor, and the records of state changes. Below the handlers, above the
 * store and the audit log.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/util.h"
#include "device/audit.h"
#include "device/response.h"
#include "device/state.h"
#include "device/store.h"
#include "util/hex.h"

/* ---- logins ------------------------------------------------------------- */

/* Whether s holds a login of either role at the current epoch. */
static bool login_valid(const thsm_device *dev, const thsm_session *s)
{
    return s && s->authed && s->auth_epoch == dev->auth_epoch;
}

bool thsm_logged_in(const thsm_device *dev, const thsm_session *s)
{
    return login_valid(dev, s) && !s->so;
}

bool thsm_so_logged_in(const thsm_device *dev, const thsm_session *s)
{
    return login_valid(dev, s) && s->so;
}

void thsm_login_role(thsm_device *dev, thsm_session *s, int so)
{
    if (!login_valid(dev, s) || s->so != so)
        s->login_serial++; /* ends an image stream begun before */
    if (!login_valid(dev, s)) {
        s->authed = 1;
        s->auth_epoch = dev->auth_epoch;
        dev->logins++;
    }
    s->so = so;
}

/* With a PIN, the clear keys live only while someone is logged in. */
static void forget_keys_if_unused(thsm_device *dev)
{
    if (dev->logins > 0 || !dev->st.pin.set)
        return; /* without a PIN the keys stay usable, as on the board */
    thsm_slot_forget_key(&dev->st.ca);
    thsm_slot_forget_key(&dev->st.signer);
    thsm_wipe(dev->kek, sizeof(dev->kek));
    dev->kek_known = 0;
}

void thsm_login_end(thsm_device *dev, thsm_session *s)
{
    if (login_valid(dev, s))
        dev->logins--;
    s->authed = 0;
    s->so = 0;
    s->login_serial++; /* ends an image stream begun under the login */
    forget_keys_if_unused(dev);
}

void thsm_login_end_others(thsm_device *dev, thsm_session *s)
{
    bool mine = login_valid(dev, s);
    dev->auth_epoch++;
    dev->logins = 0;
    if (mine)
        thsm_login_role(dev, s, s->so);
    forget_keys_if_unused(dev);
}

uint32_t thsm_pin_delay(const thsm_device *dev, const thsm_pin *p,
                        uint8_t max_tries)
{
    unsigned fails = p->set && p->tries < max_tries ? max_tries - p->tries : 0;
    if (fails == 0 || p->last_fail == 0)
        return 0;
    int64_t wait = (int64_t)1 << (fails - 1);
    int64_t now = dev->port->now(dev->port->ctx);
    if (now < p->last_fail) /* the clock went back: the full wait */
        return (uint32_t)wait;
    int64_t left = p->last_fail + wait - now;
    return left > 0 ? (uint32_t)left : 0;
}

/* Ends every login at once (the KEK in memory no longer fits the state). */
static void login_end_all(thsm_device *dev)
{
    dev->auth_epoch++;
    dev->logins = 0;
    thsm_slot_forget_key(&dev->st.ca);
    thsm_slot_forget_key(&dev->st.signer);
    thsm_wipe(dev->kek, sizeof(dev->kek));
    dev->kek_known = 0;
}

int thsm_keys_unlock(thsm_device *dev)
{
    if (thsm_slot_unwrap(&dev->st.ca, "ca", dev->kek) == 0 &&
        thsm_slot_unwrap(&dev->st.signer, "signer", dev->kek) == 0)
        return 0;
    thsm_slot_forget_key(&dev->st.ca);
    thsm_slot_forget_key(&dev->st.signer);
    return -1;
}

/* ---- state -------------------------------------------------------------- */

/* Saves the state with the audit log's anchor: only records known durable. */
static int save_state(thsm_device *dev)
{
    dev->st.log = dev->anchor;
    dev->st.log.count = dev->log_synced;
    memcpy(dev->st.log.head, dev->log_synced_head, 32);
    if (thsm_store_save(dev->port, &dev->st, &dev->work) != 0)
        return -1;
    dev->anchor = dev->st.log;
    return 0;
}

/* A rolled-back state.bin brings back spent PIN tries: the log's wrong
 * PINs since the last right one bound them (never more than the state
 * says). With a damaged log (any LOG_STATE but OK) the count is
 * unknowable: one try is left, so the owner can still log in. */
static void tries_from_log(thsm_device *dev)
{
    thsm_pin *p = &dev->st.pin;
    uint32_t left = dev->log_pin_fails >= THSM_PIN_TRIES
                        ? 0 : THSM_PIN_TRIES - dev->log_pin_fails;
    if (dev->anchor.damage && left > 1)
        left = 1;
    if (!dev->anchor.rolled_back || !p->set || p->tries <= left)
        return;
    p->tries = (uint8_t)left;
    save_state(dev);
}

int thsm_state_open(thsm_device *dev)
{
    int rc = thsm_device_reload(dev);
    thsm_audit_open(dev, &dev->st); /* checked against the sealed anchor */
    if (rc == 0)
        tries_from_log(dev);
    return rc;
}

/* Makes fresh (just loaded) the state in memory, keys unwrapped as far as
 * the logins allow. */
static int take_state(thsm_device *dev, thsm_state *fresh)
{
    thsm_state_clear(&dev->st);
    dev->st = *fresh;
    thsm_wipe(fresh, sizeof(*fresh));
    if (dev->st.pin.set) {
        /* logged-in sessions keep their login if the KEK still fits */
        if (dev->kek_known && (dev->logins == 0 || thsm_keys_unlock(dev) != 0))
            login_end_all(dev);
        return 0;
    }
    dev->logins = 0; /* no PIN: nothing to be logged in to */
    dev->auth_epoch++;
    if (thsm_kek_from_device(dev->port, dev->kek) != 0 ||
        thsm_keys_unlock(dev) != 0) {
        snprintf(dev->storage_reason, sizeof(dev->storage_reason),
                 "a private key in state.bin does not unwrap");
        return -1;
    }
    dev->kek_known = 1;
    return 0;
}

/* Loads state.bin: 0, -1 unreadable, -2 older than the state in memory. */
static int load_state(thsm_device *dev)
{
    thsm_state *fresh = &dev->fresh;
    uint32_t gen = dev->st.generation;
    if (thsm_store_load(dev->port, fresh, &dev->work, &dev->format,
                        dev->storage_reason, sizeof(dev->storage_reason)) != 0)
        return -1;
    if (fresh->generation < gen) {
        /* a copied-back file: never go back; write the newer one again */
        thsm_state_clear(fresh);
        save_state(dev);
        return -2;
    }
    return take_state(dev, fresh);
}

int thsm_device_reload(thsm_device *dev)
{
    uint32_t gen = dev->st.generation;
    int rc = load_state(dev);
    if (rc == -2)
        return -2; /* the state in memory stays as it was */
    dev->storage_error = rc != 0;
    if (rc != 0) { /* keys unusable, but the generation is not forgotten */
        thsm_state_clear(&dev->st);
        dev->st.generation = gen;
        login_end_all(dev);
        return -1;
    }
    dev->storage_reason[0] = '\0';
    return 0;
}

int thsm_state_save(thsm_device *dev)
{
    return save_state(dev);
}

int thsm_save_or_restore(thsm_device *dev)
{
    char why[THSM_AUDIT_WHY];
    if (thsm_audit_recover(dev, why, sizeof(why))) {
        /* no change without its record: undo it, seal the finding */
        thsm_device_reload(dev);
        thsm_device_flush(dev);
        thsm_resp_error(dev, THSM_E_STORAGE, "%s; nothing changed", why);
        return -1;
    }
    if (save_state(dev) == 0)
        return 0;
    thsm_device_reload(dev);
    thsm_resp_error(dev, THSM_E_STORAGE,
                    "could not save the state; nothing changed");
    return -1;
}

void thsm_state_changed(thsm_device *dev, const char *event,
                        const thsm_slot *key, const uint8_t *digest)
{
    char dig[65] = THSM_LOG_FIELD_NONE;
    if (digest)
        thsm_hex(digest, 32, dig);
    thsm_state_changed_text(dev, event, key, dig);
}

void thsm_state_changed_text(thsm_device *dev, const char *event,
                             const thsm_slot *key, const char *detail)
{
    char result[20];
    snprintf(result, sizeof(result), THSM_LOG_RESULT_GEN "%lu",
             (unsigned long)dev->st.generation);
    /* The change is saved already; a record that cannot be written is
     * reported by AT+HSM_STATUS? rather than undoing the change. */
    dev->outcome_recorded = 1;
    int rc = thsm_audit_append_text(dev, event, key, detail, result);
    if (rc == THSM_AUDIT_CUT) /* cut since the save: a new segment started */
        rc = thsm_audit_append_text(dev, event, key, detail, result);
    if (rc != 0)
        thsm_audit_damage(dev, THSM_LOG_MISSING, dev->log_count);
    thsm_device_flush(dev);
}

bool thsm_device_flush_pending(const thsm_device *dev)
{
    return dev->log_dirty != 0 || thsm_audit_refusals_due(dev);
}

/* Syncs the log, then seals its new count and head in the state: the
 * anchor never claims a record that is not durable. */
void thsm_device_flush(thsm_device *dev)
{
    thsm_audit_refusals_write(dev, false); /* counted refusals, window over */
    if (!dev->log_dirty || thsm_audit_sync(dev) != 0)
        return;
    if (dev->storage_error || save_state(dev) == 0)
        dev->log_dirty = 0; /* an unreadable state is never overwritten */
}

void thsm_device_findings(const thsm_device *dev, char *out, size_t cap)
{
    size_t n;
    thsm_findings_text(dev, " ", out, cap);
    n = strlen(out);
    if (n && dev->anchor.acked)
        snprintf(out + n, cap - n, " " THSM_ST_ACK "=%lu",
                 (unsigned long)dev->anchor.ack_at);
}

void thsm_findings_text(const thsm_device *dev, const char *sep, char *out,
                        size_t cap)
{
    char log[THSM_LOG_STATE_TEXT];
    thsm_audit_state_text(dev, log);
    out[0] = '\0';
    if (dev->anchor.damage || dev->anchor.rolled_back)
        snprintf(out, cap, THSM_ST_LOG_STATE "=%s%s" THSM_ST_STATE "=%s", log,
                 sep, dev->anchor.rolled_back ? THSM_ST_STATE_ROLLED_BACK
                                              : THSM_ST_STATE_OK);
}

const thsm_state_format *thsm_device_state_format(const thsm_device *dev)
{
    return &dev->format;
}

const char *thsm_device_storage_reason(const thsm_device *dev)
{
    return dev->storage_reason;
}

void thsm_device_deinit(thsm_device *dev)
{
    if (!dev->storage_error)
        thsm_audit_refusals_write(dev, true); /* nothing counted is lost */
    thsm_device_flush(dev);
    thsm_state_clear(&dev->st);
    thsm_wipe(dev, sizeof(*dev));
}
