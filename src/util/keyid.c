/* keyid.c - short key identifiers (see keyid.h). */
#include "util/keyid.h"

#include <string.h>

#include "util/hex.h"

int thsm_pub_key_id(const uint8_t pub[THSM_P256_PUB_LEN],
                    char out[THSM_KEY_ID_LEN])
{
    uint8_t d[THSM_SHA256_LEN];
    if (thsm_sha256(pub, THSM_P256_PUB_LEN, d) != 0) {
        strcpy(out, "-");
        return -1;
    }
    thsm_hex(d, (THSM_KEY_ID_LEN - 1) / 2, out);
    return 0;
}
