/* base64.h - base64 (RFC 4648, padded), for the device's PEM and the host. */
#ifndef THSM_UTIL_BASE64_H
#define THSM_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Base64 of data into out (4*ceil(len/3)+1 bytes); returns its length. */
size_t thsm_base64(const uint8_t *data, size_t len, char *out);

/* Bytes that text of len characters decodes to at most. */
#define THSM_BASE64_DECODED_MAX(len) ((len) / 4 * 3)

/* Decodes padded base64 text (NUL-terminated) into out (cap bytes): the
 * strict form thsm_base64 writes, no spaces or line breaks, length a
 * multiple of 4, padding only at the end, unused bits zero. Returns the
 * number of bytes, or -1 when text is not that or does not fit. */
long thsm_base64_decode(const char *text, uint8_t *out, size_t cap);

#endif
