/*
 * handlers_device.c - the device-wide commands: AT, identity, readiness,
 * reset, decommission, status (layer: handlers).
 */
#include <stdio.h>
#include <string.h>

#include "device/audit.h"
#include "device/handlers.h"
#include "device/response.h"
#include "device/state.h"
#include "device/store.h"
#include "util/hex.h"

/* Bytes of the serial number: HKDF output is a prefix-stable stream, so
 * these are the bytes the serial always had. */
#define SERIAL_LEN 9

void thsm_h_at(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_resp_line(dev, THSM_ANS_OK);
}

/* Ends this session's login and reloads the stored state. */
void thsm_h_reset(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_login_end(dev, dev->sess);
    int rc = thsm_device_reload(dev);
    if (rc == -2)
        thsm_resp_error(dev, THSM_E_STORAGE, "state.bin is older than the state in "
                        "memory; kept the newer state and saved it again");
    else if (rc != 0)
        thsm_resp_error(dev, THSM_E_STORAGE, "%s", dev->storage_reason);
    else
        thsm_resp_line(dev, THSM_ANS_OK " " THSM_ANS_RESET);
}

void thsm_h_version(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_resp_line(dev, THSM_ANS_OK " %s %s", THSM_PRODUCT, THSM_VERSION);
}

void thsm_h_about(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_resp_line(dev, THSM_ANS_OK " TinyHSM software device: ECDSA P-256 CA and "
                        "signer keys for secure boot");
}

void thsm_h_ready(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_resp_line(dev, THSM_ANS_OK " %s",
                   dev->storage_error ? THSM_ANS_NOT_READY : THSM_ANS_READY);
}

void thsm_h_host_key(thsm_device *dev, const thsm_params *ps)
{
    (void)ps; /* no host pairing key: the link is a local pseudo-terminal */
    thsm_resp_line(dev, THSM_ANS_OK " " THSM_ANS_NOT_USED);
}

void thsm_h_serial(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    uint8_t serial[THSM_DERIVE_LEN]; /* the first 9 bytes are shown */
    char hex[2 * SERIAL_LEN + 1];
    if (dev->port->derive(dev->port->ctx, "tinyhsm/serial/v1", NULL, 0,
                          serial) != THSM_PORT_OK) {
        thsm_resp_error(dev, THSM_E_STORAGE, "device key unavailable");
        return;
    }
    thsm_hex(serial, SERIAL_LEN, hex);
    thsm_resp_line(dev, THSM_ANS_OK " %s", hex);
}

void thsm_h_store_ok(thsm_device *dev, const thsm_params *ps)
{
    (void)ps; /* the store is opened at start; NEEDS_STORE did the check */
    thsm_resp_line(dev, THSM_ANS_OK);
}

void thsm_h_decommission(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    uint32_t gen = dev->st.generation; /* never goes back: see load_state */
    thsm_state_clear(&dev->st); /* the PIN too: the device is new again */
    dev->st.generation = gen;
    if (thsm_save_or_restore(dev) == 0) {
        thsm_login_end(dev, dev->sess);
        thsm_login_end_others(dev, dev->sess);
        thsm_device_reload(dev);
        thsm_state_changed(dev, THSM_EV_DECOMMISSION, NULL, NULL);
        thsm_resp_line(dev, THSM_ANS_OK);
    }
}

static const char *pin_word(const thsm_pin *p)
{
    return !p->set ? THSM_ST_PIN_NONE : p->tries ? THSM_ST_PIN_SET
                                                 : THSM_ST_PIN_BLOCKED;
}

/* The status words of the two PIN roles (after the older ones, which old
 * hosts parse by position): the waits and the SO PIN. */
static void roles_text(const thsm_device *dev, char *out, size_t cap)
{
    const thsm_pin *so = &dev->st.so;
    snprintf(out, cap, THSM_ST_DELAY "=%lu " THSM_ST_SO "=%s "
             THSM_ST_SO_TRIES "=%u " THSM_ST_SO_AUTH "=%d "
             THSM_ST_SO_DELAY "=%lu",
             (unsigned long)thsm_pin_delay(dev, &dev->st.pin, THSM_PIN_TRIES),
             pin_word(so), so->set ? so->tries : 0,
             thsm_so_logged_in(dev, dev->sess),
             (unsigned long)thsm_pin_delay(dev, so, THSM_SO_PIN_TRIES));
}

/* Whether the findings shown were acknowledged (the record that did), and
 * the first record the log still holds. */
static void ack_text(const thsm_device *dev, char *out, size_t cap)
{
    const thsm_log_anchor *a = &dev->anchor;
    char at[12] = THSM_ST_ACK_NONE;
    if (a->acked && (a->damage || a->rolled_back))
        snprintf(at, sizeof(at), "%lu", (unsigned long)a->ack_at);
    snprintf(out, cap, THSM_ST_ACK "=%s " THSM_ST_LOG_BASE "=%lu", at,
             (unsigned long)a->base);
}

static const char *signer_origin(const thsm_slot *s)
{
    if (!s->has_key)
        return THSM_ST_ORIGIN_NONE;
    return s->imported ? THSM_ST_ORIGIN_IMPORTED : THSM_ST_ORIGIN_GENERATED;
}

void thsm_h_status(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    const thsm_pin *p = &dev->st.pin;
    char ca[17], signer[17], log[THSM_LOG_STATE_TEXT], why[THSM_AUDIT_WHY];
    char roles[96];
    char ack[48];
    roles_text(dev, roles, sizeof(roles));
    if (thsm_audit_check(dev, why, sizeof(why)))
        thsm_device_flush(dev); /* a log cut while running shows at once */
    ack_text(dev, ack, sizeof(ack));
    thsm_audit_state_text(dev, log);
    thsm_key_id(&dev->st.ca, ca);
    thsm_key_id(&dev->st.signer, signer);
    thsm_resp_line(dev, THSM_ANS_OK " " THSM_ST_CA "=%d " THSM_ST_SIGNER "=%d "
                   THSM_ST_SIGNER_CERT "=%d " THSM_ST_PIN "=%s "
                   THSM_ST_TRIES "=%u " THSM_ST_AUTH "=%d "
                   THSM_ST_SIGNATURES "=%lu " THSM_ST_CA_KEY "=%s "
                   THSM_ST_SIGNER_KEY "=%s " THSM_ST_LOG "=%lu "
                   THSM_ST_LOG_STATE "=%s " THSM_ST_STATE "=%s %s %s "
                   THSM_ST_SIGNER_ORIGIN "=%s "
                   THSM_ST_IMAGE "=" THSM_V_SECUREBOOT10 ","
                   THSM_V_MCUBOOT,
                   dev->st.ca.has_cert, dev->st.signer.has_key,
                   dev->st.signer.has_cert,
                   pin_word(p),
                   p->set ? p->tries : 0, thsm_logged_in(dev, dev->sess),
                   (unsigned long)dev->signatures, ca, signer,
                   (unsigned long)dev->log_count, log,
                   dev->anchor.rolled_back ? THSM_ST_STATE_ROLLED_BACK
                                           : THSM_ST_STATE_OK, roles, ack,
                   signer_origin(&dev->st.signer));
}

