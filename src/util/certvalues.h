/*
 * certvalues.h - the rules for certificate request values (C, O, CN, START,
 * DAYS), shared by the device, which enforces them, and the host, which
 * checks them before it changes anything on the device.
 * Firmware-safe: no allocation, no OS.
 */
#ifndef THSM_CERTVALUES_H
#define THSM_CERTVALUES_H

#include <stdint.h>

#define THSM_CERT_DAYS_MAX 36500 /* 100 years: anything longer is a typo */

/* Latest instant an X.509 time can carry: 9999-12-31 23:59:59 UTC. */
#define THSM_TIME_MAX INT64_C(253402300799)

/* The dates ST's original scripts give every certificate unless told
 * otherwise (PROTOCOL.md): START=20230101000000 DAYS=365. */
#define THSM_SCRIPT_START "20230101000000"
#define THSM_SCRIPT_DAYS 365

/* Whether a validity period is the scripts' default one. */
int thsm_cert_script_dates(int64_t not_before, int64_t not_after);

/* "YYYYMMDDhhmmss" -> seconds since the epoch (UTC); -1 when invalid. */
int thsm_parse_start(const char *s, int64_t *out);

/* Decimal in [min, max] without sign or leading zeros; -1 when not. */
int thsm_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* Checks the values of one certificate request (any may be NULL, which is
 * invalid). Returns NULL and the validity period when all hold, else the
 * reason, naming the parameter (e.g. "C must be two capital letters"). */
const char *thsm_cert_values_check(const char *c, const char *o,
                                   const char *cn, const char *start,
                                   const char *days, int64_t *not_before,
                                   int64_t *not_after);

#endif
