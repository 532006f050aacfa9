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
#include "host/image.h"
#include "host/img_stream.h"
#include "proto/at.h"
#include "util/escape.h"
#include "util/hex.h"

/* An archive of records (tinyhsm log --archive): what reading it found. */
typedef struct {
    bool exists;
    unsigned long first, next; /* its first record, the one after its last */
    uint8_t head[32];          /* chain value after its last record */
    uint8_t before[32];        /* chain value before record `at` */
    unsigned long at;          /* which record before[] is for */
    bool has_before;
} archive;

static const char log_help[] =
    "Usage: tinyhsm log [--verify] [--json] [--images] [--archive FILE "
    "[--clear]]\n"
    "       tinyhsm log --acknowledge\n"
    "Prints the device's audit log: record number, time (ISO 8601, UTC),\n"
    "event, key id, result, digest (or details) and chain hash. --verify\n"
    "recomputes the hash chain, reports the first record that was altered,\n"
    "removed or reordered, and checks the log against the device's anchor\n"
    "(how many records it has written, and the chain head), which finds a\n"
    "cut tail, a deleted log and a rewritten one. Exit status 1 when a check\n"
    "fails.\n"
    "--archive FILE adds the device's records FILE does not hold yet to it\n"
    "(checked to continue FILE's chain); with --verify, checks FILE and the\n"
    "device's log as one chain. --clear (PIN and login) then empties the\n"
    "device's log if FILE holds every record up to the device's chain head;\n"
    "the keys stay, and the next record chains on from that head.\n"
    "--acknowledge (PIN and login) records that you have seen the findings\n"
    "the device reports (LOG_STATE, STATE): --verify then passes and still\n"
    "prints them; a later finding is open again.\n"
    "--images lists the image signatures alone, in columns: record, time,\n"
    "format, board (MCUboot: the slot or image name), version, size and\n"
    "the image's SHA-256, as the device read them from the bytes it signed.\n"
    "--json prints one JSON object on standard output: \"records\" (each\n"
    "with record, time, event, key_id, result, digest, chain; an image\n"
    "signature's record also with format, board, version, size), or with\n"
    "--verify the \"records\" count and the \"failures\" (not with\n"
    "--archive).\n\n"
    "Examples:\n  tinyhsm log --verify\n"
    "  tinyhsm log --archive audit-archive.log --clear\n"
    "  tinyhsm log --verify --archive audit-archive.log\n"
    "  tinyhsm log --json\n";

#define FAILURES_MAX 6

typedef struct {
    cli_ctx *c;
    bool verify, json, images;
    int printed;               /* records printed, with the header first */
    thsm_log_image image;      /* the last IMAGE record ... */
    bool has_image;            /* ... when it was the record before */
    uint8_t head[32];          /* chain recomputed so far */
    unsigned long first_bad;   /* record number + 1; 0 while all hold */
    const char *why;
    bool started;              /* the first record was seen */
    const archive *ar;         /* checked as the chain before the device's */
    const thsm_log_page *page; /* the device's first answer, filled before
                                  the first record */
    const char *gap;           /* why the archive does not join the log */
    FILE *append;              /* archiving: records from ar->next go here */
    unsigned long appended;
} log_walk;

static void iso_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%lld", (long long)t);
}

/* The image a signature record signed (the IMAGE record before it). */
static void json_image(cli_ctx *c, const thsm_log_image *img)
{
    json_str(c, "format", img->format);
    json_str(c, "board", strcmp(img->board, THSM_LOG_FIELD_NONE) ? img->board
                                                                 : NULL);
    json_str(c, "version", img->version);
    json_num(c, "size", img->size);
}

/* One record as an object of the "records" array. */
static void json_record(cli_ctx *c, unsigned long index, const char *line,
                        const thsm_log_image *img)
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
        if (img && thsm_log_is_image_signature(&r))
            json_image(c, img);
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

