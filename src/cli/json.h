/*
 * json.h - one JSON object on stdout, for --json (sign, verify).
 * Usage: json_begin(); json_str("k", v); ...; json_end(). Arrays of
 * objects: json_array("k"), json_item(), ..., json_item_end(), json_array_end().
 */
#ifndef THSM_CLI_JSON_H
#define THSM_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"

/* Each call writes to stdout; c keeps where the object is (json_first). */
void json_begin(cli_ctx *c);
void json_end(cli_ctx *c);
void json_str(cli_ctx *c, const char *key, const char *value); /* NULL: null */
void json_num(cli_ctx *c, const char *key, uint64_t value);
void json_bool(cli_ctx *c, const char *key, bool value);
void json_array(cli_ctx *c, const char *key);
void json_array_end(cli_ctx *c);
void json_item(cli_ctx *c);     /* an object inside an array */
void json_item_end(cli_ctx *c);
void json_array_str(cli_ctx *c, const char *value); /* a string in an array */
/* ISO 8601 UTC: 2026-11-26T06:37:42Z */
void json_time(cli_ctx *c, const char *key, int64_t t);
/* "warnings":[...], every warning printed so far. */
void json_warnings(cli_ctx *c);
/* The object of a command that failed: {"ok":false,"error":"...",
 * "warnings":[...]} with every error and warning printed so far. */
void json_failure(cli_ctx *c);

#endif
