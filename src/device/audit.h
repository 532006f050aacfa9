/*
 * audit.h - the hash-chained audit log (layer: audit). Calls only the port,
 * crypto and values; never the store, the handlers or the framing.
 */
#ifndef THSM_DEVICE_AUDIT_H
#define THSM_DEVICE_AUDIT_H

#include "device/device.h"

#define THSM_AUDIT_OBJECT "audit.log"

/* Results of thsm_audit_append besides 0. */
#define THSM_AUDIT_ERROR (-1)
#define THSM_AUDIT_FULL (-2) /* the medium has no room for another record */
#define THSM_AUDIT_CUT (-3)  /* the log was cut or replaced: nothing written
                                but the RECORDS_LOST/FOREIGN record */
#define THSM_AUDIT_WHY 112   /* room for thsm_audit_check's reason */

/* A key's identifier: the first 8 bytes of SHA-256 of its public point in
 * hex, or "-" for an empty slot (or NULL). */
void thsm_key_id(const thsm_slot *s, char out[17]);

/* Reads the log at start and checks it against st's anchor: chain, missing
 * tail, rewritten chain, records newer than the state (rollback). */
void thsm_audit_open(thsm_device *dev, const thsm_state *st);
/* LOG_STATE as AT+HSM_STATUS? names it: OK, BROKEN_AT_<n>, MISSING_FROM_<n>
 * or REWRITTEN_BEFORE_<n>. */
#define THSM_LOG_STATE_TEXT 32
void thsm_audit_state_text(const thsm_device *dev,
                           char out[THSM_LOG_STATE_TEXT]);
/* Notes damage of kind THSM_LOG_* from record at (the first found stays). */
void thsm_audit_damage(thsm_device *dev, uint8_t kind, uint32_t at);
/* Appends one record (not yet synced): 0, THSM_AUDIT_FULL,
 * THSM_AUDIT_ERROR, or THSM_AUDIT_CUT when thsm_audit_check found damage
 * (the caller refuses what needed the record and seals the finding). */
int thsm_audit_append(thsm_device *dev, const char *event, const thsm_slot *key,
                      const uint8_t *digest, const char *result);
/* thsm_audit_append with a text for the digest field (proto/log.h's
 * details, one word; NULL or "" for none). */
int thsm_audit_append_text(thsm_device *dev, const char *event,
                           const thsm_slot *key, const char *detail,
                           const char *result);
/* A refused key or PIN command (error code, command without AT+, the
 * session's peer or ""). The first of a kind (code, command, peer) in
 * THSM_REFUSAL_WINDOW seconds is recorded at once; the repeats are counted
 * and recorded together ("COUNT=<n>,FROM=<t1>,TO=<t2>") when the window
 * ends or before any other record. Refusals never take the reserve of a
 * bounded log: they are counted until there is room. */
void thsm_audit_refused(thsm_device *dev, const char *code, const char *cmd,
                        const char *peer);
/* Writes the records of counted refusals: all of them, or (all false) the
 * ones whose window ended. */
void thsm_audit_refusals_write(thsm_device *dev, bool all);
/* Whether counted refusals wait for their window's record (and may be
 * written). */
bool thsm_audit_refusals_due(const thsm_device *dev);
/* Makes the records so far durable and remembers them as synced. 0 or -1. */
int thsm_audit_sync(thsm_device *dev);
/* Whether the log object no longer holds exactly the records the device
 * wrote (its size, so cheap). When so, notes the first damage
 * (MISSING_FROM_<n>, or BROKEN_AT_<n> for records it did not write), marks
 * it for the next flush to seal, writes the reason to why and returns true. */
bool thsm_audit_check(thsm_device *dev, char *why, size_t cap);
/* thsm_audit_check, and when it finds damage, starts a new segment: takes
 * the log as the medium now holds it and appends a RECORDS_LOST (or
 * RECORDS_FOREIGN) record naming the records "<first>-<last>". Called
 * before every append; the caller refuses what needed the record and
 * flushes. */
bool thsm_audit_recover(thsm_device *dev, char *why, size_t cap);
/* Reads n records from record from into out (n * THSM_LOG_RECORD bytes).
 * 0 or -1. */
int thsm_audit_read(thsm_device *dev, uint32_t from, uint32_t n, char *out);

#endif
