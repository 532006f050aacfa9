/* siggen.c - SigGen.c writer and reader (see siggen.h). */
#include "host/siggen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t put_array(char *out, size_t cap, const char *name,
                        const uint8_t *v)
{
    size_t n = (size_t)snprintf(out, cap, "const uint8_t %s[%s_len] = {", name,
                                name);
    for (int i = 0; i < 32 && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s0x%02x", i ? ", " : "", v[i]);
    if (n < cap)
        n += (size_t)snprintf(out + n, cap - n, "};\n");
    return n;
}

size_t thsm_siggen_format(const uint8_t pub[65], char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap,
        "/* Signer public key for Tiny Secure Boot, written by tinyhsm.\n"
        " * P-256 point (Qx, Qy), 32 bytes each, big-endian. */\n"
        "#include <stdint.h>\n\n"
        "#define SigGen_Qx_len  32\n"
        "#define SigGen_Qy_len  32\n");
    if (n < cap)
        n += put_array(out + n, cap - n, "SigGen_Qx", pub + 1);
    if (n < cap)
        n += put_array(out + n, cap - n, "SigGen_Qy", pub + 33);
    return n < cap ? n : cap;
}

/* Parses the initialiser of array name: exactly 32 byte values. */
static int get_array(const char *text, const char *name, uint8_t *v, char *err,
                     size_t cap)
{
    const char *p = strstr(text, name);
    while (p && p[strlen(name)] != '[')
        p = strstr(p + 1, name);
    const char *open = p ? strchr(p, '{') : NULL;
    const char *close = open ? strchr(open, '}') : NULL;
    int count = 0;
    for (const char *q = open ? open + 1 : NULL; q && q < close;) {
        char *end;
        unsigned long b = strtoul(q, &end, 0);
        if (end == q || b > 255 || count == 32)
            break;
        v[count++] = (uint8_t)b;
        q = end + strspn(end, " \t\r\n");
        if (*q == ',')
            q++;
        else if (q != close)
            break;
    }
    if (!close || count != 32) {
        snprintf(err, cap, "SigGen.c: %s must hold exactly 32 bytes", name);
        return -1;
    }
    return 0;
}

int thsm_siggen_parse(const char *text, uint8_t pub[65], char *err, size_t cap)
{
    pub[0] = 0x04;
    if (get_array(text, "SigGen_Qx", pub + 1, err, cap) ||
        get_array(text, "SigGen_Qy", pub + 33, err, cap))
        return -1;
    return 0;
}
