/* mcuboot.c - MCUboot image verification (see mcuboot.h). No malloc, no OS. */
#include "boot/mcuboot.h"

#include <string.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "crypto/util.h"

/* SubjectPublicKeyInfo of a P-256 key up to the point: SEQUENCE {
 * SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) }. */
static const uint8_t spki_prefix[26] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

static const char *const texts[THSM_MCUBOOT_RESULT_COUNT] = {
    [THSM_MCUBOOT_OK] = "ok",
    [THSM_MCUBOOT_NOT_CHECKED] = "not checked",
    [THSM_MCUBOOT_TOO_SHORT] = "shorter than the 32-byte header",
    [THSM_MCUBOOT_BAD_MAGIC] = "header magic is not 0x96f3b83d",
    [THSM_MCUBOOT_HDR_SIZE] = "header size is below 32",
    [THSM_MCUBOOT_ENCRYPTED] = "encrypted images are not supported",
    [THSM_MCUBOOT_TRUNCATED] = "the image ends before its TLV areas do",
    [THSM_MCUBOOT_PROT_MAGIC] = "protected TLV area magic is not 0x6908",
    [THSM_MCUBOOT_PROT_SIZE] = "protected TLV area size differs from the header's",
    [THSM_MCUBOOT_TLV_MAGIC] = "TLV area magic is not 0x6907",
    [THSM_MCUBOOT_TLV_OVERRUN] = "a TLV runs past the end of its area",
    [THSM_MCUBOOT_TLV_PLACE] = "a TLV type is not allowed in its area",
    [THSM_MCUBOOT_SEC_CNT] = "security counter TLV is not one 4-byte value",
    [THSM_MCUBOOT_TRAILING] = "bytes follow the TLV area",
    [THSM_MCUBOOT_HASH_MISSING] = "no SHA256 TLV",
    [THSM_MCUBOOT_HASH_DUP] = "more than one SHA256 TLV",
    [THSM_MCUBOOT_HASH_MISMATCH] = "SHA256 TLV does not match the image",
    [THSM_MCUBOOT_KEY_MISSING] = "no KEYHASH or PUBKEY TLV",
    [THSM_MCUBOOT_KEY_DUP] = "more than one KEYHASH or PUBKEY TLV",
    [THSM_MCUBOOT_KEY_MISMATCH] = "the image names another key",
    [THSM_MCUBOOT_SIG_MISSING] = "no ECDSA_SIG TLV",
    [THSM_MCUBOOT_SIG_DUP] = "more than one ECDSA_SIG TLV",
    [THSM_MCUBOOT_SIG_FORMAT] = "ECDSA_SIG TLV is not a DER ECDSA signature",
    [THSM_MCUBOOT_BAD_KEY] = "public key is not a P-256 point",
    [THSM_MCUBOOT_BAD_SIGNATURE] = "signature does not verify",
    [THSM_MCUBOOT_BAD_ALIGN] = "flash alignment is not 1, 2, 4, 8, 16 or 32",
    [THSM_MCUBOOT_NO_ROOM] = "no room for the trailer in the slot",
    [THSM_MCUBOOT_CRYPTO] = "cryptographic failure",
};

static const char *const check_names[THSM_MCUBOOT_CHECK_COUNT] = {
    [THSM_MCUBOOT_CHECK_HEADER] = "header",
    [THSM_MCUBOOT_CHECK_TLV_AREAS] = "tlv-areas",
    [THSM_MCUBOOT_CHECK_HASH] = "hash",
    [THSM_MCUBOOT_CHECK_KEY] = "key",
    [THSM_MCUBOOT_CHECK_SIGNATURE] = "signature",
    [THSM_MCUBOOT_CHECK_SLOT] = "slot",
};

const char *thsm_mcuboot_strerror(int result)
{
    if (result < 0 || result >= THSM_MCUBOOT_RESULT_COUNT)
        return "unknown result";
    return texts[result];
}

const char *thsm_mcuboot_check_name(int check)
{
    if (check < 0 || check >= THSM_MCUBOOT_CHECK_COUNT)
        return "unknown";
    return check_names[check];
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Decimal without leading zeros, at most max; *s advances past it. */
static int parse_num(const char **s, uint32_t max, uint32_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return -1;
    }
    *s = p;
    *out = (uint32_t)v;
    return 0;
}

