/*
 * values.h - request parameters and value syntax (layer: values, the
 * lowest; calls nothing else in the core).
 */
#ifndef THSM_DEVICE_VALUES_H
#define THSM_DEVICE_VALUES_H

#include <stddef.h>
#include <stdint.h>

/* thsm_parse_start, thsm_parse_uint, THSM_TIME_MAX and the certificate value
 * rules: shared with the host. */
#include "util/certvalues.h"

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

/* "YYYY-MM-DD hh:mm:ss UTC"; sized for any value the compiler can imagine. */
#define THSM_TIME_TEXT 80
void thsm_format_time(int64_t t, char out[THSM_TIME_TEXT]);

/* v in decimal, zero-padded to width as printf's zero flag with a width
 * writes it: newlib-nano's printf has no long long. */
#define THSM_I64_TEXT 21
void thsm_format_i64(int64_t v, int width, char out[THSM_I64_TEXT]);

#endif
