/*
 * audit.c - the append-only, hash-chained audit log (our extension).
 *
 * One fixed-width text record per event (the layout and the chain are in
 * proto/log.h and docs/PROTOCOL.md), so record i sits at offset
 * i * THSM_LOG_RECORD and AT+LOG? can seek without an index. Changing,
 * removing or reordering a record breaks every later link; anyone can check
 * it.
 *
 * A signature's record is written before the signature is released. Records
 * reach the disk at once (a killed daemon loses nothing) and are made
 * durable against power loss by thsm_device_flush(), which the daemon calls
 * within 50 ms; state changes flush immediately.
 *
 * The chain alone cannot tell a cut tail or a recomputed chain: the sealed
 * state carries an anchor (count and head of the durable log), saved after
 * each sync, and thsm_audit_open() checks the log against it. While running,
 * thsm_audit_check() compares the log's size with the records written before
 * every append, so a cut or deleted log is found before anything is written
 * at the wrong place.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/sha256.h"
#include "crypto/util.h"
#include "device/audit.h"
#include "device/values.h"
#include "util/hex.h"

#define BATCH THSM_LOG_BATCH /* records read at a time when opening */
#define GEN_LEN (sizeof(THSM_LOG_RESULT_GEN) - 1)

static void link_of(const uint8_t prev[32], const char *rec, uint8_t out[32])
{
    thsm_sha256_ctx c;
    if (thsm_sha256_init(&c) != 0 || thsm_sha256_update(&c, prev, 32) != 0 ||
        thsm_sha256_update(&c, rec, THSM_LOG_CHAIN_AT) != 0 ||
        thsm_sha256_final(&c, out) != 0)
        memset(out, 0, 32); /* cannot happen short of memory exhaustion */
}

/* What reading the log at start found. */
typedef struct {
    uint32_t first_bad;    /* 1 + index of the first broken record, or 0 */
    uint32_t anchor_count; /* the sealed anchor's count */
    uint8_t head_at_anchor[32];
    uint32_t max_gen;      /* newest state generation a record names */
    uint32_t pin_fails;    /* wrong PINs since the last right one */
} scan;

/* Whether record i holds its index and its chain link; advances the head. */
static bool check_record(thsm_device *dev, const char *rec, uint32_t i)
{
    char idx[12];
    uint8_t want[32], stored[32];
    char chain[65];
    snprintf(idx, sizeof(idx), "%08lu", (unsigned long)i);
    link_of(dev->log_head, rec, want);
    memcpy(chain, rec + THSM_LOG_CHAIN_AT, 64);
    chain[64] = '\0';
    bool ok = memcmp(rec, idx, 8) == 0 && rec[THSM_LOG_RECORD - 1] == '\n' &&
             thsm_parse_hex(chain, stored, 32) == 0 &&
             memcmp(stored, want, 32) == 0;
    /* continue from what the file says, so new records chain onto it */
    memcpy(dev->log_head, ok || thsm_parse_hex(chain, stored, 32) ? want : stored,
           32);
    return ok;
}

/* The state generation a state-change record names ("GEN=<n>"), or 0. */
static uint32_t record_gen(const char *rec)
{
    char num[12];
    uint32_t gen = 0;
    size_t n = 0;
    if (memcmp(rec + THSM_LOG_RESULT_AT, THSM_LOG_RESULT_GEN, GEN_LEN) != 0)
        return 0;
    while (n < sizeof(num) - 1 && rec[THSM_LOG_RESULT_AT + GEN_LEN + n] != ' ')
        n++;
    memcpy(num, rec + THSM_LOG_RESULT_AT + GEN_LEN, n);
    num[n] = '\0';
    return thsm_parse_uint(num, 1, UINT32_MAX, &gen) == 0 ? gen : 0;
}

/* Whether rec's event field is event. */
static bool event_is(const char *rec, const char *event)
{
    char field[THSM_LOG_EVENT_LEN + 1];
    snprintf(field, sizeof(field), "%-16.16s", event);
    return memcmp(rec + THSM_LOG_EVENT_AT, field, THSM_LOG_EVENT_LEN) == 0;
}

