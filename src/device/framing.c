/*
 * framing.c - bytes to request lines, answers back to their session
 * (layer: framing, the top). The public entry points of device.h that take
 * bytes or sessions live here; the rest of the core never calls up into it.
 *
 * A request ends at CR, LF or CR LF. Bytes beyond THSM_PROTO_LINE_MAX and bytes
 * outside printable ASCII are not acted on: the whole line is refused once
 * its end arrives, so a refused line can never be half-executed.
 */
#include <string.h>

#include "crypto/util.h"
#include "device/image.h"
#include "device/response.h"
#include "device/session.h"
#include "device/state.h"

/* Sends the answer with its closing empty line to s. */
static void resp_send(thsm_device *dev, thsm_session *s)
{
    size_t len = thsm_resp_finish(dev);
    s->out(s->out_ctx, dev->resp, len);
    thsm_resp_clear(dev);
}

static void line_reset(thsm_session *s)
{
    thsm_wipe(s->line, sizeof(s->line)); /* requests may carry a PIN */
    s->line_len = 0;
    s->line_overflow = 0;
    s->line_bad_byte = 0;
}

static void end_line(thsm_device *dev, thsm_session *s)
{
    s->line[s->line_len] = '\0';
    dev->sess = s;
    if (s->line_overflow)
        thsm_resp_error(dev, THSM_E_LINE_TOO_LONG,
                        "request longer than %d bytes",
                        THSM_PROTO_LINE_MAX);
    else if (s->line_bad_byte)
        thsm_resp_error(dev, THSM_E_BAD_CHAR,
                        "request contains a non-ASCII or control byte");
    else if (s->line_len > 0)
        thsm_session_request(dev, s->line);
    if (s->line_overflow || s->line_bad_byte || s->line_len > 0)
        resp_send(dev, s);
    dev->sess = NULL;
    dev->err_code = NULL;
    line_reset(s);
}

void thsm_device_input(thsm_device *dev, thsm_session *s, const uint8_t *data,
                       size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (c == '\n' && s->last_was_cr) {
            s->last_was_cr = 0;
            continue;
        }
        s->last_was_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            end_line(dev, s);
            continue;
        }
        if (c < 0x20 || c > 0x7e)
            s->line_bad_byte = 1;
        if (s->line_len < THSM_PROTO_LINE_MAX)
            s->line[s->line_len++] = (char)c;
        else
            s->line_overflow = 1;
    }
}

void thsm_session_init(thsm_session *s, thsm_output_fn out, void *out_ctx)
{
    memset(s, 0, sizeof(*s));
    s->out = out;
    s->out_ctx = out_ctx;
}

int thsm_device_init(thsm_device *dev, const thsm_port *port)
{
    memset(dev, 0, sizeof(*dev));
    dev->port = port;
    thsm_pin_kdf_default(&dev->pin_kdf);
    return thsm_state_open(dev);
}

void thsm_device_disconnect(thsm_device *dev, thsm_session *s)
{
    thsm_device_flush(dev);
    thsm_login_end(dev, s);
    thsm_img_abandon(&s->img); /* frees its hash context */
    line_reset(s);
    s->last_was_cr = 0;
}
