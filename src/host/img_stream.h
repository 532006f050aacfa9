/*
 * img_stream.h - image mode: the host streams a whole image to the device,
 * which hashes every byte itself, reads its header, checks its owner's
 * policy and signs (docs/PROTOCOL.md, "Image signing").
 */
#ifndef THSM_HOST_IMG_STREAM_H
#define THSM_HOST_IMG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/p256.h"
#include "host/at_client.h"
#include "host/err.h"
#include "host/hsm.h"

typedef enum {
    THSM_STREAM_SECUREBOOT10 = 1,
    THSM_STREAM_MCUBOOT = 2,
} thsm_stream_format;

typedef struct {
    thsm_stream_format format;
    const uint8_t *bytes; /* exactly the bytes the signature covers */
    size_t len;
    const char *name;     /* MCUboot: the slot or image name the policy's
                             rising versions are kept under; NULL: none */
} thsm_stream_req;

/* Whether the device offers image mode for format (asked, not guessed from
 * its name). */
bool thsm_hsm_image_mode(thsm_at *at, thsm_stream_format format);

/* Streams req to the device and returns its raw r||s signature, or an error
 * (a policy refusal names the rule in err). */
int thsm_hsm_sign_stream(thsm_at *at, const thsm_stream_req *req,
                         uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err);

/* An image signature as the audit log names it: the IMAGE record (format,
 * board or name, version, size) and the SIGN_SB10 / SIGN_MCUBOOT record
 * after it (the image's SHA-256). */
typedef struct {
    char format[17];  /* SECUREBOOT10 or MCUBOOT */
    char board[17];   /* "-" when an MCUboot image was given no name */
    char version[33];
    unsigned long size;
} thsm_log_image;

/* 0 when r is an IMAGE record with well-formed details; -1 when not. */
int thsm_parse_log_image(const thsm_log_record *r, thsm_log_image *img);

/* Whether r is the signature record of an image (SIGN_SB10, SIGN_MCUBOOT). */
bool thsm_log_is_image_signature(const thsm_log_record *r);

#endif
