/*
 * json.h - writing JSON for scripts (tinyhsm ... --json): strings escaped
 * so that the output is always valid JSON.
 */
#ifndef THSM_JSON_H
#define THSM_JSON_H

#include <stdio.h>

/* s as a JSON string literal: quotes, backslashes and control characters
 * escaped, valid UTF-8 kept, any other byte replaced by U+FFFD. NULL is
 * written as null. */
void thsm_json_string(FILE *out, const char *s);

#endif
