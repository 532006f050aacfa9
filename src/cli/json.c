/* json.c - JSON objects for --json (see json.h); strings through
 * host/json.h. */
#include "cli/json.h"

#include "host/json.h"

#include <stdio.h>
#include <time.h>

static void sep(cli_ctx *c)
{
    if (!c->json_first)
        putchar(',');
    c->json_first = false;
}

static void quoted(const char *s)
{
    thsm_json_string(stdout, s);
}

static void key(cli_ctx *c, const char *k)
{
    sep(c);
    quoted(k);
    putchar(':');
}

void json_begin(cli_ctx *c)
{
    c->json_first = true;
    putchar('{');
}

void json_end(cli_ctx *c)
{
    (void)c;
    puts("}");
}

void json_str(cli_ctx *c, const char *k, const char *value)
{
    key(c, k);
    quoted(value);
}

void json_num(cli_ctx *c, const char *k, uint64_t value)
{
    key(c, k);
    printf("%llu", (unsigned long long)value);
}

void json_bool(cli_ctx *c, const char *k, bool value)
{
    key(c, k);
    fputs(value ? "true" : "false", stdout);
}

void json_array(cli_ctx *c, const char *k)
{
    key(c, k);
    putchar('[');
    c->json_first = true;
}

void json_array_end(cli_ctx *c)
{
    putchar(']');
    c->json_first = false;
}

void json_item(cli_ctx *c)
{
    sep(c);
    putchar('{');
    c->json_first = true;
}

void json_item_end(cli_ctx *c)
{
    putchar('}');
    c->json_first = false;
}

void json_array_str(cli_ctx *c, const char *value)
{
    sep(c);
    quoted(value);
}

void json_time(cli_ctx *c, const char *k, int64_t t)
{
    char when[32];
    time_t tt = (time_t)t;
    struct tm tm;
    key(c, k);
    if (gmtime_r(&tt, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
                                       &tm))
        quoted(when);
    else
        printf("%lld", (long long)t);
}

void json_warnings(cli_ctx *c)
{
    json_array(c, "warnings");
    for (int i = 0; cli_warning(c, i); i++)
        json_array_str(c, cli_warning(c, i));
    json_array_end(c);
}

void json_failure(cli_ctx *c)
{
    json_begin(c);
    json_bool(c, "ok", false);
    json_str(c, "error", cli_errors(c));
    json_warnings(c);
    json_end(c);
}
