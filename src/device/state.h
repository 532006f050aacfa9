/*
 * state.h - the device's state in memory: logins, the key-encryption key,
 * loading and saving, and the audit records of state changes (layer: state).
 * Calls the store, the audit log and the response; never the handlers,
 * the session or the framing.
 */
#ifndef THSM_DEVICE_STATE_H
#define THSM_DEVICE_STATE_H

#include "device/device.h"

/* Loads the state and opens the audit log (thsm_device_init). 0 or -1. */
int thsm_state_open(thsm_device *dev);

/* Reloads the persistent state: 0, -1 unreadable (sets the storage error),
 * -2 older than the state in memory (kept, and saved again). Logged-in
 * sessions stay logged in when the keys unwrap with the KEK in memory. */
int thsm_device_reload(thsm_device *dev);

/* Saves the state with the log's anchor as it is: 0 or -1. */
int thsm_state_save(thsm_device *dev);
/* Saves the state; on failure reloads it and answers ERROR STORAGE. */
int thsm_save_or_restore(thsm_device *dev);
/* Records a state change that was just saved (naming the state's
 * generation) and makes the log and its anchor durable. */
void thsm_state_changed(thsm_device *dev, const char *event,
                        const thsm_slot *key, const uint8_t *digest);
/* The same with a text for the digest field (proto/log.h's details). */
void thsm_state_changed_text(thsm_device *dev, const char *event,
                             const thsm_slot *key, const char *detail);
/* The findings (LOG_STATE=... and STATE=..., separated by sep), or "" when
 * there are none. */
void thsm_findings_text(const thsm_device *dev, const char *sep, char *out,
                        size_t cap);

/* Whether s is logged in as the user (key use), or as the security
 * officer (unblock, SO PIN): only at the device's current epoch. */
bool thsm_logged_in(const thsm_device *dev, const thsm_session *s);
bool thsm_so_logged_in(const thsm_device *dev, const thsm_session *s);
/* Logs s in as the user (the KEK must be known and the keys unwrapped),
 * or in the role so says (1: the security officer). */
void thsm_login_role(thsm_device *dev, thsm_session *s, int so);
/* Ends s's login; the last one to end wipes the clear keys and the KEK. */
void thsm_login_end(thsm_device *dev, thsm_session *s);
/* Ends the login of every session but s (a PIN change, a decommission). */
void thsm_login_end_others(thsm_device *dev, thsm_session *s);
/* Seconds to wait before p accepts a try: each wrong PIN since the last
 * right one doubles it (1 s after the first, 2, 4, ...), counted from
 * p->last_fail; 0 when none. A clock found behind last_fail waits in full. */
uint32_t thsm_pin_delay(const thsm_device *dev, const thsm_pin *p,
                        uint8_t max_tries);
/* Unwraps both key slots with dev->kek; on failure none stays loaded. */
int thsm_keys_unlock(thsm_device *dev);

#endif
