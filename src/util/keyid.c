/* keyid.c - short key identifiers (see keyid.h). */
#include "util/keyid.h"

#include <string.h>

#include "crypto/crypto.h"
#include "util/hex.h"

void thsm_key_id_of_pub(const uint8_t pub[65], char out[THSM_KEY_ID_LEN + 1])
{
    uint8_t d[THSM_SHA256_LEN];
    if (thsm_sha256(pub, THSM_P256_PUB_LEN, d) != THSM_CRYPTO_OK)
        strcpy(out, "-");
    else
        thsm_hex(d, THSM_KEY_ID_LEN / 2, out);
}
