/*
 * image.c - an image streamed to the device (image.h).
 */
#include <stdio.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/mcuboot.h"
#include "crypto/util.h"
#include "device/image.h"
#include "util/word.h"

static int fail(thsm_img_stream *st, thsm_img_err *e, const char *code,
                const char *text)
{
    thsm_img_abandon(st);
    e->code = code;
    e->text = text;
    return -1;
}

void thsm_img_abandon(thsm_img_stream *st)
{
    thsm_sha256_release(&st->sha);
    thsm_wipe(st, sizeof(*st));
}

/* The bytes of a header: the device parses it once they are in. */
static uint32_t head_len(const thsm_img_stream *st)
{
    return st->format == THSM_IMG_SECUREBOOT10 ? THSM_BOOT_HEADER_LEN
                                               : THSM_MCUBOOT_HEADER_LEN;
}

/* Letters, digits, '.', '_' and '-': a name the audit record can hold. */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n > THSM_PROTO_IMG_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int thsm_img_begin(thsm_img_stream *st, uint8_t format, uint32_t size,
                   const char *name, uint32_t login, thsm_img_err *e)
{
    thsm_img_abandon(st);
    st->format = format;
    if (format == THSM_IMG_SECUREBOOT10 && name[0])
        return fail(st, e, THSM_E_BAD_PARAM, THSM_P_NAME " is for "
                    THSM_V_MCUBOOT " images: a SECUREBOOT10 image "
                    "names its board");
    if (!name_ok(name))
        return fail(st, e, THSM_E_BAD_PARAM, THSM_P_NAME " must be at most "
                    "16 letters, digits, '.', '_' or '-'");
    if (size < head_len(st))
        return fail(st, e, THSM_E_IMG_SIZE, THSM_P_SIZE " is smaller than "
                    "the image's header");
    if (thsm_sha256_init(&st->sha) != 0)
        return fail(st, e, THSM_E_CRYPTO, "hashing failed");
    st->size = size;
    st->login = login;
    strcpy(st->name, name);
    st->active = 1;
    return 0;
}

static uint32_t clamp16(uint32_t v)
{
    return v > 0xffff ? 0xffff : v;
}

/* SECUREBOOT10: board, version and SIZE from the 512-byte header. */
static int read_sb10(thsm_img_stream *st, thsm_img_err *e)
{
    thsm_boot_header h;
    int r = thsm_boot_parse_header(st->head, THSM_BOOT_HEADER_LEN, &h);
    if (r != THSM_BOOT_OK)
        return fail(st, e, THSM_E_IMG_HEADER, thsm_boot_strerror(r));
    if (h.size != st->size)
        return fail(st, e, THSM_E_IMG_HEADER, "the header's SIZE differs "
                    "from " THSM_P_SIZE "=");
    /* at most 15 characters; one word in the records and answers */
    thsm_word_of(h.board, st->name, sizeof(st->name));
    strcpy(st->version_text, h.version_text);
    /* MAJOR and MINOR over 16 bits saturate, which loses their order: a
       rising-versions rule refuses such a version (policy.c) */
    st->version_clamped = h.version.major > 0xffff || h.version.minor > 0xffff;
    st->version = (uint64_t)clamp16(h.version.major) << 48 |
                  (uint64_t)clamp16(h.version.minor) << 32 | h.version.build;
    return 0;
}

/* MCUboot: sizes and version from the 32-byte header; SIZE= must be what
 * the hash TLV covers: header, payload and protected TLV area. */
static int read_mcuboot(thsm_img_stream *st, thsm_img_err *e)
{
    thsm_mcuboot_header h;
    int r = thsm_mcuboot_parse_header(st->head, THSM_MCUBOOT_HEADER_LEN, &h);
    if (r != THSM_MCUBOOT_OK)
        return fail(st, e, THSM_E_IMG_HEADER, thsm_mcuboot_strerror(r));
    if ((uint64_t)h.hdr_size + h.img_size + h.protect_tlv_size != st->size)
        return fail(st, e, THSM_E_IMG_HEADER, "header size, image size and "
                    "protected TLV size do not add up to " THSM_P_SIZE "=");
    const thsm_mcuboot_version *v = &h.version;
    if (v->build)
        snprintf(st->version_text, sizeof(st->version_text), "%u.%u.%u+%lu",
                 v->major, v->minor, v->revision, (unsigned long)v->build);
    else
        snprintf(st->version_text, sizeof(st->version_text), "%u.%u.%u",
                 v->major, v->minor, v->revision);
    st->version = (uint64_t)v->major << 56 | (uint64_t)v->minor << 48 |
                  (uint64_t)v->revision << 32 | v->build;
    return 0;
}

/* Whether a stream is open under the login it began with. */
static int check_open(thsm_img_stream *st, uint32_t login, thsm_img_err *e)
{
    if (st->active && st->login == login)
        return 0;
    return fail(st, e, THSM_E_IMG_STATE, st->active
                ? "the login the image stream began under ended; the stream "
                  "is abandoned"
                : "no image stream open; start one with " THSM_CMD_IMG_BEGIN);
}

int thsm_img_data(thsm_img_stream *st, uint32_t login, uint32_t seq,
                  const uint8_t *bytes, size_t n, thsm_img_err *e)
{
    if (check_open(st, login, e) != 0)
        return -1;
    if (seq != st->seq)
        return fail(st, e, THSM_E_IMG_SEQ, "chunk out of order; the stream "
                    "is abandoned");
    if (n > st->size - st->got)
        return fail(st, e, THSM_E_IMG_SIZE, "more bytes than " THSM_P_SIZE
                    "=; the stream is abandoned");
    uint32_t need = head_len(st);
    if (st->got < need) {
        size_t take = need - st->got < n ? need - st->got : n;
        memcpy(st->head + st->got, bytes, take);
    }
    if (thsm_sha256_update(&st->sha, bytes, n) != 0)
        return fail(st, e, THSM_E_CRYPTO, "hashing failed");
    bool header_now = st->got < need && st->got + n >= need;
    st->got += (uint32_t)n;
    st->seq++;
    if (header_now) {
        int r = st->format == THSM_IMG_SECUREBOOT10 ? read_sb10(st, e)
                                                    : read_mcuboot(st, e);
        if (r != 0)
            return r;
        st->header_read = 1;
    }
    return 0;
}

int thsm_img_finish(thsm_img_stream *st, uint32_t login,
                    thsm_image_info *img, thsm_img_err *e)
{
    if (check_open(st, login, e) != 0)
        return -1;
    if (st->got != st->size || !st->header_read)
        return fail(st, e, THSM_E_IMG_SIZE, "fewer bytes than " THSM_P_SIZE
                    "=; the stream is abandoned");
    memset(img, 0, sizeof(*img));
    img->format = st->format;
    strcpy(img->board, st->name);
    img->version = st->version;
    img->version_clamped = st->version_clamped;
    strcpy(img->version_text, st->version_text);
    img->size = st->size;
    int r = thsm_sha256_final(&st->sha, img->sha256);
    thsm_wipe(st, sizeof(*st)); /* final released the context */
    if (r != 0) {
        e->code = THSM_E_CRYPTO;
        e->text = "hashing failed";
        return -1;
    }
    return 0;
}
