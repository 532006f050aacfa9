/*
 * response.h - the answer being built in dev->resp (layer: response).
 * Used by every layer that answers; calls nothing above it.
 */
#ifndef THSM_DEVICE_RESPONSE_H
#define THSM_DEVICE_RESPONSE_H

#include "device/device.h"

void thsm_resp_line(thsm_device *dev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void thsm_resp_error(thsm_device *dev, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the answer with its empty line; an answer that did not fit whole is
 * replaced by ERROR INTERNAL. Returns its length (dev->resp holds it). */
size_t thsm_resp_finish(thsm_device *dev);
/* Forgets the answer (wiped: answers may carry secrets' neighbours). */
void thsm_resp_clear(thsm_device *dev);

/* PEM certificate lines, wrapped for the reference scripts. */
void thsm_resp_pem(thsm_device *dev, const uint8_t *der, size_t len);

/* Length of the next PEM line starting at b64[pos]. */
size_t thsm_pem_line_len(const char *b64, size_t len, size_t pos);

#endif
