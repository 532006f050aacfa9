/*
 * keyid.h - the short identifier of a public key that tinyhsm shows
 * (sign, verify, info) and that the device's audit log records: the first
 * 8 bytes of SHA-256 over the uncompressed point 0x04 || X || Y, as 16
 * upper-case hex digits. Firmware-safe: crypto.h only.
 */
#ifndef THSM_KEYID_H
#define THSM_KEYID_H

#include <stdint.h>

#define THSM_KEY_ID_LEN 16

/* Writes the key id of pub (65 bytes) and a NUL into out; "-" on failure. */
void thsm_key_id_of_pub(const uint8_t pub[65], char out[THSM_KEY_ID_LEN + 1]);

#endif
