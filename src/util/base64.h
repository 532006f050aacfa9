/* base64.h - base64 (RFC 4648, padded), for the device's PEM and the host. */
#ifndef THSM_UTIL_BASE64_H
#define THSM_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Base64 of data into out (4*ceil(len/3)+1 bytes); returns its length. */
size_t thsm_base64(const uint8_t *data, size_t len, char *out);

/* Strict decoding of padded base64 text into out (cap bytes): 0 and *len,
 * or -1 on a character outside the alphabet, bad padding, non-zero unused
 * bits or more than cap bytes. */
int thsm_base64_decode(const char *text, uint8_t *out, size_t cap,
                       size_t *len);

#endif