/* Counts the wrong PINs since the last login, PIN change or decommission:
 * what the try counter must be at most (a rolled-back state). Only records
 * the sealed anchor covers may start the count again: past it anyone can
 * append a record with a valid link (the chain needs no key), so there
 * records only ever lower the bound. */
static void count_pin_fails(scan *sc, const char *rec, uint32_t i)
{
    if (i < sc->anchor_count &&
        (event_is(rec, THSM_EV_AUTH) || event_is(rec, THSM_EV_PIN_SET) ||
         event_is(rec, THSM_EV_DECOMMISSION) ||
         event_is(rec, THSM_EV_FINDING_ACK) ||
         event_is(rec, THSM_EV_LOG_CLEARED)))
        sc->pin_fails = 0;
    else if (event_is(rec, THSM_EV_AUTH_FAILED))
        sc->pin_fails++;
    else if (event_is(rec, THSM_EV_AUTH_BLOCKED))
        sc->pin_fails = THSM_PIN_TRIES;
}

static void scan_record(thsm_device *dev, scan *sc, const char *rec,
                        uint32_t i)
{
    count_pin_fails(sc, rec, i);
    if (!check_record(dev, rec, i) && !sc->first_bad)
        sc->first_bad = i + 1;
    if (i + 1 == sc->anchor_count)
        memcpy(sc->head_at_anchor, dev->log_head, 32);
    uint32_t gen = record_gen(rec);
    if (gen > sc->max_gen)
        sc->max_gen = gen;
}

/* Pads a torn last record (power cut during an append) to full width, so
 * later records stay aligned; the chain check then reports it. */
static void pad_torn_tail(thsm_device *dev, uint64_t *size)
{
    size_t torn = (size_t)(*size % THSM_LOG_RECORD);
    char fill[THSM_LOG_RECORD];
    if (!torn)
        return;
    memset(fill, '#', sizeof(fill));
    fill[THSM_LOG_RECORD - torn - 1] = '\n';
    if (dev->port->append(dev->port->ctx, THSM_AUDIT_OBJECT, (uint8_t *)fill,
                          THSM_LOG_RECORD - torn) == THSM_PORT_OK)
        *size += THSM_LOG_RECORD - torn;
}

/* Records the log object holds: those from the base on. */
static uint64_t held_bytes(const thsm_device *dev)
{
    return (uint64_t)(dev->log_count - dev->anchor.base) * THSM_LOG_RECORD;
}

/* Starts reading the log from its base: the chain value before it. */
static void rewind_log(thsm_device *dev)
{
    memcpy(dev->log_head, dev->anchor.base_head, 32);
    dev->log_count = dev->anchor.base;
}

/* Reads every record: chain, head at the anchor, newest generation. */
static void read_log(thsm_device *dev, scan *sc)
{
    char *recs = dev->work.log_batch;
    uint64_t size = 0, base = dev->anchor.base;
    if (dev->port->size(dev->port->ctx, THSM_AUDIT_OBJECT, &size) != THSM_PORT_OK)
        return;
    pad_torn_tail(dev, &size);
    uint64_t total = size / THSM_LOG_RECORD;
    for (uint64_t at = 0; at < total && base + total <= UINT32_MAX;) {
        size_t got = 0, want = (size_t)(total - at < BATCH ? total - at : BATCH);
        if (dev->port->read(dev->port->ctx, THSM_AUDIT_OBJECT,
                            at * THSM_LOG_RECORD, (uint8_t *)recs,
                            want * THSM_LOG_RECORD, &got) != THSM_PORT_OK ||
            got != want * THSM_LOG_RECORD) {
            if (!sc->first_bad)
                sc->first_bad = (uint32_t)(base + at) + 1;
            return;
        }
        for (size_t k = 0; k < want; k++, at++)
            scan_record(dev, sc, recs + k * THSM_LOG_RECORD,
                        (uint32_t)(base + at));
        dev->log_count = (uint32_t)(base + at);
    }
}

/* A clear saved its new base but was cut off before it emptied the log,
 * which still starts with records from before the base: empties it (the
 * host checked its archive against the chain head before the clear). */
