/*
 * pem.c - PEM output that survives the reference host scripts.
 *
 * The original Python scripts strip 'O', 'K' and ' ' from both ends of every
 * response line (PROTOCOL.md). A base64 line that starts with 'O' or 'K'
 * would lose characters and corrupt the saved certificate, so we end each
 * line early enough that the next one starts with another character. PEM
 * readers accept base64 lines shorter than 64 characters.
 */
#include <string.h>

#include "device/internal.h"

#define PEM_LINE 64

size_t thsm_base64(const uint8_t *data, size_t len, char *out)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < len ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int stripped_by_scripts(char c)
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
    char b64[(THSM_CERT_MAX + 2) / 3 * 4 + 1];
    size_t n = thsm_base64(der, len, b64);
    thsm_resp_line(dev, "-----BEGIN CERTIFICATE-----");
    for (size_t pos = 0; pos < n;) {
        size_t k = thsm_pem_line_len(b64, n, pos);
        thsm_resp_line(dev, "%.*s", (int)k, b64 + pos);
        pos += k;
    }
    thsm_resp_line(dev, "-----END CERTIFICATE-----");
}
