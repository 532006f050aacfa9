/*
 * session.h - one request of one session: the command table, parameter
 * checks, the storage and login gates (layer: session). Called by the
 * framing only.
 */
#ifndef THSM_DEVICE_SESSION_H
#define THSM_DEVICE_SESSION_H

#include "device/device.h"

/* Runs one request line of dev->sess (without CR LF, modified in place);
 * the answer is left in dev->resp. */
void thsm_session_request(thsm_device *dev, char *line);

#endif