static void finish_clear(thsm_device *dev)
{
    char first[8];
    size_t got = 0;
    uint32_t index = 0;
    if (!dev->anchor.base ||
        dev->port->read(dev->port->ctx, THSM_AUDIT_OBJECT, 0,
                        (uint8_t *)first, 8, &got) != THSM_PORT_OK ||
        got != 8)
        return;
    for (size_t i = 0; i < 8; i++) {
        if (first[i] < '0' || first[i] > '9')
            return; /* not a record: the chain check reports it */
        index = index * 10 + (uint32_t)(first[i] - '0');
    }
    if (index < dev->anchor.base)
        dev->port->truncate(dev->port->ctx, THSM_AUDIT_OBJECT, 0);
}

void thsm_audit_damage(thsm_device *dev, uint8_t kind, uint32_t at)
{
    thsm_log_anchor *a = &dev->anchor;
    if (a->damage == kind && a->damage_at == at)
        return; /* found again (a break stays in the log) */
    if (a->damage && !a->acked)
        return; /* the first damage found is the one reported */
    a->damage = kind; /* after an acknowledgement: a new finding, open */
    a->damage_at = at;
    a->acked = 0;
}

void thsm_audit_state_text(const thsm_device *dev,
                           char out[THSM_LOG_STATE_TEXT])
{
    static const char *const names[] = {
        THSM_ST_LOG_OK, THSM_ST_LOG_BROKEN_AT, THSM_ST_LOG_MISSING_FROM,
        THSM_ST_LOG_REWRITTEN_BEFORE};
    const thsm_log_anchor *a = &dev->anchor;
    if (a->damage == THSM_LOG_OK)
        snprintf(out, THSM_LOG_STATE_TEXT, "%s", THSM_ST_LOG_OK);
    else
        snprintf(out, THSM_LOG_STATE_TEXT, "%s%lu", names[a->damage],
                 (unsigned long)a->damage_at);
}

void thsm_audit_open(thsm_device *dev, const thsm_state *st)
{
    scan sc = {.anchor_count = st->log.count};
    dev->anchor = st->log; /* damage found at earlier starts stays */
    memcpy(sc.head_at_anchor, st->log.base_head, 32); /* anchor at the base */
    rewind_log(dev);
    finish_clear(dev);
    read_log(dev, &sc);
    if (sc.first_bad)
        thsm_audit_damage(dev, THSM_LOG_BROKEN, sc.first_bad - 1);
    else if (dev->log_count < st->log.count)
        thsm_audit_damage(dev, THSM_LOG_MISSING, dev->log_count);
    else if (st->log.count &&
             memcmp(sc.head_at_anchor, st->log.head, 32) != 0)
        thsm_audit_damage(dev, THSM_LOG_REWRITTEN, st->log.count);
    if (sc.max_gen > st->generation) { /* a rollback found now: open */
        dev->anchor.rolled_back = 1;
        dev->anchor.acked = 0;
    }
    dev->log_pin_fails = sc.pin_fails;
    /* records past the anchor (the unsynced window) are accepted if they
     * chain: made durable now, anchored at the next flush */
    if (dev->log_count > 0)
        dev->port->sync(dev->port->ctx, THSM_AUDIT_OBJECT);
    dev->log_synced = dev->log_count;
    memcpy(dev->log_synced_head, dev->log_head, 32);
    dev->log_dirty = dev->log_count != st->log.count ||
                     dev->anchor.damage != st->log.damage ||
                     dev->anchor.rolled_back != st->log.rolled_back;
}

void thsm_key_id(const thsm_slot *s, char out[17])
{
    uint8_t d[THSM_SHA256_LEN];
    if (!s || !s->has_key || thsm_sha256(s->key.pub, THSM_P256_PUB_LEN, d))
        strcpy(out, THSM_LOG_FIELD_NONE);
    else
        thsm_hex(d, 8, out);
}

/* A failed append may have left part of a record (a disk that filled):
 * cut the log back to the records written, so a storage failure never
 * reads as records the device did not write. */
static void cut_back(thsm_device *dev)
{
    uint64_t size = 0, whole = held_bytes(dev);
    if (dev->port->size(dev->port->ctx, THSM_AUDIT_OBJECT, &size) ==
            THSM_PORT_OK && size > whole && size < whole + THSM_LOG_RECORD)
        dev->port->truncate(dev->port->ctx, THSM_AUDIT_OBJECT, whole);
}