/* An image signature in columns (tinyhsm log --images). */
static void print_image(log_walk *w, const char *line)
{
    thsm_log_record r;
    char when[32];
    if (thsm_parse_log_record(line, &r) != 0 ||
        !thsm_log_is_image_signature(&r) || !w->has_image)
        return;
    if (!w->printed++)
        printf("%-8s  %-20s  %-12s  %-16s  %-24s  %10s  %s\n", "RECORD",
               "TIME (UTC)", "FORMAT", "BOARD/NAME", "VERSION", "SIZE",
               "SHA-256");
    iso_time(r.time, when);
    printf("%08lu  %-20s  %-12s  %-16s  %-24s  %10lu  %s\n", r.index, when,
           w->image.format, w->image.board, w->image.version, w->image.size,
           r.digest);
}

/* Remembers an IMAGE record for the signature record after it. */
static void note_image(log_walk *w, const char *line)
{
    thsm_log_record r;
    thsm_log_image img;
    w->has_image = thsm_parse_log_record(line, &r) == 0 &&
                   thsm_parse_log_image(&r, &img) == 0;
    if (w->has_image)
        w->image = img;
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

/* The chain before the device's first record: zeros at record 0, else
 * the archive's (which must reach that far) or the device's word for it. */
static void start_chain(log_walk *w, unsigned long index)
{
    w->started = true;
    if (index == 0)
        return;
    memcpy(w->head, w->page->base_head, 32);
    if (!w->ar || !w->ar->exists)
        return;
    if (!w->ar->has_before)
        w->gap = "the archive does not hold the records before the "
                 "device's first one";
    else if (memcmp(w->ar->before, w->page->base_head, 32) != 0)
        w->gap = "the device's log does not continue the archive's chain";
}

/* Checks one record, and that the device's records the archive holds too
 * end in the archive's chain value. */
static void joins_archive(log_walk *w, unsigned long index, const char *line)
{
    check_record(w, index, line);
    if (w->ar && w->ar->exists && w->ar->next > 0 &&
        index == w->ar->next - 1 && !w->gap &&
        memcmp(w->head, w->ar->head, 32) != 0)
        w->gap = "the device's records differ from the archive's";
}

static void on_record(void *ctx, unsigned long index, const char *line)
{
    log_walk *w = ctx;
    if (!w->started)
        start_chain(w, index);
    if (w->append || w->verify)
        joins_archive(w, index, line);
    if (w->append) {
        if (index >= w->ar->next && fprintf(w->append, "%s\n", line) > 0)
            w->appended++;
        return;
    }
    if (w->verify)
        return;
    bool had_image = w->has_image;
    note_image(w, line);
    if (w->json) {
        if (!w->printed++)
            json_array(w->c, "records");
        json_record(w->c, index, line, had_image ? &w->image : NULL);
        return;
    }
    if (w->images) {
        bool now = w->has_image;
        w->has_image = had_image;
        print_image(w, line);
        w->has_image = now;
        return;
    }
    if (!w->printed++)
        printf("%-8s  %-20s  %-16s  %-16s  %-16s  %-64s  %s\n", "RECORD",
               "TIME (UTC)", "EVENT", "KEY ID", "RESULT", "DIGEST", "CHAIN");
    print_record(index, line);
}

/* The damage the device itself found (AT+HSM_STATUS? LOG_STATE), in
 * words; NULL when it reports none or gives no status. *ack: the record
 * that acknowledged it, or "" when it is open. */
static const char *device_damage(cli_ctx *c, char *out, size_t cap,
                                 char ack[16])
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
    ack[0] = '\0';
    if (thsm_hsm_status(&c->at, &st, &err) != THSM_OK || !st.answered)
        return NULL;
    if (st.ack[0] && strcmp(st.ack, THSM_ST_ACK_NONE) != 0)
        snprintf(ack, 16, "%s", st.ack);
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

/* The failures of --verify, in words: how many. *note: a finding the
 * device reports that was acknowledged, or "". */
static int failures(cli_ctx *c, const log_walk *w, const thsm_log_page *anchor,
                    unsigned long got, char fail[FAILURES_MAX][400],
                    char note[400])
{
    char damage[300], ack[16];
    int n = 0;
    note[0] = '\0';
    if (w->gap)
        snprintf(fail[n++], 400, "%s", w->gap);
    if (w->first_bad)
        snprintf(fail[n++], 400, "record %lu is %s", w->first_bad - 1, w->why);
    if (got < anchor->total)
        snprintf(fail[n++], 400, "the device has written %lu records but only "
                 "%lu arrived: the log's tail was cut off or the log was "
                 "deleted", anchor->total, got);
    if (!w->first_bad && got == anchor->total && anchor->has_head &&
        memcmp(w->head, anchor->head, 32) != 0)
        snprintf(fail[n++], 400, "the log's chain head differs from the "
                 "device's anchor: the log was rewritten");
    if (device_damage(c, damage, sizeof(damage), ack)) {
        if (!ack[0])
            snprintf(fail[n++], 400, "the device reports: %s", damage);
        else
            snprintf(note, 400, "the device reports (acknowledged in record "
                     "%s): %s", ack, damage);
    }
    return n;
}

static int verdict_json(cli_ctx *c, const thsm_log_page *anchor,
                        unsigned long got, char fail[FAILURES_MAX][400], int n,
                        const char *note)
{
    json_begin(c);
    json_bool(c, "ok", n == 0);
    json_num(c, "records", got - anchor->base);
    json_bool(c, "anchored", anchor->has_head);
    json_array(c, "failures");
    for (int i = 0; i < n; i++)
        json_array_str(c, fail[i]);
    json_array_end(c);
    json_str(c, "acknowledged", note[0] ? note : NULL);
    json_end(c);
    return n ? CLI_FAIL : CLI_OK;
}

/* The verdict of --verify: every check that fails; CLI_OK or CLI_FAIL. */
static int verdict(cli_ctx *c, const log_walk *w, const thsm_log_page *anchor,
                   unsigned long got)
{
    char fail[FAILURES_MAX][400], note[400];
    int n = failures(c, w, anchor, got, fail, note);
    if (w->json)
        return verdict_json(c, anchor, got, fail, n, note);
    for (int i = 0; i < n; i++)
        printf("FAIL %s\n", fail[i]);
    if (note[0])
        printf("NOTE %s\n", note);
    if (n)
        return CLI_FAIL;
    if (w->ar && w->ar->exists)
        printf("PASS the archive's %lu records and the device's %lu, one hash "
               "chain", w->ar->next - w->ar->first, got - anchor->base);
    else
        printf("PASS %lu records, hash chain intact", got - anchor->base);
    if (anchor->has_head) {
        printf(", matches the device's anchor (count and chain head)\n");
    } else {
        printf("\nNote: this device gives no anchor (count and chain head), "
               "so a cut tail or a rewritten log cannot be found\n");
    }
    if (anchor->base && !(w->ar && w->ar->exists))
        printf("Note: records 0-%lu were archived and cleared: check them "
               "with --archive FILE\n", anchor->base - 1);
    return CLI_OK;
}

/* The first record the device holds (after a clear); 0 without a status. */
static unsigned long device_base(cli_ctx *c)
{
    thsm_status st;
    thsm_err err;
    if (thsm_hsm_status(&c->at, &st, &err) != THSM_OK || !st.answered)
        return 0;
    return st.log_base;
}

/* Reads the archive at path: every record in its place and chained (from
 * zeros when it starts at record 0, else from its first record's own chain
 * value). before[] is the chain value before record at. 0; 1 when there
 * is no such file; -1 (with why) when it is not a whole archive. */
static int read_archive(const char *path, archive *ar, char *why, size_t cap)
{
    char line[THSM_LOG_RECORD + 2];
    unsigned long i = 0;
    unsigned long at = ar->at;
    memset(ar, 0, sizeof(*ar));
    ar->at = at;
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    ar->exists = true;
    for (; fgets(line, sizeof(line), f); i++) {
        thsm_log_record r;
        size_t n = strcspn(line, "\n");
        line[n] = '\0';
        if (thsm_parse_log_record(line, &r) != 0 ||
            (i > 0 && r.index != ar->first + i)) {
            snprintf(why, cap, "%s: line %lu is not the next record", path,
                     i + 1);
            break;
        }
        if (i == 0) {
            ar->first = r.index;
            if (r.index > 0) /* its chain before: taken on its word */
                thsm_parse_hex(line + THSM_LOG_CHAIN_AT, ar->head, 32);
        }
        if (r.index == ar->at) {
            memcpy(ar->before, ar->head, 32);
            ar->has_before = true;
        }
        if (!thsm_log_chain_next(ar->head, line) && !(i == 0 && r.index > 0)) {
            snprintf(why, cap, "%s: record %lu fails its chain link", path,
                     r.index);
            break;
        }
        ar->next = r.index + 1;
    }
    bool bad = ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        if (!why[0])
            snprintf(why, cap, "%s: unreadable", path);
        return -1;
    }
    if (ar->next == ar->at && ar->at > 0) {
        memcpy(ar->before, ar->head, 32);
        ar->has_before = true;
    }
    return 0;
}

