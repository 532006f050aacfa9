/*
 * img_stream.c - image mode (img_stream.h). Not offered yet by any device:
 * callers use the digest mode.
 */
#include "host/img_stream.h"

bool thsm_hsm_image_mode(thsm_at *at)
{
    (void)at;
    return false;
}

int thsm_hsm_sign_stream(thsm_at *at, const thsm_stream_req *req,
                         uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err)
{
    (void)at;
    (void)req;
    (void)sig;
    return thsm_fail(err, THSM_ERR_FAIL, "the device has no image mode");
}
