/* json.c - a minimal JSON writer for --json (see json.h). */
#include "cli/json.h"

#include <stdio.h>

static int first = 1; /* no comma before the next member */

static void sep(void)
{
    if (!first)
        putchar(',');
    first = 0;
}

static void quoted(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f) /* bytes, not UTF-8 */
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
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
    if (value)
        quoted(value);
    else
        fputs("null", stdout);
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