/* Copies the archive at path into f (a new file). */
static int copy_archive(const char *path, FILE *f)
{
    char buf[8192];
    size_t n;
    FILE *in = fopen(path, "r");
    if (!in)
        return -1;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, f) != n)
            break;
    int rc = ferror(in) || !feof(in) ? -1 : 0;
    fclose(in);
    return rc;
}

/* Writes path again (a temporary file renamed over it): what it held,
 * then the device's records it lacks, checked to continue its chain. */
static int update_archive(cli_ctx *c, const char *path, archive *ar,
                          thsm_log_page *page, unsigned long *got)
{
    char why[4400] = "";
    thsm_err err;
    ar->at = device_base(c);
    if (read_archive(path, ar, why, sizeof(why)) < 0) {
        cli_error(c, "%s", why);
        return -1;
    }
    thsm_atomic_file out;
    int dup_fd = -1;
    if (thsm_atomic_begin(&out, path, 0600, why, sizeof(why)) != 0) {
        cli_error(c, "%s", why);
        return -1;
    }
    FILE *f = (dup_fd = dup(out.fd)) >= 0 ? fdopen(dup_fd, "wb") : NULL;
    if (!f) {
        cli_error(c, "cannot write next to %s", path);
        if (dup_fd >= 0)
            close(dup_fd);
        thsm_atomic_abort(&out);
        return -1;
    }
    log_walk w = {.ar = ar, .append = f, .page = page};
    int rc = ar->exists ? copy_archive(path, f) : 0;
    if (rc == 0 && thsm_hsm_log_read(&c->at, on_record, &w, page, got, &err) !=
                       THSM_OK) {
        cli_error(c, "%s", err.msg);
        rc = -1;
    }
    if (rc == 0 && ar->exists && page->base > ar->next) {
        cli_error(c, "%s ends at record %lu but the device's log starts at "
                  "record %lu: records %lu-%lu are in another archive", path,
                  ar->next, page->base, ar->next, page->base - 1);
        rc = -1;
    }
    if (rc == 0 && (w.first_bad || w.gap)) {
        cli_error(c, "the device's records do not continue %s's chain (%s); "
                  "check with: tinyhsm log --verify", path,
                  w.gap ? w.gap : w.why);
        rc = -1;
    }
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0) {
        thsm_atomic_abort(&out);
        return -1;
    }
    if (thsm_atomic_commit(&out, why, sizeof(why)) != 0) {
        cli_error(c, "%s", why);
        return -1;
    }
    printf("Archived %lu new records in %s (records %lu-%lu).\n", w.appended,
           path, ar->exists ? ar->first : page->base, *got ? *got - 1 : 0);
    return 0;
}

