/*
 * End-to-end tests of a real tinyhsmd on a pty, driven through the AT client
 * library and checked with the openssl command as an independent oracle.
 */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "host/at_client.h"
#include "host/hsm.h"
#include "testutil.h"

typedef struct {
    char dir[512];   /* scratch */
    char state[600]; /* the device's state directory */
    thsm_test_daemon d;
    thsm_at at;
    thsm_at_resp r;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    thsm_test_tmpdir(f->dir, sizeof(f->dir));
    snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
    assert_int_equal(thsm_test_daemon_start(&f->d, f->state, NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    thsm_at_close(&f->at);
    thsm_test_daemon_kill(&f->d);
    thsm_test_rmtree(f->dir);
    free(f);
    return 0;
}

static void connect_client(fixture *f)
{
    char err[256];
    int rc = thsm_at_open(&f->at, f->d.link, err, sizeof(err));
    if (rc != THSM_AT_OK)
        fail_msg("open %s: %s", f->d.link, err);
}

/* Sends a request; expects a status line starting with want. */
static thsm_at_resp *expect(fixture *f, const char *req, const char *want)
{
    assert_int_equal(thsm_at_cmd(&f->at, req, &f->r), THSM_AT_OK);
    assert_true(f->r.nlines > 0);
    if (strncmp(f->r.lines[0], want, strlen(want)) != 0)
        fail_msg("%s -> '%s', expected '%s...'", req, f->r.lines[0], want);
    return &f->r;
}

static const char *const provisioning[] = {
    "AT+RESET", "AT+STSAFE_INIT", "AT+HSM_CA_INIT", "AT+SIGNER_INIT",
    "AT+STSAFE_DECOMMISSION",
    "AT+HSM_CA_NEW_CERT C=US O=MyHSM CN=My_CA START=20230101000000 DAYS=365",
    "AT+SIGNER_NEW_KEY ALGO=SECP256R1",
    ("AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=Me CN=My_ECDSA_Signer "
     "START=20230101000000 DAYS=365"),
};

static void provision(fixture *f)
{
    for (size_t i = 0; i < sizeof(provisioning) / sizeof(provisioning[0]); i++)
        expect(f, provisioning[i], i == 0 ? "OK Reset" : "OK");
}

/* Writes the PEM of a response to path. */
static void save_pem(fixture *f, const char *req, const char *path)
{
    char pem[THSM_PEM_MAX];
    thsm_err herr;
    bool ca = strstr(req, "HSM_CA") != NULL;
    assert_int_equal(thsm_hsm_cert_pem(&f->at, ca, pem, sizeof(pem), &herr), 0);
    thsm_test_write_file(path, pem, strlen(pem));
}

static int sh(const char *fmt, const char *a, const char *b, const char *c)
{
    char out[4096];
    int rc = thsm_test_run(out, sizeof(out), fmt, a, b, c);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, out);
    return rc;
}

/* Signs sha256(data) and checks it with openssl against signer.pem. */
static void sign_and_check(fixture *f, const char *signer_pem)
{
    char data[700], sig[700], pub[700];
    const char *text = "firmware bytes";
    uint8_t digest[32], der[80];
    char req[100] = "AT+SIGNER_SIGN HASH=";
    snprintf(data, sizeof(data), "%s/data", f->dir);
    snprintf(sig, sizeof(sig), "%s/sig.der", f->dir);
    snprintf(pub, sizeof(pub), "%s/pub.pem", f->dir);
    thsm_test_write_file(data, text, strlen(text));
    thsm_sha256(text, strlen(text), digest);
    for (int i = 0; i < 32; i++)
        snprintf(req + 20 + 2 * i, 3, "%02X", digest[i]);
    expect(f, req, "OK ");
    unsigned len;
    int used;
    assert_int_equal(sscanf(f->r.text, "%u %n", &len, &used), 1);
    assert_int_equal(strlen(f->r.text + used), 2 * len);
    for (unsigned i = 0; i < len; i++)
        sscanf(f->r.text + used + 2 * i, "%2hhx", &der[i]);
    thsm_test_write_file(sig, der, len);
    assert_int_equal(sh("openssl x509 -in %s -noout -pubkey > %s%s", signer_pem,
                        pub, ""), 0);
    assert_int_equal(sh("openssl dgst -sha256 -verify %s -signature %s %s", pub,
                        sig, data), 0);
}

static void test_original_sequences(void **state)
{
    fixture *f = *state;
    char ca[700], signer[700];
    snprintf(ca, sizeof(ca), "%s/ca.pem", f->dir);
    snprintf(signer, sizeof(signer), "%s/signer.pem", f->dir);
    connect_client(f);
    provision(f);
    save_pem(f, "AT+HSM_CA_CERT? FORMAT=PEM", ca);
    /* the original signing sequence */
    expect(f, "AT+RESET", "OK Reset");
    expect(f, "AT+SIGNER_INIT", "OK");
    save_pem(f, "AT+SIGNER_CERT?", signer);
    sign_and_check(f, signer);
    /* 2023-06-01: inside the validity */
    assert_int_equal(sh("openssl verify -attime 1685577600 -CAfile %s %s%s", ca,
                        signer, ""), 0);
    assert_int_equal(sh("openssl x509 -in %s -noout -text | grep -q 'CA:TRUE'%s%s",
                        ca, "", ""), 0);
    assert_int_equal(sh("openssl x509 -in %s -noout -text | grep -q 'CA:FALSE'%s%s",
                        signer, "", ""), 0);
    assert_int_equal(sh("openssl x509 -in %s -noout -text | grep -q "
                        "'ecdsa-with-SHA256'%s%s", signer, "", ""), 0);
}

/* ---- the reference Python scripts' parsing, reproduced ----------------- */

static int raw_open(const char *path)
{
    int fd = open(path, O_RDWR | O_NOCTTY);
    struct termios t;
    assert_true(fd >= 0);
    tcgetattr(fd, &t);
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
    tcflush(fd, TCIOFLUSH);
    return fd;
}

/* pyserial readlines() with timeout=0.1: read until 0.1 s of quiet. */
static size_t read_until_quiet(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    struct pollfd p = {fd, POLLIN, 0};
    /* quiet means 100 ms after a whole answer (a blank line ends it): a
       loaded machine may pause longer inside one, as a slow key generation */
    while (n + 1 < cap) {
        bool whole = n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0;
        if (poll(&p, 1, whole ? 100 : 10000) <= 0)
            break;
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

static size_t strip_span(const char *s, size_t len, const char *set,
                         size_t *start)
{
    size_t a = 0, b = len;
    while (a < b && strchr(set, s[a]))
        a++;
    while (b > a && strchr(set, s[b - 1]))
        b--;
    *start = a;
    return b - a;
}

/* What the scripts keep of a response: the first line stripped of
 * "OK \r\n", the others of "OK ", concatenated. */
static void script_view(const char *resp, char *out, size_t cap)
{
    size_t o = 0;
    int first = 1;
    for (const char *line = resp; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line + 1) : strlen(line), start;
        size_t keep = strip_span(line, len, first ? "OK \r\n" : "OK ", &start);
        assert_true(o + keep < cap);
        memcpy(out + o, line + start, keep);
        o += keep;
        line += len;
        first = 0;
    }
    out[o] = '\0';
}

static void script_request(int fd, const char *req, char *view, size_t cap)
{
    static char resp[16384];
    char line[256];
    snprintf(line, sizeof(line), "%s\r\n", req);
    assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    read_until_quiet(fd, resp, sizeof(resp));
    script_view(resp, view, cap);
}

static void test_reference_script_parsing(void **state)
{
    fixture *f = *state;
    static char view[16384], der_hex[4096];
    char pem_path[700], der_path[700];
    snprintf(pem_path, sizeof(pem_path), "%s/script.pem", f->dir);
    snprintf(der_path, sizeof(der_path), "%s/script.der", f->dir);
    int fd = raw_open(f->d.link);
    for (int round = 0; round < 30; round++) {
        for (size_t i = 0; i < sizeof(provisioning) / sizeof(provisioning[0]); i++)
            script_request(fd, provisioning[i], view, sizeof(view));
        const char *cert_req[2] = {"AT+HSM_CA_CERT? FORMAT=PEM", "AT+SIGNER_CERT?"};
        const char *der_req[2] = {"AT+HSM_CA_CERT? FORMAT=DER",
                                  "AT+SIGNER_CERT? FORMAT=DER"};
        for (int k = 0; k < 2; k++) {
            script_request(fd, cert_req[k], view, sizeof(view));
            thsm_test_write_file(pem_path, view, strlen(view));
            script_request(fd, der_req[k], der_hex, sizeof(der_hex));
            /* "<len> <HEX>": the DER the device holds */
            const char *hex = strchr(der_hex, ' ') + 1;
            size_t n = strcspn(hex, "\r\n") / 2;
            uint8_t der[2048];
            for (size_t i = 0; i < n; i++)
                sscanf(hex + 2 * i, "%2hhx", &der[i]);
            thsm_test_write_file(der_path, der, n);
            /* what the script saved is the very same certificate */
            assert_int_equal(sh("openssl x509 -in %s -outform DER | cmp -s - %s%s",
                                pem_path, der_path, ""), 0);
        }
        /* the signature answer: drop "<len> " and hex-decode */
        script_request(fd, "AT+SIGNER_SIGN HASH=00112233445566778899AABBCCDDEEFF"
                           "00112233445566778899AABBCCDDEEFF", view, sizeof(view));
        uint8_t der[80], raw[64];
        size_t n = 0;
        for (const char *p = view + 3; *p && n < sizeof(der); p++) {
            if (strchr(" \r\n", *p))
                continue;
            sscanf(p, "%2hhx", &der[n++]);
            p++;
        }
        assert_int_equal(atoi(view), (int)n);
        assert_int_equal(thsm_p256_sig_der_to_raw(der, n, raw), 0);
    }
    close(fd);
}

static void test_clients_come_and_go(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++) {
        connect_client(f);
        expect(f, "AT", "OK");
        expect(f, "AT+VERSION?", "OK tinyhsmd");
        thsm_at_close(&f->at);
    }
    /* a client that leaves without reading its answer */
    int fd = raw_open(f->d.link);
    assert_int_equal(write(fd, "AT+ABOUT?\r\n", 11), 11);
    usleep(100000);
    close(fd);
    connect_client(f);
    expect(f, "AT+STSAFE_READY?", "OK READY");
    /* a second client at the same time is served too (the socket) */
    static thsm_at other;
    static thsm_at_resp r2;
    char err[256];
    assert_int_equal(thsm_at_open(&other, f->d.link, err, sizeof(err)),
                     THSM_AT_OK);
    assert_int_equal(thsm_at_cmd(&other, "AT", &r2), THSM_AT_OK);
    assert_true(r2.ok);
    expect(f, "AT", "OK");
    thsm_at_close(&other);
    /* on the pty itself, a second client is told the port is busy */
    static thsm_at a, b;
    assert_int_equal(thsm_at_open(&a, f->d.pty, err, sizeof(err)), THSM_AT_OK);
    assert_int_equal(thsm_at_open(&b, f->d.pty, err, sizeof(err)),
                     THSM_AT_ERR_BUSY);
    assert_non_null(strstr(err, "busy"));
    thsm_at_close(&a);
}

static void test_bad_input_over_the_pty(void **state)
{
    fixture *f = *state;
    static char longline[3000];
    connect_client(f);
    memset(longline, 'A', sizeof(longline) - 1);
    memcpy(longline, "AT+SIGNER_SIGN HASH=", 20);
    expect(f, longline, "ERROR LINE_TOO_LONG");
    expect(f, "AT", "OK");
    expect(f, "AT+\xff\xfe", "ERROR BAD_CHAR");
    expect(f, "AT", "OK");
    expect(f, "AT+WHAT", "ERROR UNKNOWN_COMMAND");
    expect(f, "AT+SIGNER_SIGN", "ERROR BAD_PARAM");
    expect(f, "AT+HSM_CA_NEW_CERT C=US O=A CN=B START=20230231000000 DAYS=1",
           "ERROR BAD_PARAM");
    expect(f, "AT+HSM_CA_CERT?", "ERROR NO_CA");
    expect(f, "AT", "OK");
}

static void file_bytes(const char *path, unsigned char **data, size_t *len)
{
    *data = thsm_test_read_file(path, len);
    assert_non_null(*data);
}

static void test_persistence_and_refusals(void **state)
{
    fixture *f = *state;
    char signer[700], path[700], out[2048];
    struct stat st;
    connect_client(f);
    provision(f);
    char ca_hex[4096];
    snprintf(ca_hex, sizeof(ca_hex), "%s",
             expect(f, "AT+HSM_CA_CERT? FORMAT=DER", "OK ")->text);
    thsm_at_close(&f->at);
    /* a second daemon on the same state directory is refused */
    thsm_test_daemon other;
    assert_int_not_equal(thsm_test_daemon_start(&other, f->state, NULL), 0);
    /* SIGTERM: clean exit, link removed */
    assert_int_equal(thsm_test_daemon_stop(&f->d), 0);
    assert_int_not_equal(lstat(f->d.link, &st), 0);
    /* permissions */
    assert_int_equal(stat(f->state, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    const char *files[] = {"device.key", "state.bin", "audit.log"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", f->state, files[i]);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    /* restart: same certificates, the signer still signs */
    assert_int_equal(thsm_test_daemon_start(&f->d, f->state, NULL), 0);
    connect_client(f);
    assert_string_equal(expect(f, "AT+HSM_CA_CERT? FORMAT=DER", "OK ")->text,
                        ca_hex);
    snprintf(signer, sizeof(signer), "%s/signer.pem", f->dir);
    save_pem(f, "AT+SIGNER_CERT?", signer);
    sign_and_check(f, signer);
    thsm_at_close(&f->at);
    assert_int_equal(thsm_test_daemon_stop(&f->d), 0);
    /* a corrupted state file: refused with a reason, left as it was */
    unsigned char *data;
    size_t len;
    snprintf(path, sizeof(path), "%s/state.bin", f->state);
    file_bytes(path, &data, &len);
    data[len / 2] ^= 0x20;
    thsm_test_write_file(path, data, len);
    assert_int_not_equal(thsm_test_daemon_start(&f->d, f->state, NULL), 0);
    assert_int_equal(thsm_test_run(out, sizeof(out), "%s --state %s --link %s/x",
                                   thsm_test_bin("tinyhsmd"), f->state, f->dir), 1);
    assert_non_null(strstr(out, "state.bin"));
    unsigned char *after;
    size_t after_len;
    file_bytes(path, &after, &after_len);
    assert_int_equal(after_len, len);
    assert_memory_equal(after, data, len);
    free(data);
    free(after);
}

/* A login ends with its connection, however fast the next client comes. */
static void test_login_ends_with_the_connection(void **state)
{
    fixture *f = *state;
    connect_client(f);
    provision(f);
    expect(f, "AT+PIN_SET NEW=secret-pin", "OK");
    for (int i = 0; i < 20; i++) {
        thsm_at_close(&f->at);
        connect_client(f); /* at once: no time for the daemon to see a hang-up */
        if (!strstr(expect(f, "AT+HSM_STATUS?", "OK ")->text, "AUTH=0"))
            fail_msg("round %d: the new client inherited the login: %s", i,
                     f->r.text);
        expect(f, "AT+SIGNER_SIGN HASH=00112233445566778899AABBCCDDEEFF"
                  "00112233445566778899AABBCCDDEEFF", "ERROR AUTH_REQUIRED");
        expect(f, "AT+AUTH PIN=secret-pin", "OK");
    }
}

static void test_signing_rate(void **state)
{
    fixture *f = *state;
    uint8_t digest[32] = {0}, sig[64];
    thsm_err herr;
    connect_client(f);
    provision(f);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 1000; i++) {
        memcpy(digest, &i, sizeof(i));
        assert_int_equal(thsm_hsm_sign_digest(&f->at, digest, sig, &herr), 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# 1000 AT+SIGNER_SIGN round trips in %.3f s: %.0f signatures/s\n",
           s, 1000 / s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_original_sequences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference_script_parsing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_clients_come_and_go, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_over_the_pty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_persistence_and_refusals, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_login_ends_with_the_connection,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_signing_rate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
