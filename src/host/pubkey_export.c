/* pubkey_export.c - public key as a C array or PEM (see pubkey_export.h). */
#include "host/pubkey_export.h"

#include <stdio.h>
#include <string.h>


#include "boot/mcuboot.h"
#include "util/base64.h"

/* Appends to buf at *at; -1 when it does not fit. */
static int put(char *buf, size_t cap, size_t *at, const char *text)
{
    size_t n = strlen(text);
    if (*at + n >= cap)
        return -1;
    memcpy(buf + *at, text, n + 1);
    *at += n;
    return 0;
}

int thsm_pubkey_c_array(const uint8_t pub[65], char *buf, size_t cap)
{
    uint8_t der[THSM_MCUBOOT_SPKI_LEN];
    char item[16];
    size_t at = 0;
    thsm_mcuboot_spki(pub, der);
    if (put(buf, cap, &at, "/* The TinyHSM signer's public key (DER "
                           "SubjectPublicKeyInfo), for MCUboot. */\n"
                           "const unsigned char ecdsa_pub_key[] = {") != 0)
        return -1;
    for (size_t i = 0; i < sizeof(der); i++) {
        snprintf(item, sizeof(item), "%s0x%02x,", i % 12 ? " " : "\n    ",
                 der[i]);
        if (put(buf, cap, &at, item) != 0)
            return -1;
    }
    snprintf(item, sizeof(item), "%zu;\n", sizeof(der));
    if (put(buf, cap, &at, "\n};\nconst unsigned int ecdsa_pub_key_len = ") != 0)
        return -1;
    return put(buf, cap, &at, item);
}

int thsm_pubkey_pem(const uint8_t pub[65], char *buf, size_t cap)
{
    uint8_t der[THSM_MCUBOOT_SPKI_LEN];
    char line[68];
    size_t at = 0;
    thsm_mcuboot_spki(pub, der);
    if (put(buf, cap, &at, "-----BEGIN PUBLIC KEY-----\n") != 0)
        return -1;
    for (size_t off = 0; off < sizeof(der); off += 48) {
        size_t n = sizeof(der) - off < 48 ? sizeof(der) - off : 48;
        size_t w = thsm_base64(der + off, n, line);
        line[w] = '\n';
        line[w + 1] = '\0';
        if (put(buf, cap, &at, line) != 0)
            return -1;
    }
    return put(buf, cap, &at, "-----END PUBLIC KEY-----\n");
}
