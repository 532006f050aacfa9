/*
 * response.c - building an answer in dev->resp, and PEM output.
 *
 * An answer is built whole before it is sent, so an error can replace what
 * was written so far and an answer that does not fit is never sent cut.
 *
 * PEM output must survive the reference host scripts: they strip 'O', 'K'
 * and ' ' from both ends of every response line (docs/PROTOCOL.md). A base64
 * line that starts with 'O' or 'K' would lose characters and corrupt the
 * saved certificate, so we end each line early enough that the next one
 * starts with another character. PEM readers accept base64 lines shorter
 * than 64 characters.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crypto/util.h"
#include "device/response.h"
#include "util/base64.h"

/* Appends raw text (no CR LF); sets the overflow flag when it does not fit. */
static void resp_append(thsm_device *dev, const char *s, size_t n)
{
    if (n > sizeof(dev->resp) - dev->resp_len) {
        dev->resp_overflow = 1; /* never send a cut answer: see finish */
        return;
    }
    memcpy(dev->resp + dev->resp_len, s, n);
    dev->resp_len += n;
}

static void resp_vline(thsm_device *dev, const char *fmt, va_list ap)
{
    size_t room = sizeof(dev->resp) - dev->resp_len;
    int n = vsnprintf(dev->resp + dev->resp_len, room, fmt, ap);
    if (n < 0 || (size_t)n >= room) {
        dev->resp_overflow = 1;
        return;
    }
    dev->resp_len += (size_t)n;
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
    dev->resp_overflow = 0;
    dev->err_code = code;
    thsm_resp_line(dev, THSM_ANS_ERROR " %s %s", code, msg);
    thsm_wipe(msg, sizeof(msg));
}

size_t thsm_resp_finish(thsm_device *dev)
{
    if (dev->resp_overflow || dev->resp_len > sizeof(dev->resp) - 2)
        thsm_resp_error(dev, THSM_E_INTERNAL, "answer longer than %d bytes",
                        THSM_PROTO_ANSWER_MAX);
    resp_append(dev, "\r\n", 2);
    return dev->resp_len;
}

void thsm_resp_clear(thsm_device *dev)
{
    thsm_wipe(dev->resp, dev->resp_len);
    dev->resp_len = 0;
    dev->resp_overflow = 0;
}

#define PEM_LINE 64

static bool stripped_by_scripts(char c)
{
    return c == 'O' || c == 'K' || c == ' ';
}

size_t thsm_pem_line_len(const char *b64, size_t len, size_t pos)
{
    size_t n = len - pos < PEM_LINE ? len - pos : PEM_LINE;
    if (pos + n == len)
        return n;
    /* Shorten until the following line starts with a safe character. If
     * 64 unsafe characters follow (never seen in practice) keep full width. */
    for (size_t k = n; k > 0; k--)
        if (!stripped_by_scripts(b64[pos + k]))
            return k;
    return n;
}

void thsm_resp_pem(thsm_device *dev, const uint8_t *der, size_t len)
{
    char *b64 = dev->work.text; /* (THSM_CERT_MAX + 2) / 3 * 4 + 1 bytes */
    size_t n = len > THSM_CERT_MAX ? 0 : thsm_base64(der, len, b64);
    thsm_resp_line(dev, "-----BEGIN CERTIFICATE-----");
    for (size_t pos = 0; pos < n;) {
        size_t k = thsm_pem_line_len(b64, n, pos);
        thsm_resp_line(dev, "%.*s", (int)k, b64 + pos);
        pos += k;
    }
    thsm_resp_line(dev, "-----END CERTIFICATE-----");
}
