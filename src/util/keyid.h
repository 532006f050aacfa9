/*
 * keyid.h - the short identifier of a P-256 public key, as the device shows
 * it in AT+HSM_STATUS? and its audit log: the first 8 bytes of SHA-256 over
 * the uncompressed point 04||X||Y, as 16 upper-case hex digits.
 */
#ifndef THSM_KEYID_H
#define THSM_KEYID_H

#include <stdint.h>

#include "crypto/p256.h"

#define THSM_KEY_ID_LEN 17 /* 16 hex digits and the NUL */

/* 0, or -1 (out is then "-") when the hash fails. */
int thsm_pub_key_id(const uint8_t pub[THSM_P256_PUB_LEN],
                    char out[THSM_KEY_ID_LEN]);

#endif
