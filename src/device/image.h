/*
 * image.h - an image streamed to the device (AT+IMG_*): hashes every byte,
 * reads the header from the bytes it hashed and checks it against the size
 * announced (layer: image, beside the response; calls only src/boot, the
 * crypto and util). It answers nothing: each step returns 0, or -1 with an
 * error code and a fixed text for the handler to answer.
 */
#ifndef THSM_DEVICE_IMAGE_H
#define THSM_DEVICE_IMAGE_H

#include "device/device.h"
#include "device/policy.h"

typedef struct {
    const char *code; /* THSM_E_* */
    const char *text;
} thsm_img_err;

/* Opens a stream of size bytes in format (THSM_IMG_*) on st, abandoning the
 * one open; name: MCUboot's slot or image name ("" none), checked here. */
int thsm_img_begin(thsm_img_stream *st, uint8_t format, uint32_t size,
                   const char *name, uint32_t login, thsm_img_err *e);

/* Hashes chunk number seq (n bytes) of the stream begun at login. A
 * failure abandons the stream. */
int thsm_img_data(thsm_img_stream *st, uint32_t login, uint32_t seq,
                  const uint8_t *bytes, size_t n, thsm_img_err *e);

/* Ends the stream: every byte of SIZE came and the header held; fills img.
 * The stream is closed either way. */
int thsm_img_finish(thsm_img_stream *st, uint32_t login,
                    thsm_image_info *img, thsm_img_err *e);

/* Forgets the stream (logout, disconnect, a new AT+IMG_BEGIN). */
void thsm_img_abandon(thsm_img_stream *st);

#endif
