/*
 * policy.c - the signing policy as `tinyhsm info` and `tinyhsm policy
 * show` print it (text and JSON).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "host/json.h"
#include "proto/at.h"

/* Device text made safe to print. */
static const char *safe(const char *s, char *buf, size_t cap)
{
    return thsm_escape(s, buf, cap);
}

static void limit(const char *title, unsigned long n, const char *unit)
{
    if (n)
        printf("  %-17s%lu%s\n", title, n, unit);
    else
        printf("  %-17sno limit\n", title);
}

static void rate(const char *title, unsigned long n, unsigned long used,
                 const char *window)
{
    if (n)
        printf("  %-17s%lu (%lu signed %s)\n", title, n, used, window);
    else
        printf("  %-17sno limit\n", title);
}

/* "secureboot10" for "SECUREBOOT10": the CLI's spelling. */
static const char *lower(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    buf[i] = '\0';
    return buf;
}

static void print_lists(const thsm_policy_info *p)
{
    char b[THSM_ESCAPED_MAX(THSM_HOST_POLICY_NAME)];
    printf("  %-17s", "Boards:");
    for (unsigned i = 0; i < p->n_boards; i++)
        printf("%s%s", i ? ", " : "", safe(p->boards[i], b, sizeof(b)));
    printf("%s\n", p->n_boards ? "" : "any");
    printf("  %-17s%s%s%s\n", "Formats:", p->secureboot10 ? "secureboot10" : "",
           p->secureboot10 && p->mcuboot ? ", " : "",
           p->mcuboot ? "mcuboot" : !p->secureboot10 ? "any" : "");
}

void cli_print_policy(const thsm_policy_info *p)
{
    char f[16], n[THSM_ESCAPED_MAX(THSM_HOST_POLICY_NAME)];
    char v[THSM_ESCAPED_MAX(THSM_HOST_POLICY_VERSION)];
    if (!p->answered) {
        printf("Signing policy: not offered by this device\n");
        return;
    }
    printf("Signing policy: %s\n",
           !thsm_policy_info_any(p) ? "none (everything allowed)"
           : p->locked ? "locked (until decommission)"
                       : "set (not locked)");
    print_lists(p);
    printf("  %-17s%s\n", "Rising versions:", p->rising ? "on" : "off");
    limit("Largest image:", p->max_size, " bytes");
    rate("Per hour:", p->per_hour, p->hour_count, "this hour");
    rate("Per day:", p->per_day, p->day_count, "today, UTC");
    printf("  %-17s%s\n", "Digest signing:", p->digest ? "on" : "off");
    printf("  %-17s%s\n", "Key imports:", p->imports ? "on" : "off");
    printf("Last signed versions:%s\n", p->n_last ? "" : " none");
    for (unsigned i = 0; i < p->n_last; i++)
        printf("  %-13s %-17s %s\n",
               lower(p->last[i].format, f, sizeof(f)),
               safe(p->last[i].name, n, sizeof(n)),
               safe(p->last[i].version, v, sizeof(v)));
}

static void json_limit(const char *key, unsigned long n)
{
    if (n)
        printf(",\"%s\":%lu", key, n);
    else
        printf(",\"%s\":null", key);
}

static void json_lists(const thsm_policy_info *p)
{
    printf(",\"boards\":");
    if (!p->n_boards)
        printf("null");
    for (unsigned i = 0; i < p->n_boards; i++) {
        printf("%s", i ? "," : "[");
        thsm_json_string(stdout, p->boards[i]);
    }
    printf("%s,\"formats\":", p->n_boards ? "]" : "");
    if (!p->secureboot10 && !p->mcuboot)
        printf("null");
    else
        printf("[%s%s%s]", p->secureboot10 ? "\"secureboot10\"" : "",
               p->secureboot10 && p->mcuboot ? "," : "",
               p->mcuboot ? "\"mcuboot\"" : "");
}

void cli_json_policy(const thsm_policy_info *p)
{
    char f[16];
    if (!p->answered) {
        printf("null");
        return;
    }
    printf("{\"set\":%s,\"locked\":%s",
           thsm_policy_info_any(p) ? "true" : "false",
           p->locked ? "true" : "false");
    json_lists(p);
    printf(",\"rising_versions\":%s", p->rising ? "true" : "false");
    json_limit("max_size", p->max_size);
    json_limit("max_per_hour", p->per_hour);
    json_limit("max_per_day", p->per_day);
    printf(",\"signed_this_hour\":%lu,\"signed_today\":%lu", p->hour_count,
           p->day_count);
    printf(",\"digest_signing\":%s,\"imports\":%s,\"last_versions\":[",
           p->digest ? "true" : "false", p->imports ? "true" : "false");
    for (unsigned i = 0; i < p->n_last; i++) {
        printf("%s{\"format\":", i ? "," : "");
        thsm_json_string(stdout, lower(p->last[i].format, f, sizeof(f)));
        printf(",\"board\":");
        thsm_json_string(stdout, p->last[i].name);
        printf(",\"version\":");
        thsm_json_string(stdout, p->last[i].version);
        printf("}");
    }
    printf("]}");
}
