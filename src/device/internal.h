/*
 * internal.h - pieces of the device core shared between its files.
 * Not part of the public device API.
 */
#ifndef THSM_DEVICE_INTERNAL_H
#define THSM_DEVICE_INTERNAL_H

#include <stdarg.h>

#include "device/device.h"
#include "util/hex.h"

/* ---- parameters: KEY=VALUE words after the command ---------------------- */

#define THSM_PARAMS_MAX 8

typedef struct {
    const char *key;
    const char *value;
} thsm_param;

typedef struct {
    size_t n;
    thsm_param p[THSM_PARAMS_MAX];
} thsm_params;

/* Splits args (modified in place) into params. On error writes a message. */
int thsm_params_parse(char *args, thsm_params *out, char *why, size_t cap);

/* Value of key, or NULL. */
const char *thsm_params_get(const thsm_params *ps, const char *key);

/* ---- values ------------------------------------------------------------- */

/* "YYYYMMDDhhmmss" -> seconds since the epoch (UTC); -1 when invalid. */
int thsm_parse_start(const char *s, int64_t *out);

/* Decimal in [min, max] without sign or leading zeros; -1 when not. */
int thsm_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out);


/* Decimal of v, zero-padded to width digits: printf's %0*lld, which
 * newlib-nano's printf lacks. */
#define THSM_DEC_TEXT 22
void thsm_format_dec(int64_t v, unsigned width, char out[THSM_DEC_TEXT]);

/* "YYYY-MM-DD hh:mm:ss UTC"; sized for any value the compiler can imagine. */
#define THSM_TIME_TEXT 80
void thsm_format_time(int64_t t, char out[THSM_TIME_TEXT]);

/* Latest instant an X.509 time can carry: 9999-12-31 23:59:59 UTC. */
#define THSM_TIME_MAX INT64_C(253402300799)

/* ---- responses ---------------------------------------------------------- */

void thsm_resp_line(thsm_device *dev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void thsm_resp_error(thsm_device *dev, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* PEM certificate lines, wrapped for the reference scripts (see pem.c). */
void thsm_resp_pem(thsm_device *dev, const uint8_t *der, size_t len);

/* Base64 of data into out (4*ceil(len/3)+1 bytes); returns its length. */
size_t thsm_base64(const uint8_t *data, size_t len, char *out);

/* Length of the next PEM line starting at b64[pos] (see pem.c). */
size_t thsm_pem_line_len(const char *b64, size_t len, size_t pos);

/* ---- persistent state --------------------------------------------------- */

#define THSM_STATE_OBJECT "state.bin"

/* Loads the stored state into st (cleared first). A device with no stored
 * state loads as empty. Returns 0, or -1 with a reason in why. */
int thsm_store_load(const thsm_port *port, thsm_state *st, char *why,
                    size_t cap);

/* Saves st atomically (bumps its generation). Returns 0 or -1. */
int thsm_store_save(const thsm_port *port, thsm_state *st);

/* Wipes keys and forgets everything. */
void thsm_state_clear(thsm_state *st);

/* Key-encryption keys: from the device key alone, or with a PIN. */
int thsm_kek_from_device(const thsm_port *port, uint8_t kek[32]);
int thsm_kek_from_pin(const thsm_port *port, const char *pin,
                      const thsm_pin *rec, uint8_t kek[32]);
/* The value stored to recognise the right PIN's KEK. */
int thsm_pin_check_value(const uint8_t kek[32], uint8_t out[32]);

/* Wraps s->key.priv under kek into s->wrapped. */
int thsm_slot_wrap(thsm_slot *s, const char *name, const uint8_t kek[32]);
/* Unwraps s->wrapped into s->key (no-op when loaded or keyless). */
int thsm_slot_unwrap(thsm_slot *s, const char *name, const uint8_t kek[32]);
/* Wipes the clear private key; the wrapped one stays. */
void thsm_slot_forget_key(thsm_slot *s);

/* ---- audit log (audit.c) ------------------------------------------------ */

#define THSM_AUDIT_OBJECT "audit.log"
#define THSM_AUDIT_RECORD 201   /* bytes per record, newline included */
#define THSM_AUDIT_CHAIN_AT 136 /* offset of the chain field */
#define THSM_LOG_PER_ANSWER 32  /* records per AT+LOG? answer */

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
/* Appends one record (not yet synced). 0 or -1. */
int thsm_audit_append(thsm_device *dev, const char *event, const thsm_slot *key,
                      const uint8_t *digest, const char *result);
/* Makes the records so far durable and remembers them as synced. 0 or -1. */
int thsm_audit_sync(thsm_device *dev);
void thsm_h_log(thsm_device *dev, const thsm_params *ps);

/* ---- commands ----------------------------------------------------------- */

/* Reloads the persistent state; sets or clears the storage error. Logged-in
 * sessions stay logged in when the keys unwrap with the KEK in memory. */
int thsm_device_reload(thsm_device *dev);

/* Saves the state; on failure reloads it and answers ERROR STORAGE. */
int thsm_save_or_restore(thsm_device *dev);
/* Records a state change that was just saved (naming the state's
 * generation) and makes the log and its anchor durable. */
void thsm_state_changed(thsm_device *dev, const char *event,
                        const thsm_slot *key, const uint8_t *digest);

/* PIN commands (pin.c). */
void thsm_h_auth(thsm_device *dev, const thsm_params *ps);
void thsm_h_pin_set(thsm_device *dev, const thsm_params *ps);
void thsm_h_logout(thsm_device *dev, const thsm_params *ps);

/* ---- logins (device.c) -------------------------------------------------- */

/* Whether s is logged in: only at the device's current epoch. */
int thsm_logged_in(const thsm_device *dev, const thsm_session *s);
/* Logs s in (the KEK must be known and the keys unwrapped). */
void thsm_login_begin(thsm_device *dev, thsm_session *s);
/* Ends s's login; the last one to end wipes the clear keys and the KEK. */
void thsm_login_end(thsm_device *dev, thsm_session *s);
/* Ends the login of every session but s (a PIN change, a decommission). */
void thsm_login_end_others(thsm_device *dev, thsm_session *s);
/* Unwraps both key slots with dev->kek; on failure none stays loaded. */
int thsm_keys_unlock(thsm_device *dev);

/* Runs one request line (without CR LF, modified in place). */
void thsm_dispatch(thsm_device *dev, char *line);

#endif
