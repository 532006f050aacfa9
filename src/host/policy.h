/*
 * policy.h - the device's signing policy seen from the host: AT+POLICY?
 * parsed, AT+POLICY_SET and AT+POLICY_LOCK sent (docs/PROTOCOL.md).
 * Reentrant: the caller owns every structure.
 */
#ifndef THSM_HOST_POLICY_H
#define THSM_HOST_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "host/at_client.h"
#include "host/err.h"

#define THSM_HOST_POLICY_BOARDS 8
#define THSM_HOST_POLICY_LAST 16
#define THSM_HOST_POLICY_NAME 17 /* 16 characters and the NUL */
#define THSM_HOST_POLICY_VERSION 32

typedef struct {
    char format[16]; /* "SECUREBOOT10", "MCUBOOT" */
    char name[THSM_HOST_POLICY_NAME]; /* board or slot name, "-" none */
    char version[THSM_HOST_POLICY_VERSION];
} thsm_policy_last_info;

/* AT+POLICY?'s answer. Lists empty: every board, every format. Limits of
 * 0: none. */
typedef struct {
    bool answered; /* false: the device has no policy (original board) */
    unsigned n_boards;
    char boards[THSM_HOST_POLICY_BOARDS][THSM_HOST_POLICY_NAME];
    bool secureboot10, mcuboot; /* formats allowed; both false: any */
    bool rising, digest, imports, locked;
    unsigned long max_size, per_hour, per_day, hour_count, day_count;
    unsigned n_last;
    thsm_policy_last_info last[THSM_HOST_POLICY_LAST];
} thsm_policy_info;

/* Whether p forbids anything (false: as a device without a policy). */
bool thsm_policy_info_any(const thsm_policy_info *p);

/* The payload of "OK ..." to AT+POLICY?: 0, or -1 when malformed (a rule
 * missing or a value out of its syntax). Unknown words are skipped. */
int thsm_parse_policy(const char *text, thsm_policy_info *p);

/* Asks AT+POLICY?; a device without the command leaves p->answered false
 * and returns THSM_OK. */
int thsm_hsm_policy(thsm_at *at, thsm_policy_info *p, thsm_err *err);

/* AT+POLICY_SET with rules "KEY=VALUE KEY=VALUE" (at.h's names). */
int thsm_hsm_policy_set(thsm_at *at, const char *rules, thsm_err *err);

/* AT+POLICY_LOCK. */
int thsm_hsm_policy_lock(thsm_at *at, thsm_err *err);

#endif
