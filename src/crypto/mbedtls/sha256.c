/* sha256.c - SHA-256 on mbedTLS; the state lives in the caller's context. */
#include <mbedtls/sha256.h>

#include "crypto/mbedtls/internal.h"
#include "crypto/sha256.h"

_Static_assert(sizeof(((thsm_sha256_ctx *)0)->space) >=
                   sizeof(mbedtls_sha256_context),
               "thsm_sha256_ctx.space too small for mbedtls_sha256_context");

int thsm_sha256_init(thsm_sha256_ctx *ctx)
{
    mbedtls_sha256_context *md = (mbedtls_sha256_context *)ctx->space;
    mbedtls_sha256_init(md);
    ctx->impl = md;
    if (mbedtls_sha256_starts_ret(md, 0) == 0)
        return OK;
    thsm_sha256_release(ctx);
    return FAIL;
}

int thsm_sha256_update(thsm_sha256_ctx *ctx, const void *data, size_t len)
{
    return ctx->impl && mbedtls_sha256_update_ret(ctx->impl, data, len) == 0
               ? OK : FAIL;
}

int thsm_sha256_final(thsm_sha256_ctx *ctx, uint8_t out[THSM_SHA256_LEN])
{
    int rc = ctx->impl && mbedtls_sha256_finish_ret(ctx->impl, out) == 0;
    thsm_sha256_release(ctx);
    return rc ? OK : FAIL;
}

void thsm_sha256_release(thsm_sha256_ctx *ctx)
{
    if (ctx->impl)
        mbedtls_sha256_free(ctx->impl); /* wipes the state */
    ctx->impl = NULL;
}

int thsm_sha256(const void *data, size_t len, uint8_t out[THSM_SHA256_LEN])
{
    return mbedtls_sha256_ret(data, len, out, 0) == 0 ? OK : FAIL;
}
