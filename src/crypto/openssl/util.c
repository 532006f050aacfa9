/* util.c - wiping, comparing and random bytes on OpenSSL 3. */
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/openssl/internal.h"
#include "crypto/util.h"

void thsm_wipe(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}

int thsm_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

int thsm_random(uint8_t *buf, size_t len)
{
    return len > (size_t)INT32_MAX || RAND_priv_bytes(buf, (int)len) != 1
               ? FAIL : OK;
}

/* OpenSSL seeds its DRBGs from the operating system itself. */
void thsm_crypto_set_entropy(thsm_entropy_fn fn, void *ctx)
{
    (void)fn;
    (void)ctx;
}
