/*
 * values.c - parsing of request parameters and their values.
 * Strict on purpose: every value the device accepts has exactly one meaning.
 */
#include <stdio.h>
#include <string.h>

#include "device/internal.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

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

int thsm_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (civil calendar). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
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

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned len[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : len[m - 1];
}

/* Value of n decimal digits at s (caller checked they are digits). */
static unsigned digits(const char *s, int n)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

int thsm_parse_start(const char *s, int64_t *out)
{
    if (strlen(s) != 14)
        return -1;
    for (int i = 0; i < 14; i++)
        if (!is_digit(s[i]))
            return -1;
    unsigned y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2);
    unsigned h = digits(s + 8, 2), mi = digits(s + 10, 2);
    unsigned sec = digits(s + 12, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || sec > 59)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}

void thsm_format_dec(int64_t v, unsigned width, char out[THSM_DEC_TEXT])
{
    char rev[THSM_DEC_TEXT];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0, k = 0;
    do {
        rev[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n < width && n < sizeof(rev) - 2)
        rev[n++] = '0';
    if (v < 0)
        out[k++] = '-';
    while (n)
        out[k++] = rev[--n];
    out[k] = '\0';
}

void thsm_format_time(int64_t t, char out[THSM_TIME_TEXT])
{
    char year[THSM_DEC_TEXT];
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t rem = t - days * 86400, y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    thsm_format_dec(y, 4, year);
    snprintf(out, THSM_TIME_TEXT, "%s-%02u-%02u %02u:%02u:%02u UTC", year, m, d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
             (unsigned)(rem % 60));
}
