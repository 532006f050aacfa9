/* cmd_log.c - tinyhsm log: print or verify the audit log. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"
#include "proto/at.h"
#include "util/escape.h"

static const char log_help[] =
    "Usage: tinyhsm log [--verify]\n"
    "Prints the device's audit log: record number, time (ISO 8601, UTC),\n"
    "event, key id, result, digest and chain hash. --verify recomputes the\n"
    "hash chain, reports the first record that was altered, removed or\n"
    "reordered, and checks the log against the device's anchor (how many\n"
    "records it has written, and the chain head), which finds a cut tail, a\n"
    "deleted log and a rewritten one. Exit status 1 when a check fails.\n\n"
    "Example:\n  tinyhsm log --verify\n";

typedef struct {
    bool verify;
    int printed;               /* records printed, with the header first */
    uint8_t head[32];          /* chain recomputed so far */
    unsigned long first_bad;   /* record number + 1; 0 while all hold */
    const char *why;
} log_walk;

static void iso_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%lld", (long long)t);
}

static void print_record(unsigned long index, const char *line)
{
    thsm_log_record r;
    char when[32], raw[THSM_ESCAPED_MAX(THSM_LOG_LINE)];
    if (thsm_parse_log_record(line, &r) != 0) {
        printf("%08lu  (malformed record) %s\n", index,
               thsm_escape(line, raw, sizeof(raw)));
        return;
    }
    iso_time(r.time, when);
    printf("%08lu  %-20s  %-16s  %-16s  %-16s  %-64s  %s\n", r.index, when,
           r.event, r.key, r.result, r.digest, r.chain);
}

/* Checks one record against the chain so far. */
static void check_record(log_walk *w, unsigned long index, const char *line)
{
    char idx[16];
    snprintf(idx, sizeof(idx), "%08lu ", index % THSM_LOG_TOTAL_MAX);
    bool in_place = strlen(line) == THSM_LOG_LINE &&
                    strncmp(line, idx, 9) == 0;
    bool linked = thsm_log_chain_next(w->head, line);
    if (w->first_bad || (in_place && linked))
        return;
    w->first_bad = index + 1;
    w->why = !in_place ? "out of place: a record was removed, added or "
                         "reordered"
                       : "altered: its chain hash does not match";
}

static void on_record(void *ctx, unsigned long index, const char *line)
{
    log_walk *w = ctx;
    if (w->verify) {
        check_record(w, index, line);
        return;
    }
    if (!w->printed++)
        printf("%-8s  %-20s  %-16s  %-16s  %-16s  %-64s  %s\n", "RECORD",
               "TIME (UTC)", "EVENT", "KEY ID", "RESULT", "DIGEST", "CHAIN");
    print_record(index, line);
}

/* The damage the device itself found (AT+HSM_STATUS? LOG_STATE), in
 * words; NULL when it reports none or gives no status. */
static const char *device_damage(cli_ctx *c, char *out, size_t cap)
{
    static const struct {
        const char *prefix, *words;
    } kinds[] = {
        {THSM_ST_LOG_BROKEN_AT, "a record fails its chain link at record"},
        {THSM_ST_LOG_MISSING_FROM, "records it wrote are gone (tail cut or "
                                   "log deleted) from record"},
        {THSM_ST_LOG_REWRITTEN_BEFORE, "the log disagrees with its sealed "
                                       "chain head (rewritten) before record"},
    };
    thsm_status st;
    thsm_err err;
    char shown[THSM_ESCAPED_MAX(sizeof(st.log_state))];
    if (thsm_hsm_status(&c->at, &st, &err) != THSM_OK || !st.answered)
        return NULL;
    if (strcmp(st.state, THSM_ST_STATE_ROLLED_BACK) == 0) {
        snprintf(out, cap, "its state was ROLLED BACK: the state on disk is "
                 "older than its log, so PIN tries may have been restored "
                 "(see README, Rollback)");
        return out;
    }
    if (!st.log_state[0] || strcmp(st.log_state, THSM_ST_LOG_OK) == 0)
        return NULL;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(st.log_state, kinds[i].prefix, n) == 0) {
            snprintf(out, cap, "%s %s", kinds[i].words,
                     thsm_escape(st.log_state + n, shown, sizeof(shown)));
            return out;
        }
    }
    snprintf(out, cap, "its log state is %s",
             thsm_escape(st.log_state, shown, sizeof(shown)));
    return out;
}

/* The verdict of --verify: every check that fails; CLI_OK or CLI_FAIL. */
static int verdict(cli_ctx *c, const log_walk *w, const thsm_log_page *anchor,
                   unsigned long got)
{
    char damage[300];
    int failed = 0;
    if (w->first_bad && ++failed)
        printf("FAIL record %lu is %s\n", w->first_bad - 1, w->why);
    if (got < anchor->total && ++failed)
        printf("FAIL the device has written %lu records but only %lu arrived:"
               " the log's tail was cut off or the log was deleted\n",
               anchor->total, got);
    if (!w->first_bad && got == anchor->total && anchor->has_head &&
        memcmp(w->head, anchor->head, 32) != 0 && ++failed)
        printf("FAIL the log's chain head differs from the device's anchor: "
               "the log was rewritten\n");
    if (device_damage(c, damage, sizeof(damage)) && ++failed)
        printf("FAIL the device reports: %s\n", damage);
    if (failed)
        return CLI_FAIL;
    printf("PASS %lu records, hash chain intact", got);
    if (anchor->has_head) {
        printf(", matches the device's anchor (count and chain head)\n");
    } else {
        printf("\nNote: this device gives no anchor (count and chain head), "
               "so a cut tail or a rewritten log cannot be found\n");
    }
    return CLI_OK;
}

int cli_log(cli_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {{"verify", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    log_walk w = {0};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'v')
            w.verify = true;
        else if (o == 'h') {
            fputs(log_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "log", opts, argc, argv);
    }
    if (optind < argc)
        return cli_usage_error(c, "log", "unexpected argument '%s'",
                               argv[optind]);
    if (cli_connect(c) != 0)
        return CLI_FAIL;
    thsm_log_page anchor;
    unsigned long got;
    thsm_err err;
    if (thsm_hsm_log_read(&c->at, on_record, &w, &anchor, &got, &err) !=
        THSM_OK) {
        cli_error(c, "%s", err.msg);
        if (w.verify)
            printf("FAIL the device's log could not be read to its end\n");
        return CLI_FAIL;
    }
    if (w.verify)
        return verdict(c, &w, &anchor, got);
    if (got < anchor.total) {
        cli_error(c, "the device has written %lu records but only %lu arrived: "
                  "check with: tinyhsm log --verify", anchor.total, got);
        return CLI_FAIL;
    }
    if (!w.printed)
        printf("The audit log has no records.\n");
    return CLI_OK;
}
