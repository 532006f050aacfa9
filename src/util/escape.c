/* escape.c - see escape.h. */
#include "util/escape.h"

#include <string.h>

char *thsm_escape(const char *in, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    if (cap == 0)
        return out;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        int plain = *p >= 0x20 && *p <= 0x7e;
        size_t need = plain ? 1 : 4;
        if (o + need + 1 > cap) {
            if (cap >= 4) {
                o = o > cap - 4 ? cap - 4 : o;
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = digits[*p >> 4];
            out[o++] = digits[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}
