/*
 * fuzz_host_at.c - arbitrary device bytes into the AT client's response
 * framing (host/at_client.c), through a fake device (fuzz_device.h) that
 * answers each request with the next chunk of the input. Several requests
 * in a row exercise the leftovers of one response before the next (a
 * protocol error on a socket). Checks the shape every caller relies on.
 */
#include "fuzz_device.h" /* first: it sets _GNU_SOURCE */

#include <string.h>

#include "host/at_client.h"

static void check_resp(const thsm_at_resp *r)
{
    CHECK(r->nlines <= THSM_AT_LINES_MAX);
    for (size_t i = 0; i < r->nlines; i++) {
        const char *l = r->lines[i];
        CHECK(l >= r->buf && l < r->buf + sizeof(r->buf));
        CHECK(strchr(l, '\n') == NULL); /* a NUL byte may end it early */
    }
    CHECK(!r->ok || strncmp(r->lines[0], "OK", 2) == 0);
    CHECK(!*r->code || strncmp(r->lines[0], "ERROR", 5) == 0);
    CHECK(strlen(r->code) < sizeof(r->code_buf));
    CHECK(!*r->text || (r->text > r->buf && r->text < r->buf + sizeof(r->buf)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static thsm_at at;
    static thsm_at_resp r;
    fuzz_device d;
    if (size > 65536)
        return 0;
    fuzz_device_start(&d, &at, data, size);
    for (int i = 0; i < 6; i++) {
        int rc = thsm_at_cmd(&at, "AT+HSM_STATUS?", &r);
        check_resp(&r);
        if (rc != THSM_AT_OK)
            break;
    }
    fuzz_device_stop(&d);
    return 0;
}