static int append_record(thsm_device *dev, const char *event,
                         const thsm_slot *key, const char *detail,
                         const char *result)
{
    char rec[THSM_LOG_RECORD + 1], kid[17], when[THSM_I64_TEXT];
    uint8_t link[32];
    thsm_key_id(key, kid);
    thsm_format_i64(dev->port->now(dev->port->ctx), 10, when);
    /* the layout of proto/log.h; a wrong width fails the length check */
    if (dev->log_count >= THSM_LOG_TOTAL_MAX)
        return THSM_AUDIT_FULL; /* record numbers never wrap */
    int n = snprintf(rec, sizeof(rec), "%08lu %s %-16.16s %-16s %-64.64s "
                     "%-16.16s ",
                     (unsigned long)dev->log_count, when, event, kid,
                     detail && *detail ? detail : THSM_LOG_FIELD_NONE, result);
    if (n != THSM_LOG_CHAIN_AT)
        return THSM_AUDIT_ERROR;
    link_of(dev->log_head, rec, link);
    thsm_hex(link, 32, rec + THSM_LOG_CHAIN_AT);
    rec[THSM_LOG_RECORD - 1] = '\n';
    int rc = dev->port->append(dev->port->ctx, THSM_AUDIT_OBJECT,
                               (uint8_t *)rec, THSM_LOG_RECORD);
    if (rc != THSM_PORT_OK) {
        cut_back(dev);
        return rc == THSM_PORT_FULL ? THSM_AUDIT_FULL : THSM_AUDIT_ERROR;
    }
    memcpy(dev->log_head, link, 32);
    dev->log_count++;
    dev->log_dirty = 1;
    return 0;
}

int thsm_audit_sync(thsm_device *dev)
{
    if (dev->log_count != dev->log_synced &&
        dev->port->sync(dev->port->ctx, THSM_AUDIT_OBJECT) != THSM_PORT_OK)
        return -1;
    dev->log_synced = dev->log_count;
    memcpy(dev->log_synced_head, dev->log_head, 32);
    return 0;
}

/* Takes the log as the medium holds it, as a restart would (a torn record
 * padded, the chain continued from the last record on it), durable now. */
static void reread(thsm_device *dev)
{
    scan sc = {0};
    rewind_log(dev);
    read_log(dev, &sc);
    if (dev->log_count > 0)
        dev->port->sync(dev->port->ctx, THSM_AUDIT_OBJECT);
    dev->log_synced = dev->log_count;
    memcpy(dev->log_synced_head, dev->log_head, 32);
}

/* Whether the log's size differs from the records written; *size is the
 * medium's (0 for a deleted log). An unreadable size counts as no: a
 * failing append reports it. */
static bool size_differs(thsm_device *dev, uint64_t *size)
{
    int rc = dev->port->size(dev->port->ctx, THSM_AUDIT_OBJECT, size);
    if (rc == THSM_PORT_NOT_FOUND)
        *size = 0;
    else if (rc != THSM_PORT_OK)
        return false;
    return *size != held_bytes(dev);
}

/* The records a log of size bytes lacks or has extra, "<first>-<last>";
 * returns whether they are missing (else foreign). */
static bool gap(const thsm_device *dev, uint64_t size, char out[24])
{
    uint64_t base = dev->anchor.base;
    uint64_t have = (size + THSM_LOG_RECORD - 1) / THSM_LOG_RECORD;
    bool missing = size < held_bytes(dev);
    uint64_t first = missing ? base + size / THSM_LOG_RECORD : dev->log_count;
    uint64_t last = missing ? dev->log_count - 1 : base + have - 1;
    snprintf(out, 24, "%lu-%lu", (unsigned long)first, (unsigned long)last);
    return missing;
}

bool thsm_audit_check(thsm_device *dev, char *why, size_t cap)
{
    uint64_t size = 0;
    char range[24];
    if (!size_differs(dev, &size))
        return false;
    uint32_t from = dev->anchor.base + (uint32_t)(size / THSM_LOG_RECORD);
    if (gap(dev, size, range)) {
        thsm_audit_damage(dev, THSM_LOG_MISSING, from);
        snprintf(why, cap, "audit log is missing records from %lu (records "
                 "%s were cut while running)", (unsigned long)from, range);
    } else {
        thsm_audit_damage(dev, THSM_LOG_BROKEN, dev->log_count);
        snprintf(why, cap, "audit log holds records %s the device did not "
                 "write", range);
    }
    dev->log_dirty = 1; /* the next flush seals the finding */
    return true;
}

