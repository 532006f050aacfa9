/* sha256.c - SHA-256 on OpenSSL 3 EVP. */
#include "crypto/openssl/internal.h"
#include "crypto/sha256.h"

int thsm_sha256_init(thsm_sha256_ctx *ctx)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ctx->impl = md;
    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1)
        return OK;
    thsm_sha256_release(ctx);
    return FAIL;
}

int thsm_sha256_update(thsm_sha256_ctx *ctx, const void *data, size_t len)
{
    return ctx->impl && EVP_DigestUpdate(ctx->impl, data, len) == 1 ? OK : FAIL;
}

int thsm_sha256_final(thsm_sha256_ctx *ctx, uint8_t out[THSM_SHA256_LEN])
{
    int rc = ctx->impl && EVP_DigestFinal_ex(ctx->impl, out, NULL) == 1;
    thsm_sha256_release(ctx);
    return rc ? OK : FAIL;
}

void thsm_sha256_release(thsm_sha256_ctx *ctx)
{
    EVP_MD_CTX_free(ctx->impl);
    ctx->impl = NULL;
}

int thsm_sha256(const void *data, size_t len, uint8_t out[THSM_SHA256_LEN])
{
    return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1 ? OK : FAIL;
}
