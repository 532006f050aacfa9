/*
 * fuzz_device.c - arbitrary bytes into the device core over an in-memory
 * port: framing, parameter parsing and every handler. Checks the response
 * shape the host tools rely on.
 */
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "port/mem/port_mem.h"

static void check_response(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    int ok = len >= 4 && memcmp(data + len - 4, "\r\n\r\n", 4) == 0 &&
             (strncmp(data, "OK", 2) == 0 || strncmp(data, "ERROR ", 6) == 0);
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static thsm_mem_port mp;
    static thsm_port port;
    static thsm_device dev;
    static thsm_session sess;
    thsm_mem_port_init(&mp, &port);
    thsm_session_init(&sess, check_response, NULL);
    thsm_device_init(&dev, &port);
    dev.pin_kdf_log2n = 4; /* a cheap PIN KDF keeps the fuzzer fast */
    thsm_device_input(&dev, &sess, data, size);
    thsm_device_input(&dev, &sess, (const uint8_t *)"\r\n", 2);
    /* what was saved must load again */
    thsm_device_deinit(&dev);
    if (thsm_device_init(&dev, &port) != 0)
        abort();
    thsm_device_deinit(&dev);
    return 0;
}
