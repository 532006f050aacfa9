/* base64.c - base64 (RFC 4648, padded): base64.h. */
#include "util/base64.h"

static const char abc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t thsm_base64(const uint8_t *data, size_t len, char *out)
{
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

static int value_of(char ch)
{
    for (int i = 0; i < 64; i++)
        if (abc[i] == ch)
            return i;
    return -1;
}

int thsm_base64_decode(const char *text, uint8_t *out, size_t cap,
                       size_t *len)
{
    size_t n = 0, o = 0;
    while (text[n])
        n++;
    if (n % 4 != 0)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        const char *q = text + i;
        int pad = (q[3] == '=') + (q[2] == '=' && q[3] == '=');
        if (pad && i + 4 != n)
            return -1;
        uint32_t v = 0;
        for (int k = 0; k < 4 - pad; k++) {
            int d = value_of(q[k]);
            if (d < 0)
                return -1;
            v |= (uint32_t)d << (18 - 6 * k);
        }
        if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)) ||
            o + 3 - (size_t)pad > cap)
            return -1;
        for (int k = 0; k < 3 - pad; k++)
            out[o++] = (uint8_t)(v >> (16 - 8 * k));
    }
    *len = o;
    return 0;
}
