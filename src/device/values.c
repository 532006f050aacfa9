/*
 * values.c - parsing of request parameters, and time as text. The rules for
 * certificate values are shared with the host: util/certvalues.c.
 * Strict on purpose: every value the device accepts has exactly one meaning.
 */
#include <stdio.h>
#include <string.h>

#include "device/values.h"

int thsm_params_parse(char *args, thsm_params *out, char *why, size_t cap)
{
    out->n = 0;
    char *s = args;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        char *word = s;
        while (*s && *s != ' ')
            s++;
        if (*s)
            *s++ = '\0';
        char *eq = strchr(word, '=');
        if (!eq || eq == word || eq[1] == '\0') {
            snprintf(why, cap, "parameter '%.40s' is not KEY=VALUE", word);
            return -1;
        }
        *eq = '\0';
        if (thsm_params_get(out, word)) {
            snprintf(why, cap, "duplicate parameter %.20s", word);
            return -1;
        }
        if (out->n == THSM_PARAMS_MAX) {
            snprintf(why, cap, "too many parameters");
            return -1;
        }
        out->p[out->n].key = word;
        out->p[out->n].value = eq + 1;
        out->n++;
    }
    return 0;
}

const char *thsm_params_get(const thsm_params *ps, const char *key)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].key, key) == 0)
            return ps->p[i].value;
    return NULL;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void thsm_format_time(int64_t t, char out[THSM_TIME_TEXT])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t rem = t - days * 86400, y;
    unsigned m, d;
    char year[THSM_I64_TEXT];
    civil_from_days(days, &y, &m, &d);
    thsm_format_i64(y, 4, year);
    snprintf(out, THSM_TIME_TEXT, "%s-%02u-%02u %02u:%02u:%02u UTC", year, m,
             d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
             (unsigned)(rem % 60));
}

void thsm_format_i64(int64_t v, int width, char out[THSM_I64_TEXT])
{
    char digits[20];
    size_t n = 0, len;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    len = n + (v < 0);
    if (v < 0)
        *out++ = '-';
    for (; width > 0 && len < (size_t)width && len < THSM_I64_TEXT - 1; len++)
        *out++ = '0';
    while (n)
        *out++ = digits[--n];
    *out = '\0';
}
