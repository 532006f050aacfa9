/*
 * fuzz_host_log.c - arbitrary device answers into the host's audit log
 * reader (thsm_hsm_log_read), through a socketpair. The reader must end
 * (libFuzzer's -timeout catches a loop), never hand out more records than
 * the device announced, and count what it handed out.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/hsm.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

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
    char err[THSM_ERR_MAX];
    int sv[2];
    if (size > 65536)
        return 0;
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(write(sv[1], data, size) == (ssize_t)size);
    shutdown(sv[1], SHUT_WR);
    memset(&at, 0, sizeof(at));
    at.fd = sv[0];
    at.timeout_ms = 1000;
    int rc = thsm_hsm_log_read(&at, count, &seen, &anchor, &got, err,
                               sizeof(err));
    CHECK(seen == got);
    CHECK(rc != 0 || got <= anchor.total);
    CHECK(anchor.total <= THSM_LOG_TOTAL_MAX);
    CHECK(rc == 0 || strlen(err) > 0);
    for (const char *p = rc ? err : ""; *p; p++)
        CHECK(*p >= 0x20 && *p <= 0x7e); /* device text comes escaped */
    close(sv[0]);
    close(sv[1]);
    return 0;
}
