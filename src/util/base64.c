/* base64.c - base64 (RFC 4648, padded): base64.h. */
#include <string.h>

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

/* The value of a base64 digit, or -1 (ranges, not a search: the firmware
 * decodes every byte of an image with it). */
static int digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes one group of 4 characters (the last may end in padding) into
 * out; returns the bytes written, or -1. */
static int group(const char *g, int last, uint8_t out[3])
{
    int pad = last ? (g[3] == '=') + (g[2] == '=' && g[3] == '=') : 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = i >= 4 - pad ? 0 : digit(g[i]);
        if (d < 0)
            return -1;
        v = v << 6 | (uint32_t)d;
    }
    if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
        return -1; /* bits the padding drops must be zero (canonical) */
    out[0] = (uint8_t)(v >> 16);
    out[1] = (uint8_t)(v >> 8);
    out[2] = (uint8_t)v;
    return 3 - pad;
}

long thsm_base64_decode(const char *text, uint8_t *out, size_t cap)
{
    size_t len = strlen(text), o = 0;
    if (len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        uint8_t b[3];
        int n = group(text + i, i + 4 == len, b);
        if (n < 0 || o + (size_t)n > cap)
            return -1;
        memcpy(out + o, b, (size_t)n);
        o += (size_t)n;
    }
    return (long)o;
}
