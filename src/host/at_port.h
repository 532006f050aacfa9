/*
 * at_port.h - the line under the AT client (at_client.c): at_port.c on
 * Linux (tty or tinyhsmd socket), at_port_win32.c on Windows (COM port).
 * Internal to src/host. Each function works on at->fd and at->pending.
 */
#ifndef THSM_HOST_AT_PORT_H
#define THSM_HOST_AT_PORT_H

#include "host/at_client.h"

/* Opens port (at is zeroed, fd -1); THSM_AT_OK or THSM_AT_ERR_OPEN with the
 * reason in err. */
int thsm_at_port_open(thsm_at *at, const char *port, char *err, size_t err_cap);

/* Closes a half-opened port, without a logout. */
void thsm_at_port_drop(thsm_at *at);

/* Ends our login on a raw serial line, closes, wipes pending bytes. */
void thsm_at_port_close(thsm_at *at);

/* Writes all of data: THSM_AT_OK, THSM_AT_ERR_TIMEOUT or THSM_AT_ERR_IO. */
int thsm_at_port_write(thsm_at *at, const char *data, size_t len);

/* Waits up to ms for bytes; appends them to pending. >0, 0 (quiet) or a
 * THSM_AT_ERR_* code. */
int thsm_at_port_read(thsm_at *at, int ms);

/* Drops bytes that arrived after the previous response: THSM_AT_OK, or
 * THSM_AT_ERR_PROTO for stale text on a socket. */
int thsm_at_port_drain(thsm_at *at);

#endif
