/*
 * policy.c - the device's signing policy seen from the host (policy.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/hsm.h"
#include "host/policy.h"
#include "proto/at.h"

bool thsm_policy_info_any(const thsm_policy_info *p)
{
    return p->n_boards || p->secureboot10 || p->mcuboot || p->rising ||
           !p->digest || !p->imports || p->locked || p->max_size ||
           p->per_hour || p->per_day;
}

/* The value of KEY= among the words of text, copied into out; -1 when
 * absent or longer than cap allows. */
static int word(const char *text, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *p = text; *p; p += strcspn(p, " "), p += strspn(p, " "))
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t n = strcspn(p + klen + 1, " ");
            if (n >= cap)
                return -1;
            memcpy(out, p + klen + 1, n);
            out[n] = '\0';
            return 0;
        }
    return -1;
}

static int on_off(const char *text, const char *key, bool *on)
{
    char v[8];
    if (word(text, key, v, sizeof(v)) != 0)
        return -1;
    *on = strcmp(v, THSM_V_ON) == 0;
    return *on || strcmp(v, THSM_V_OFF) == 0 ? 0 : -1;
}

static int number(const char *text, const char *key, unsigned long *n)
{
    char v[24], *end;
    if (word(text, key, v, sizeof(v)) != 0 || v[0] < '0' || v[0] > '9')
        return -1;
    *n = strtoul(v, &end, 10);
    return *end ? -1 : 0;
}

/* Splits list at commas into up to max items of cap bytes each. */
static int split(char *list, char *items, size_t cap, unsigned max,
                 unsigned *n)
{
    *n = 0;
    if (strcmp(list, THSM_V_ANY) == 0)
        return 0;
    for (char *s = list, *next; s; s = next) {
        next = strchr(s, ',');
        if (next)
            *next++ = '\0';
        if (*n == max || !*s || strlen(s) >= cap)
            return -1;
        memcpy(items + *n * cap, s, strlen(s) + 1);
        (*n)++;
    }
    return 0;
}

static int parse_formats(const char *text, thsm_policy_info *p)
{
    char v[64], items[2][16];
    unsigned n;
    if (word(text, THSM_P_FORMATS, v, sizeof(v)) != 0 ||
        split(v, &items[0][0], sizeof(items[0]), 2, &n) != 0)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        if (strcmp(items[i], THSM_V_SECUREBOOT10) == 0)
            p->secureboot10 = true;
        else if (strcmp(items[i], THSM_V_MCUBOOT) == 0)
            p->mcuboot = true;
        else
            return -1;
    }
    return 0;
}

/* LAST=FORMAT:NAME:VERSION,... or NONE. */
static int parse_last(const char *text, thsm_policy_info *p)
{
    char v[THSM_HOST_POLICY_LAST * 80];
    if (word(text, THSM_PO_LAST, v, sizeof(v)) != 0)
        return -1;
    p->n_last = 0;
    if (strcmp(v, THSM_V_NONE) == 0)
        return 0;
    for (char *s = v, *next; s; s = next) {
        next = strchr(s, ',');
        if (next)
            *next++ = '\0';
        thsm_policy_last_info *l = &p->last[p->n_last];
        char *name = strchr(s, ':'), *version = name ? strchr(name + 1, ':')
                                                     : NULL;
        if (p->n_last == THSM_HOST_POLICY_LAST || !version)
            return -1;
        *name++ = '\0';
        *version++ = '\0';
        if (strlen(s) >= sizeof(l->format) || strlen(name) >= sizeof(l->name) ||
            strlen(version) >= sizeof(l->version))
            return -1;
        strcpy(l->format, s);
        strcpy(l->name, name);
        strcpy(l->version, version);
        p->n_last++;
    }
    return 0;
}

int thsm_parse_policy(const char *text, thsm_policy_info *p)
{
    char boards[THSM_HOST_POLICY_BOARDS * THSM_HOST_POLICY_NAME + 8];
    memset(p, 0, sizeof(*p));
    p->answered = true;
    if (word(text, THSM_P_BOARDS, boards, sizeof(boards)) != 0 ||
        split(boards, &p->boards[0][0], THSM_HOST_POLICY_NAME,
              THSM_HOST_POLICY_BOARDS, &p->n_boards) != 0 ||
        parse_formats(text, p) != 0 ||
        on_off(text, THSM_P_RISING, &p->rising) != 0 ||
        on_off(text, THSM_P_DIGEST, &p->digest) != 0 ||
        on_off(text, THSM_P_IMPORTS, &p->imports) != 0 ||
        number(text, THSM_P_MAX_SIZE, &p->max_size) != 0 ||
        number(text, THSM_P_PER_HOUR, &p->per_hour) != 0 ||
        number(text, THSM_P_PER_DAY, &p->per_day) != 0 ||
        number(text, THSM_PO_HOUR_COUNT, &p->hour_count) != 0 ||
        number(text, THSM_PO_DAY_COUNT, &p->day_count) != 0 ||
        parse_last(text, p) != 0)
        return -1;
    unsigned long locked;
    if (number(text, THSM_PO_LOCKED, &locked) != 0 || locked > 1)
        return -1;
    p->locked = locked == 1;
    return 0;
}

int thsm_hsm_policy(thsm_at *at, thsm_policy_info *p, thsm_err *err)
{
    memset(p, 0, sizeof(*p));
    int rc = thsm_hsm_expect_ok(at, THSM_CMD_POLICY, err);
    if (rc != THSM_OK && at->resp.code &&
        strcmp(at->resp.code, THSM_E_UNKNOWN_COMMAND) == 0)
        return THSM_OK; /* the original board: no policy */
    if (rc != THSM_OK)
        return rc;
    if (thsm_parse_policy(at->resp.text, p) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's answer to "
                         THSM_CMD_POLICY " does not parse");
    return THSM_OK;
}

int thsm_hsm_policy_set(thsm_at *at, const char *rules, thsm_err *err)
{
    char req[THSM_AT_RESP_MAX];
    snprintf(req, sizeof(req), THSM_CMD_POLICY_SET " %s", rules);
    return thsm_hsm_expect_ok(at, req, err);
}

int thsm_hsm_policy_lock(thsm_at *at, thsm_err *err)
{
    return thsm_hsm_expect_ok(at, THSM_CMD_POLICY_LOCK, err);
}
