/*
 * Load and abuse: 10,000 signing requests back to back with 1,000 malformed
 * lines interleaved. Every valid request must get a signature that verifies,
 * every bad one a refusal, and the daemon's memory must stay flat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "crypto/x509_host.h"
#include "host/at_client.h"
#include "host/hsm.h"
#include "testutil.h"

#define SIGNS 10000
#define BAD_EVERY 10

/* Resident set size of pid in KiB, from /proc (field is "VmRSS" or "VmHWM"). */
static long proc_kib(int pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, field, strlen(field)) == 0)
            v = atol(line + strlen(field) + 1);
    if (f)
        fclose(f);
    return v;
}

static const char *const bad_lines[] = {
    "AT+SIGNER_SIGN HASH=zz",
    "AT+SIGNER_SIGN HASH=0011",
    "AT+SIGNER_SIGN",
    "AT+SIGNER_SIGN HASH=00 HASH=11",
    "AT+NOPE",
    "AT+HSM_CA_NEW_CERT C=US O=A CN=B START=20231301000000 DAYS=1",
    "AT+\x80\x81",
    "AT+SIGNER_NEW_KEY ALGO=RSA",
};

static void sign_one(thsm_at *at, const uint8_t pub[65], int i)
{
    uint8_t digest[32], sig[64];
    thsm_err herr;
    thsm_sha256(&i, sizeof(i), digest);
    if (thsm_hsm_sign_digest(at, digest, sig, &herr) != 0)
        fail_msg("request %d: %s", i, herr.msg);
    assert_int_equal(thsm_p256_verify(pub, digest, sig), 0);
}

static void test_load_and_abuse(void **state)
{
    (void)state;
    static thsm_at at;
    static thsm_at_resp r;
    char dir[256], st[300], err[300], pem[THSM_PEM_MAX];
    thsm_err herr;
    thsm_test_daemon d;
    uint8_t pub[65];
    thsm_subject ca = {"US", "MyHSM", "My_CA", "20250101000000", 3650};
    thsm_subject signer = {"US", "Me", "Load", "20250101000000", 730};
    /* keep ASan's quarantine from looking like growth */
    setenv("ASAN_OPTIONS", "quarantine_size_mb=1:detect_leaks=1", 1);
    thsm_test_tmpdir(dir, sizeof(dir));
    snprintf(st, sizeof(st), "%s/state", dir);
    assert_int_equal(thsm_test_daemon_start(&d, st, NULL), 0);
    assert_int_equal(thsm_at_open(&at, d.link, err, sizeof(err)), THSM_AT_OK);
    assert_int_equal(thsm_hsm_provision(&at, 1, &ca, &signer, &herr), 0);
    assert_int_equal(thsm_hsm_cert_pem(&at, 0, pem, sizeof(pem), &herr), 0);
    assert_int_equal(thsm_pubkey_from_pem((uint8_t *)pem, strlen(pem), pub), 0);
    for (int i = 0; i < 500; i++) /* warm up: caches, allocator pools */
        sign_one(&at, pub, -1 - i);
    long rss_start = proc_kib(d.pid, "VmRSS");
    int bad = 0;
    for (int i = 0; i < SIGNS; i++) {
        sign_one(&at, pub, i);
        if (i % BAD_EVERY == BAD_EVERY - 1) {
            const char *line = bad_lines[bad++ % 8];
            assert_int_equal(thsm_at_cmd(&at, line, &r), THSM_AT_OK);
            if (strncmp(r.lines[0], "ERROR ", 6) != 0)
                fail_msg("'%s' was not refused: %s", line, r.lines[0]);
        }
    }
    long rss_end = proc_kib(d.pid, "VmRSS"), peak = proc_kib(d.pid, "VmHWM");
    printf("# %d signatures, %d malformed lines; daemon RSS %ld KiB -> %ld "
           "KiB, peak %ld KiB\n", SIGNS, bad, rss_start, rss_end, peak);
    assert_int_equal(bad, SIGNS / BAD_EVERY);
    assert_true(rss_start > 0 && rss_end - rss_start < 2048); /* flat: < 2 MiB */
    thsm_at_close(&at);
    assert_int_equal(thsm_test_daemon_stop(&d), 0);
    thsm_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_abuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
