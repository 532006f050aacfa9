/*
 * internal.h - pieces of the device core shared between its files.
 * Not part of the public device API.
 */
#ifndef THSM_DEVICE_INTERNAL_H
#define THSM_DEVICE_INTERNAL_H

#include <stdarg.h>

#include "device/device.h"
#include "util/certvalues.h"
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

/* thsm_parse_start, thsm_parse_uint and the certificate value rules are in
 * util/certvalues.h, shared with the host. */

/* "YYYY-MM-DD hh:mm:ss UTC"; sized for any value the compiler can imagine. */
#define THSM_TIME_TEXT 80
void thsm_format_time(int64_t t, char out[THSM_TIME_TEXT]);


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

/* Reads the log at start: count, chain head, first broken record. */
void thsm_audit_open(thsm_device *dev);
/* Appends one record (not yet synced). 0 or -1. */
int thsm_audit_append(thsm_device *dev, const char *event, const thsm_slot *key,
                      const uint8_t *digest, const char *result);
/* Records a state change that was already saved, and syncs the log. */
void thsm_audit_state_change(thsm_device *dev, const char *event,
                             const thsm_slot *key, const uint8_t *digest,
                             const char *result);
void thsm_h_log(thsm_device *dev, const thsm_params *ps);

/* ---- commands ----------------------------------------------------------- */

/* Reloads the persistent state; sets or clears the storage error. */
int thsm_device_reload(thsm_device *dev);

/* Reloads the stored state after a failed change, keeping the login. */
int thsm_device_restore(thsm_device *dev);
/* Saves the state; on failure restores it and answers ERROR STORAGE. */
int thsm_save_or_restore(thsm_device *dev);

/* PIN commands (pin.c). */
void thsm_h_auth(thsm_device *dev, const thsm_params *ps);
void thsm_h_pin_set(thsm_device *dev, const thsm_params *ps);
void thsm_h_logout(thsm_device *dev, const thsm_params *ps);

/* Logs the connection out: with a PIN, clear keys and the KEK are wiped. */
void thsm_session_end(thsm_device *dev);
/* Unwraps both key slots with dev->kek; on failure none stays loaded. */
int thsm_session_unlock(thsm_device *dev);

/* Runs one request line (without CR LF, modified in place). */
void thsm_dispatch(thsm_device *dev, char *line);

#endif
