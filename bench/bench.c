/*
 * bench.c - measurements for make bench. Each mode prints one JSON object.
 *
 *   bench limit                   in-process P-256 signs/s, SHA-256 MB/s (64 MiB)
 *   bench device PORT N           N AT+SIGNER_SIGN round trips: rate, p50, p99
 *   bench link PORT N             the same, and the bytes exchanged per signature
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "host/at_client.h"
#include "host/hsm.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_limit(void)
{
    thsm_p256_key key = {0};
    uint8_t digest[32] = {1}, der[THSM_P256_SIG_DER_MAX];
    size_t len;
    if (thsm_p256_generate(&key) != 0)
        return 1;
    int n = 20000;
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        thsm_p256_sign(&key, digest, der, &len);
    double signs = n / (now_s() - t0);
    thsm_p256_key_clear(&key);

    size_t size = 64u << 20;
    uint8_t *buf = malloc(size);
    if (!buf)
        return 1;
    memset(buf, 0xa5, size);
    t0 = now_s();
    thsm_sha256(buf, size, digest);
    double mbs = (double)size / 1e6 / (now_s() - t0);
    free(buf);
    printf("{\"signs_per_s\": %.0f, \"sha256_mb_per_s\": %.1f}\n", signs, mbs);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Counts the bytes of one request and its response on the wire. */
typedef struct {
    size_t bytes;
} wire_count;

static void count_line(void *ctx, char dir, const char *line)
{
    (void)dir;
    ((wire_count *)ctx)->bytes += strlen(line) + 2; /* CR LF */
}

static int bench_device(const char *port, int n, int count_bytes)
{
    static thsm_at at;
    char err[256];
    thsm_err herr;
    uint8_t digest[32], sig[64];
    if (thsm_at_open(&at, port, err, sizeof(err)) != THSM_AT_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    double *lat = calloc((size_t)n, sizeof(double));
    wire_count wc = {0};
    if (count_bytes) {
        at.trace = count_line;
        at.trace_ctx = &wc;
    }
    int rc = lat ? 0 : 1;
    double t0 = now_s();
    for (int i = 0; i < n && rc == 0; i++) {
        memcpy(digest, &i, sizeof(i));
        double t = now_s();
        if (thsm_hsm_sign_digest(&at, digest, sig, &herr) != THSM_OK) {
            fprintf(stderr, "bench: %s\n", herr.msg);
            rc = 1;
        }
        lat[i] = now_s() - t;
    }
    double total = now_s() - t0;
    thsm_at_close(&at);
    if (rc == 0) {
        qsort(lat, (size_t)n, sizeof(double), cmp_double);
        printf("{\"round_trips_per_s\": %.0f, \"p50_us\": %.0f, \"p99_us\": %.0f",
               n / total, lat[n / 2] * 1e6, lat[(size_t)n * 99 / 100] * 1e6);
        if (count_bytes)
            printf(", \"bytes_per_signature\": %.0f",
                   (double)wc.bytes / n + 2); /* + the closing empty line */
        printf("}\n");
    }
    free(lat);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "limit") == 0)
        return bench_limit();
    if (argc == 4 && (strcmp(argv[1], "device") == 0 ||
                      strcmp(argv[1], "link") == 0))
        return bench_device(argv[2], atoi(argv[3]),
                            strcmp(argv[1], "link") == 0);
    fprintf(stderr, "usage: bench limit | bench device PORT N | bench link PORT N\n");
    return 2;
}
