/*
 * pubkey_export.h - the signer's public key as a bootloader wants it: the C
 * array MCUboot compiles in (DER SubjectPublicKeyInfo, like `imgtool
 * getpub`), and PEM. Both write NUL-terminated text into buf and return 0,
 * or -1 when cap is too small. Reentrant.
 */
#ifndef THSM_PUBKEY_EXPORT_H
#define THSM_PUBKEY_EXPORT_H

#include <stddef.h>
#include <stdint.h>

/* Enough for either text. */
#define THSM_PUBKEY_TEXT_MAX 1024

/* "const unsigned char ecdsa_pub_key[] = { 0x30, ... };" and
 * "const unsigned int ecdsa_pub_key_len = 91;", the names MCUboot's
 * keys.c expects. */
int thsm_pubkey_c_array(const uint8_t pub[65], char *buf, size_t cap);

/* "-----BEGIN PUBLIC KEY-----" ... "-----END PUBLIC KEY-----\n". */
int thsm_pubkey_pem(const uint8_t pub[65], char *buf, size_t cap);

#endif