bool thsm_audit_recover(thsm_device *dev, char *why, size_t cap)
{
    uint64_t size = 0;
    char range[24];
    if (!thsm_audit_check(dev, why, cap))
        return false;
    size_differs(dev, &size);
    bool missing = gap(dev, size, range);
    reread(dev);
    append_record(dev, missing ? THSM_EV_RECORDS_LOST : THSM_EV_RECORDS_FOREIGN,
                  NULL, NULL, range);
    return true;
}

/* Records a bounded log can still take; UINT64_MAX without a bound. */
static uint64_t records_left(const thsm_device *dev)
{
    uint64_t room = 0;
    if (dev->port->room(dev->port->ctx, THSM_AUDIT_OBJECT, &room) !=
            THSM_PORT_OK || room == UINT64_MAX)
        return UINT64_MAX; /* no bound of its own: a failing append says so */
    return room / THSM_LOG_RECORD;
}

/* Whether event is a signature's record; *more: the records the same
 * signature writes after it (an image's IMAGE record is refused unless its
 * SIGN_SB10 / SIGN_MCUBOOT fits too). */
static bool signature_event(const char *event, uint64_t *more)
{
    *more = strcmp(event, THSM_EV_IMAGE) == 0;
    return *more || strcmp(event, THSM_EV_SIGN) == 0 ||
           strcmp(event, THSM_EV_SIGN_SB10) == 0 ||
           strcmp(event, THSM_EV_SIGN_MCUBOOT) == 0;
}

int thsm_audit_append_text(thsm_device *dev, const char *event,
                           const thsm_slot *key, const char *detail,
                           const char *result)
{
    char why[THSM_AUDIT_WHY];
    if (thsm_audit_recover(dev, why, sizeof(why)))
        return THSM_AUDIT_CUT;
    uint64_t more;
    if (signature_event(event, &more) &&
        records_left(dev) <= THSM_LOG_CHANGE_RESERVE + more)
        return THSM_AUDIT_FULL; /* the last records: state changes only */
    thsm_audit_refusals_write(dev, true); /* counted refusals come first */
    return append_record(dev, event, key, detail, result);
}

int thsm_audit_append(thsm_device *dev, const char *event, const thsm_slot *key,
                      const uint8_t *digest, const char *result)
{
    char dig[65] = THSM_LOG_FIELD_NONE;
    if (digest)
        thsm_hex(digest, 32, dig);
    return thsm_audit_append_text(dev, event, key, dig, result);
}

/* ---- refusals, counted ------------------------------------------------- */

/* Whether a refusal's record may be written: refusals leave the last part
 * of a bounded log (1/THSM_LOG_RESERVE_DIV, at least THSM_LOG_RESERVE_MIN
 * records, for signatures; then THSM_LOG_CHANGE_RESERVE for state
 * changes). */
static bool refusal_room(const thsm_device *dev)
{
    uint64_t left = records_left(dev);
    if (left == UINT64_MAX)
        return true;
    uint64_t reserve = (left + held_bytes(dev) / THSM_LOG_RECORD) /
                       THSM_LOG_RESERVE_DIV;
    if (reserve < THSM_LOG_RESERVE_MIN)
        reserve = THSM_LOG_RESERVE_MIN;
    return left > reserve + THSM_LOG_CHANGE_RESERVE;
}

static void count_refusal(thsm_refusals *r, int64_t now)
{
    if (r->count++ == 0) {
        r->first = now;
        if (!r->opened)
            r->opened = now;
    }
    r->last = now;
}

