/*
 * device.c - line framing and response assembly.
 *
 * A request ends at CR, LF or CR LF. Bytes beyond THSM_LINE_MAX and bytes
 * outside printable ASCII are not acted on: the whole line is refused once
 * its end arrives, so a refused line can never be half-executed.
 */
#include <stdio.h>
#include <string.h>

#include "device/internal.h"

static void resp_append(thsm_device *dev, const char *s, size_t n)
{
    if (dev->resp_len + n > sizeof(dev->resp))
        n = sizeof(dev->resp) - dev->resp_len;
    memcpy(dev->resp + dev->resp_len, s, n);
    dev->resp_len += n;
}

static void resp_vline(thsm_device *dev, const char *fmt, va_list ap)
{
    char line[THSM_LINE_MAX + 1];
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    resp_append(dev, line, (size_t)n);
    resp_append(dev, "\r\n", 2);
}

void thsm_resp_line(thsm_device *dev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    resp_vline(dev, fmt, ap);
    va_end(ap);
}

void thsm_resp_error(thsm_device *dev, const char *code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    dev->resp_len = 0; /* an error replaces anything already written */
    thsm_resp_line(dev, "ERROR %s %s", code, msg);
}

/* Sends the response with its closing empty line. */
static void resp_send(thsm_device *dev)
{
    if (dev->resp_len > sizeof(dev->resp) - 2)
        dev->resp_len = sizeof(dev->resp) - 2;
    resp_append(dev, "\r\n", 2);
    dev->out(dev->out_ctx, dev->resp, dev->resp_len);
    dev->resp_len = 0;
}

static void end_line(thsm_device *dev)
{
    dev->line[dev->line_len] = '\0';
    if (dev->line_overflow)
        thsm_resp_error(dev, "LINE_TOO_LONG", "request longer than %d bytes",
                        THSM_LINE_MAX);
    else if (dev->line_bad_byte)
        thsm_resp_error(dev, "BAD_CHAR",
                        "request contains a non-ASCII or control byte");
    else if (dev->line_len > 0)
        thsm_dispatch(dev, dev->line);
    if (dev->line_overflow || dev->line_bad_byte || dev->line_len > 0)
        resp_send(dev);
    thsm_wipe(dev->line, sizeof(dev->line)); /* requests may carry a PIN */
    dev->line_len = 0;
    dev->line_overflow = 0;
    dev->line_bad_byte = 0;
}

void thsm_device_input(thsm_device *dev, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (c == '\n' && dev->last_was_cr) {
            dev->last_was_cr = 0;
            continue;
        }
        dev->last_was_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            end_line(dev);
            continue;
        }
        if (c < 0x20 || c > 0x7e)
            dev->line_bad_byte = 1;
        if (dev->line_len < THSM_LINE_MAX)
            dev->line[dev->line_len++] = (char)c;
        else
            dev->line_overflow = 1;
    }
}

int thsm_device_init(thsm_device *dev, const thsm_port *port,
                     thsm_output_fn out, void *out_ctx)
{
    memset(dev, 0, sizeof(*dev));
    dev->port = port;
    dev->out = out;
    dev->out_ctx = out_ctx;
    dev->pin_kdf_log2n = THSM_PIN_KDF_LOG2N;
    thsm_audit_open(dev);
    return thsm_device_reload(dev);
}

void thsm_session_end(thsm_device *dev)
{
    dev->authed = 0;
    if (!dev->st.pin.set)
        return; /* without a PIN the keys stay usable, as on the board */
    thsm_slot_forget_key(&dev->st.ca);
    thsm_slot_forget_key(&dev->st.signer);
    thsm_wipe(dev->kek, sizeof(dev->kek));
    dev->kek_known = 0;
}

int thsm_session_unlock(thsm_device *dev)
{
    if (thsm_slot_unwrap(&dev->st.ca, "ca", dev->kek) == 0 &&
        thsm_slot_unwrap(&dev->st.signer, "signer", dev->kek) == 0)
        return 0;
    thsm_slot_forget_key(&dev->st.ca);
    thsm_slot_forget_key(&dev->st.signer);
    return -1;
}

static int load_state(thsm_device *dev)
{
    if (thsm_store_load(dev->port, &dev->st, dev->storage_reason,
                        sizeof(dev->storage_reason)) != 0)
        return -1;
    if (dev->st.pin.set)
        return 0; /* keys stay wrapped until AT+AUTH */
    if (thsm_kek_from_device(dev->port, dev->kek) != 0 ||
        thsm_session_unlock(dev) != 0) {
        snprintf(dev->storage_reason, sizeof(dev->storage_reason),
                 "a private key in state.bin does not unwrap");
        thsm_state_clear(&dev->st);
        return -1;
    }
    dev->kek_known = 1;
    return 0;
}

int thsm_device_reload(thsm_device *dev)
{
    dev->authed = 0;
    dev->kek_known = 0;
    thsm_wipe(dev->kek, sizeof(dev->kek));
    dev->storage_error = load_state(dev) != 0;
    if (!dev->storage_error)
        dev->storage_reason[0] = '\0';
    return dev->storage_error ? -1 : 0;
}

int thsm_device_restore(thsm_device *dev)
{
    uint8_t kek[32];
    int authed = dev->authed, known = dev->kek_known;
    memcpy(kek, dev->kek, sizeof(kek));
    int rc = thsm_device_reload(dev);
    if (rc == 0 && known && dev->st.pin.set) { /* stay logged in */
        memcpy(dev->kek, kek, sizeof(kek));
        dev->kek_known = 1;
        if (thsm_session_unlock(dev) == 0)
            dev->authed = authed;
        else
            thsm_session_end(dev);
    }
    thsm_wipe(kek, sizeof(kek));
    return rc;
}

int thsm_save_or_restore(thsm_device *dev)
{
    if (thsm_store_save(dev->port, &dev->st) == 0)
        return 0;
    thsm_device_restore(dev);
    thsm_resp_error(dev, "STORAGE", "could not save the state; nothing changed");
    return -1;
}

void thsm_device_disconnect(thsm_device *dev)
{
    thsm_device_flush(dev);
    thsm_session_end(dev);
    thsm_wipe(dev->line, sizeof(dev->line));
    dev->line_len = 0;
    dev->line_overflow = 0;
    dev->line_bad_byte = 0;
    dev->last_was_cr = 0;
}

const char *thsm_device_storage_reason(const thsm_device *dev)
{
    return dev->storage_reason;
}

void thsm_device_deinit(thsm_device *dev)
{
    thsm_device_flush(dev);
    thsm_state_clear(&dev->st);
    thsm_wipe(dev, sizeof(*dev));
}
