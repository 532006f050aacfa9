/*
 * json.h - one JSON object on stdout, for --json (sign, verify).
 * Usage: json_begin(); json_str("k", v); ...; json_end(). Arrays of
 * objects: json_array("k"), json_item(), ..., json_item_end(), json_array_end().
 */
#ifndef THSM_CLI_JSON_H
#define THSM_CLI_JSON_H

#include <stdint.h>

void json_begin(void);
void json_end(void);
void json_str(const char *key, const char *value); /* NULL: null */
void json_num(const char *key, uint64_t value);
void json_bool(const char *key, int value);
void json_array(const char *key);
void json_array_end(void);
void json_item(void);     /* an object inside an array */
void json_item_end(void);
void json_array_str(const char *value); /* a string inside an array */
void json_time(const char *key, int64_t t); /* ISO 8601 UTC: 2026-11-26T06:37:42Z */
/* "warnings":[...], every warning printed so far. */
void json_warnings(void);
/* The object of a command that failed: {"ok":false,"error":"...",
 * "warnings":[...]} with every error and warning printed so far. */
void json_failure(void);

#endif