/* Writes the record of r's counted refusals; 0, or -1 (kept counting). */
static int write_counted(thsm_device *dev, thsm_refusals *r)
{
    char detail[THSM_LOG_RECORD], first[THSM_I64_TEXT], last[THSM_I64_TEXT];
    thsm_format_i64(r->first, 1, first);
    thsm_format_i64(r->last, 1, last);
    snprintf(detail, sizeof(detail),
             THSM_LOG_DETAIL_COUNT "%lu," THSM_LOG_DETAIL_FROM "%s,"
             THSM_LOG_DETAIL_TO "%s%s%s", (unsigned long)r->count, first, last,
             r->peer[0] ? "," : "", r->peer);
    if (!refusal_room(dev) ||
        append_record(dev, r->code, NULL, detail, r->cmd) != 0)
        return -1;
    memset(r, 0, sizeof(*r));
    return 0;
}

/* Whether r's window ended at now (a clock gone back ends it too). */
static bool window_over(const thsm_refusals *r, int64_t now)
{
    return r->code && (now - r->opened >= THSM_REFUSAL_WINDOW ||
                       now < r->opened);
}

/* Whether any entry counts refusals (the clock is read only then). */
static bool counting(const thsm_device *dev)
{
    for (size_t i = 0; i <= THSM_REFUSAL_KINDS; i++)
        if (dev->refused[i].code)
            return true;
    return false;
}

void thsm_audit_refusals_write(thsm_device *dev, bool all)
{
    char why[THSM_AUDIT_WHY];
    if (!counting(dev))
        return;
    thsm_audit_recover(dev, why, sizeof(why)); /* never at the wrong place */
    int64_t now = dev->port->now(dev->port->ctx);
    for (size_t i = 0; i <= THSM_REFUSAL_KINDS; i++) {
        thsm_refusals *r = &dev->refused[i];
        if (!all && !window_over(r, now))
            continue;
        if (!r->count)
            memset(r, 0, sizeof(*r));
        else
            write_counted(dev, r);
    }
}

bool thsm_audit_refusals_due(const thsm_device *dev)
{
    if (!counting(dev))
        return false;
    int64_t now = dev->port->now(dev->port->ctx);
    for (size_t i = 0; i <= THSM_REFUSAL_KINDS; i++)
        if (dev->refused[i].count && window_over(&dev->refused[i], now))
            return refusal_room(dev);
    return false;
}

/* The entry counting refusals of this kind, or a free one (code NULL), or
 * NULL when every entry counts another kind. */
static thsm_refusals *entry_of(thsm_device *dev, const char *code,
                               const char *cmd, const char *peer)
{
    thsm_refusals *free_one = NULL;
    for (size_t i = 0; i < THSM_REFUSAL_KINDS; i++) {
        thsm_refusals *r = &dev->refused[i];
        if (!r->code && !free_one)
            free_one = r;
        else if (r->code && strcmp(r->code, code) == 0 &&
                 strcmp(r->cmd, cmd) == 0 && strcmp(r->peer, peer) == 0)
            return r;
    }
    return free_one;
}

void thsm_audit_refused(thsm_device *dev, const char *code, const char *cmd,
                        const char *peer)
{
    int64_t now = dev->port->now(dev->port->ctx);
    thsm_audit_refusals_write(dev, false); /* windows that ended */
    thsm_refusals *r = entry_of(dev, code, cmd, peer);
    if (!r) { /* every entry is taken: counted with all other kinds */
        r = &dev->refused[THSM_REFUSAL_KINDS];
        r->code = THSM_EV_REFUSED;
        r->cmd = THSM_LOG_RESULT_OTHERS;
        count_refusal(r, now);
        return;
    }
    if (r->code) { /* a repeat within the window: counted */
        count_refusal(r, now);
        return;
    }
    r->code = code; /* the first of its kind: recorded at once */
    r->cmd = cmd;
    snprintf(r->peer, sizeof(r->peer), "%s", peer);
    r->opened = now;
    if (!refusal_room(dev) || append_record(dev, code, NULL, peer, cmd) != 0)
        count_refusal(r, now);
}

int thsm_audit_read(thsm_device *dev, uint32_t from, uint32_t n, char *out)
{
    size_t got = 0, want = (size_t)n * THSM_LOG_RECORD;
    if (from < dev->anchor.base)
        return -1; /* archived and cleared */
    return dev->port->read(dev->port->ctx, THSM_AUDIT_OBJECT,
                           (uint64_t)(from - dev->anchor.base) *
                               THSM_LOG_RECORD, (uint8_t *)out,
                           want, &got) == THSM_PORT_OK && got == want
               ? 0 : -1;
}
