/* cmd_log.c - tinyhsm log: print or verify the audit log. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"

static const char log_help[] =
    "Usage: tinyhsm log [--verify]\n"
    "Prints the device's audit log: index, time, event, key id, digest,\n"
    "result and chain hash. --verify recomputes the hash chain and reports\n"
    "the first record that was altered, removed or reordered.\n\n"
    "Example:\n  tinyhsm log --verify\n";

/* Checks one record against the chain so far; NULL when it holds. */
static const char *check_record(const char *rec, unsigned long want_index,
                                uint8_t head[32])
{
    uint8_t link[32];
    char hex[65], idx[16];
    thsm_sha256_ctx ctx;
    snprintf(idx, sizeof(idx), "%08lu ", want_index);
    if (strlen(rec) != 200 || strncmp(rec, idx, 9) != 0)
        return "out of place: a record was removed, added or reordered";
    if (thsm_sha256_init(&ctx) != 0)
        return "hashing failed";
    thsm_sha256_update(&ctx, head, 32);
    thsm_sha256_update(&ctx, rec, 136);
    thsm_sha256_final(&ctx, link);
    thsm_hex(link, 32, hex);
    memcpy(head, link, 32);
    return strncasecmp(rec + 136, hex, 64) == 0
               ? NULL : "altered: its chain hash does not match";
}

int cli_log(cli_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {{"verify", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static thsm_at_resp r;
    int o, verify = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'v')
            verify = 1;
        else if (o == 'h') {
            fputs(log_help, stdout);
            return CLI_OK;
        } else
            return cli_usage_error("log", "bad option");
    }
    if (optind < argc)
        return cli_usage_error("log", "unexpected argument '%s'", argv[optind]);
    if (cli_connect(c) != 0)
        return CLI_FAIL;
    uint8_t head[32] = {0};
    unsigned long next = 0, total = 0, count;
    const char *bad = NULL;
    do {
        if (thsm_at_cmdf(&c->at, &r, "AT+LOG? FROM=%lu", next) != THSM_AT_OK ||
            !r.ok || sscanf(r.text, "%lu %lu", &count, &total) != 2) {
            cli_error("the device does not give its audit log");
            return CLI_FAIL;
        }
        for (size_t i = 1; i < r.nlines; i++, next++) {
            if (!verify)
                printf("%s\n", r.lines[i]);
            else if (!bad && (bad = check_record(r.lines[i], next, head)))
                printf("FAIL record %lu is %s\n", next, bad);
        }
    } while (count > 0 && next < total);
    if (!verify)
        return CLI_OK;
    if (!bad)
        printf("PASS %lu records, hash chain intact\n", total);
    return bad ? CLI_FAIL : CLI_OK;
}