int thsm_mcuboot_parse_version(const char *text, thsm_mcuboot_version *v)
{
    static const uint32_t max[4] = {255, 255, 65535, UINT32_MAX};
    static const char sep[4] = {'.', '.', '+', '\0'};
    uint32_t part[4] = {0, 0, 0, 0};
    const char *s = text;
    for (int i = 0; i < 4; i++) {
        if (parse_num(&s, max[i], &part[i]) != 0)
            return -1;
        if (*s == '\0')
            break;
        if (*s != sep[i])
            return -1;
        s++;
    }
    if (*s != '\0')
        return -1;
    v->major = (uint8_t)part[0];
    v->minor = (uint8_t)part[1];
    v->revision = (uint16_t)part[2];
    v->build = part[3];
    return 0;
}

int thsm_mcuboot_version_cmp(const thsm_mcuboot_version *a,
                             const thsm_mcuboot_version *b)
{
    const uint32_t x[4] = {a->major, a->minor, a->revision, a->build};
    const uint32_t y[4] = {b->major, b->minor, b->revision, b->build};
    for (int i = 0; i < 4; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

int thsm_mcuboot_parse_header(const uint8_t *img, size_t len,
                              thsm_mcuboot_header *h)
{
    if (len < THSM_MCUBOOT_HEADER_LEN)
        return THSM_MCUBOOT_TOO_SHORT;
    if (rd32(img) != THSM_MCUBOOT_MAGIC)
        return THSM_MCUBOOT_BAD_MAGIC;
    h->load_addr = rd32(img + 4);
    h->hdr_size = rd16(img + 8);
    h->protect_tlv_size = rd16(img + 10);
    h->img_size = rd32(img + 12);
    h->flags = rd32(img + 16);
    h->version.major = img[20];
    h->version.minor = img[21];
    h->version.revision = rd16(img + 22);
    h->version.build = rd32(img + 24);
    if (h->hdr_size < THSM_MCUBOOT_HEADER_LEN)
        return THSM_MCUBOOT_HDR_SIZE;
    if (h->flags & THSM_MCUBOOT_F_ENCRYPTED)
        return THSM_MCUBOOT_ENCRYPTED;
    return THSM_MCUBOOT_OK;
}

void thsm_mcuboot_spki(const uint8_t pub[65], uint8_t der[THSM_MCUBOOT_SPKI_LEN])
{
    memcpy(der, spki_prefix, sizeof(spki_prefix));
    memcpy(der + sizeof(spki_prefix), pub, 65);
}

int thsm_mcuboot_key_hash(const uint8_t pub[65], uint8_t hash[32])
{
    uint8_t der[THSM_MCUBOOT_SPKI_LEN];
    thsm_mcuboot_spki(pub, der);
    return thsm_sha256(der, sizeof(der), hash) == THSM_CRYPTO_OK
               ? THSM_MCUBOOT_OK : THSM_MCUBOOT_CRYPTO;
}

uint32_t thsm_mcuboot_trailer_size(uint32_t align)
{
    uint32_t max_align = align > 8 ? align : 8;
    uint32_t magic = (16 + max_align - 1) / max_align * max_align;
    if (align == 0 || align > 32 || (align & (align - 1)) != 0)
        return 0;
    /* swap status (3 entries per sector), image_ok, copy_done, swap_info,
     * swap_size, then the 16-byte magic, each padded to max_align */
    return THSM_MCUBOOT_MAX_SECTORS * 3 * align + 4 * max_align + magic;
}

static void count_tlv(thsm_mcuboot_tlv *t, uint16_t type, size_t off,
                      uint16_t len)
{
    if (t->count++ == 0) {
        t->type = type;
        t->off = off;
        t->len = len;
    }
}

/* One TLV: the protected area holds anything but the hash, key and
 * signature; the unprotected area nothing else (as MCUboot's allow list). */
static int record_tlv(const uint8_t *img, uint16_t type, size_t off,
                      uint16_t len, int prot, thsm_mcuboot_image *im)
{
    int unprot_type = type == THSM_MCUBOOT_TLV_SHA256 ||
                      type == THSM_MCUBOOT_TLV_KEYHASH ||
                      type == THSM_MCUBOOT_TLV_PUBKEY ||
                      type == THSM_MCUBOOT_TLV_ECDSA_SIG;
    if (prot == unprot_type)
        return THSM_MCUBOOT_TLV_PLACE;
    if (type == THSM_MCUBOOT_TLV_SEC_CNT) {
        if (len != 4 || im->sec_cnt_count++ != 0)
            return THSM_MCUBOOT_SEC_CNT;
        im->security_counter = rd32(img + off);
    } else if (type == THSM_MCUBOOT_TLV_SHA256) {
        count_tlv(&im->sha256, type, off, len);
    } else if (type == THSM_MCUBOOT_TLV_ECDSA_SIG) {
        count_tlv(&im->sig, type, off, len);
    } else if (unprot_type) {
        count_tlv(&im->key, type, off, len);
    }
    return THSM_MCUBOOT_OK;
}

/* The TLVs between off (after the info header) and end must fill it. */
static int walk_tlvs(const uint8_t *img, size_t off, size_t end, int prot,
                     thsm_mcuboot_image *im)
{
    while (off < end) {
        if (end - off < THSM_MCUBOOT_TLV_HDR_LEN)
            return THSM_MCUBOOT_TLV_OVERRUN;
        uint16_t type = rd16(img + off), len = rd16(img + off + 2);
        off += THSM_MCUBOOT_TLV_HDR_LEN;
        if (len > end - off)
            return THSM_MCUBOOT_TLV_OVERRUN;
        int r = record_tlv(img, type, off, len, prot, im);
        if (r != THSM_MCUBOOT_OK)
            return r;
        off += len;
    }
    return THSM_MCUBOOT_OK;
}

/* start: where the payload ends, already known to be inside the image. */
static int check_protected(const uint8_t *img, size_t len, size_t start,
                           thsm_mcuboot_image *im)
{
    size_t size = im->hdr.protect_tlv_size;
    if (size == 0)
        return THSM_MCUBOOT_OK;
    if (size < THSM_MCUBOOT_TLV_INFO_LEN)
        return THSM_MCUBOOT_PROT_SIZE;
    if (size > len - start)
        return THSM_MCUBOOT_TRUNCATED;
    if (rd16(img + start) != THSM_MCUBOOT_TLV_PROT_INFO_MAGIC)
        return THSM_MCUBOOT_PROT_MAGIC;
    if (rd16(img + start + 2) != size)
        return THSM_MCUBOOT_PROT_SIZE;
    return walk_tlvs(img, start + THSM_MCUBOOT_TLV_INFO_LEN, start + size, 1,
                     im);
}

static int check_areas(const uint8_t *img, size_t len, int exact,
                       thsm_mcuboot_image *im)
{
    int r;
    /* in this order no sum can wrap, also where size_t is 32 bits */
    if (im->hdr.hdr_size > len || im->hdr.img_size > len - im->hdr.hdr_size)
        return THSM_MCUBOOT_TRUNCATED;
    size_t start = (size_t)im->hdr.hdr_size + im->hdr.img_size;
    if ((r = check_protected(img, len, start, im)) != THSM_MCUBOOT_OK)
        return r;
    start += im->hdr.protect_tlv_size;
    im->hashed_len = start;
    if (len - start < THSM_MCUBOOT_TLV_INFO_LEN)
        return THSM_MCUBOOT_TRUNCATED;
    if (rd16(img + start) != THSM_MCUBOOT_TLV_INFO_MAGIC)
        return THSM_MCUBOOT_TLV_MAGIC;
    size_t tot = rd16(img + start + 2);
    if (tot < THSM_MCUBOOT_TLV_INFO_LEN)
        return THSM_MCUBOOT_TLV_OVERRUN;
    if (tot > len - start)
        return THSM_MCUBOOT_TRUNCATED;
    im->image_len = start + tot;
    r = walk_tlvs(img, start + THSM_MCUBOOT_TLV_INFO_LEN, im->image_len, 0, im);
    if (r == THSM_MCUBOOT_OK && exact && len > im->image_len)
        return THSM_MCUBOOT_TRAILING;
    return r;
}

/* 0 when exactly one TLV of the kind; else its missing or duplicate code. */
static int one_tlv(const thsm_mcuboot_tlv *t, int missing)
{
    if (t->count == 0)
        return missing;
    return t->count > 1 ? missing + 1 : THSM_MCUBOOT_OK;
}

static int check_hash(const uint8_t *img, const thsm_mcuboot_report *r)
{
    const thsm_mcuboot_tlv *t = &r->image.sha256;
    int rc = one_tlv(t, THSM_MCUBOOT_HASH_MISSING);
    if (rc != THSM_MCUBOOT_OK)
        return rc;
    if (t->len != 32 || !thsm_ct_equal(img + t->off, r->digest, 32))
        return THSM_MCUBOOT_HASH_MISMATCH;
    return THSM_MCUBOOT_OK;
}

static int check_key(const uint8_t *img, const uint8_t pub[65],
                     const thsm_mcuboot_image *im)
{
    uint8_t want[THSM_MCUBOOT_SPKI_LEN];
    size_t want_len = sizeof(want);
    int rc = one_tlv(&im->key, THSM_MCUBOOT_KEY_MISSING);
    if (rc != THSM_MCUBOOT_OK)
        return rc;
    if (im->key.type == THSM_MCUBOOT_TLV_KEYHASH) {
        if (thsm_mcuboot_key_hash(pub, want) != THSM_MCUBOOT_OK)
            return THSM_MCUBOOT_CRYPTO;
        want_len = 32;
    } else {
        thsm_mcuboot_spki(pub, want);
    }
    if (im->key.len != want_len || !thsm_ct_equal(img + im->key.off, want,
                                                  want_len))
        return THSM_MCUBOOT_KEY_MISMATCH;
    return THSM_MCUBOOT_OK;
}

/* The DER signature's length, allowing zeros after it (imgtool --pad-sig). */
static size_t der_len(const uint8_t *sig, size_t len)
{
    size_t n;
    if (len < 2 || sig[0] != 0x30 || sig[1] >= 0x80 || (n = 2u + sig[1]) > len)
        return len;
    for (size_t i = n; i < len; i++)
        if (sig[i] != 0)
            return len;
    return n;
}

static int check_signature(const uint8_t *img, const uint8_t pub[65],
                           const thsm_mcuboot_report *r)
{
    const thsm_mcuboot_tlv *t = &r->image.sig;
    uint8_t raw[THSM_P256_SIG_RAW_LEN];
    int rc = one_tlv(t, THSM_MCUBOOT_SIG_MISSING);
    if (rc != THSM_MCUBOOT_OK)
        return rc;
    if (!thsm_p256_pub_valid(pub))
        return THSM_MCUBOOT_BAD_KEY;
    if (t->len > THSM_MCUBOOT_SIG_DER_MAX ||
        thsm_p256_sig_der_to_raw(img + t->off, der_len(img + t->off, t->len),
                                 raw) != THSM_CRYPTO_OK)
        return THSM_MCUBOOT_SIG_FORMAT;
    return thsm_p256_verify(pub, r->digest, raw) == THSM_CRYPTO_OK
               ? THSM_MCUBOOT_OK : THSM_MCUBOOT_BAD_SIGNATURE;
}

static int check_slot(const thsm_mcuboot_expect *e, const thsm_mcuboot_image *im)
{
    uint32_t trailer = thsm_mcuboot_trailer_size(e->align ? e->align : 1);
    if (trailer == 0)
        return THSM_MCUBOOT_BAD_ALIGN;
    return (uint64_t)im->image_len + trailer > e->slot_size
               ? THSM_MCUBOOT_NO_ROOM : THSM_MCUBOOT_OK;
}

static int first_failure(const thsm_mcuboot_report *r)
{
    for (int i = 0; i < THSM_MCUBOOT_CHECK_COUNT; i++)
        if (r->result[i] != THSM_MCUBOOT_OK &&
            r->result[i] != THSM_MCUBOOT_NOT_CHECKED)
            return r->result[i];
    return THSM_MCUBOOT_OK;
}

int thsm_mcuboot_verify(const uint8_t *img, size_t len,
                        const thsm_mcuboot_expect *e, thsm_mcuboot_report *r)
{
    int *res = r->result;
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < THSM_MCUBOOT_CHECK_COUNT; i++)
        res[i] = THSM_MCUBOOT_NOT_CHECKED;
    res[THSM_MCUBOOT_CHECK_HEADER] = thsm_mcuboot_parse_header(img, len,
                                                               &r->image.hdr);
    if (res[THSM_MCUBOOT_CHECK_HEADER] != THSM_MCUBOOT_OK)
        return first_failure(r);
    res[THSM_MCUBOOT_CHECK_TLV_AREAS] = check_areas(img, len, e->exact,
                                                    &r->image);
    /* trailing bytes spoil nothing the later checks read */
    if (res[THSM_MCUBOOT_CHECK_TLV_AREAS] != THSM_MCUBOOT_OK &&
        res[THSM_MCUBOOT_CHECK_TLV_AREAS] != THSM_MCUBOOT_TRAILING)
        return first_failure(r);
    res[THSM_MCUBOOT_CHECK_KEY] = check_key(img, e->pub, &r->image);
    /* the signature is over the hash computed here, as in MCUboot */
    if (thsm_sha256(img, r->image.hashed_len, r->digest) != THSM_CRYPTO_OK) {
        res[THSM_MCUBOOT_CHECK_HASH] = THSM_MCUBOOT_CRYPTO;
    } else {
        res[THSM_MCUBOOT_CHECK_HASH] = check_hash(img, r);
        res[THSM_MCUBOOT_CHECK_SIGNATURE] = check_signature(img, e->pub, r);
    }
    if (e->slot_size != 0)
        res[THSM_MCUBOOT_CHECK_SLOT] = check_slot(e, &r->image);
    return first_failure(r);
}
