/*
 * img_stream.c - image mode (img_stream.h): AT+IMG_BEGIN, one AT+IMG_DATA
 * per THSM_PROTO_IMG_CHUNK bytes in base64, AT+IMG_END answered with the
 * signature as AT+SIGNER_SIGN answers it.
 */
#include <stdio.h>
#include <string.h>

#include "host/hsm.h"
#include "host/img_stream.h"
#include "proto/at.h"
#include "proto/log.h"
#include "util/base64.h"
#include "util/escape.h"

#define DATA_PREFIX THSM_CMD_IMG_DATA " " THSM_P_SEQ "=%zu " THSM_P_DATA "="
/* Longest AT+IMG_DATA request: the prefix with a 20-digit SEQ, the chunk. */
#define DATA_REQ_MAX \
    (sizeof(DATA_PREFIX) + 20 + 4 * ((THSM_PROTO_IMG_CHUNK + 2) / 3))

bool thsm_hsm_image_mode(thsm_at *at, thsm_stream_format format)
{
    static const char word[] = " " THSM_ST_IMAGE "=";
    const char *want = format == THSM_STREAM_MCUBOOT ? THSM_V_MCUBOOT
                                                     : THSM_V_SECUREBOOT10;
    char text[THSM_AT_RESP_MAX + 1] = " ";
    if (!thsm_hsm_status_text(at, text + 1, sizeof(text) - 1))
        return false; /* the original board has no status */
    const char *p = strstr(text, word);
    if (!p)
        return false;
    /* IMAGE=<format>,<format>...: is ours one of them? */
    size_t n = strlen(want);
    for (p += sizeof(word) - 1; *p && *p != ' '; p += strcspn(p, ", ")) {
        p += *p == ',';
        if (strncmp(p, want, n) == 0 && (p[n] == ',' || p[n] == ' ' || !p[n]))
            return true;
    }
    return false;
}

/* A refusal of the device, in the user's words where it has a code. */
static int refused(thsm_at *at, int rc, const char *what, thsm_err *err)
{
    char shown[THSM_ESCAPED_MAX(200)];
    const thsm_at_resp *r = &at->resp;
    if (rc != THSM_AT_OK)
        return thsm_fail(err, THSM_ERR_FAIL, "no answer to %s: %s", what,
                         thsm_at_strerror(rc));
    thsm_escape(r->nlines ? r->lines[0] : "(empty)", shown, sizeof(shown));
    if (strcmp(r->code, THSM_E_POLICY) == 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's signing policy "
                         "refuses this image: %s", shown);
    if (thsm_hsm_plain_error(r->code))
        return thsm_fail(err, THSM_ERR_FAIL, "%s",
                         thsm_hsm_plain_error(r->code));
    return thsm_fail(err, THSM_ERR_FAIL, "the device refused %s: %s", what,
                     shown);
}

static int begin(thsm_at *at, const thsm_stream_req *req, thsm_err *err)
{
    const char *format = req->format == THSM_STREAM_MCUBOOT
                             ? THSM_V_MCUBOOT
                             : THSM_V_SECUREBOOT10;
    int rc = req->name && req->name[0]
                 ? thsm_at_cmdf(at, &at->resp, THSM_CMD_IMG_BEGIN " "
                                THSM_P_FORMAT "=%s " THSM_P_SIZE "=%zu "
                                THSM_P_NAME "=%s", format, req->len, req->name)
                 : thsm_at_cmdf(at, &at->resp, THSM_CMD_IMG_BEGIN " "
                                THSM_P_FORMAT "=%s " THSM_P_SIZE "=%zu",
                                format, req->len);
    return rc == THSM_AT_OK && at->resp.ok
               ? THSM_OK
               : refused(at, rc, THSM_CMD_IMG_BEGIN, err);
}

/* Every byte, THSM_PROTO_IMG_CHUNK at a time, in order. */
static int send_chunks(thsm_at *at, const thsm_stream_req *req, thsm_err *err)
{
    char line[DATA_REQ_MAX];
    for (size_t off = 0, seq = 0; off < req->len; seq++) {
        size_t n = req->len - off < THSM_PROTO_IMG_CHUNK
                       ? req->len - off : THSM_PROTO_IMG_CHUNK;
        int k = snprintf(line, sizeof(line), DATA_PREFIX, seq);
        thsm_base64(req->bytes + off, n, line + k);
        int rc = thsm_at_cmd(at, line, &at->resp);
        if (rc != THSM_AT_OK || !at->resp.ok) {
            char what[64];
            snprintf(what, sizeof(what), THSM_CMD_IMG_DATA " " THSM_P_SEQ
                     "=%zu", seq);
            return refused(at, rc, what, err);
        }
        off += n;
    }
    return THSM_OK;
}

int thsm_hsm_sign_stream(thsm_at *at, const thsm_stream_req *req,
                         uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err)
{
    if (req->len == 0 || req->len > UINT32_MAX)
        return thsm_fail(err, THSM_ERR_USAGE, "an image of %zu bytes cannot "
                         "be streamed", req->len);
    int rc = begin(at, req, err);
    if (rc == THSM_OK)
        rc = send_chunks(at, req, err);
    if (rc != THSM_OK)
        return rc;
    rc = thsm_at_cmd(at, THSM_CMD_IMG_END, &at->resp);
    if (rc != THSM_AT_OK || !at->resp.ok)
        return refused(at, rc, THSM_CMD_IMG_END, err);
    if (thsm_parse_sig(at->resp.text, sig) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's signature is "
                         "malformed");
    return THSM_OK;
}

/* The value of "<key><value>" at *p up to the next comma (or the end) into
 * out; advances *p past the comma. 0, or -1 when absent or too long. */
static int detail(const char **p, const char *key, char *out, size_t cap)
{
    size_t k = strlen(key), n;
    if (strncmp(*p, key, k) != 0)
        return -1;
    *p += k;
    n = strcspn(*p, ",");
    if (n == 0 || n >= cap)
        return -1;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p += n + ((*p)[n] == ',');
    return 0;
}

int thsm_parse_log_image(const thsm_log_record *r, thsm_log_image *img)
{
    char size[12];
    const char *p = r->digest;
    memset(img, 0, sizeof(*img));
    if (strcmp(r->event, THSM_EV_IMAGE) != 0 ||
        (strcmp(r->result, THSM_V_SECUREBOOT10) != 0 &&
         strcmp(r->result, THSM_V_MCUBOOT) != 0) ||
        detail(&p, THSM_LOG_DETAIL_BOARD, img->board, sizeof(img->board)) ||
        detail(&p, THSM_LOG_DETAIL_VERSION, img->version,
               sizeof(img->version)) ||
        detail(&p, THSM_LOG_DETAIL_SIZE, size, sizeof(size)) || *p ||
        sscanf(size, "%lu", &img->size) != 1)
        return -1;
    snprintf(img->format, sizeof(img->format), "%s", r->result);
    return 0;
}

bool thsm_log_is_image_signature(const thsm_log_record *r)
{
    return strcmp(r->event, THSM_EV_SIGN_SB10) == 0 ||
           strcmp(r->event, THSM_EV_SIGN_MCUBOOT) == 0;
}
