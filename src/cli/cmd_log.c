/* cmd_log.c - tinyhsm log: print or verify the audit log. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "host/hsm.h"
#include "proto/at.h"
#include "util/escape.h"

static const char log_help[] =
    "Usage: tinyhsm log [--verify] [--json]\n"
    "Prints the device's audit log: record number, time (ISO 8601, UTC),\n"
    "event, key id, result, digest and chain hash. --verify recomputes the\n"
    "hash chain, reports the first record that was altered, removed or\n"
    "reordered, and checks the log against the device's anchor (how many\n"
    "records it has written, and the chain head), which finds a cut tail, a\n"
    "deleted log and a rewritten one. Exit status 1 when a check fails.\n\n"
    "  --json   one JSON object on standard output: \"records\" (each with\n"
    "           record, time, event, key_id, result, digest, chain), or with\n"
    "           --verify the \"records\" count and the \"failures\"\n\n"
    "Example:\n  tinyhsm log --verify\n  tinyhsm log --json\n";

#define FAILURES_MAX 4

typedef struct {
    cli_ctx *c;
    bool verify, json;
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

/* One record as an object of the "records" array. */
static void json_record(cli_ctx *c, unsigned long index, const char *line)
{
    thsm_log_record r;
    char raw[THSM_ESCAPED_MAX(THSM_LOG_LINE)];
    json_item(c);
    if (thsm_parse_log_record(line, &r) != 0) {
        json_num(c, "record", index);
        json_str(c, "malformed", thsm_escape(line, raw, sizeof(raw)));
    } else {
        json_num(c, "record", r.index);
        json_time(c, "time", r.time);
        json_str(c, "event", r.event);
        json_str(c, "key_id", strcmp(r.key, THSM_LOG_FIELD_NONE) ? r.key : NULL);
        json_str(c, "result", r.result);
        json_str(c, "digest",
                 strcmp(r.digest, THSM_LOG_FIELD_NONE) ? r.digest : NULL);
        json_str(c, "chain", r.chain);
    }
    json_item_end(c);
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
    if (w->json) {
        if (!w->printed++)
            json_array(w->c, "records");
        json_record(w->c, index, line);
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
    char damage[300], fail[FAILURES_MAX][400];
    int n = 0;
    if (w->first_bad)
        snprintf(fail[n++], sizeof(fail[0]), "record %lu is %s",
                 w->first_bad - 1, w->why);
    if (got < anchor->total)
        snprintf(fail[n++], sizeof(fail[0]), "the device has written %lu "
                 "records but only %lu arrived: the log's tail was cut off "
                 "or the log was deleted", anchor->total, got);
    if (!w->first_bad && got == anchor->total && anchor->has_head &&
        memcmp(w->head, anchor->head, 32) != 0)
        snprintf(fail[n++], sizeof(fail[0]), "the log's chain head differs "
                 "from the device's anchor: the log was rewritten");
    if (device_damage(c, damage, sizeof(damage)))
        snprintf(fail[n++], sizeof(fail[0]), "the device reports: %s", damage);
    if (w->json) {
        json_begin(c);
        json_bool(c, "ok", n == 0);
        json_num(c, "records", got);
        json_bool(c, "anchored", anchor->has_head);
        json_array(c, "failures");
        for (int i = 0; i < n; i++)
            json_array_str(c, fail[i]);
        json_array_end(c);
        json_end(c);
        return n ? CLI_FAIL : CLI_OK;
    }
    for (int i = 0; i < n; i++)
        printf("FAIL %s\n", fail[i]);
    if (n)
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

/* Ends the JSON listing: its records so far, then the outcome ("ok" last:
 * the records stream out before it is known). */
static void json_listing_end(cli_ctx *c, const log_walk *w, bool ok,
                             unsigned long total)
{
    if (!w->printed)
        json_array(c, "records");
    json_array_end(c);
    if (ok)
        json_num(c, "total", total);
    else
        json_str(c, "error", cli_errors(c));
    json_bool(c, "ok", ok);
    json_end(c);
}

/* Reads the log, printing or checking each record as it comes. */
static int log_run(cli_ctx *c, log_walk *w)
{
    thsm_log_page anchor;
    unsigned long got;
    thsm_err err;
    bool listing = w->json && !w->verify;
    if (cli_connect(c) != 0) {
        if (w->json)
            json_failure(c);
        return CLI_FAIL;
    }
    if (listing)
        json_begin(c);
    if (thsm_hsm_log_read(&c->at, on_record, w, &anchor, &got, &err) !=
        THSM_OK) {
        cli_error(c, "%s", err.msg);
        if (listing)
            json_listing_end(c, w, false, 0);
        else if (w->json)
            json_failure(c);
        else if (w->verify)
            printf("FAIL the device's log could not be read to its end\n");
        return CLI_FAIL;
    }
    if (w->verify)
        return verdict(c, w, &anchor, got);
    if (got < anchor.total)
        cli_error(c, "the device has written %lu records but only %lu arrived: "
                  "check with: tinyhsm log --verify", anchor.total, got);
    if (listing)
        json_listing_end(c, w, got >= anchor.total, anchor.total);
    else if (!w->printed && got >= anchor.total)
        printf("The audit log has no records.\n");
    return got < anchor.total ? CLI_FAIL : CLI_OK;
}

int cli_log(cli_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {{"verify", no_argument, NULL, 'v'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    log_walk w = {.c = c};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'v')
            w.verify = true;
        else if (o == 'j')
            w.json = true;
        else if (o == 'h') {
            fputs(log_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "log", opts, argc, argv);
    }
    if (optind < argc)
        return cli_usage_error(c, "log", "unexpected argument '%s'",
                               argv[optind]);
    return log_run(c, &w);
}