/* --clear: archives what is new, then clears if the archive holds every
 * record up to the device's chain head. A refusal counted meanwhile moves
 * the head: archived again, a few times. */
static int clear_log(cli_ctx *c, const char *path)
{
    for (int round = 0; round < 3; round++) {
        archive ar = {0};
        thsm_log_page page;
        unsigned long got;
        char why[256] = "";
        thsm_err err;
        if (update_archive(c, path, &ar, &page, &got) != 0)
            return CLI_FAIL;
        if (read_archive(path, &ar, why, sizeof(why)) != 0 ||
            ar.next != page.total || !page.has_head ||
            memcmp(ar.head, page.head, 32) != 0) {
            cli_error(c, "%s does not end at the device's chain head; "
                      "nothing cleared", path);
            return CLI_FAIL;
        }
        if (thsm_hsm_log_clear(&c->at, page.total, page.head, &err) == THSM_OK) {
            printf("Cleared records %lu-%lu from the device; they are in %s. "
                   "Its log goes on from record %lu.\n", page.base,
                   page.total - 1, path, page.total);
            return CLI_OK;
        }
        if (strcmp(c->at.resp.code, THSM_E_NOT_ARCHIVED) != 0) {
            cli_error(c, "%s", err.msg);
            return CLI_FAIL;
        }
    }
    cli_error(c, "the device's log kept growing; nothing cleared");
    return CLI_FAIL;
}

