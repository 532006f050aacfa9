/* certvalues.c - see certvalues.h. */
#include "util/certvalues.h"

#include <string.h>

#define FIELD_MAX 64 /* longest O or CN value: THSM_X509_FIELD_MAX */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
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

static int field_ok(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n > FIELD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x21 || v[i] > 0x7e)
            return 0;
    return 1;
}

static int country_ok(const char *v)
{
    return v && strlen(v) == 2 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' &&
           v[1] <= 'Z';
}

int thsm_cert_script_dates(int64_t not_before, int64_t not_after)
{
    int64_t start;
    return thsm_parse_start(THSM_SCRIPT_START, &start) == 0 &&
           not_before == start &&
           not_after == start + (int64_t)THSM_SCRIPT_DAYS * 86400;
}

const char *thsm_cert_values_check(const char *c, const char *o,
                                   const char *cn, const char *start,
                                   const char *days, int64_t *not_before,
                                   int64_t *not_after)
{
    uint32_t d;
    if (!country_ok(c))
        return "C must be two capital letters";
    if (!field_ok(o) || !field_ok(cn))
        return "O and CN must be 1 to 64 printable ASCII characters "
               "without spaces";
    if (!start || thsm_parse_start(start, not_before) != 0)
        return "START must be a valid date YYYYMMDDhhmmss from 1970";
    if (!days || thsm_parse_uint(days, 1, THSM_CERT_DAYS_MAX, &d) != 0)
        return "DAYS must be a number from 1 to 36500";
    *not_after = *not_before + (int64_t)d * 86400;
    if (*not_after > THSM_TIME_MAX)
        return "validity would end after year 9999";
    return NULL;
}
