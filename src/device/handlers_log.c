/*
 * handlers_log.c - the audit log's commands (our extension), layer:
 * handlers. AT+LOG? answers records, up to THSM_LOG_PER_ANSWER at a time;
 * AT+LOG_ACK acknowledges the findings; AT+LOG_CLEAR empties a log the
 * host has archived, the chain going on from its head.
 */
#include <stdio.h>
#include <string.h>

#include "device/audit.h"
#include "device/handlers.h"
#include "device/response.h"
#include "device/state.h"
#include "util/hex.h"

/* Answers records from..from+n-1, read one at a time into the answer. The
 * status line names, after a clear, the first record held and the chain
 * value before it. */
static void send_records(thsm_device *dev, uint32_t from, uint32_t n)
{
    char rec[THSM_LOG_RECORD], head[65], base_head[65];
    thsm_hex(dev->log_head, 32, head);
    thsm_hex(dev->anchor.base_head, 32, base_head);
    if (dev->anchor.base) /* after a clear: where the held records start */
        thsm_resp_line(dev, THSM_ANS_OK " %lu %lu %s %lu %s",
                       (unsigned long)n, (unsigned long)dev->log_count, head,
                       (unsigned long)dev->anchor.base, base_head);
    else
        thsm_resp_line(dev, THSM_ANS_OK " %lu %lu %s", (unsigned long)n,
                       (unsigned long)dev->log_count, head);
    for (uint32_t i = 0; i < n; i++) {
        if (thsm_audit_read(dev, from + i, 1, rec) != 0) {
            thsm_resp_error(dev, THSM_E_STORAGE, "audit log unreadable");
            return;
        }
        thsm_resp_line(dev, "%.*s", THSM_LOG_RECORD - 1, rec);
    }
}

void thsm_h_log(thsm_device *dev, const thsm_params *ps)
{
    const char *from_s = thsm_params_get(ps, THSM_P_FROM);
    uint32_t from = 0;
    if (from_s && thsm_parse_uint(from_s, 0, UINT32_MAX, &from) != 0) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_FROM " must be a record number");
        return;
    }
    char why[THSM_AUDIT_WHY];
    if (thsm_audit_recover(dev, why, sizeof(why))) {
        thsm_device_flush(dev); /* the finding is sealed at once */
        thsm_resp_error(dev, THSM_E_STORAGE, "%s; a new segment starts", why);
        return;
    }
    if (from < dev->anchor.base)
        from = dev->anchor.base; /* the ones before were archived */
    uint32_t n = from >= dev->log_count ? 0 : dev->log_count - from;
    if (n > THSM_LOG_PER_ANSWER)
        n = THSM_LOG_PER_ANSWER;
    send_records(dev, from, n);
}

/* Acknowledging and clearing are the owner's: they need a PIN. */
static bool pin_set(thsm_device *dev, const char *what)
{
    if (dev->st.pin.set)
        return true;
    thsm_resp_error(dev, THSM_E_NO_PIN, "%s needs the PIN: set one first "
                    "with " THSM_CMD_PIN_SET, what);
    return false;
}

void thsm_h_log_ack(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    char detail[THSM_LOG_RECORD], findings[96];
    thsm_log_anchor before = dev->anchor;
    char why[THSM_AUDIT_WHY];
    if (!pin_set(dev, THSM_CMD_LOG_ACK))
        return;
    if (thsm_audit_recover(dev, why, sizeof(why))) { /* found now: shown */
        thsm_device_flush(dev);
        thsm_resp_error(dev, THSM_E_STORAGE, "%s; a new segment starts; "
                        "see " THSM_CMD_HSM_STATUS, why);
        return;
    }
    thsm_findings_text(dev, ",", findings, sizeof(findings));
    if (!findings[0]) {
        thsm_resp_error(dev, THSM_E_NO_FINDING, "nothing to acknowledge: "
                        THSM_ST_LOG_STATE "=" THSM_ST_LOG_OK " "
                        THSM_ST_STATE "=" THSM_ST_STATE_OK);
        return;
    }
    snprintf(detail, sizeof(detail), "%s%s%s", findings,
             dev->sess->peer[0] ? "," : "", dev->sess->peer);
    thsm_audit_refusals_write(dev, true); /* so the record's number holds */
    dev->anchor.acked = 1;
    dev->anchor.ack_at = dev->log_count;
    if (thsm_save_or_restore(dev) != 0) {
        dev->anchor = before;
        return;
    }
    thsm_state_changed_text(dev, THSM_EV_FINDING_ACK, NULL, detail);
    thsm_resp_line(dev, THSM_ANS_OK " %lu", (unsigned long)dev->anchor.ack_at);
}

/* Whether COUNT and HEAD name the log as the device holds it (the host
 * archived exactly that); answers the refusal itself when not. */
static bool archived(thsm_device *dev, const thsm_params *ps)
{
    uint32_t count = 0;
    uint8_t head[32];
    char mine[65];
    if (thsm_parse_uint(thsm_params_get(ps, THSM_P_COUNT), 0, UINT32_MAX,
                        &count) != 0 ||
        thsm_parse_hex(thsm_params_get(ps, THSM_P_HEAD), head, 32) != 0) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM, THSM_P_COUNT " must be a "
                        "record count and " THSM_P_HEAD " 64 hex digits");
        return false;
    }
    if (count == dev->log_count && memcmp(head, dev->log_head, 32) == 0)
        return true;
    thsm_hex(dev->log_head, 32, mine);
    thsm_resp_error(dev, THSM_E_NOT_ARCHIVED, "the log holds %lu records "
                    "with chain head %s: archive them, then clear",
                    (unsigned long)dev->log_count, mine);
    return false;
}

void thsm_h_log_clear(thsm_device *dev, const thsm_params *ps)
{
    thsm_log_anchor before = dev->anchor;
    char why[THSM_AUDIT_WHY];
    if (!pin_set(dev, THSM_CMD_LOG_CLEAR) || !archived(dev, ps))
        return;
    if (thsm_audit_recover(dev, why, sizeof(why))) {
        thsm_device_flush(dev); /* the finding is sealed at once */
        thsm_resp_error(dev, THSM_E_STORAGE, "%s; nothing changed", why);
        return;
    }
    /* the base is sealed first: a clear cut off (a power cut) before the
     * log is emptied is finished at the next start (audit.c) */
    dev->anchor.base = dev->log_count;
    memcpy(dev->anchor.base_head, dev->log_head, 32);
    if (thsm_audit_sync(dev) != 0 || thsm_state_save(dev) != 0) {
        dev->anchor = before;
        thsm_resp_error(dev, THSM_E_STORAGE, "could not save the state; "
                        "nothing changed");
        return;
    }
    if (dev->port->truncate(dev->port->ctx, THSM_AUDIT_OBJECT, 0) !=
        THSM_PORT_OK) {
        dev->anchor = before; /* the log stays; else a start finishes */
        thsm_state_save(dev);
        thsm_resp_error(dev, THSM_E_STORAGE, "could not empty the audit log; "
                        "nothing changed");
        return;
    }
    thsm_state_changed(dev, THSM_EV_LOG_CLEARED, NULL, dev->anchor.base_head);
    thsm_resp_line(dev, THSM_ANS_OK " %lu", (unsigned long)dev->anchor.base);
}
