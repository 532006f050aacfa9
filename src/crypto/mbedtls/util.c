/*
 * util.c - wiping, comparing and random bytes on mbedTLS: a CTR_DRBG
 * (AES-256) seeded from the platform's entropy source.
 *
 * The DRBG is the one piece of state the backend keeps itself, like the
 * library's global DRBG in OpenSSL: every call that needs randomness (key
 * generation, GCM nonces, ECDSA blinding, serial numbers) shares it.
 */
#include <string.h>

#include <mbedtls/constant_time.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/platform_util.h>

#if defined(__linux__)
#include <errno.h>
#include <sys/random.h>
#elif defined(_WIN32)
#include <windows.h>
#include <bcrypt.h>
#endif

#include "crypto/mbedtls/internal.h"
#include "crypto/util.h"

static struct {
    thsm_entropy_fn fn;
    void *ctx;
    int seeded;
    mbedtls_ctr_drbg_context drbg;
} rng;

void thsm_wipe(void *p, size_t len)
{
    mbedtls_platform_zeroize(p, len);
}

int thsm_ct_equal(const void *a, const void *b, size_t len)
{
    return mbedtls_ct_memcmp(a, b, len) == 0;
}

void thsm_crypto_set_entropy(thsm_entropy_fn fn, void *ctx)
{
    if (rng.seeded)
        mbedtls_ctr_drbg_free(&rng.drbg);
    rng.seeded = 0;
    rng.fn = fn;
    rng.ctx = ctx;
}

#if defined(__linux__)
static int os_entropy(uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}
#elif defined(_WIN32)
/* Windows' system RNG (tinyhsm.exe on a Windows host). */
static int os_entropy(uint8_t *buf, size_t len)
{
    for (; len > 0; ) {
        ULONG n = len > 0x10000 ? 0x10000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, n,
                                            BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return -1;
        buf += n;
        len -= n;
    }
    return 0;
}
#endif

static int entropy(void *unused, unsigned char *buf, size_t len)
{
    (void)unused;
    int rc = -1;
    if (rng.fn)
        rc = rng.fn(rng.ctx, buf, len);
#if defined(__linux__) || defined(_WIN32)
    else
        rc = os_entropy(buf, len);
#endif
    return rc == 0 ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

static int seed(void)
{
    static const unsigned char personal[] = "tinyhsm/drbg/v1";
    mbedtls_ctr_drbg_init(&rng.drbg);
    if (mbedtls_ctr_drbg_seed(&rng.drbg, entropy, NULL, personal,
                              sizeof(personal) - 1) != 0) {
        mbedtls_ctr_drbg_free(&rng.drbg);
        return FAIL;
    }
    rng.seeded = 1;
    return OK;
}

int thsm_random(uint8_t *buf, size_t len)
{
    if (!rng.seeded && seed() != OK)
        return FAIL;
    while (len > 0) {
        size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST
                       ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        if (mbedtls_ctr_drbg_random(&rng.drbg, buf, n) != 0)
            return FAIL;
        buf += n;
        len -= n;
    }
    return OK;
}

int thsm_mbed_rng(void *p_rng, unsigned char *buf, size_t len)
{
    (void)p_rng;
    return thsm_random(buf, len) == OK ? 0
                                       : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}
