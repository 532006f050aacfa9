/* boot.c - SECUREBOOT10 verification (see boot.h). No malloc, no OS. */
#include "boot/boot.h"

#include <string.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "crypto/util.h"

#define OFF_SIZE 0x10
#define OFF_BOARD 0x20
#define OFF_VERSION 0x30

/* Order n of the P-256 group, big-endian. */
static const uint8_t p256_order[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
    0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

static const char *const texts[THSM_BOOT_RESULT_COUNT] = {
    [THSM_BOOT_OK] = "ok",
    [THSM_BOOT_TOO_SHORT] = "shorter than a 512-byte header",
    [THSM_BOOT_BAD_MAGIC] = "header magic is not SECUREBOOT10",
    [THSM_BOOT_FIELD_NO_NUL] = "a header text field has no NUL within 16 bytes",
    [THSM_BOOT_BAD_PADDING] = "header padding is not 0xFF",
    [THSM_BOOT_SIZE_FORMAT] = "signed size is not a decimal number",
    [THSM_BOOT_SIZE_ALIGN] = "signed size is not a multiple of 512",
    [THSM_BOOT_SIZE_SMALL] = "signed size is below 1024 (no firmware)",
    [THSM_BOOT_BOARD_FORMAT] = "board name is empty or not printable",
    [THSM_BOOT_VERSION_FORMAT] = "version is not MAJOR.MINOR.BUILD",
    [THSM_BOOT_TRUNCATED] = "image is shorter than its signed size + 64",
    [THSM_BOOT_TRAILING] = "bytes follow the signature",
    [THSM_BOOT_TAIL_NOT_ERASED] = "bytes after the signature are not 0xFF",
    [THSM_BOOT_BOARD_MISMATCH] = "image is for another board",
    [THSM_BOOT_TOO_BIG] = "signed size is over the board's maximum",
    [THSM_BOOT_VERSION_ZERO] = "version is 0.0.0",
    [THSM_BOOT_BAD_KEY] = "public key is not a P-256 point",
    [THSM_BOOT_SIG_RANGE] = "signature r or s is 0 or not below the curve order",
    [THSM_BOOT_BAD_SIGNATURE] = "signature does not verify",
    [THSM_BOOT_DOWNGRADE] = "update is older than the installed image",
    [THSM_BOOT_SAME_VERSION] = "update has the installed version",
    [THSM_BOOT_UPDATE_BOARD] = "update is for another board than installed",
    [THSM_BOOT_CRYPTO] = "cryptographic failure",
};

const char *thsm_boot_strerror(int result)
{
    if (result < 0 || result >= THSM_BOOT_RESULT_COUNT)
        return "unknown result";
    return texts[result];
}

/* Decimal digits without sign or leading zero, fitting 32 bits. */
static int parse_u32(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int thsm_boot_parse_version(const char *text, thsm_boot_version *v)
{
    uint32_t part[3];
    size_t len = strlen(text), start = 0;
    if (len == 0 || len > THSM_BOOT_TEXT_MAX)
        return THSM_BOOT_VERSION_FORMAT;
    for (int i = 0; i < 3; i++) {
        size_t end = start;
        while (end < len && text[end] != '.')
            end++;
        if ((i < 2) != (end < len) ||
            parse_u32(text + start, end - start, &part[i]) != 0)
            return THSM_BOOT_VERSION_FORMAT;
        start = end + 1;
    }
    v->major = part[0];
    v->minor = part[1];
    v->build = part[2];
    return THSM_BOOT_OK;
}

int thsm_boot_version_cmp(const thsm_boot_version *a, const thsm_boot_version *b)
{
    const uint32_t x[3] = {a->major, a->minor, a->build};
    const uint32_t y[3] = {b->major, b->minor, b->build};
    for (int i = 0; i < 3; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* A NUL-terminated text in field [off, off+width), then up to extra_nuls
 * more NULs, then only 0xFF; copies the text (at most 15 characters) into
 * out. The reference script ends SIZE with two NULs, older tinyhsm with one. */
static int text_field(const uint8_t *hdr, size_t off, size_t width,
                      size_t extra_nuls, char out[THSM_BOOT_FIELD_LEN])
{
    const uint8_t *f = hdr + off;
    size_t n = 0, i;
    while (n < THSM_BOOT_FIELD_LEN && f[n] != 0)
        n++;
    if (n == THSM_BOOT_FIELD_LEN)
        return THSM_BOOT_FIELD_NO_NUL;
    for (i = n + 1; i < width && i <= n + extra_nuls && f[i] == 0;)
        i++;
    for (; i < width; i++)
        if (f[i] != 0xFF)
            return THSM_BOOT_BAD_PADDING;
    memcpy(out, f, n + 1);
    return THSM_BOOT_OK;
}

static int printable(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return 0;
    return 1;
}

static int parse_size(const char *text, uint32_t *size)
{
    if (parse_u32(text, strlen(text), size) != 0)
        return THSM_BOOT_SIZE_FORMAT;
    if (*size % 512 != 0)
        return THSM_BOOT_SIZE_ALIGN;
    if (*size < 1024)
        return THSM_BOOT_SIZE_SMALL;
    return THSM_BOOT_OK;
}

int thsm_boot_parse_header(const uint8_t *img, size_t len, thsm_boot_header *h)
{
    char magic[THSM_BOOT_FIELD_LEN], size[THSM_BOOT_FIELD_LEN];
    int r;
    if (len < THSM_BOOT_HEADER_LEN)
        return THSM_BOOT_TOO_SHORT;
    if (memcmp(img, THSM_BOOT_MAGIC, sizeof(THSM_BOOT_MAGIC)) != 0)
        return THSM_BOOT_BAD_MAGIC;
    if ((r = text_field(img, 0, THSM_BOOT_FIELD_LEN, 0, magic)) ||
        (r = text_field(img, OFF_SIZE, THSM_BOOT_FIELD_LEN, 1, size)) ||
        (r = text_field(img, OFF_BOARD, THSM_BOOT_FIELD_LEN, 0, h->board)) ||
        (r = text_field(img, OFF_VERSION, THSM_BOOT_HEADER_LEN - OFF_VERSION, 0,
                        h->version_text)))
        return r;
    if ((r = parse_size(size, &h->size)) != THSM_BOOT_OK)
        return r;
    if (!printable(h->board))
        return THSM_BOOT_BOARD_FORMAT;
    return thsm_boot_parse_version(h->version_text, &h->version);
}

int thsm_boot_check_layout(const thsm_boot_header *h, size_t len, int exact)
{
    uint64_t need = (uint64_t)h->size + THSM_BOOT_SIG_LEN;
    if (len < need)
        return THSM_BOOT_TRUNCATED;
    if (exact && len > need)
        return THSM_BOOT_TRAILING;
    return THSM_BOOT_OK;
}

int thsm_boot_check_erased_tail(const uint8_t *img, const thsm_boot_header *h,
                                size_t len)
{
    for (size_t i = (size_t)h->size + THSM_BOOT_SIG_LEN; i < len; i++)
        if (img[i] != 0xFF)
            return THSM_BOOT_TAIL_NOT_ERASED;
    return THSM_BOOT_OK;
}

int thsm_boot_check_board(const thsm_boot_header *h, const thsm_boot_board *b)
{
    if (strcmp(h->board, b->name) != 0)
        return THSM_BOOT_BOARD_MISMATCH;
    if (h->size > b->max_size)
        return THSM_BOOT_TOO_BIG;
    return THSM_BOOT_OK;
}

int thsm_boot_check_version(const thsm_boot_header *h)
{
    const thsm_boot_version zero = {0, 0, 0};
    return thsm_boot_version_cmp(&h->version, &zero) > 0 ? THSM_BOOT_OK
                                                          : THSM_BOOT_VERSION_ZERO;
}

/* 1 when 0 < v < n (big-endian, 32 bytes). */
static int scalar_in_range(const uint8_t *v)
{
    int nonzero = 0;
    for (int i = 0; i < 32; i++)
        nonzero |= v[i];
    if (!nonzero)
        return 0;
    for (int i = 0; i < 32; i++)
        if (v[i] != p256_order[i])
            return v[i] < p256_order[i];
    return 0; /* equal to n */
}

int thsm_boot_check_signature(const uint8_t *img, const thsm_boot_header *h,
                              const uint8_t pub[65])
{
    const uint8_t *sig = img + h->size;
    uint8_t digest[THSM_SHA256_LEN];
    if (!thsm_p256_pub_valid(pub))
        return THSM_BOOT_BAD_KEY;
    if (!scalar_in_range(sig) || !scalar_in_range(sig + 32))
        return THSM_BOOT_SIG_RANGE;
    if (thsm_sha256(img, h->size, digest) != THSM_CRYPTO_OK)
        return THSM_BOOT_CRYPTO;
    return thsm_p256_verify(pub, digest, sig) == THSM_CRYPTO_OK
               ? THSM_BOOT_OK : THSM_BOOT_BAD_SIGNATURE;
}

void thsm_boot_pub_from_xy(const uint8_t qx[32], const uint8_t qy[32],
                           uint8_t pub[65])
{
    pub[0] = 0x04;
    memcpy(pub + 1, qx, 32);
    memcpy(pub + 33, qy, 32);
}

int thsm_boot_verify(const uint8_t *img, size_t len, int exact,
                     const thsm_boot_board *b, const uint8_t pub[65],
                     thsm_boot_header *h)
{
    int r;
    if ((r = thsm_boot_parse_header(img, len, h)) ||
        (r = thsm_boot_check_layout(h, len, exact)) ||
        (r = thsm_boot_check_board(h, b)) || (r = thsm_boot_check_version(h)))
        return r;
    return thsm_boot_check_signature(img, h, pub);
}

int thsm_boot_check_update(const thsm_boot_header *installed,
                           const thsm_boot_header *update)
{
    if (strcmp(installed->board, update->board) != 0)
        return THSM_BOOT_UPDATE_BOARD;
    int c = thsm_boot_version_cmp(&update->version, &installed->version);
    if (c < 0)
        return THSM_BOOT_DOWNGRADE;
    return c == 0 ? THSM_BOOT_SAME_VERSION : THSM_BOOT_OK;
}
