/*
 * root_key.h - derive() for ports whose root key is a plain 32-byte secret
 * in memory (POSIX, tests, the QEMU stand-in): HKDF-SHA-256 with the root
 * key and the context as input key material and the label as info. This is
 * the derivation the sealed state has always used, so states written before
 * derive() existed still open.
 */
#ifndef THSM_PORT_ROOT_KEY_H
#define THSM_PORT_ROOT_KEY_H

#include <string.h>

#include "crypto/hmac.h"
#include "crypto/util.h"
#include "port/port.h"

static inline int thsm_root_key_derive(const uint8_t root[THSM_DEVICE_KEY_LEN],
                                       const char *label,
                                       const uint8_t *context,
                                       size_t context_len,
                                       uint8_t out[THSM_DERIVE_LEN])
{
    uint8_t ikm[THSM_DEVICE_KEY_LEN + THSM_DERIVE_CONTEXT_MAX];
    if (context_len > THSM_DERIVE_CONTEXT_MAX || (context_len && !context))
        return THSM_PORT_IO;
    memcpy(ikm, root, THSM_DEVICE_KEY_LEN);
    if (context_len)
        memcpy(ikm + THSM_DEVICE_KEY_LEN, context, context_len);
    int rc = thsm_hkdf_sha256(ikm, THSM_DEVICE_KEY_LEN + context_len, NULL, 0,
                              label, out, THSM_DERIVE_LEN);
    thsm_wipe(ikm, sizeof(ikm));
    return rc == 0 ? THSM_PORT_OK : THSM_PORT_IO;
}

#endif
