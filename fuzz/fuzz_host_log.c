/*
 * fuzz_host_log.c - arbitrary device answers into the host's audit log
 * reader (thsm_hsm_log_read), through a fake device (fuzz_device.h). The reader must end
 * (libFuzzer's -timeout catches a loop), never hand out more records than
 * the device announced, and count what it handed out.
 */
#include "fuzz_device.h" /* first: it sets _GNU_SOURCE */

#include <string.h>

#include "host/hsm.h"

static void count(void *ctx, unsigned long index, const char *line)
{
    unsigned long *n = ctx;
    CHECK(index == *n && line != NULL);
    (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static thsm_at at;
    thsm_log_page anchor;
    unsigned long got = 0, seen = 0;
    thsm_err herr;
    fuzz_device d;
    if (size > 65536)
        return 0;
    fuzz_device_start(&d, &at, data, size);
    int rc = thsm_hsm_log_read(&at, count, &seen, &anchor, &got, &herr);
    const char *err = herr.msg;
    CHECK(seen == got);
    CHECK(rc != 0 || got <= anchor.total);
    CHECK(anchor.total <= THSM_LOG_TOTAL_MAX);
    CHECK(rc == 0 || strlen(err) > 0);
    for (const char *p = rc ? err : ""; *p; p++)
        CHECK(*p >= 0x20 && *p <= 0x7e); /* device text comes escaped */
    fuzz_device_stop(&d);
    return 0;
}
