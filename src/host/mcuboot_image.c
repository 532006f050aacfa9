/* mcuboot_image.c - building signed MCUboot images (see mcuboot_image.h). */
#include "host/mcuboot_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "crypto/p256.h"
#include "crypto/sha256.h"

#define PROT_SEC_CNT_LEN (THSM_MCUBOOT_TLV_INFO_LEN + THSM_MCUBOOT_TLV_HDR_LEN + 4)

static int fail(char *err, size_t cap, const char *msg)
{
    snprintf(err, cap, "%s", msg);
    return -1;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

/* The unprotected TLV area's size with a signature of sig_len bytes. */
static size_t tlv_area_len(const thsm_mcuboot_opts *o, size_t sig_len)
{
    size_t key = o->key_format == THSM_MCUBOOT_KEY_FULL ? THSM_MCUBOOT_SPKI_LEN
                                                        : 32;
    return THSM_MCUBOOT_TLV_INFO_LEN + 3 * THSM_MCUBOOT_TLV_HDR_LEN + 32 + key +
           sig_len;
}

static int check_opts(const thsm_mcuboot_opts *o, char *err, size_t cap)
{
    if (o->header_size < THSM_MCUBOOT_HEADER_LEN || o->header_size > 0xFFFF)
        return fail(err, cap, "the header size must be 32 to 65535 bytes");
    if (thsm_mcuboot_trailer_size(o->align ? o->align : 1) == 0)
        return fail(err, cap, "the alignment must be 1, 2, 4, 8, 16 or 32");
    if (o->key_format != THSM_MCUBOOT_KEY_HASH &&
        o->key_format != THSM_MCUBOOT_KEY_FULL)
        return fail(err, cap, "the public key format must be hash or full");
    return 0;
}

/* Image + trailer within the slot, for an image of len bytes. */
static int check_slot(const thsm_mcuboot_opts *o, size_t len, char *err,
                      size_t cap)
{
    uint32_t trailer = thsm_mcuboot_trailer_size(o->align ? o->align : 1);
    if (o->slot_size == 0 || (uint64_t)len + trailer <= o->slot_size)
        return 0;
    snprintf(err, cap, "the image (%zu bytes) and its trailer (%lu bytes) "
             "do not fit the slot (%lu bytes)", len, (unsigned long)trailer,
             (unsigned long)o->slot_size);
    return -1;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void write_header(uint8_t *h, const thsm_mcuboot_opts *o,
                         uint32_t img_size, uint16_t prot_size)
{
    put32(h, THSM_MCUBOOT_MAGIC);
    put32(h + 4, 0); /* load address: not a RAM-load image */
    put16(h + 8, o->header_size);
    put16(h + 10, prot_size);
    put32(h + 12, img_size);
    put32(h + 16, 0); /* flags: a plain image */
    h[20] = o->version.major;
    h[21] = o->version.minor;
    put16(h + 22, o->version.revision);
    put32(h + 24, o->version.build);
    put32(h + 28, 0);
}

/* The payload's length, or -1 when app cannot take the header. */
static int payload_len(const uint8_t *app, size_t app_len,
                       const thsm_mcuboot_opts *o, size_t *len, char *err,
                       size_t cap)
{
    if (o->pad_header) {
        *len = app_len;
        return 0;
    }
    if (app_len < o->header_size || !all_zero(app, o->header_size)) {
        snprintf(err, cap, "the application does not start with %lu zero "
                 "bytes for the header: give --pad-header, or link it with "
                 "room for the header", (unsigned long)o->header_size);
        return -1;
    }
    *len = app_len - o->header_size;
    return 0;
}

int thsm_mcuboot_prepare(const uint8_t *app, size_t app_len,
                         const thsm_mcuboot_opts *o, thsm_mcuboot_build *b,
                         char *err, size_t cap)
{
    size_t body, prot = o->has_security_counter ? PROT_SEC_CNT_LEN : 0;
    memset(b, 0, sizeof(*b));
    if (check_opts(o, err, cap) != 0 ||
        payload_len(app, app_len, o, &body, err, cap) != 0)
        return -1;
    size_t most = tlv_area_len(o, THSM_MCUBOOT_SIG_DER_MAX);
    if (body > UINT32_MAX - o->header_size - prot - most)
        return fail(err, cap, "the application is too large for an image");
    b->hashed_len = o->header_size + body + prot;
    if (check_slot(o, b->hashed_len + most, err, cap) != 0)
        return -1;
    b->cap = b->hashed_len + most;
    if (!(b->data = malloc(b->cap)))
        return fail(err, cap, "out of memory");
    /* imgtool pads with the erased value; an app's own room stays zero */
    memset(b->data, o->pad_header ? 0xFF : 0x00, o->header_size);
    if (body)
        memcpy(b->data + o->header_size, app + (app_len - body), body);
    write_header(b->data, o, (uint32_t)body, (uint16_t)prot);
    if (prot) {
        uint8_t *p = b->data + o->header_size + body;
        put16(p, THSM_MCUBOOT_TLV_PROT_INFO_MAGIC);
        put16(p + 2, (uint32_t)prot);
        put16(p + 4, THSM_MCUBOOT_TLV_SEC_CNT);
        put16(p + 6, 4);
        put32(p + 8, o->security_counter);
    }
    b->len = b->hashed_len;
    return 0;
}

int thsm_mcuboot_digest(const thsm_mcuboot_build *b, uint8_t digest[32])
{
    return thsm_sha256(b->data, b->hashed_len, digest) == THSM_CRYPTO_OK ? 0
                                                                          : -1;
}

int thsm_mcuboot_sig_to_der(const uint8_t raw[64],
                            uint8_t der[THSM_MCUBOOT_SIG_DER_MAX], size_t *len)
{
    uint8_t buf[THSM_P256_SIG_DER_MAX];
    size_t n = 0;
    if (thsm_p256_sig_raw_to_der(raw, buf, &n) != THSM_CRYPTO_OK ||
        n > THSM_MCUBOOT_SIG_DER_MAX)
        return -1;
    memcpy(der, buf, n);
    *len = n;
    return 0;
}

static void add_tlv(thsm_mcuboot_build *b, uint16_t type, const uint8_t *v,
                    size_t len)
{
    put16(b->data + b->len, type);
    put16(b->data + b->len + 2, (uint32_t)len);
    memcpy(b->data + b->len + 4, v, len);
    b->len += 4 + len;
}

static int check_signature(const thsm_mcuboot_build *b, const uint8_t pub[65],
                           const uint8_t digest[32], const uint8_t sig_raw[64],
                           char *err, size_t cap)
{
    uint8_t mine[32];
    if (thsm_mcuboot_digest(b, mine) != 0)
        return fail(err, cap, "cannot hash the image");
    if (memcmp(mine, digest, 32) != 0)
        return fail(err, cap, "the signed digest is not the image's hash");
    if (thsm_p256_verify(pub, digest, sig_raw) != THSM_CRYPTO_OK)
        return fail(err, cap, "the signature does not verify with the signer's "
                              "public key");
    return 0;
}

int thsm_mcuboot_finish(thsm_mcuboot_build *b, const thsm_mcuboot_opts *o,
                        const uint8_t pub[65], const uint8_t digest[32],
                        const uint8_t sig_raw[64], char *err, size_t cap)
{
    uint8_t der[THSM_MCUBOOT_SIG_DER_MAX], key[THSM_MCUBOOT_SPKI_LEN];
    size_t der_len, key_len = 32;
    if (b->len != b->hashed_len)
        return fail(err, cap, "the image is already finished");
    if (check_opts(o, err, cap) != 0)
        return -1;
    if (check_signature(b, pub, digest, sig_raw, err, cap) != 0)
        return -1;
    if (thsm_mcuboot_sig_to_der(sig_raw, der, &der_len) != 0)
        return fail(err, cap, "cannot encode the signature");
    if (o->key_format == THSM_MCUBOOT_KEY_FULL) {
        thsm_mcuboot_spki(pub, key);
        key_len = sizeof(key);
    } else if (thsm_mcuboot_key_hash(pub, key) != THSM_MCUBOOT_OK) {
        return fail(err, cap, "cannot hash the public key");
    }
    size_t area = tlv_area_len(o, der_len);
    if (b->hashed_len + area > b->cap)
        return fail(err, cap, "the image options changed since prepare");
    put16(b->data + b->len, THSM_MCUBOOT_TLV_INFO_MAGIC);
    put16(b->data + b->len + 2, (uint32_t)area);
    b->len += THSM_MCUBOOT_TLV_INFO_LEN;
    add_tlv(b, THSM_MCUBOOT_TLV_SHA256, digest, 32);
    add_tlv(b, o->key_format == THSM_MCUBOOT_KEY_FULL ? THSM_MCUBOOT_TLV_PUBKEY
                                                      : THSM_MCUBOOT_TLV_KEYHASH,
            key, key_len);
    add_tlv(b, THSM_MCUBOOT_TLV_ECDSA_SIG, der, der_len);
    return check_slot(o, b->len, err, cap);
}

int thsm_mcuboot_sign(const uint8_t *app, size_t app_len,
                      const thsm_mcuboot_opts *o, const uint8_t pub[65],
                      thsm_mcuboot_sign_fn sign, void *sign_ctx,
                      thsm_mcuboot_build *b, char *err, size_t cap)
{
    uint8_t digest[32], sig[64];
    if (thsm_mcuboot_prepare(app, app_len, o, b, err, cap) != 0)
        return -1;
    int rc = -1;
    if (thsm_mcuboot_digest(b, digest) != 0)
        fail(err, cap, "cannot hash the image");
    else if (sign(sign_ctx, digest, sig) != 0)
        fail(err, cap, "the signer could not sign the image's digest");
    else
        rc = thsm_mcuboot_finish(b, o, pub, digest, sig, err, cap);
    if (rc != 0)
        thsm_mcuboot_build_free(b);
    return rc;
}

void thsm_mcuboot_build_free(thsm_mcuboot_build *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

int thsm_mcuboot_format_version(const thsm_mcuboot_version *v, char *buf,
                                size_t cap)
{
    int n = snprintf(buf, cap, "%u.%u.%u+%lu", (unsigned)v->major,
                     (unsigned)v->minor, (unsigned)v->revision,
                     (unsigned long)v->build);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void detail_found(const thsm_mcuboot_report *r,
                         const thsm_mcuboot_expect *e, int check, char *buf,
                         size_t cap)
{
    const thsm_mcuboot_image *im = &r->image;
    char v[32];
    uint32_t align = e->align ? e->align : 1,
             trailer = thsm_mcuboot_trailer_size(align);
    switch (check) {
    case THSM_MCUBOOT_CHECK_HEADER:
        thsm_mcuboot_format_version(&im->hdr.version, v, sizeof(v));
        snprintf(buf, cap, "MCUboot, version %s, header %u bytes, payload %lu "
                 "bytes, flags 0x%lx", v, (unsigned)im->hdr.hdr_size,
                 (unsigned long)im->hdr.img_size, (unsigned long)im->hdr.flags);
        break;
    case THSM_MCUBOOT_CHECK_TLV_AREAS:
        if (im->sec_cnt_count)
            snprintf(v, sizeof(v), "%lu", (unsigned long)im->security_counter);
        snprintf(buf, cap, "protected %u bytes (security counter %s), TLV "
                 "area %zu bytes", (unsigned)im->hdr.protect_tlv_size,
                 im->sec_cnt_count ? v : "none", im->image_len - im->hashed_len);
        break;
    case THSM_MCUBOOT_CHECK_HASH:
        snprintf(buf, cap, "SHA-256 of %zu bytes matches", im->hashed_len);
        break;
    case THSM_MCUBOOT_CHECK_KEY:
        snprintf(buf, cap, "%s names the given key",
                 im->key.type == THSM_MCUBOOT_TLV_PUBKEY ? "PUBKEY" : "KEYHASH");
        break;
    case THSM_MCUBOOT_CHECK_SIGNATURE:
        snprintf(buf, cap, "verifies with the given key");
        break;
    default:
        snprintf(buf, cap, "%s (image %zu + trailer %lu for align %lu = %llu "
                 "bytes, slot %lu)", thsm_mcuboot_strerror(r->result[check]),
                 im->image_len, (unsigned long)trailer, (unsigned long)align,
                 (unsigned long long)im->image_len + trailer,
                 (unsigned long)e->slot_size);
    }
}

void thsm_mcuboot_check_detail(const thsm_mcuboot_report *r,
                               const thsm_mcuboot_expect *e, int check,
                               char *buf, size_t cap)
{
    int res = r->result[check];
    if (res == THSM_MCUBOOT_NOT_CHECKED)
        snprintf(buf, cap, "not checked: %s",
                 check == THSM_MCUBOOT_CHECK_SLOT && e->slot_size == 0 &&
                         r->result[THSM_MCUBOOT_CHECK_TLV_AREAS] ==
                             THSM_MCUBOOT_OK
                     ? "no slot size given" : "an earlier check failed");
    else if (res == THSM_MCUBOOT_OK || check == THSM_MCUBOOT_CHECK_SLOT)
        detail_found(r, e, check, buf, cap);
    else
        snprintf(buf, cap, "%s", thsm_mcuboot_strerror(res));
}
