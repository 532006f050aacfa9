/*
 * store.h - the sealed persistent state and key wrapping (layer: store).
 * Calls only the port, crypto and values; never the audit log or above.
 */
#ifndef THSM_DEVICE_STORE_H
#define THSM_DEVICE_STORE_H

#include "device/device.h"

#define THSM_STATE_OBJECT "state.bin"

/* Loads the stored state into st (cleared first), using work for the sealed
 * file. A device with no stored state loads as empty. A file of an older
 * format is copied to state.bin.vNN first (when the port can). Returns 0,
 * or -1 with a reason in why. */
int thsm_store_load(const thsm_port *port, thsm_state *st, thsm_work *work,
                    thsm_state_format *info, char *why, size_t cap);

/* Saves st atomically (bumps its generation). Returns 0 or -1. */
int thsm_store_save(const thsm_port *port, thsm_state *st, thsm_work *work);

/* Wipes keys and forgets everything. */
void thsm_state_clear(thsm_state *st);

/* Key-encryption keys: from the device's root key alone, or with a PIN
 * under the KDF the record names. */
int thsm_kek_from_device(const thsm_port *port, uint8_t kek[32]);
int thsm_kek_from_pin(const thsm_port *port, const char *pin,
                      const thsm_pin *rec, uint8_t kek[32]);
/* The value stored to recognise the right PIN's KEK. */
int thsm_pin_check_value(const uint8_t kek[32], uint8_t out[32]);

/* Seals the KEK under a role's key into rec->wrapped (role: "user", "so");
 * and opens it again (a record without a wrap: the role key is the KEK). */
int thsm_pin_wrap_kek(thsm_pin *rec, const char *role,
                      const uint8_t role_key[32], const uint8_t kek[32]);
int thsm_pin_unwrap_kek(const thsm_pin *rec, const char *role,
                        const uint8_t role_key[32], uint8_t kek[32]);

/* Wraps s->key.priv under kek into s->wrapped. */
int thsm_slot_wrap(thsm_slot *s, const char *name, const uint8_t kek[32]);
/* Unwraps s->wrapped into s->key (no-op when loaded or keyless). */
int thsm_slot_unwrap(thsm_slot *s, const char *name, const uint8_t kek[32]);
/* Wipes the clear private key; the wrapped one stays. */
void thsm_slot_forget_key(thsm_slot *s);

#endif
