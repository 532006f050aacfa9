/* json.c - JSON objects for --json (see json.h); strings through
 * host/json.h. */
#include "cli/json.h"

#include "host/json.h"

#include <stdio.h>
#include <time.h>

#include "cli/cli.h"

static int first = 1; /* no comma before the next member */

static void sep(void)
{
    if (!first)
        putchar(',');
    first = 0;
}

static void quoted(const char *s)
{
    thsm_json_string(stdout, s);
}

static void key(const char *k)
{
    sep();
    quoted(k);
    putchar(':');
}

void json_begin(void)
{
    first = 1;
    putchar('{');
}

void json_end(void)
{
    puts("}");
}

void json_str(const char *k, const char *value)
{
    key(k);
    quoted(value);
}

void json_num(const char *k, uint64_t value)
{
    key(k);
    printf("%llu", (unsigned long long)value);
}

void json_bool(const char *k, int value)
{
    key(k);
    fputs(value ? "true" : "false", stdout);
}

void json_array(const char *k)
{
    key(k);
    putchar('[');
    first = 1;
}

void json_array_end(void)
{
    putchar(']');
    first = 0;
}

void json_item(void)
{
    sep();
    putchar('{');
    first = 1;
}

void json_item_end(void)
{
    putchar('}');
    first = 0;
}

void json_array_str(const char *value)
{
    sep();
    quoted(value);
}

void json_time(const char *k, int64_t t)
{
    char when[32];
    time_t tt = (time_t)t;
    struct tm tm;
    key(k);
    if (gmtime_r(&tt, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
                                       &tm))
        quoted(when);
    else
        printf("%lld", (long long)t);
}

void json_warnings(void)
{
    json_array("warnings");
    for (int i = 0; cli_warning(i); i++)
        json_array_str(cli_warning(i));
    json_array_end();
}

void json_failure(void)
{
    json_begin();
    json_bool("ok", 0);
    json_str("error", cli_errors());
    json_warnings();
    json_end();
}
