/*
 * handlers_log.c - AT+LOG? (our extension): records of the audit log, up to
 * THSM_LOG_PER_ANSWER per answer (layer: handlers).
 */
#include "device/audit.h"
#include "device/handlers.h"
#include "device/response.h"
#include "util/hex.h"

/* Answers records from..from+n-1, read one at a time into the answer. */
static void send_records(thsm_device *dev, uint32_t from, uint32_t n)
{
    char rec[THSM_LOG_RECORD], head[65];
    thsm_hex(dev->log_head, 32, head);
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
    uint32_t n = from >= dev->log_count ? 0 : dev->log_count - from;
    if (n > THSM_LOG_PER_ANSWER)
        n = THSM_LOG_PER_ANSWER;
    send_records(dev, from, n);
}