static int acknowledge(cli_ctx *c)
{
    unsigned long record;
    char damage[300], ack[16];
    thsm_err err;
    const char *what = device_damage(c, damage, sizeof(damage), ack);
    if (thsm_hsm_log_ack(&c->at, &record, &err) != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return CLI_FAIL;
    }
    printf("Acknowledged in record %lu: %s\n", record,
           what ? what : "the device's findings");
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
    w->page = &anchor; /* filled before the first record */
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
        printf(w->images ? "The audit log holds no image signatures.\n"
                         : "The audit log has no records.\n");
    return got < anchor.total ? CLI_FAIL : CLI_OK;
}

int cli_log(cli_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"verify", no_argument, NULL, 'v'},
        {"archive", required_argument, NULL, 'a'},
        {"clear", no_argument, NULL, 'c'},
        {"acknowledge", no_argument, NULL, 'k'},
        {"json", no_argument, NULL, 'j'},
        {"images", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    log_walk w = {.c = c};
    const char *path = NULL;
    bool clear = false, ack = false;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'v')
            w.verify = true;
        else if (o == 'a')
            path = optarg;
        else if (o == 'c')
            clear = true;
        else if (o == 'k')
            ack = true;
        else if (o == 'j')
            w.json = true;
        else if (o == 'i')
            w.images = true;
        else if (o == 'h') {
            fputs(log_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "log", opts, argc, argv);
    }
    if (optind < argc)
        return cli_usage_error(c, "log", "unexpected argument '%s'",
                               argv[optind]);
    if (clear && !path)
        return cli_usage_error(c, "log", "--clear needs --archive FILE: the "
                               "records it clears must be archived first");
    if ((clear && w.verify) || (ack && (path || w.verify)))
        return cli_usage_error(c, "log", "--clear and --acknowledge go alone "
                               "(--clear with --archive FILE)");
    if (w.images && (w.json || w.verify || path || clear || ack))
        return cli_usage_error(c, "log", "--images is a listing of its own: "
                               "without --json, --verify, --archive, --clear "
                               "or --acknowledge");
    if (w.json && (path || clear || ack))
        return cli_usage_error(c, "log", "--json goes with the listing and "
                               "--verify, not with --archive, --clear or "
                               "--acknowledge");
    if (w.json)
        return log_run(c, &w);
    if (cli_connect(c) != 0)
        return CLI_FAIL;
    if (ack || clear)
        if (cli_login(c, false) != 0)
            return CLI_FAIL;
    if (ack)
        return acknowledge(c);
    if (clear)
        return clear_log(c, path);
    thsm_log_page anchor;
    unsigned long got;
    thsm_err err;
    archive ar = {0};
    if (path && !w.verify)
        return update_archive(c, path, &ar, &anchor, &got) == 0 ? CLI_OK
                                                                 : CLI_FAIL;
    if (path) {
        char why[256] = "";
        ar.at = device_base(c);
        if (read_archive(path, &ar, why, sizeof(why)) != 0) {
            printf("FAIL %s\n", why[0] ? why : "the archive cannot be read");
            return CLI_FAIL;
        }
        w.ar = &ar;
    }
    w.page = &anchor;
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
    if (anchor.base)
        printf("Records 0-%lu were archived and cleared.\n", anchor.base - 1);
    return CLI_OK;
}
