/*
 * hex.h - hexadecimal text, shared by the device core and the host.
 * Firmware-safe: no allocation, no OS.
 */
#ifndef THSM_HEX_H
#define THSM_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Upper-case hex of data into out (2*len+1 bytes, NUL-terminated). */
void thsm_hex(const uint8_t *data, size_t len, char *out);

/* Exactly 2*len hex digits (either case) at s, then its end -> bytes;
 * -1 when s is anything else. */
int thsm_parse_hex(const char *s, uint8_t *out, size_t len);

#endif
