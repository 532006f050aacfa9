/*
 * fuzz_host_at.c - arbitrary device bytes into the AT client's response
 * framing (host/at_client.c), through a socketpair: the bytes, then the
 * end of the stream. Several requests in a row exercise the leftovers of
 * one response before the next. Checks the shape every caller relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/at_client.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

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
    int sv[2];
    if (size > 65536)
        return 0;
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(write(sv[1], data, size) == (ssize_t)size);
    shutdown(sv[1], SHUT_WR); /* the device says no more */
    memset(&at, 0, sizeof(at));
    at.fd = sv[0];
    at.timeout_ms = 1000;
    for (int i = 0; i < 8; i++) {
        int rc = thsm_at_cmd(&at, "AT+HSM_STATUS?", &r);
        check_resp(&r);
        if (rc != THSM_AT_OK)
            break;
    }
    close(sv[0]);
    close(sv[1]);
    return 0;
}
