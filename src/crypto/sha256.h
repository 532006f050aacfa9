/* sha256.h - SHA-256, streaming and one-shot. */
#ifndef THSM_CRYPTO_SHA256_H
#define THSM_CRYPTO_SHA256_H

#include "crypto/util.h"

#define THSM_SHA256_LEN 32

/* Streaming context, owned by the caller. impl is set while the context is
 * live; space holds the hash state for backends that need no heap. Call final
 * or release exactly once after a successful init. Do not copy a live one. */
typedef struct {
    void *impl;
    uint64_t space[16];
} thsm_sha256_ctx;

int thsm_sha256_init(thsm_sha256_ctx *ctx);
int thsm_sha256_update(thsm_sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest and releases the context (also on failure). */
int thsm_sha256_final(thsm_sha256_ctx *ctx, uint8_t out[THSM_SHA256_LEN]);
/* Releases a context without producing a digest; safe on a released one. */
void thsm_sha256_release(thsm_sha256_ctx *ctx);
/* One-shot digest. */
int thsm_sha256(const void *data, size_t len, uint8_t out[THSM_SHA256_LEN]);

#endif
