/*
 * bench.c - measurements for make bench. Each mode prints one JSON object.
 *
 *   bench limit                   in-process P-256 signs/s, SHA-256 MB/s (64 MiB)
 *   bench device PORT N           N AT+SIGNER_SIGN round trips: rate, p50, p99
 *   bench link PORT N             the same, and the bytes exchanged per signature
 *   bench pkcs11 MODULE PIN THREADS SECONDS
 *                                 C_Sign (CKM_ECDSA) with the key labelled
 *                                 "signer", THREADS sessions at once
 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
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

/* ---- PKCS#11 ---------------------------------------------------------------- */

typedef struct {
    CK_FUNCTION_LIST *f;
    CK_SLOT_ID slot;
    CK_OBJECT_HANDLE key;
    double until;
    unsigned long n;
    CK_RV rv;
} p11_job;

static void *p11_signer(void *arg)
{
    p11_job *j = arg;
    CK_SESSION_HANDLE s;
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    unsigned char digest[32] = {3}, sig[128];
    j->rv = j->f->C_OpenSession(j->slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
    do { /* at least one: the warm-up pass (connection, login) */
        CK_ULONG len = sizeof(sig);
        memcpy(digest, &j->n, sizeof(j->n));
        j->rv = j->f->C_SignInit(s, &m, j->key);
        if (j->rv == CKR_OK)
            j->rv = j->f->C_Sign(s, digest, 32, sig, &len);
        j->n++;
    } while (j->rv == CKR_OK && now_s() < j->until);
    if (j->rv == CKR_OK)
        j->f->C_CloseSession(s);
    return NULL;
}

/* Loads module, logs in, finds the private key labelled "signer". */
static CK_RV p11_setup(const char *module, const char *pin, p11_job *j,
                       CK_SESSION_HANDLE *s)
{
    CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, "signer", 6}};
    CK_ULONG n = 1;
    void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    CK_C_GetFunctionList get = h ? (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList") : NULL;
    CK_RV rv = get ? get(&j->f) : CKR_GENERAL_ERROR;
    if (rv == CKR_OK)
        rv = j->f->C_Initialize(&args);
    CK_SLOT_ID slots[16];
    n = 16;
    if (rv == CKR_OK)
        rv = j->f->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv == CKR_OK && n == 0)
        rv = CKR_TOKEN_NOT_PRESENT;
    if (rv == CKR_OK)
        j->slot = slots[0]; /* the first token */
    if (rv == CKR_OK)
        rv = j->f->C_OpenSession(j->slot, CKF_SERIAL_SESSION, NULL, NULL, s);
    if (rv == CKR_OK)
        rv = j->f->C_Login(*s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
    if (rv == CKR_USER_PIN_NOT_INITIALIZED)
        rv = CKR_OK; /* a device without a PIN signs without a login */
    if (rv == CKR_OK)
        rv = j->f->C_FindObjectsInit(*s, t, 2);
    if (rv == CKR_OK)
        rv = j->f->C_FindObjects(*s, &j->key, 1, &n);
    if (rv == CKR_OK)
        j->f->C_FindObjectsFinal(*s);
    return rv == CKR_OK && n == 0 ? CKR_KEY_HANDLE_INVALID : rv;
}

static int bench_pkcs11(const char *module, const char *pin, int threads,
                        double seconds)
{
    p11_job base = {0}, jobs[64];
    pthread_t t[64];
    CK_SESSION_HANDLE s;
    unsigned long total = 0;
    CK_RV rv = p11_setup(module, pin, &base, &s);
    if (threads < 1 || threads > 64 || rv != CKR_OK) {
        fprintf(stderr, "bench: %s: setup failed (0x%lx)\n", module, rv);
        return 1;
    }
    /* a warm-up pass (connections, logins), outside the clock */
    for (int pass = 0; pass < 2; pass++) {
        double t0 = now_s();
        for (int i = 0; i < threads; i++) {
            jobs[i] = base;
            jobs[i].until = t0 + (pass || seconds < 1 ? seconds : 1);
            pthread_create(&t[i], NULL, p11_signer, &jobs[i]);
        }
        total = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(t[i], NULL);
            total += jobs[i].n;
            if (jobs[i].rv != CKR_OK) {
                fprintf(stderr, "bench: C_Sign failed (0x%lx)\n", jobs[i].rv);
                return 1;
            }
        }
        if (pass)
            printf("{\"threads\": %d, \"sign_per_s\": %.0f}\n", threads,
                   total / (now_s() - t0));
    }
    base.f->C_Finalize(NULL);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "pkcs11") == 0)
        return bench_pkcs11(argv[2], argv[3], atoi(argv[4]), atof(argv[5]));
    if (argc == 2 && strcmp(argv[1], "limit") == 0)
        return bench_limit();
    if (argc == 4 && (strcmp(argv[1], "device") == 0 ||
                      strcmp(argv[1], "link") == 0))
        return bench_device(argv[2], atoi(argv[3]),
                            strcmp(argv[1], "link") == 0);
    fprintf(stderr, "usage: bench limit | bench device PORT N | bench link PORT N"
                    " | bench pkcs11 MODULE PIN THREADS SECONDS\n");
    return 2;
}
