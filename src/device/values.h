/*
 * values.h - request parameters and value syntax (layer: values, the
 * lowest; calls nothing else in the core).
 */
#ifndef THSM_DEVICE_VALUES_H
#define THSM_DEVICE_VALUES_H

#include <stddef.h>
#include <stdint.h>

#define THSM_PARAMS_MAX 8

typedef struct {
    const char *key;
    const char *value;
} thsm_param;

typedef struct {
    size_t n;
    thsm_param p[THSM_PARAMS_MAX];
} thsm_params;

/* Splits args (modified in place) into params. On error writes a message. */
int thsm_params_parse(char *args, thsm_params *out, char *why, size_t cap);

/* Value of key, or NULL. */
const char *thsm_params_get(const thsm_params *ps, const char *key);

/* "YYYYMMDDhhmmss" -> seconds since the epoch (UTC); -1 when invalid. */
int thsm_parse_start(const char *s, int64_t *out);

/* Decimal in [min, max] without sign or leading zeros; -1 when not. */
int thsm_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* "YYYY-MM-DD hh:mm:ss UTC"; sized for any value the compiler can imagine. */
#define THSM_TIME_TEXT 80
void thsm_format_time(int64_t t, char out[THSM_TIME_TEXT]);

/* v in decimal, zero-padded to width as printf's zero flag with a width
 * writes it: newlib-nano's printf has no long long. */
#define THSM_I64_TEXT 21
void thsm_format_i64(int64_t v, int width, char out[THSM_I64_TEXT]);

/* Latest instant an X.509 time can carry: 9999-12-31 23:59:59 UTC. */
#define THSM_TIME_MAX INT64_C(253402300799)

#endif
