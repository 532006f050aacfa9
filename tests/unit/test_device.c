/* Unit tests of the device core over an in-memory port. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/aead.h"
#include "crypto/hmac.h"
#include "crypto/kdf.h"
#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "crypto/x509.h"
#include "crypto/x509_host.h"
#include "device/audit.h"
#include "device/device.h"
#include "device/response.h"
#include "device/store.h"
#include "device/values.h"
#include "util/base64.h"
#include "util/hex.h"
#include "port/mem/port_mem.h"

typedef struct {
    thsm_mem_port mp;
    thsm_port port;
    thsm_device dev;
    thsm_session s; /* the connection req() talks on */
    char out[16384]; /* last response */
    size_t out_len;
    int responses;
    char all[262144]; /* every response, to look for leaked secrets */
    size_t all_len;
    int64_t tick; /* seconds the clock moves before each request: the tests
                     of other rules outrun the waits after wrong PINs */
} fixture;

static void collect(void *ctx, const char *data, size_t len)
{
    fixture *f = ctx;
    assert_true(len < sizeof(f->out));
    memcpy(f->out, data, len);
    f->out[len] = '\0';
    f->out_len = len;
    f->responses++;
    if (f->all_len + len < sizeof(f->all)) {
        memcpy(f->all + f->all_len, data, len);
        f->all_len += len;
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    thsm_mem_port_init(&f->mp, &f->port);
    f->tick = 600;
    thsm_session_init(&f->s, collect, f);
    assert_int_equal(thsm_device_init(&f->dev, &f->port), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    thsm_device_deinit(&f->dev);
    free(f);
    return 0;
}

/* Sends one request line on session s and returns the response text. */
static const char *req_on(fixture *f, thsm_session *s, const char *line)
{
    int before = f->responses;
    f->mp.now += f->tick;
    thsm_device_input(&f->dev, s, (const uint8_t *)line, strlen(line));
    thsm_device_input(&f->dev, s, (const uint8_t *)"\r\n", 2);
    assert_int_equal(f->responses, before + 1);
    /* every response ends with exactly one empty line */
    assert_true(f->out_len >= 4);
    assert_string_equal(f->out + f->out_len - 4, "\r\n\r\n");
    return f->out;
}

/* Sends one request line on the fixture's own session. */
static const char *req(fixture *f, const char *line)
{
    return req_on(f, &f->s, line);
}

/* Copies a response for a later comparison; it must fit whole. */
static void keep(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    assert_true(n < cap);
    memcpy(dst, src, n + 1);
}

static void assert_starts(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("expected '%s...', got '%s'", prefix, s);
}

static void provision(fixture *f)
{
    assert_starts(req(f, "AT+HSM_CA_NEW_CERT C=US O=MyHSM CN=My_CA "
                         "START=20230101000000 DAYS=365"),
                  "OK\r\n");
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"), "OK\r\n");
    assert_starts(req(f, "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=Me "
                         "CN=My_ECDSA_Signer START=20230101000000 DAYS=365"),
                  "OK\r\n");
}

static void test_basic_commands(void **state)
{
    fixture *f = *state;
    assert_string_equal(req(f, "AT"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+RESET"), "OK Reset\r\n\r\n");
    assert_starts(req(f, "AT+VERSION?"), "OK tinyhsmd ");
    assert_starts(req(f, "AT+ABOUT?"), "OK TinyHSM");
    assert_string_equal(req(f, "AT+STSAFE_INIT"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+HSM_CA_INIT"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+SIGNER_INIT"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+STSAFE_READY?"), "OK READY\r\n\r\n");
    assert_starts(req(f, "AT+STSAFE_HOST_KEY?"), "OK ");
    const char *serial = req(f, "AT+STSAFE_SERIAL?");
    assert_int_equal(strlen(serial), strlen("OK ") + 18 + 4);
    char first[64];
    snprintf(first, sizeof(first), "%s", serial);
    assert_string_equal(req(f, "AT+STSAFE_SERIAL?"), first); /* stable */
}

static void test_framing(void **state)
{
    fixture *f = *state;
    /* bare LF, lone CR and CR LF split across calls all end a line */
    thsm_device_input(&f->dev, &f->s, (const uint8_t *)"AT\n", 3);
    assert_int_equal(f->responses, 1);
    thsm_device_input(&f->dev, &f->s, (const uint8_t *)"AT\r", 3);
    assert_int_equal(f->responses, 2);
    thsm_device_input(&f->dev, &f->s, (const uint8_t *)"\nA", 2); /* LF of CR LF */
    thsm_device_input(&f->dev, &f->s, (const uint8_t *)"T\r", 2);
    thsm_device_input(&f->dev, &f->s, (const uint8_t *)"\n", 1);
    assert_int_equal(f->responses, 3);
    assert_string_equal(f->out, "OK\r\n\r\n");
    /* empty lines are ignored */
    thsm_device_input(&f->dev, &f->s, (const uint8_t *)"\r\n\n\r\n", 5);
    assert_int_equal(f->responses, 3);
}

static void test_line_too_long(void **state)
{
    fixture *f = *state;
    char line[2100];
    memset(line, 'A', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    memcpy(line, "AT+SIGNER_SIGN HASH=", 20);
    assert_starts(req(f, line), "ERROR LINE_TOO_LONG ");
    line[THSM_PROTO_LINE_MAX] = '\0'; /* exactly at the limit: parsed normally */
    assert_starts(req(f, line), "ERROR BAD_PARAM ");
    line[THSM_PROTO_LINE_MAX] = 'A'; /* one byte over */
    line[THSM_PROTO_LINE_MAX + 1] = '\0';
    assert_starts(req(f, line), "ERROR LINE_TOO_LONG ");
    assert_string_equal(req(f, "AT"), "OK\r\n\r\n");
}

static void test_bad_bytes(void **state)
{
    fixture *f = *state;
    assert_starts(req(f, "AT\xc3\xa9"), "ERROR BAD_CHAR ");
    assert_starts(req(f, "AT\x01"), "ERROR BAD_CHAR ");
    assert_starts(req(f, "AT+HSM_CA_NEW_CERT C=US O=\tX CN=Y START=20230101000000 "
                         "DAYS=1"),
                  "ERROR BAD_CHAR ");
    assert_starts(req(f, "AT+HSM_CA_CERT?"), "ERROR NO_CA "); /* nothing made */
    assert_string_equal(req(f, "AT"), "OK\r\n\r\n");
}

static void test_unknown_and_params(void **state)
{
    fixture *f = *state;
    assert_starts(req(f, "AT+NOPE"), "ERROR UNKNOWN_COMMAND ");
    assert_starts(req(f, "at"), "ERROR UNKNOWN_COMMAND "); /* case-sensitive */
    assert_starts(req(f, "HELLO"), "ERROR UNKNOWN_COMMAND ");
    assert_starts(req(f, "AT+SIGNER_NEW_KEY"), "ERROR BAD_PARAM missing");
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1 ALGO=SECP256R1"),
                  "ERROR BAD_PARAM duplicate");
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1 X=1"),
                  "ERROR BAD_PARAM unknown");
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO"), "ERROR BAD_PARAM ");
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO="), "ERROR BAD_PARAM ");
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=RSA2048"), "ERROR BAD_PARAM ");
    assert_starts(req(f, "AT X=1"), "ERROR BAD_PARAM unknown");
    assert_starts(req(f, "AT+HSM_CA_CERT? FORMAT=TXT"), "ERROR BAD_PARAM ");
    assert_starts(req(f, "AT+SIGNER_PUBKEY?"), "ERROR NO_SIGNER ");
    assert_string_equal(req(f, "AT"), "OK\r\n\r\n");
}

static void expect_ca_refused(fixture *f, const char *fields)
{
    char line[600];
    snprintf(line, sizeof(line), "AT+HSM_CA_NEW_CERT %s", fields);
    assert_starts(req(f, line), "ERROR BAD_PARAM ");
    assert_starts(req(f, "AT+HSM_CA_CERT?"), "ERROR NO_CA ");
}

static void test_cert_param_validation(void **state)
{
    fixture *f = *state;
    const char *ok_tail = "START=20230101000000 DAYS=365";
    char line[600];
    expect_ca_refused(f, "C=US O=A CN=B START=20231301000000 DAYS=1");
    expect_ca_refused(f, "C=US O=A CN=B START=20230231000000 DAYS=1");
    expect_ca_refused(f, "C=US O=A CN=B START=20230229000000 DAYS=1");
    expect_ca_refused(f, "C=US O=A CN=B START=20230101240000 DAYS=1");
    expect_ca_refused(f, "C=US O=A CN=B START=2023010100000 DAYS=1");
    expect_ca_refused(f, "C=US O=A CN=B START=19691231000000 DAYS=1");
    expect_ca_refused(f, "C=US O=A CN=B START=2023010100000X DAYS=1");
    expect_ca_refused(f, "C=US O=A CN=B START=20230101000000 DAYS=0");
    expect_ca_refused(f, "C=US O=A CN=B START=20230101000000 DAYS=36501");
    expect_ca_refused(f, "C=US O=A CN=B START=20230101000000 DAYS=99999999999");
    expect_ca_refused(f, "C=US O=A CN=B START=20230101000000 DAYS=-1");
    expect_ca_refused(f, "C=US O=A CN=B START=20230101000000 DAYS=07");
    expect_ca_refused(f, "C=US O=A CN=B START=99991231000000 DAYS=2");
    expect_ca_refused(f, "C=USA O=A CN=B START=20230101000000 DAYS=1");
    expect_ca_refused(f, "C=us O=A CN=B START=20230101000000 DAYS=1");
    char longv[80];
    memset(longv, 'x', 65);
    longv[65] = '\0';
    snprintf(line, sizeof(line), "C=US O=%s CN=B %s", longv, ok_tail);
    expect_ca_refused(f, line);
    snprintf(line, sizeof(line), "C=US O=A CN=%s %s", longv, ok_tail);
    expect_ca_refused(f, line);
    longv[64] = '\0'; /* 64 characters are allowed */
    snprintf(line, sizeof(line), "AT+HSM_CA_NEW_CERT C=US O=A CN=%s "
                                 "START=20240229235959 DAYS=36500", longv);
    assert_starts(req(f, line), "OK\r\n");
}

static void test_provision_and_sign(void **state)
{
    fixture *f = *state;
    assert_starts(req(f, "AT+SIGNER_SIGN HASH=" "00112233445566778899aabbccddeeff"
                         "00112233445566778899AABBCCDDEEFF"),
                  "ERROR NO_SIGNER ");
    provision(f);
    assert_starts(req(f, "AT+HSM_CA_NEW_CERT C=US O=X CN=Y "
                         "START=20230101000000 DAYS=1"),
                  "ERROR CA_EXISTS ");
    const char *info = req(f, "AT+HSM_CA_CERT_INFO?");
    assert_non_null(strstr(info, "Subject: C=US, O=MyHSM, CN=My_CA\r\n"));
    assert_non_null(strstr(info, "Valid from: 2023-01-01 00:00:00 UTC\r\n"));
    assert_non_null(strstr(info, "Valid until: 2024-01-01 00:00:00 UTC\r\n"));
    assert_non_null(strstr(info, "Type: CA\r\n"));
    info = req(f, "AT+SIGNER_CERT_INFO?");
    assert_non_null(strstr(info, "Subject: C=US, O=Me, CN=My_ECDSA_Signer"));
    assert_non_null(strstr(info, "Issuer: C=US, O=MyHSM, CN=My_CA"));
    assert_non_null(strstr(info, "Type: end entity"));

    uint8_t digest[32], der[80], raw[64], pub[65];
    for (int i = 0; i < 32; i++)
        digest[i] = (uint8_t)(i * 7);
    char line[200], hex[65];
    thsm_hex(digest, 32, hex);
    snprintf(line, sizeof(line), "AT+SIGNER_SIGN HASH=%s", hex);
    const char *r = req(f, line);
    unsigned len;
    char sighex[200];
    assert_int_equal(sscanf(r, "OK %u %199s", &len, sighex), 2);
    assert_int_equal(strlen(sighex), 2 * len);
    assert_int_equal(thsm_parse_hex(sighex, der, len), 0);
    assert_int_equal(thsm_p256_sig_der_to_raw(der, len, raw), 0);
    char pubhex[131];
    assert_int_equal(sscanf(req(f, "AT+SIGNER_PUBKEY?"), "OK %130s", pubhex), 1);
    assert_int_equal(thsm_parse_hex(pubhex, pub, 65), 0);
    assert_int_equal(thsm_p256_verify(pub, digest, raw), 0);
    digest[0] ^= 1;
    assert_int_not_equal(thsm_p256_verify(pub, digest, raw), 0);
}

static void test_bad_hash(void **state)
{
    fixture *f = *state;
    provision(f);
    const char *bad[] = {
        "AT+SIGNER_SIGN HASH=0011",
        "AT+SIGNER_SIGN HASH=00112233445566778899aabbccddeeff"
        "00112233445566778899aabbccddeefg",
        "AT+SIGNER_SIGN HASH=00112233445566778899aabbccddeeff"
        "00112233445566778899aabbccddeeff00",
        "AT+SIGNER_SIGN HASH=00112233445566778899aabbccddeeff"
        "00112233445566778899aabbccddeef",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_starts(req(f, bad[i]), "ERROR BAD_PARAM ");
}

static void test_new_key_invalidates_cert(void **state)
{
    fixture *f = *state;
    provision(f);
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"), "OK\r\n");
    assert_starts(req(f, "AT+SIGNER_SIGN HASH=00112233445566778899aabbccddeeff"
                         "00112233445566778899aabbccddeeff"),
                  "ERROR NO_SIGNER_CERT ");
    assert_starts(req(f, "AT+SIGNER_CERT?"), "ERROR NO_SIGNER_CERT ");
    assert_starts(req(f, "AT+SIGNER_NEW_CERT TYPE=SELF-SIGNED C=US O=Me CN=S "
                         "START=20230101000000 DAYS=30"),
                  "OK\r\n");
    assert_non_null(strstr(req(f, "AT+SIGNER_CERT_INFO?"),
                           "Issuer: C=US, O=Me, CN=S\r\n"));
    assert_starts(req(f, "AT+SIGNER_NEW_CERT TYPE=OTHER C=US O=Me CN=S "
                         "START=20230101000000 DAYS=30"),
                  "ERROR BAD_PARAM ");
}

static void test_signer_cert_needs_ca(void **state)
{
    fixture *f = *state;
    assert_starts(req(f, "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=Me CN=S "
                         "START=20230101000000 DAYS=30"),
                  "ERROR NO_SIGNER ");
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"), "OK\r\n");
    assert_starts(req(f, "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=Me CN=S "
                         "START=20230101000000 DAYS=30"),
                  "ERROR NO_CA ");
}

/* Decodes the PEM in a response, checking the line rules for the scripts. */
static size_t pem_lines_ok(const char *resp, char *b64, size_t cap)
{
    const char *p = strstr(resp, "-----BEGIN CERTIFICATE-----\r\n");
    assert_non_null(p);
    p = strchr(p, '\n') + 1;
    size_t n = 0;
    while (strncmp(p, "-----END CERTIFICATE-----", 25) != 0) {
        const char *eol = strstr(p, "\r\n");
        assert_non_null(eol);
        size_t len = (size_t)(eol - p);
        assert_true(len > 0 && len <= 64);
        assert_true(p[0] != 'O' && p[0] != 'K' && p[0] != ' ');
        assert_true(n + len < cap);
        memcpy(b64 + n, p, len);
        n += len;
        p = eol + 2;
    }
    b64[n] = '\0';
    return n;
}

static void test_pem_and_der_agree(void **state)
{
    fixture *f = *state;
    for (int round = 0; round < 20; round++) { /* many keys: many b64 lines */
        provision(f);
        char b64[4096], b64_of_der[4096];
        char pem[16384];
        keep(pem, sizeof(pem), req(f, "AT+HSM_CA_CERT? FORMAT=PEM"));
        assert_starts(pem, "OK\r\n-----BEGIN CERTIFICATE-----\r\n");
        pem_lines_ok(pem, b64, sizeof(b64));
        unsigned len;
        static char hex[4096];
        assert_int_equal(sscanf(req(f, "AT+HSM_CA_CERT? FORMAT=DER"),
                                "OK %u %4095s", &len, hex), 2);
        uint8_t der[2048];
        assert_int_equal(thsm_parse_hex(hex, der, len), 0);
        thsm_base64(der, len, b64_of_der);
        assert_string_equal(b64, b64_of_der);
        pem_lines_ok(req(f, "AT+SIGNER_CERT?"), b64, sizeof(b64));
        assert_string_equal(req(f, "AT+STSAFE_DECOMMISSION"), "OK\r\n\r\n");
    }
}

static void test_pem_line_breaking(void **state)
{
    (void)state;
    char b64[300];
    memset(b64, 'A', sizeof(b64));
    b64[64] = 'O';
    b64[63] = 'K';
    b64[200] = '\0';
    /* the next line would start with O at 64 and K at 63: break at 63-1 */
    assert_int_equal(thsm_pem_line_len(b64, 200, 0), 62);
    assert_int_equal(thsm_pem_line_len(b64, 200, 62), 64);
    assert_int_equal(thsm_pem_line_len(b64, 10, 0), 10);
}

static void test_decommission(void **state)
{
    fixture *f = *state;
    provision(f);
    assert_string_equal(req(f, "AT+STSAFE_DECOMMISSION"), "OK\r\n\r\n");
    assert_starts(req(f, "AT+HSM_CA_CERT?"), "ERROR NO_CA ");
    assert_starts(req(f, "AT+SIGNER_CERT?"), "ERROR NO_SIGNER ");
    assert_starts(req(f, "AT+SIGNER_PUBKEY?"), "ERROR NO_SIGNER ");
    provision(f); /* the reference provisioning works again */
}

static void test_persistence(void **state)
{
    fixture *f = *state;
    provision(f);
    char ca[4096], pub[200];
    keep(ca, sizeof(ca), req(f, "AT+HSM_CA_CERT?"));
    keep(pub, sizeof(pub), req(f, "AT+SIGNER_PUBKEY?"));
    thsm_device_deinit(&f->dev);
    assert_int_equal(thsm_device_init(&f->dev, &f->port), 0);
    assert_string_equal(req(f, "AT+HSM_CA_CERT?"), ca);
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), pub);
    assert_string_equal(req(f, "AT+RESET"), "OK Reset\r\n\r\n");
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), pub);
}

static void test_failed_save_changes_nothing(void **state)
{
    fixture *f = *state;
    provision(f);
    char pub[200], cert[4096];
    keep(pub, sizeof(pub), req(f, "AT+SIGNER_PUBKEY?"));
    keep(cert, sizeof(cert), req(f, "AT+SIGNER_CERT?"));
    f->mp.fail_writes = 1;
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"), "ERROR STORAGE ");
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), pub);
    assert_string_equal(req(f, "AT+SIGNER_CERT?"), cert);
    assert_starts(req(f, "AT+STSAFE_DECOMMISSION"), "ERROR STORAGE ");
    assert_string_equal(req(f, "AT+SIGNER_CERT?"), cert);
    assert_starts(req(f, "AT+SIGNER_NEW_CERT TYPE=SELF-SIGNED C=US O=Me CN=S "
                         "START=20230101000000 DAYS=30"),
                  "ERROR STORAGE ");
    assert_string_equal(req(f, "AT+SIGNER_CERT?"), cert);
    f->mp.fail_writes = 0;
    assert_string_equal(req(f, "AT+STSAFE_DECOMMISSION"), "OK\r\n\r\n");
    f->mp.fail_writes = 1;
    assert_starts(req(f, "AT+HSM_CA_NEW_CERT C=US O=A CN=B "
                         "START=20230101000000 DAYS=1"),
                  "ERROR STORAGE ");
    assert_starts(req(f, "AT+HSM_CA_CERT?"), "ERROR NO_CA ");
}

/* Re-initialises the device after damaging the stored state with fn. */
static void expect_storage_error(fixture *f, const char *reason_part)
{
    thsm_device_deinit(&f->dev);
    assert_int_equal(thsm_device_init(&f->dev, &f->port), -1);
    const char *why = thsm_device_storage_reason(&f->dev);
    if (!strstr(why, reason_part))
        fail_msg("reason '%s' lacks '%s'", why, reason_part);
    assert_starts(req(f, "AT+HSM_CA_CERT?"), "ERROR STORAGE ");
    assert_starts(req(f, "AT+SIGNER_SIGN HASH=00112233445566778899aabbccddeeff"
                         "00112233445566778899aabbccddeeff"),
                  "ERROR STORAGE ");
    assert_starts(req(f, "AT+STSAFE_DECOMMISSION"), "ERROR STORAGE ");
    assert_string_equal(req(f, "AT+STSAFE_READY?"), "OK NOT_READY\r\n\r\n");
    assert_starts(req(f, "AT+RESET"), "ERROR STORAGE ");
    assert_string_equal(req(f, "AT"), "OK\r\n\r\n");
}

static thsm_mem_object *state_object(fixture *f)
{
    for (int i = 0; i < THSM_MEM_OBJECTS; i++)
        if (f->mp.obj[i].used && strcmp(f->mp.obj[i].name, "state.bin") == 0)
            return &f->mp.obj[i];
    fail_msg("no state.bin");
    return NULL;
}

static void test_corrupt_state(void **state)
{
    fixture *f = *state;
    provision(f);
    thsm_mem_object *o = state_object(f);
    static uint8_t saved[THSM_MEM_OBJECT_MAX];
    size_t saved_len = o->len;
    memcpy(saved, o->data, o->len);

    o->data[o->len / 2] ^= 0x01;
    expect_storage_error(f, "authentication");
    memcpy(o->data, saved, saved_len);

    o->len = saved_len - 1;
    expect_storage_error(f, "authentication");
    o->len = 10;
    expect_storage_error(f, "truncated");
    o->len = saved_len;
    o->data[0] = 'X';
    expect_storage_error(f, "magic");
    assert_int_equal(o->len, saved_len); /* never replaced */
    memcpy(o->data, saved, saved_len);

    f->mp.device_key[0] ^= 1; /* state from another device */
    expect_storage_error(f, "another device key");
    f->mp.device_key[0] ^= 1;
    thsm_device_deinit(&f->dev);
    assert_int_equal(thsm_device_init(&f->dev, &f->port), 0);
    assert_starts(req(f, "AT+HSM_CA_CERT?"), "OK\r\n");
}

static void test_no_private_key_in_output(void **state)
{
    fixture *f = *state;
    provision(f);
    req(f, "AT+HSM_CA_CERT? FORMAT=DER");
    req(f, "AT+SIGNER_CERT? FORMAT=DER");
    req(f, "AT+SIGNER_CERT_INFO?");
    req(f, "AT+HSM_CA_CERT_INFO?");
    req(f, "AT+SIGNER_PUBKEY?");
    char hex[65];
    const thsm_p256_key *keys[] = {&f->dev.st.ca.key, &f->dev.st.signer.key};
    for (int i = 0; i < 2; i++) {
        thsm_hex(keys[i]->priv, 32, hex);
        f->all[f->all_len] = '\0';
        assert_null(strstr(f->all, hex));
        hex[16] = '\0'; /* not even a part of it */
        assert_null(strstr(f->all, hex));
    }
    /* nor in the stored state */
    thsm_mem_object *o = state_object(f);
    for (int i = 0; i < 2; i++)
        for (size_t at = 0; at + 8 <= o->len; at++)
            assert_memory_not_equal(o->data + at, keys[i]->priv, 8);
}

static const char *SIGN_REQ = "AT+SIGNER_SIGN HASH=00112233445566778899aabbccddeeff"
                              "00112233445566778899aabbccddeeff";

/* A power cycle: a new device instance and a new connection. */
static void reinit(fixture *f)
{
    thsm_device_deinit(&f->dev);
    thsm_session_init(&f->s, collect, f);
    assert_int_equal(thsm_device_init(&f->dev, &f->port), 0);
    f->dev.pin_kdf.log2_cost = 4; /* fast PINs in tests; the stored cost is used */
}

static void test_pin_gates_key_use(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_starts(req(f, "AT+AUTH PIN=123456"), "ERROR NO_PIN ");
    assert_starts(req(f, "AT+PIN_SET NEW=12345"), "ERROR BAD_PARAM ");
    assert_starts(req(f, "AT+PIN_SET NEW=111111"), "ERROR BAD_PARAM NEW is too easy");
    assert_starts(req(f, "AT+PIN_SET NEW=123456"), "ERROR BAD_PARAM NEW is too easy");
    assert_starts(req(f, "AT+PIN_SET NEW=9876543210"), "ERROR BAD_PARAM NEW is too easy");
    assert_false(thsm_pin_weak("123457") || thsm_pin_weak("112233") ||
                 thsm_pin_weak("secret-pin") || thsm_pin_weak("135790"));
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK "); /* setting it logs in */
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"), "ERROR AUTH_REQUIRED ");
    assert_starts(req(f, "AT+STSAFE_DECOMMISSION"), "ERROR AUTH_REQUIRED ");
    assert_starts(req(f, "AT+SIGNER_NEW_CERT TYPE=SELF-SIGNED C=US O=Me CN=S "
                         "START=20230101000000 DAYS=30"), "ERROR AUTH_REQUIRED ");
    /* reading certificates and status needs no PIN */
    assert_starts(req(f, "AT+SIGNER_CERT?"), "OK\r\n-----BEGIN");
    assert_starts(req(f, "AT+HSM_CA_CERT? FORMAT=DER"), "OK ");
    assert_starts(req(f, "AT+SIGNER_PUBKEY?"), "OK ");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "PIN=SET TRIES=5 AUTH=0"));
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK ");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "AUTH=1 SIGNATURES=2"));
    thsm_device_disconnect(&f->dev, &f->s); /* another client: logged out */
    assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+RESET"), "OK Reset\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
}

#define IMP_PRIV "32f86bb36391c937266bedef510eaa9e920f3119932db087589c9ed73b571ef0"
#define IMP_PUB "04BEA64E880D63345E2717964EE4A24D9EFA52E324E703CFBBF0393DF8CC5CEF71" \
                "B162994E0208D991C24609C0B9FDB908F4D8A8D7856F50FC4316BEB3E8E4BD3E"

/* "AT+SIGNER_CERT_SET CERT=<base64>" of a self-signed certificate for the
 * key whose scalar is priv_hex. */
static void cert_set_line(const char *priv_hex, char *line, size_t cap)
{
    uint8_t priv[32], der[1024];
    size_t len;
    thsm_p256_key k;
    assert_int_equal(thsm_parse_hex(priv_hex, priv, 32), 0);
    assert_int_equal(thsm_p256_import(&k, priv), 0);
    thsm_x509_request r = {.subject = {"US", "Old", "Old_Signer"},
                           .subject_pub = k.pub,
                           .serial = {0x41},
                           .not_before = INT64_C(1672531200),
                           .not_after = INT64_C(1767225600)};
    assert_int_equal(thsm_x509_issue(&r, &k, der, sizeof(der), &len), 0);
    thsm_p256_key_clear(&k);
    char b64[1400];
    thsm_base64(der, len, b64);
    int n = snprintf(line, cap, "AT+SIGNER_CERT_SET CERT=%s", b64);
    assert_true(n > 0 && (size_t)n < cap);
}

/* AT+SIGNER_IMPORT and AT+SIGNER_CERT_SET: PIN and login, a valid scalar,
 * the certificate of that key only; the key is marked imported; the
 * scalar never shows. */
static void test_signer_import(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    char line[1100], other[1100], status[512];
    provision(f);
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), " SIGNER_ORIGIN=generated"));
    assert_starts(req(f, "AT+SIGNER_IMPORT KEY=" IMP_PRIV), "ERROR NO_PIN ");
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    assert_starts(req(f, "AT+SIGNER_IMPORT KEY=" IMP_PRIV), "ERROR AUTH_REQUIRED ");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    /* bad scalars: 0, n, short, not hex; the key stays */
    char pub[200];
    keep(pub, sizeof(pub), req(f, "AT+SIGNER_PUBKEY?"));
    const char *bad[] = {
        "AT+SIGNER_IMPORT KEY=0000000000000000000000000000000000000000000000000000000000000000",
        "AT+SIGNER_IMPORT KEY=ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
        "AT+SIGNER_IMPORT KEY=32f86bb3", ("AT+SIGNER_IMPORT KEY=" IMP_PRIV "00"),
        ("AT+SIGNER_IMPORT KEY=zz" IMP_PRIV)};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_starts(req(f, bad[i]), "ERROR BAD_PARAM KEY must be");
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), pub);
    assert_string_equal(req(f, "AT+SIGNER_IMPORT KEY=" IMP_PRIV), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), "OK " IMP_PUB "\r\n\r\n");
    keep(status, sizeof(status), req(f, "AT+HSM_STATUS?"));
    assert_non_null(strstr(status, " SIGNER=1 SIGNER_CERT=0 "));
    assert_non_null(strstr(status, " SIGNER_ORIGIN=imported"));
    assert_starts(req(f, SIGN_REQ), "ERROR NO_SIGNER_CERT ");
    /* a certificate for another key is refused, its own is taken */
    cert_set_line("fb34b5924031072723ccd98fa8763a5d01672d71d83ffea0e7d1bd533778e023",
                  other, sizeof(other));
    assert_starts(req(f, other), "ERROR CERT_MISMATCH ");
    assert_starts(req(f, "AT+SIGNER_CERT_SET CERT=AAAA"), "ERROR BAD_PARAM ");
    assert_starts(req(f, "AT+SIGNER_CERT_SET CERT=not*base64"), "ERROR BAD_PARAM ");
    cert_set_line(IMP_PRIV, line, sizeof(line));
    assert_string_equal(req(f, line), "OK\r\n\r\n");
    assert_non_null(strstr(req(f, "AT+SIGNER_CERT_INFO?"),
                           "Subject: C=US, O=Old, CN=Old_Signer"));
    assert_starts(req(f, SIGN_REQ), "OK ");
    /* the mark survives a reload of the same key, not a new key */
    assert_string_equal(req(f, "AT+RESET"), "OK Reset\r\n\r\n");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), " SIGNER_ORIGIN=imported"));
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    const char *log = req(f, "AT+LOG? FROM=0");
    assert_non_null(strstr(log, " SIGNER_IMPORT "));
    assert_non_null(strstr(log, " SIGNER_CERT_SET "));
    assert_string_equal(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"), "OK\r\n\r\n");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), " SIGNER_ORIGIN=generated"));
    assert_starts(req(f, line), "ERROR CERT_MISMATCH ");
    /* no answer ever held the scalar, in either case */
    f->all[f->all_len] = '\0';
    assert_null(strstr(f->all, IMP_PRIV));
    assert_null(strstr(f->all, "32F86BB36391C937"));
}

static void test_pin_counts_down_and_blocks(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+AUTH PIN=wrong-pin"),
                        "ERROR AUTH_FAILED 4 tries left\r\n\r\n");
    reinit(f); /* the count was stored: a power cut gives nothing back */
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "TRIES=4"));
    assert_string_equal(req(f, "AT+AUTH PIN=bad-pin"),
                        "ERROR AUTH_FAILED 3 tries left\r\n\r\n");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "TRIES=5"));
    for (int left = 4; left >= 0; left--) {
        char want[64];
        snprintf(want, sizeof(want), "ERROR AUTH_FAILED %d tries left\r\n\r\n",
                 left);
        assert_string_equal(req(f, "AT+AUTH PIN=wrong-pin"), want);
    }
    assert_starts(req(f, "AT+AUTH PIN=secret-pin"), "ERROR PIN_LOCKED ");
    reinit(f);
    assert_starts(req(f, "AT+AUTH PIN=secret-pin"), "ERROR PIN_LOCKED ");
    assert_starts(req(f, SIGN_REQ), "ERROR PIN_LOCKED ");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "PIN=BLOCKED"));
    /* only a decommission recovers, and it erases every key and the PIN */
    assert_string_equal(req(f, "AT+STSAFE_DECOMMISSION"), "OK\r\n\r\n");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "CA=0 SIGNER=0"));
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "PIN=NONE"));
    provision(f);
    assert_starts(req(f, SIGN_REQ), "OK ");
}

static void test_pin_power_cut_before_check(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    f->mp.fail_writes = 1; /* the decrement cannot be stored: no check at all */
    assert_starts(req(f, "AT+AUTH PIN=secret-pin"), "ERROR STORAGE ");
    assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
    f->mp.fail_writes = 0;
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "TRIES=5"));
}

static void test_pin_change(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    char pub[200];
    keep(pub, sizeof(pub), req(f, "AT+SIGNER_PUBKEY?"));
    assert_string_equal(req(f, "AT+PIN_SET NEW=first-pin"), "OK\r\n\r\n");
    assert_starts(req(f, "AT+PIN_SET NEW=other-pin"), "ERROR BAD_PARAM ");
    assert_starts(req(f, "AT+PIN_SET OLD=wrong-pin NEW=other-pin"),
                  "ERROR AUTH_FAILED 4 ");
    assert_string_equal(req(f, "AT+PIN_SET OLD=first-pin NEW=second-pin"),
                        "OK\r\n\r\n");
    reinit(f);
    assert_starts(req(f, "AT+AUTH PIN=first-pin"), "ERROR AUTH_FAILED ");
    assert_string_equal(req(f, "AT+AUTH PIN=second-pin"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK ");
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), pub); /* same keys */
}

static void test_state_useless_without_pin(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    /* the whole state, device key included, copied to another device */
    fixture *g = calloc(1, sizeof(*g));
    thsm_mem_port_init(&g->mp, &g->port);
    g->mp = f->mp;
    thsm_session_init(&g->s, collect, g);
    assert_int_equal(thsm_device_init(&g->dev, &g->port), 0);
    assert_starts(req(g, SIGN_REQ), "ERROR AUTH_REQUIRED ");
    /* the wrapped key does not open with the device key alone */
    uint8_t kek[32];
    assert_int_equal(thsm_kek_from_device(&g->port, kek), 0);
    assert_int_not_equal(thsm_slot_unwrap(&g->dev.st.signer, "signer", kek), 0);
    assert_int_equal(g->dev.st.signer.key_loaded, 0);
    assert_string_equal(req(g, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_starts(req(g, SIGN_REQ), "OK ");
    thsm_device_deinit(&g->dev);
    free(g);
}

static void test_pin_default_cost(void **state)
{
    fixture *f = *state; /* the real scrypt cost, once */
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    thsm_kdf_params def;
    thsm_pin_kdf_default(&def);
    assert_int_equal(f->dev.st.pin.kdf.id, def.id);
    assert_int_equal(f->dev.st.pin.kdf.log2_cost, def.log2_cost);
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
}

static const char *KEY_COMMANDS[] = {
    "AT+SIGNER_SIGN HASH=00112233445566778899aabbccddeeff"
    "00112233445566778899aabbccddeeff",
    "AT+SIGNER_NEW_KEY ALGO=SECP256R1",
    "AT+HSM_CA_NEW_CERT C=US O=X CN=Y START=20230101000000 DAYS=1",
    "AT+SIGNER_NEW_CERT TYPE=SELF-SIGNED C=US O=Me CN=S "
    "START=20230101000000 DAYS=30",
    "AT+STSAFE_DECOMMISSION",
};

/* Every key command from s answers AUTH_REQUIRED and changes nothing. */
static void expect_no_key_use(fixture *f, thsm_session *s)
{
    char pub[200];
    keep(pub, sizeof(pub), req_on(f, s, "AT+SIGNER_PUBKEY?"));
    for (size_t i = 0; i < sizeof(KEY_COMMANDS) / sizeof(KEY_COMMANDS[0]); i++)
        assert_starts(req_on(f, s, KEY_COMMANDS[i]), "ERROR AUTH_REQUIRED ");
    assert_string_equal(req_on(f, s, "AT+SIGNER_PUBKEY?"), pub);
    assert_non_null(strstr(req_on(f, s, "AT+HSM_STATUS?"), " AUTH=0 "));
}

static void test_login_belongs_to_session(void **state)
{
    fixture *f = *state;
    thsm_session other;
    thsm_session_init(&other, collect, f);
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    expect_no_key_use(f, &other); /* f's login is not other's */
    assert_starts(req(f, SIGN_REQ), "OK ");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), " AUTH=1 "));

    /* both logged in; one logs out, the other stays */
    assert_string_equal(req_on(f, &other, "AT+AUTH PIN=secret-pin"),
                        "OK\r\n\r\n");
    assert_string_equal(req_on(f, &other, "AT+LOGOUT"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK ");
    expect_no_key_use(f, &other);
    assert_string_equal(req_on(f, &other, "AT+AUTH PIN=secret-pin"),
                        "OK\r\n\r\n");
    thsm_device_disconnect(&f->dev, &f->s);
    assert_starts(req_on(f, &other, SIGN_REQ), "OK ");
    expect_no_key_use(f, &f->s);

    /* AT+RESET ends only the resetting session's login */
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req_on(f, &other, "AT+RESET"), "OK Reset\r\n\r\n");
    expect_no_key_use(f, &other);
    assert_starts(req(f, SIGN_REQ), "OK ");

    /* a PIN change logs every other session out */
    assert_string_equal(req_on(f, &other, "AT+AUTH PIN=secret-pin"),
                        "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+PIN_SET OLD=secret-pin NEW=second-pin"),
                        "OK\r\n\r\n");
    expect_no_key_use(f, &other);
    assert_starts(req(f, SIGN_REQ), "OK ");

    /* the last login to end wipes the clear keys and the KEK */
    assert_true(f->dev.st.signer.key_loaded && f->dev.kek_known);
    thsm_device_disconnect(&f->dev, &f->s);
    assert_false(f->dev.st.signer.key_loaded || f->dev.st.ca.key_loaded ||
                 f->dev.kek_known);
    expect_no_key_use(f, &f->s);
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), " TRIES=5 "));
}

static void test_login_blocked_session(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    f->s.login_blocked = 1; /* the transport: port shared */
    assert_starts(req(f, "AT+PIN_SET NEW=secret-pin"), "ERROR AUTH_REFUSED ");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "PIN=NONE"));
    f->s.login_blocked = 0;
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    f->s.login_blocked = 1;
    for (int i = 0; i < 6; i++)
        assert_starts(req(f, "AT+AUTH PIN=secret-pin"), "ERROR AUTH_REFUSED ");
    assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), " TRIES=5 AUTH=0 "));
    f->s.login_blocked = 0;
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
}

/* Stores the PIN record with scrypt cost 2^log2n and restarts the device.
 * Costs above 2^20 need more memory than the device allows: the KDF fails. */
static void store_pin_cost(fixture *f, uint8_t log2n)
{
    f->dev.st.pin.kdf.log2_cost = log2n;
    assert_int_equal(thsm_store_save(&f->port, &f->dev.st, &f->dev.work), 0);
    reinit(f);
}

static void test_kdf_failure_spends_no_try(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    store_pin_cost(f, 21);
    thsm_mem_object *o = state_object(f);
    static uint8_t before[THSM_MEM_OBJECT_MAX];
    size_t len = o->len;
    memcpy(before, o->data, len);
    for (int i = 0; i < 6; i++) {
        assert_starts(req(f, "AT+AUTH PIN=secret-pin"), "ERROR CRYPTO ");
        assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR CRYPTO ");
        assert_starts(req(f, "AT+PIN_SET OLD=secret-pin NEW=other-pin"),
                      "ERROR CRYPTO ");
    }
    assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), " TRIES=5 AUTH=0 "));
    assert_int_equal(o->len, len); /* not even re-saved */
    assert_memory_equal(o->data, before, len);

    store_pin_cost(f, 4); /* memory is back: the right PIN works every time */
    for (int i = 0; i < 3; i++) {
        assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
        assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    }
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), " TRIES=5 "));

    /* the new PIN's derivation fails: the old PIN stays, no try spent */
    f->dev.pin_kdf.log2_cost = 21;
    assert_starts(req(f, "AT+PIN_SET OLD=secret-pin NEW=other-pin"),
                  "ERROR CRYPTO ");
    assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), " TRIES=5 "));
    f->dev.pin_kdf.log2_cost = 4;
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK ");
}

static thsm_mem_object *log_object(fixture *f)
{
    for (int i = 0; i < THSM_MEM_OBJECTS; i++)
        if (f->mp.obj[i].used && strcmp(f->mp.obj[i].name, "audit.log") == 0)
            return &f->mp.obj[i];
    fail_msg("no audit.log");
    return NULL;
}

/* Recomputes the chain over the records of a response to AT+LOG?. */
static void check_chain(const char *resp, uint8_t head[32], int *records)
{
    const char *line = strstr(resp, "\r\n") + 2;
    while (strncmp(line, "\r\n", 2) != 0) {
        uint8_t link[32], stored[32];
        thsm_sha256_ctx c;
        char hex[65];
        assert_int_equal(thsm_sha256_init(&c), 0);
        thsm_sha256_update(&c, head, 32);
        thsm_sha256_update(&c, line, THSM_LOG_CHAIN_AT);
        thsm_sha256_final(&c, link);
        memcpy(hex, line + THSM_LOG_CHAIN_AT, 64);
        hex[64] = '\0';
        assert_int_equal(thsm_parse_hex(hex, stored, 32), 0);
        assert_memory_equal(link, stored, 32);
        memcpy(head, link, 32);
        (*records)++;
        line = strstr(line, "\r\n") + 2;
    }
}

static void test_audit_records_everything(void **state)
{
    fixture *f = *state;
    provision(f);
    for (int i = 0; i < 3; i++)
        assert_starts(req(f, SIGN_REQ), "OK ");
    assert_true(thsm_device_flush_pending(&f->dev));
    int syncs = f->mp.syncs;
    thsm_device_flush(&f->dev);
    assert_int_equal(f->mp.syncs, syncs + 1);
    assert_false(thsm_device_flush_pending(&f->dev));
    const char *r = req(f, "AT+LOG? FROM=0");
    assert_starts(r, "OK 6 6 ");
    const char *events[] = {" CA_CREATE ", " SIGNER_KEY ", " SIGNER_CERT ",
                            " SIGN ", " SIGN ", " SIGN "};
    const char *line = strstr(r, "\r\n") + 2;
    for (int i = 0; i < 6; i++) {
        char idx[16];
        snprintf(idx, sizeof(idx), "%08d ", i);
        assert_memory_equal(line, idx, 9);
        const char *eol = strstr(line, "\r\n");
        assert_int_equal(eol - line, THSM_LOG_RECORD - 1);
        assert_non_null(strstr(line, events[i]));
        line = eol + 2;
    }
    assert_non_null(strstr(r, " 00112233445566778899AABBCCDDEEFF"
                              "00112233445566778899AABBCCDDEEFF OK"));
    uint8_t head[32] = {0};
    int n = 0;
    check_chain(r, head, &n);
    assert_int_equal(n, 6);
    char head_hex[65];
    thsm_hex(head, 32, head_hex);
    char want[100];
    snprintf(want, sizeof(want), "OK 0 6 %s\r\n\r\n", head_hex);
    assert_string_equal(req(f, "AT+LOG? FROM=6"), want); /* the chain head */
    assert_starts(req(f, "AT+LOG? FROM=x"), "ERROR BAD_PARAM ");
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "LOG=6 LOG_STATE=OK"));
    reinit(f); /* the log survives and continues */
    assert_starts(req(f, SIGN_REQ), "OK ");
    r = req(f, "AT+LOG? FROM=6");
    assert_starts(r, "OK 1 7 ");
    check_chain(r, head, &n);
}

static void test_audit_paging(void **state)
{
    fixture *f = *state;
    provision(f);
    for (int i = 0; i < 40; i++)
        req(f, SIGN_REQ);
    uint8_t head[32] = {0};
    int n = 0;
    char page[16384];
    keep(page, sizeof(page), req(f, "AT+LOG?"));
    assert_starts(page, "OK 32 43 ");
    check_chain(page, head, &n);
    keep(page, sizeof(page), req(f, "AT+LOG? FROM=32"));
    assert_starts(page, "OK 11 43 ");
    check_chain(page, head, &n);
    assert_int_equal(n, 43);
}

static void expect_log_broken_at(fixture *f, int index)
{
    char want[64];
    reinit(f);
    snprintf(want, sizeof(want), "LOG_STATE=BROKEN_AT_%d", index);
    const char *r = req(f, "AT+HSM_STATUS?");
    if (!strstr(r, want))
        fail_msg("expected %s in %s", want, r);
}

/* The device's storage at one instant (state and log), to go back to. */
static thsm_mem_port snapshot;

static void restore(fixture *f)
{
    thsm_device_deinit(&f->dev);
    f->mp = snapshot;
}

static void test_audit_tampering_detected(void **state)
{
    fixture *f = *state;
    provision(f);
    for (int i = 0; i < 5; i++)
        req(f, SIGN_REQ);
    thsm_device_flush(&f->dev);
    snapshot = f->mp;
    thsm_mem_object *o = log_object(f);
    size_t len = o->len;

    o->data[4 * THSM_LOG_RECORD + 60] ^= 1; /* altered digest of record 4 */
    expect_log_broken_at(f, 4);
    restore(f);

    memmove(o->data + 3 * THSM_LOG_RECORD, o->data + 4 * THSM_LOG_RECORD,
            len - 4 * THSM_LOG_RECORD); /* record 3 removed */
    o->len = len - THSM_LOG_RECORD;
    expect_log_broken_at(f, 3);
    restore(f);

    const uint8_t *orig = snapshot.obj[o - f->mp.obj].data;
    memcpy(o->data + 5 * THSM_LOG_RECORD, orig + 6 * THSM_LOG_RECORD,
           THSM_LOG_RECORD); /* records 5 and 6 swapped */
    memcpy(o->data + 6 * THSM_LOG_RECORD, orig + 5 * THSM_LOG_RECORD,
           THSM_LOG_RECORD);
    expect_log_broken_at(f, 5);
    restore(f);

    o->len = len - 50; /* torn last record: padded, reported, log goes on */
    expect_log_broken_at(f, 7);
    assert_int_equal(o->len, len);
    assert_starts(req(f, SIGN_REQ), "OK ");
    assert_int_equal(o->len, len + THSM_LOG_RECORD);
    const char *r = req(f, "AT+LOG? FROM=8");
    assert_starts(r, "OK 1 9 ");
    assert_non_null(strstr(r, "\r\n00000008 "));
}

static const char *status_of(fixture *f)
{
    return req(f, "AT+HSM_STATUS?");
}

static void expect_status(fixture *f, const char *part)
{
    const char *r = status_of(f);
    if (!strstr(r, part))
        fail_msg("expected %s in %s", part, r);
}

/* Recomputes every chain value from record `from` on, as a forger would. */
static void rechain(thsm_mem_object *o, size_t from)
{
    uint8_t head[32] = {0}, link[32];
    size_t n = o->len / THSM_LOG_RECORD;
    for (size_t i = 0; i < n; i++) {
        char *rec = (char *)o->data + i * THSM_LOG_RECORD;
        if (i >= from) {
            thsm_sha256_ctx c;
            thsm_sha256_init(&c);
            thsm_sha256_update(&c, head, 32);
            thsm_sha256_update(&c, rec, THSM_LOG_CHAIN_AT);
            thsm_sha256_final(&c, link);
            char hex[65];
            thsm_hex(link, 32, hex);
            memcpy(rec + THSM_LOG_CHAIN_AT, hex, 64);
        }
        char hex[65];
        memcpy(hex, rec + THSM_LOG_CHAIN_AT, 64);
        hex[64] = '\0';
        assert_int_equal(thsm_parse_hex(hex, head, 32), 0);
    }
}

static void test_audit_anchor_finds_lost_records(void **state)
{
    fixture *f = *state;
    provision(f);
    for (int i = 0; i < 5; i++)
        req(f, SIGN_REQ);
    thsm_device_flush(&f->dev); /* records 0-7 durable and anchored */
    snapshot = f->mp;
    thsm_mem_object *o = log_object(f);
    size_t len = o->len;

    o->len = len - 2 * THSM_LOG_RECORD; /* the last two records cut off */
    reinit(f);
    expect_status(f, "LOG=6 LOG_STATE=MISSING_FROM_6 ");
    restore(f);

    o->used = 0; /* audit.log deleted */
    reinit(f);
    expect_status(f, "LOG=0 LOG_STATE=MISSING_FROM_0 ");
    restore(f);

    o->data[5 * THSM_LOG_RECORD + 60] ^= 1; /* a digest changed, */
    rechain(o, 5);                             /* the chain recomputed */
    reinit(f);
    expect_status(f, "LOG=8 LOG_STATE=REWRITTEN_BEFORE_8 ");
    /* the finding is sealed: later changes and starts keep reporting it */
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"), "OK");
    reinit(f);
    expect_status(f, "LOG_STATE=REWRITTEN_BEFORE_8 ");
    restore(f);

    reinit(f); /* the untouched log passes */
    expect_status(f, "LOG=8 LOG_STATE=OK ");
}

static void test_audit_unsynced_window_accepted(void **state)
{
    fixture *f = *state;
    provision(f);
    thsm_device_flush(&f->dev);
    for (int i = 0; i < 3; i++)
        req(f, SIGN_REQ); /* written, not yet synced nor anchored */
    snapshot = f->mp;     /* the disk at a crash */
    restore(f);
    reinit(f);
    expect_status(f, "LOG=6 LOG_STATE=OK ");
    assert_starts(req(f, SIGN_REQ), "OK ");
    reinit(f);
    expect_status(f, "LOG=7 LOG_STATE=OK ");
}

static void test_audit_cut_while_running(void **state)
{
    fixture *f = *state;
    provision(f);
    for (int i = 0; i < 3; i++)
        req(f, SIGN_REQ);
    log_object(f)->len -= THSM_LOG_RECORD;
    const char *r = req(f, "AT+LOG?");
    assert_starts(r, "ERROR STORAGE ");
    assert_non_null(strstr(r, "missing records from 5"));
    expect_status(f, "LOG_STATE=MISSING_FROM_5 ");
}

static void test_audit_log_head(void **state)
{
    fixture *f = *state;
    char want[100];
    snprintf(want, sizeof(want), "OK 0 0 %064d\r\n\r\n", 0);
    assert_string_equal(req(f, "AT+LOG?"), want); /* empty: 64 zeros */
    provision(f);
    uint8_t head[32] = {0};
    int n = 0;
    const char *r = req(f, "AT+LOG?");
    check_chain(r, head, &n);
    char hex[65];
    thsm_hex(head, 32, hex);
    snprintf(want, sizeof(want), "OK 3 3 %s\r\n", hex);
    assert_starts(r, want);
}

/* Whether the log holds a record with this event and a result that starts
 * with result. */
static int logged(fixture *f, const char *event, const char *result)
{
    char ev[20];
    snprintf(ev, sizeof(ev), " %-16s ", event);
    thsm_mem_object *o = log_object(f);
    for (size_t at = 0; at + THSM_LOG_RECORD <= o->len;
         at += THSM_LOG_RECORD) {
        const char *rec = (const char *)o->data + at;
        if (memcmp(rec + 19, ev, 18) == 0 &&
            memcmp(rec + 119, result, strlen(result)) == 0)
            return 1;
    }
    return 0;
}

static void test_audit_refusals_recorded(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    /* a malformed request is not an attempt */
    uint32_t count = f->dev.log_count;
    assert_starts(req(f, "AT+SIGNER_SIGN HASH=00"), "ERROR BAD_PARAM ");
    assert_int_equal(f->dev.log_count, count);
    assert_starts(req(f, "AT+HSM_CA_NEW_CERT C=US O=X CN=Y "
                         "START=20230101000000 DAYS=1"), "ERROR CA_EXISTS ");
    assert_true(logged(f, "CA_EXISTS", "HSM_CA_NEW_CERT"));
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_true(logged(f, "PIN_SET", "GEN="));
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
    assert_true(logged(f, "AUTH_REQUIRED", "SIGNER_SIGN"));
    assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED ");
    assert_true(logged(f, "AUTH_FAILED", "GEN="));
    f->s.login_blocked = 1;
    assert_starts(req(f, "AT+AUTH PIN=secret-pin"), "ERROR AUTH_REFUSED ");
    assert_true(logged(f, "AUTH_REFUSED", "AUTH"));
    f->s.login_blocked = 0;
    for (int i = 0; i < 4; i++)
        req(f, "AT+AUTH PIN=wrong-pin");
    assert_true(logged(f, "AUTH_BLOCKED", "GEN="));
    assert_starts(req(f, "AT+AUTH PIN=secret-pin"), "ERROR PIN_LOCKED ");
    assert_true(logged(f, "PIN_LOCKED", "AUTH"));
}

static void test_rollback_refused_while_running(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    thsm_mem_object *o = state_object(f);
    static uint8_t old[THSM_MEM_OBJECT_MAX];
    size_t old_len = o->len;
    memcpy(old, o->data, old_len); /* TRIES=5 */
    for (int i = 0; i < 3; i++)
        assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED ");
    memcpy(o->data, old, old_len); /* the old file copied back */
    o->len = old_len;
    const char *r = req(f, "AT+RESET");
    assert_starts(r, "ERROR STORAGE ");
    assert_non_null(strstr(r, "older"));
    expect_status(f, " TRIES=2 ");
    reinit(f); /* and the newer state was written back */
    expect_status(f, " TRIES=2 ");
    expect_status(f, " STATE=OK");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
}

static void test_rollback_found_at_start(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    thsm_mem_object *o = state_object(f);
    static uint8_t old[THSM_MEM_OBJECT_MAX];
    size_t old_len = o->len;
    memcpy(old, o->data, old_len);
    expect_status(f, " STATE=OK");
    for (int i = 0; i < 3; i++)
        assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED ");
    thsm_device_deinit(&f->dev); /* stopped; the old state copied back */
    memcpy(o->data, old, old_len);
    o->len = old_len;
    reinit(f);
    /* the log's three wrong PINs since the last login bound the tries */
    expect_status(f, " TRIES=2 ");
    expect_status(f, " STATE=ROLLED_BACK");
    reinit(f); /* saved: the restored tries stay */
    expect_status(f, " TRIES=2 ");
    /* the finding is sealed with the next save */
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    reinit(f);
    expect_status(f, " STATE=ROLLED_BACK");
}

/* "OK <len> <hex>": returns len after checking there are 2*len digits. */
static size_t der_answer(const char *r, uint8_t *der, size_t cap)
{
    unsigned len;
    assert_int_equal(sscanf(r, "OK %u ", &len), 1);
    const char *hex = strchr(r + 3, ' ') + 1;
    const char *eol = strstr(hex, "\r\n");
    assert_int_equal((size_t)(eol - hex), 2 * (size_t)len);
    assert_true(len <= cap);
    char copy[2 * THSM_CERT_MAX + 1];
    memcpy(copy, hex, 2 * (size_t)len);
    copy[2 * len] = '\0';
    assert_int_equal(thsm_parse_hex(copy, der, len), 0);
    return len;
}

/* The same certificate in PEM and DER, whole, with the expected subject. */
static void expect_whole_cert(fixture *f, const char *query, const char *subj)
{
    char line[64], pem[8192];
    uint8_t der[THSM_CERT_MAX], pem_der[THSM_CERT_MAX];
    size_t pem_der_len;
    thsm_x509_info info;
    snprintf(line, sizeof(line), "%s FORMAT=DER", query);
    size_t len = der_answer(req(f, line), der, sizeof(der));
    assert_int_equal(thsm_x509_parse(der, len, &info), 0);
    assert_string_equal(info.subject, subj);
    snprintf(line, sizeof(line), "%s FORMAT=PEM", query);
    const char *r = req(f, line);
    const char *begin = strstr(r, "-----BEGIN");
    assert_non_null(begin);
    size_t n = 0;
    for (const char *p = begin; *p; p++) /* PEM readers want LF */
        if (*p != '\r')
            pem[n++] = *p;
    assert_int_equal(thsm_x509_to_der((const uint8_t *)pem, n, pem_der,
                                      sizeof(pem_der), &pem_der_len), 0);
    assert_int_equal(pem_der_len, len);
    assert_memory_equal(pem_der, der, len);
}

/* The certificate an "OK <len> <hex>" query answers, DER, into der. */
static size_t cert_der(fixture *f, const char *query, uint8_t der[THSM_CERT_MAX])
{
    char line[64];
    snprintf(line, sizeof(line), "%s FORMAT=DER", query);
    return der_answer(req(f, line), der, THSM_CERT_MAX);
}

/* AT+CERT_RENEW: same key and subject, new serial and validity; the old
 * signer certificate still chains to the renewed CA, the renewed signer
 * to the CA; recorded in the log; PIN-gated. */
static void test_cert_renew(void **state)
{
    fixture *f = *state;
    uint8_t ca_old[THSM_CERT_MAX], ca_new[THSM_CERT_MAX];
    uint8_t sg_old[THSM_CERT_MAX], sg_new[THSM_CERT_MAX];
    thsm_x509_info a, b;
    char why[128], key_old[200];
    assert_starts(req(f, "AT+CERT_RENEW CERT=CA START=20250101000000 DAYS=10"),
                  "ERROR NO_CA ");
    provision(f);
    assert_starts(req(f, "AT+CERT_RENEW CERT=KEY START=20250101000000 DAYS=10"),
                  "ERROR BAD_PARAM CERT must be CA or SIGNER");
    assert_starts(req(f, "AT+CERT_RENEW CERT=CA START=20250101000000 DAYS=0"),
                  "ERROR BAD_PARAM DAYS");
    assert_starts(req(f, "AT+CERT_RENEW CERT=CA DAYS=10"),
                  "ERROR BAD_PARAM missing parameter START");
    keep(key_old, sizeof(key_old), req(f, "AT+SIGNER_PUBKEY?"));
    size_t ca_old_len = cert_der(f, "AT+HSM_CA_CERT?", ca_old);
    size_t sg_old_len = cert_der(f, "AT+SIGNER_CERT?", sg_old);

    assert_string_equal(req(f, "AT+CERT_RENEW CERT=CA START=20250101000000 "
                               "DAYS=3650"), "OK\r\n\r\n");
    size_t ca_new_len = cert_der(f, "AT+HSM_CA_CERT?", ca_new);
    assert_int_equal(thsm_x509_parse(ca_old, ca_old_len, &a), 0);
    assert_int_equal(thsm_x509_parse(ca_new, ca_new_len, &b), 0);
    assert_string_equal(b.subject, a.subject);
    assert_string_equal(b.issuer, a.subject);
    assert_memory_equal(b.pub, a.pub, sizeof(a.pub));
    assert_string_not_equal(b.serial_hex, a.serial_hex);
    assert_true(b.is_ca);
    assert_int_equal(b.not_after - b.not_before, 3650 * 86400);
    assert_int_equal(thsm_x509_check_chain(ca_new, ca_new_len, sg_old,
                                           sg_old_len, THSM_X509_ANY_TIME,
                                           why, sizeof(why)), 0);

    assert_string_equal(req(f, "AT+CERT_RENEW CERT=SIGNER START=20250101000000 "
                               "DAYS=730"), "OK\r\n\r\n");
    size_t sg_new_len = cert_der(f, "AT+SIGNER_CERT?", sg_new);
    assert_int_equal(thsm_x509_parse(sg_old, sg_old_len, &a), 0);
    assert_int_equal(thsm_x509_parse(sg_new, sg_new_len, &b), 0);
    assert_string_equal(b.subject, a.subject);
    assert_string_equal(b.issuer, a.issuer);
    assert_memory_equal(b.pub, a.pub, sizeof(a.pub));
    assert_false(b.is_ca);
    assert_int_equal(thsm_x509_check_chain(ca_new, ca_new_len, sg_new,
                                           sg_new_len, THSM_X509_ANY_TIME,
                                           why, sizeof(why)), 0);
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), key_old);
    const char *log = req(f, "AT+LOG?");
    assert_non_null(strstr(log, " CA_RENEW "));
    assert_non_null(strstr(log, " SIGNER_RENEW "));

    /* a self-signed signer stays self-signed */
    assert_starts(req(f, "AT+SIGNER_NEW_CERT TYPE=SELF-SIGNED C=US O=Me CN=S "
                         "START=20230101000000 DAYS=30"), "OK\r\n");
    assert_string_equal(req(f, "AT+CERT_RENEW CERT=SIGNER START=20250101000000 "
                               "DAYS=30"), "OK\r\n\r\n");
    assert_non_null(strstr(req(f, "AT+SIGNER_CERT_INFO?"),
                           "Issuer: C=US, O=Me, CN=S\r\n"));

    f->dev.pin_kdf.log2_cost = 4;
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    assert_starts(req(f, "AT+CERT_RENEW CERT=CA START=20250101000000 DAYS=30"),
                  "ERROR AUTH_REQUIRED ");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+CERT_RENEW CERT=CA START=20250101000000 "
                               "DAYS=30"), "OK\r\n\r\n");
}

static void test_long_names_never_cut(void **state)
{
    fixture *f = *state;
    char o[65], cn[65], line[400], subj[200], issuer_subj[200];
    memset(o, 'O', 64);
    memset(cn, 'N', 64);
    o[64] = cn[64] = '\0';
    snprintf(line, sizeof(line), "AT+HSM_CA_NEW_CERT C=US O=%s CN=%s "
             "START=20230101000000 DAYS=365", o, cn);
    assert_string_equal(req(f, line), "OK\r\n\r\n");
    snprintf(issuer_subj, sizeof(issuer_subj), "C=US, O=%s, CN=%s", o, cn);
    cn[0] = 'S';
    assert_string_equal(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"),
                        "OK\r\n\r\n");
    snprintf(line, sizeof(line), "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=%s "
             "CN=%s START=20230101000000 DAYS=365", o, cn);
    assert_string_equal(req(f, line), "OK\r\n\r\n");
    snprintf(subj, sizeof(subj), "C=US, O=%s, CN=%s", o, cn);
    expect_whole_cert(f, "AT+HSM_CA_CERT?", issuer_subj);
    expect_whole_cert(f, "AT+SIGNER_CERT?", subj);
    const char *info = req(f, "AT+SIGNER_CERT_INFO?");
    snprintf(line, sizeof(line), "Issuer: %s\r\n", issuer_subj);
    assert_non_null(strstr(info, line));
}

/* No answer contains any word of the PIN; no buffer keeps a copy. */
static void expect_pin_hidden(fixture *f, const char *request)
{
    const char *words[] = {"horse", "battery", "staple", "correct"};
    const char *r = req(f, request);
    assert_starts(r, "ERROR BAD_PARAM ");
    for (size_t i = 0; i < 4; i++) {
        if (strstr(r, words[i]))
            fail_msg("'%s' answered '%s'", request, r);
        assert_null(memmem(&f->s, sizeof(f->s), words[i], strlen(words[i])));
        assert_null(memmem(f->dev.resp, sizeof(f->dev.resp), words[i],
                           strlen(words[i])));
    }
}

static void test_pin_text_never_echoed(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    expect_pin_hidden(f, "AT+PIN_SET NEW=correct horse battery staple");
    expect_pin_hidden(f, "AT+PIN_SET NEW=correct horse=battery staple");
    expect_pin_hidden(f, "AT+PIN_SET NEW=correct-horse OLD=battery staple");
    expect_pin_hidden(f, "AT+PIN_SET NEW=horse");
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    expect_pin_hidden(f, "AT+AUTH PIN=correct horse battery staple");
    expect_pin_hidden(f, "AT+AUTH PIN=correct horse=battery");
    expect_pin_hidden(f, "AT+AUTH PIN=correct staple=");
    expect_pin_hidden(f, "AT+PIN_SET OLD=secret-pin NEW=horse battery");
    expect_pin_hidden(f, "AT+PIN_SET OLD=secret-pin NEW=horse");
    /* after a right PIN too, no copy of it stays behind */
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_null(memmem(&f->s, sizeof(f->s), "secret-pin", 10));
    assert_null(memmem(f->dev.resp, sizeof(f->dev.resp), "secret-pin", 10));
}

/* Rewrites state.bin as the version before the anchor ("THSMST02": same
 * seal, no writer, body without the PIN record's KDF id, the 42-byte anchor
 * and the roles), as an older tinyhsmd wrote it. */
static void downgrade_state_to_v2(fixture *f)
{
    thsm_mem_object *o = state_object(f);
    uint8_t key[32], *nonce = o->data + 24, *body = nonce + THSM_AEAD_NONCE_LEN;
    size_t body_len = o->len - 24 - THSM_AEAD_NONCE_LEN - THSM_AEAD_TAG_LEN;
    assert_int_equal(thsm_hkdf_sha256(f->mp.device_key, 32, NULL, 0,
                                      "tinyhsm/state/v1", key, 32), 0);
    assert_memory_equal(o->data, "THSMST07", 8);
    assert_int_equal(thsm_aead_open(key, nonce, o->data, 24, body, body_len,
                                    body + body_len, body), 0);
    memmove(body + 6, body + 7, body_len - 7); /* u32 gen, set, tries | id */
    body_len -= 1 + 42 + THSM_ROLES_LEN + THSM_LOG_V06_LEN +
                33; /* v07: an empty policy, no imported key */
    memmove(o->data + 8, nonce, THSM_AEAD_NONCE_LEN + body_len);
    nonce = o->data + 8;
    body = nonce + THSM_AEAD_NONCE_LEN;
    memcpy(o->data, "THSMST02", 8);
    assert_int_equal(thsm_aead_seal(key, nonce, o->data, 8, body, body_len,
                                    body, body + body_len), 0);
    o->len = 8 + THSM_AEAD_NONCE_LEN + body_len + THSM_AEAD_TAG_LEN;
}

static void test_state_before_anchor_loads(void **state)
{
    fixture *f = *state;
    provision(f);
    char pub[200];
    keep(pub, sizeof(pub), req(f, "AT+SIGNER_PUBKEY?"));
    thsm_device_deinit(&f->dev);
    downgrade_state_to_v2(f);
    reinit(f);
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), pub);
    expect_status(f, "LOG=3 LOG_STATE=OK STATE=OK");
    assert_starts(req(f, SIGN_REQ), "OK "); /* next save: version 04 */
    thsm_device_flush(&f->dev);
    assert_memory_equal(state_object(f)->data, "THSMST07", 8);
}

static void test_no_signature_without_record(void **state)
{
    fixture *f = *state;
    provision(f);
    f->mp.fail_writes = 1;
    assert_starts(req(f, SIGN_REQ), "ERROR STORAGE ");
    f->mp.fail_writes = 0;
    assert_starts(req(f, SIGN_REQ), "OK ");
}

/* Puts a file of tests/fixtures into object name of the in-memory port. */
static void load_fixture(fixture *f, const char *file, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", THSM_FIXTURES, file);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    uint8_t *buf = malloc(THSM_MEM_OBJECT_MAX);
    size_t n = fread(buf, 1, THSM_MEM_OBJECT_MAX, fp);
    fclose(fp);
    assert_true(n > 0);
    assert_int_equal(f->port.save(f->port.ctx, name, buf, n), THSM_PORT_OK);
    free(buf);
}

/* A device whose state and log were written by main before derive() and
 * the KDF id (tests/fixtures/README.md). */
static void start_from_fixture(fixture *f, const char *state, const char *log)
{
    thsm_device_deinit(&f->dev);
    load_fixture(f, state, "state.bin");
    load_fixture(f, log, "audit.log");
    reinit(f);
}

static void test_state_v03_fixture_loads(void **state)
{
    fixture *f = *state;
    start_from_fixture(f, "state_v03.bin", "audit_v03.log");
    expect_status(f, "CA=1 SIGNER=1 SIGNER_CERT=1 PIN=NONE");
    expect_status(f, "CA_KEY=5FA6F2E317CB624B SIGNER_KEY=5AB15D982AEA4A80 "
                     "LOG=4 LOG_STATE=OK STATE=OK");
    assert_string_equal(req(f, "AT+STSAFE_SERIAL?"), "OK 39FE7A9576754FBCE8"
                                                     "\r\n\r\n");
    assert_starts(req(f, "AT+SIGNER_PUBKEY?"), "OK 04A9779239A41632");
    assert_starts(req(f, SIGN_REQ), "OK "); /* the private key unwraps */
    thsm_device_flush(&f->dev);
    assert_memory_equal(state_object(f)->data, "THSMST07", 8);
    reinit(f);
    expect_status(f, "SIGNER_KEY=5AB15D982AEA4A80 LOG=5 LOG_STATE=OK STATE=OK");
    assert_starts(req(f, SIGN_REQ), "OK ");
}

static thsm_mem_object *object_named(fixture *f, const char *name)
{
    for (int i = 0; i < THSM_MEM_OBJECTS; i++)
        if (f->mp.obj[i].used && strcmp(f->mp.obj[i].name, name) == 0)
            return &f->mp.obj[i];
    return NULL;
}

/* A state of format 04 loads; the file as it was is kept as
 * state.bin.v04 (for a downgrade) before the next save writes format 07,
 * which names the TinyHSM that wrote it. */
static void test_state_v04_migrates_keeping_old(void **state)
{
    fixture *f = *state;
    static uint8_t fixture_bytes[THSM_MEM_OBJECT_MAX];
    start_from_fixture(f, "state_v04.bin", "audit_v04.log");
    thsm_mem_object *st = state_object(f), *old = object_named(f, "state.bin.v04");
    assert_non_null(old);
    size_t n = old->len;
    memcpy(fixture_bytes, old->data, n);
    assert_int_equal(st->len, n);
    assert_memory_equal(st->data, fixture_bytes, n);
    assert_memory_equal(fixture_bytes, "THSMST04", 8);
    const thsm_state_format *fmt = thsm_device_state_format(&f->dev);
    assert_int_equal(fmt->old_format, 4);
    assert_int_equal(fmt->kept, 1);
    assert_starts(req(f, "AT+SIGNER_PUBKEY?"), "OK 0488794EB8388486");
    assert_starts(req(f, SIGN_REQ), "OK ");
    thsm_device_flush(&f->dev);
    char header[24] = "THSMST07" THSM_VERSION;
    assert_memory_equal(state_object(f)->data, header, sizeof(header));
    old = object_named(f, "state.bin.v04");
    assert_int_equal(old->len, n);
    assert_memory_equal(old->data, fixture_bytes, n);
    reinit(f);
    assert_int_equal(thsm_device_state_format(&f->dev)->old_format, 0);
    assert_starts(req(f, SIGN_REQ), "OK ");
}

/* A state of a newer format is refused naming the release it needs, and
 * left as it is. */
static void test_state_newer_format_refused(void **state)
{
    fixture *f = *state;
    provision(f);
    thsm_mem_object *o = state_object(f);
    memcpy(o->data, "THSMST08" "9.1.0\0\0\0\0\0\0\0\0\0\0\0", 24);
    expect_storage_error(f, "state.bin was made by TinyHSM 9.1.0 (state "
                            "format 08); install 9.1.0 or newer");
    assert_int_equal(thsm_device_state_format(&f->dev)->newer, 1);
    assert_non_null(strstr(req(f, "AT+HSM_STATUS?"), "install 9.1.0 or newer"));
    assert_memory_equal(state_object(f)->data, "THSMST08" "9.1.0", 13);
    memcpy(o->data, "THSMST12" "\x01\x02", 10); /* no readable writer */
    expect_storage_error(f, "state.bin has state format 12, newer than this "
                            "TinyHSM");
    memcpy(o->data, "THSMSTxx", 8);
    expect_storage_error(f, "not a TinyHSM state file");
}

/* The PIN fixture was set with scrypt: the OpenSSL backend logs in with it;
 * the MCU backend has no scrypt and says so without spending a try. */
static void test_state_v03_pin_fixture(void **state)
{
    fixture *f = *state;
    start_from_fixture(f, "state_v03_pin.bin", "audit_v03_pin.log");
    expect_status(f, "PIN=SET TRIES=5 AUTH=0 SIGNATURES=0 "
                     "CA_KEY=C3B27DE5ECE0E456 SIGNER_KEY=D86394FF1E1409F5 LOG=5");
    assert_int_equal(f->dev.st.pin.kdf.id, THSM_KDF_SCRYPT);
    assert_int_equal(f->dev.st.pin.kdf.log2_cost, 4);
#ifdef THSM_TEST_MBEDTLS
    thsm_mem_object *o = state_object(f);
    size_t len = o->len;
    assert_starts(req(f, "AT+AUTH PIN=fixture-pin"), "ERROR CRYPTO ");
    assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR CRYPTO ");
    expect_status(f, "PIN=SET TRIES=5 AUTH=0");
    assert_int_equal(o->len, len);
#else
    assert_string_equal(req(f, "AT+AUTH PIN=wrong-pin"),
                        "ERROR AUTH_FAILED 4 tries left\r\n\r\n");
    assert_string_equal(req(f, "AT+AUTH PIN=fixture-pin"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK ");
    reinit(f); /* saved as version 04, the PIN record still names scrypt */
    assert_memory_equal(state_object(f)->data, "THSMST07", 8);
    assert_int_equal(f->dev.st.pin.kdf.id, THSM_KDF_SCRYPT);
    assert_string_equal(req(f, "AT+AUTH PIN=fixture-pin"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK ");
#endif
}

/* A PIN is checked with the KDF its record names, not the backend's
 * current default. */
static void test_pin_kdf_recorded(void **state)
{
    fixture *f = *state;
    provision(f);
    f->dev.pin_kdf = (thsm_kdf_params){THSM_KDF_PBKDF2_SHA256, 5};
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    reinit(f); /* new PINs: the default KDF again (scrypt on OpenSSL) */
    assert_int_equal(f->dev.st.pin.kdf.id, THSM_KDF_PBKDF2_SHA256);
    assert_int_equal(f->dev.st.pin.kdf.log2_cost, 5);
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK ");
    /* a new PIN takes the default KDF */
    assert_string_equal(req(f, "AT+PIN_SET OLD=secret-pin NEW=other-pin"),
                        "OK\r\n\r\n");
    thsm_kdf_params def;
    thsm_pin_kdf_default(&def);
    assert_int_equal(f->dev.st.pin.kdf.id, def.id);
    assert_int_equal(f->dev.st.pin.kdf.log2_cost, 4);
}

/* A KDF this backend cannot compute: ERROR CRYPTO, no try, nothing saved. */
static void test_unknown_pin_kdf(void **state)
{
    fixture *f = *state;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    f->dev.st.pin.kdf.id = 0x7f;
    assert_int_equal(thsm_store_save(&f->port, &f->dev.st, &f->dev.work), 0);
    reinit(f);
    thsm_mem_object *o = state_object(f);
    size_t len = o->len;
    for (int i = 0; i < THSM_PIN_TRIES + 1; i++)
        assert_starts(req(f, "AT+AUTH PIN=secret-pin"), "ERROR CRYPTO ");
    expect_status(f, "PIN=SET TRIES=5 AUTH=0");
    assert_int_equal(o->len, len);
    assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
}

/* A bounded log that is full withholds signatures with a clear error. */
static void test_log_full_withholds_signature(void **state)
{
    fixture *f = *state;
    provision(f);
    /* room: one signature and the state changes' reserve */
    f->mp.append_max = log_object(f)->len +
                       (1 + THSM_LOG_CHANGE_RESERVE) * THSM_LOG_RECORD;
    assert_starts(req(f, SIGN_REQ), "OK ");
    assert_string_equal(req(f, SIGN_REQ),
                        "ERROR STORAGE audit log full: no room for the record "
                        "of another signature; signature withheld\r\n\r\n");
    expect_status(f, "SIGNATURES=1 ");
    f->mp.append_max = 0;
    assert_starts(req(f, SIGN_REQ), "OK ");
    expect_status(f, "SIGNATURES=2 ");
}

/* The core formats 64-bit numbers itself (newlib-nano's printf has no long
 * long); it must write what printf would. */
static void test_format_i64(void **state)
{
    (void)state;
    static const int64_t values[] = {0, 7, -7, 1798761600, -1798761600,
                                     9999999999, INT64_MAX, INT64_MIN, 12345};
    char got[THSM_I64_TEXT], want[32];
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        for (int width = 0; width <= 12; width += 4) {
            thsm_format_i64(values[i], width, got);
            snprintf(want, sizeof(want), "%0*lld", width, (long long)values[i]);
            assert_string_equal(got, want);
        }
    }
    char when[THSM_TIME_TEXT];
    thsm_format_time(-62135596800 - 86400, when); /* the day before 0001-01-01 */
    assert_string_equal(when, "0000-12-31 00:00:00 UTC");
    thsm_format_time(THSM_TIME_MAX, when);
    assert_string_equal(when, "9999-12-31 23:59:59 UTC");
}

/* Record i of the log as the device answers it (AT+LOG?), in rec. */
static void log_record(fixture *f, uint32_t i, char rec[THSM_LOG_RECORD])
{
    char line[32];
    snprintf(line, sizeof(line), "AT+LOG? FROM=%lu", (unsigned long)i);
    const char *r = strstr(req(f, line), "\r\n");
    assert_non_null(r);
    memcpy(rec, r + 2, THSM_LOG_RECORD - 1);
    rec[THSM_LOG_RECORD - 1] = '\0';
}

/* 9 records (0-8), the last one a SIGN. */
static void nine_records(fixture *f)
{
    provision(f);
    for (int i = 0; i < 6; i++)
        assert_starts(req(f, SIGN_REQ), "OK ");
    expect_status(f, " LOG=9 LOG_STATE=OK ");
}

static void test_log_cut_found_at_next_record(void **state)
{
    fixture *f = *state;
    char rec[THSM_LOG_RECORD];
    nine_records(f);
    log_object(f)->len -= THSM_LOG_RECORD; /* record 8 cut off */
    const char *r = req(f, SIGN_REQ);
    assert_starts(r, "ERROR STORAGE audit log is missing records from 8 ");
    assert_non_null(strstr(r, "signature withheld"));
    thsm_device_deinit(&f->dev); /* sealed at once: no flush needed */
    thsm_session_init(&f->s, collect, f);
    assert_int_equal(thsm_device_init(&f->dev, &f->port), 0);
    /* a new segment: the gap is a record of its own, then the refusal */
    expect_status(f, " LOG=10 LOG_STATE=MISSING_FROM_8 ");
    log_record(f, 8, rec);
    assert_non_null(strstr(rec, " RECORDS_LOST "));
    assert_non_null(strstr(rec, " 8-8 "));
    log_record(f, 9, rec);
    assert_non_null(strstr(rec, " STORAGE "));
    assert_starts(req(f, SIGN_REQ), "OK ");
    assert_starts(req(f, "AT+LOG? FROM=10"), "OK 1 11 ");
    reinit(f); /* the first finding stays; later checks do not replace it */
    expect_status(f, " LOG=11 LOG_STATE=MISSING_FROM_8 ");
    reinit(f);
    expect_status(f, " LOG=11 LOG_STATE=MISSING_FROM_8 ");
}

static void test_log_cut_shows_in_status(void **state)
{
    fixture *f = *state;
    nine_records(f);
    log_object(f)->len -= 2 * THSM_LOG_RECORD + 10; /* 6 and a part */
    /* info shows it at once (the device's own count), sealed at once */
    expect_status(f, " LOG=9 LOG_STATE=MISSING_FROM_6 ");
    assert_starts(req(f, SIGN_REQ), "ERROR STORAGE audit log is missing "
                                    "records from 6 (records 6-8 ");
    /* 6 padded, the RECORDS_LOST and the refusal */
    expect_status(f, " LOG=9 LOG_STATE=MISSING_FROM_6 ");
    reinit(f);
    expect_status(f, " LOG_STATE=MISSING_FROM_6 ");
}

static void test_log_foreign_records_found(void **state)
{
    fixture *f = *state;
    char rec[THSM_LOG_RECORD];
    nine_records(f);
    thsm_mem_object *o = log_object(f);
    memcpy(o->data + o->len, o->data, THSM_LOG_RECORD); /* not its own */
    o->len += THSM_LOG_RECORD;
    const char *r = req(f, SIGN_REQ);
    assert_starts(r, "ERROR STORAGE audit log holds records 9-9 the device "
                     "did not write");
    log_record(f, 10, rec);
    assert_non_null(strstr(rec, " RECORDS_FOREIGN "));
    reinit(f);
    expect_status(f, " LOG_STATE=BROKEN_AT_9 ");
}

static void test_log_deleted_while_running(void **state)
{
    fixture *f = *state;
    char rec[THSM_LOG_RECORD];
    nine_records(f);
    log_object(f)->used = 0;
    assert_starts(req(f, SIGN_REQ), "ERROR STORAGE audit log is missing "
                                    "records from 0 ");
    log_record(f, 0, rec);
    assert_starts(rec, "00000000 ");
    assert_non_null(strstr(rec, " RECORDS_LOST "));
    assert_non_null(strstr(rec, " 0-8 "));
    assert_starts(req(f, SIGN_REQ), "OK ");
    reinit(f);
    expect_status(f, " LOG=3 LOG_STATE=MISSING_FROM_0 ");
}

static void test_log_cut_refuses_state_change(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    nine_records(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    char before[512];
    keep(before, sizeof(before), status_of(f));
    log_object(f)->len -= THSM_LOG_RECORD;
    const char *r = req(f, "AT+AUTH PIN=wrong-pin");
    assert_starts(r, "ERROR STORAGE audit log is missing records from 9 ");
    assert_non_null(strstr(r, "nothing changed"));
    expect_status(f, " TRIES=5 "); /* no try spent without its record */
    expect_status(f, " LOG_STATE=MISSING_FROM_9 ");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    log_object(f)->len -= THSM_LOG_RECORD;
    assert_starts(req(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"), "ERROR STORAGE ");
    /* the signer key is the one from before */
    const char *key = strstr(before, "SIGNER_KEY=");
    assert_non_null(key);
    char want[40];
    snprintf(want, sizeof(want), "%.27s ", key);
    expect_status(f, want);
}

static void test_malformed_pin_spends_no_try(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    expect_status(f, " LOG=4 ");
    const char *bad[] = {"AT+AUTH PIN=SEC", "AT+AUTH PIN=12345",
                         "AT+AUTH PIN=" /* 65 characters */
                         "12345678901234567890123456789012345678901234567890"
                         "123456789012345",
                         "AT+PIN_SET OLD=SEC NEW=other-pin"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *r = req(f, bad[i]);
        assert_starts(r, "ERROR BAD_PARAM ");
        assert_null(strstr(r, "SEC"));
        assert_null(strstr(r, "12345"));
    }
    expect_status(f, " TRIES=5 "); /* and nothing recorded: no attempt */
    expect_status(f, " LOG=4 ");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
}

static void test_rollback_tries_from_log(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED ");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    thsm_mem_object *o = state_object(f);
    static uint8_t old[THSM_MEM_OBJECT_MAX];
    size_t old_len = o->len;
    memcpy(old, o->data, old_len); /* TRIES=5 */
    /* a right PIN starts the count again: only the fails after it count */
    for (int i = 0; i < 2; i++)
        assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED ");
    snapshot = f->mp;
    thsm_device_deinit(&f->dev);
    memcpy(o->data, old, old_len);
    o->len = old_len;
    reinit(f);
    expect_status(f, " TRIES=3 ");
    expect_status(f, " STATE=ROLLED_BACK");
    /* with a damaged log as well, the count is unknowable: one try */
    restore(f);
    memcpy(o->data, old, old_len);
    o->len = old_len;
    log_object(f)->data[THSM_LOG_RECORD + 60] ^= 1; /* record 1 altered */
    reinit(f);
    expect_status(f, " TRIES=1 ");
    expect_status(f, " LOG_STATE=BROKEN_AT_1 STATE=ROLLED_BACK");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    expect_status(f, " TRIES=5 ");
}

/* Appends a record anyone can write: the chain needs no key. */
static void forge_record(fixture *f, const char *event, const char *result)
{
    thsm_mem_object *o = log_object(f);
    char rec[THSM_LOG_RECORD + 1], hex[65];
    uint8_t head[32], link[32];
    thsm_sha256_ctx c;
    memcpy(hex, o->data + o->len - THSM_LOG_RECORD + THSM_LOG_CHAIN_AT, 64);
    hex[64] = '\0';
    assert_int_equal(thsm_parse_hex(hex, head, 32), 0);
    snprintf(rec, sizeof(rec), "%08lu 1798761600 %-16s %-16s %-64s %-16s ",
             (unsigned long)(o->len / THSM_LOG_RECORD), event, "-", "-",
             result);
    thsm_sha256_init(&c);
    thsm_sha256_update(&c, head, 32);
    thsm_sha256_update(&c, rec, THSM_LOG_CHAIN_AT);
    thsm_sha256_final(&c, link);
    thsm_hex(link, 32, rec + THSM_LOG_CHAIN_AT);
    rec[THSM_LOG_RECORD - 1] = '\n';
    memcpy(o->data + o->len, rec, THSM_LOG_RECORD);
    o->len += THSM_LOG_RECORD;
}

/* A state from 5 tries ago put back and a keyless AUTH record appended:
 * records the sealed anchor does not cover only ever lower the bound. */
static void test_rollback_forged_auth_keeps_bound(void **state)
{
    fixture *f = *state;
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    thsm_mem_object *o = state_object(f);
    static uint8_t old[THSM_MEM_OBJECT_MAX];
    size_t old_len = o->len;
    memcpy(old, o->data, old_len); /* TRIES=5 */
    for (int i = 0; i < 3; i++)
        assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED ");
    thsm_device_deinit(&f->dev);
    memcpy(o->data, old, old_len);
    o->len = old_len;
    forge_record(f, "AUTH", "GEN=99");
    reinit(f);
    expect_status(f, " STATE=ROLLED_BACK");
    expect_status(f, " TRIES=2 ");
}

/* A disk that fills mid-record: the half record is cut back and the
 * failure is a storage error, never a finding of tampering. */
static void test_short_append_is_storage_error(void **state)
{
    fixture *f = *state;
    provision(f);
    f->mp.short_append = 77;
    assert_string_equal(req(f, SIGN_REQ), "ERROR STORAGE audit log not "
                        "writable; signature withheld\r\n\r\n");
    assert_int_equal(log_object(f)->len % THSM_LOG_RECORD, 0);
    /* the failure itself is recorded, as every refused key command */
    assert_true(logged(f, "STORAGE", "SIGNER_SIGN"));
    expect_status(f, " LOG=4 LOG_STATE=OK");
    assert_starts(req(f, SIGN_REQ), "OK ");
    expect_status(f, " LOG=5 LOG_STATE=OK STATE=OK");
    reinit(f);
    expect_status(f, " LOG=5 LOG_STATE=OK STATE=OK");
}

/* ---- two roles: the security officer's PIN (PUK), waits after wrong PINs */

#define USER_PIN "user-pin-1"
#define SO_PIN "officer-puk"

/* A provisioned device with both PINs, this session logged in as user. */
static void two_roles(fixture *f)
{
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=" USER_PIN), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+SO_PIN_SET NEW=" SO_PIN), "OK\r\n\r\n");
    expect_status(f, " PIN=SET TRIES=5 ");
    expect_status(f, " SO=SET SO_TRIES=10 SO_AUTH=0 ");
}

/* Five wrong user PINs (the clock ticks past each wait). */
static void block_user(fixture *f, thsm_session *s)
{
    for (int i = 0; i < THSM_PIN_TRIES; i++)
        assert_starts(req_on(f, s, "AT+AUTH PIN=wrong-pin"),
                      "ERROR AUTH_FAILED ");
    expect_status(f, " PIN=BLOCKED TRIES=0 ");
}

static void test_so_unblocks_and_keeps_keys(void **state)
{
    fixture *f = *state;
    char pub[200], ca[4096];
    two_roles(f);
    keep(pub, sizeof(pub), req(f, "AT+SIGNER_PUBKEY?"));
    keep(ca, sizeof(ca), req(f, "AT+HSM_CA_CERT?"));
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    block_user(f, &f->s);
    assert_starts(req(f, "AT+AUTH PIN=" USER_PIN), "ERROR PIN_LOCKED ");
    assert_non_null(strstr(f->out, "AT+PIN_UNBLOCK"));
    assert_starts(req(f, SIGN_REQ), "ERROR PIN_LOCKED ");
    /* nothing but an SO login unblocks */
    assert_starts(req(f, "AT+PIN_UNBLOCK NEW=new-user-pin"),
                  "ERROR AUTH_REQUIRED ");
    assert_string_equal(req(f, "AT+AUTH_SO PIN=" SO_PIN), "OK\r\n\r\n");
    expect_status(f, " AUTH=0 ");
    expect_status(f, " SO_AUTH=1 ");
    /* the weak-PIN rule holds for an unblock and for the SO PIN too */
    assert_starts(req(f, "AT+PIN_UNBLOCK NEW=123456"), "ERROR BAD_PARAM ");
    assert_starts(req(f, "AT+SO_PIN_SET OLD=" SO_PIN " NEW=111111"),
                  "ERROR BAD_PARAM ");
    expect_status(f, " PIN=BLOCKED ");
    assert_string_equal(req(f, "AT+PIN_UNBLOCK NEW=new-user-pin"),
                        "OK\r\n\r\n");
    expect_status(f, " PIN=SET TRIES=5 AUTH=0 ");
    assert_true(logged(f, "SO_AUTH", "GEN="));
    assert_true(logged(f, "PIN_UNBLOCK", "GEN="));
    /* the new PIN opens the same keys, after a restart too */
    reinit(f);
    assert_starts(req(f, "AT+AUTH PIN=" USER_PIN), "ERROR AUTH_FAILED ");
    assert_string_equal(req(f, "AT+AUTH PIN=new-user-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), pub);
    assert_string_equal(req(f, "AT+HSM_CA_CERT?"), ca);
    assert_starts(req(f, SIGN_REQ), "OK ");
    /* a user PIN change keeps the SO able to unblock */
    assert_string_equal(req(f, "AT+PIN_SET OLD=new-user-pin NEW=third-pin"),
                        "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n"); /* keys wiped */
    assert_string_equal(req(f, "AT+AUTH_SO PIN=" SO_PIN), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+PIN_UNBLOCK NEW=fourth-pin"), "OK\r\n\r\n");
    reinit(f);
    assert_string_equal(req(f, "AT+AUTH PIN=fourth-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), pub);
    assert_starts(req(f, SIGN_REQ), "OK ");
}

static void test_so_is_not_the_user(void **state)
{
    fixture *f = *state;
    thsm_session other;
    thsm_session_init(&other, collect, f);
    two_roles(f);
    assert_string_equal(req(f, "AT+AUTH_SO PIN=" SO_PIN), "OK\r\n\r\n");
    expect_no_key_use(f, &f->s); /* the SO login replaced the user's */
    /* another session never rides the SO login */
    expect_no_key_use(f, &other);
    assert_starts(req_on(f, &other, "AT+PIN_UNBLOCK NEW=other-pin"),
                  "ERROR AUTH_REQUIRED ");
    assert_non_null(strstr(req_on(f, &other, "AT+HSM_STATUS?"), " SO_AUTH=0 "));
    /* the unblock logs the other sessions out, never the SO in as user */
    assert_string_equal(req_on(f, &other, "AT+AUTH PIN=" USER_PIN),
                        "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+PIN_UNBLOCK NEW=new-user-pin"),
                        "OK\r\n\r\n");
    expect_no_key_use(f, &other);
    expect_no_key_use(f, &f->s);
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    expect_status(f, " SO_AUTH=0 ");
    assert_starts(req(f, "AT+PIN_UNBLOCK NEW=new-user-pin"),
                  "ERROR AUTH_REQUIRED ");
}

static void test_so_tries_exhausted(void **state)
{
    fixture *f = *state;
    char want[64];
    two_roles(f);
    for (int left = THSM_SO_PIN_TRIES - 1; left >= 0; left--) {
        snprintf(want, sizeof(want), "ERROR AUTH_FAILED %d tries left\r\n\r\n",
                 left);
        assert_string_equal(req(f, "AT+AUTH_SO PIN=wrong-puk"), want);
    }
    expect_status(f, " SO=BLOCKED SO_TRIES=0 ");
    assert_starts(req(f, "AT+AUTH_SO PIN=" SO_PIN), "ERROR PIN_LOCKED ");
    assert_starts(req(f, "AT+SO_PIN_SET OLD=" SO_PIN " NEW=new-puk-1"),
                  "ERROR PIN_LOCKED ");
    /* wrong PINs name their role in the log */
    assert_true(logged(f, "SO_AUTH_FAILED", "GEN="));
    assert_true(logged(f, "SO_AUTH_BLOCKED", "GEN="));
    assert_false(logged(f, "AUTH_FAILED", "GEN="));
    /* the user still works; once blocked too, only a decommission helps */
    assert_starts(req(f, SIGN_REQ), "OK ");
    block_user(f, &f->s);
    assert_true(logged(f, "AUTH_BLOCKED", "GEN="));
    assert_starts(req(f, "AT+AUTH PIN=" USER_PIN), "ERROR PIN_LOCKED ");
    assert_non_null(strstr(f->out, "only AT+STSAFE_DECOMMISSION"));
    assert_string_equal(req(f, "AT+STSAFE_DECOMMISSION"), "OK\r\n\r\n");
    expect_status(f, " PIN=NONE TRIES=0 ");
    expect_status(f, " SO=NONE SO_TRIES=0 ");
    assert_starts(req(f, "AT+SIGNER_PUBKEY?"), "ERROR NO_SIGNER ");
}

static void test_so_pin_malformed_spends_no_try(void **state)
{
    fixture *f = *state;
    two_roles(f);
    assert_starts(req(f, "AT+SO_PIN_SET OLD=" SO_PIN " NEW=short"),
                  "ERROR BAD_PARAM NEW must be ");
    const char *bad[] = {"AT+AUTH_SO PIN=short", "AT+AUTH_SO PIN=",
                         "AT+AUTH_SO PIN", "AT+AUTH_SO",
                         ("AT+AUTH_SO PIN=" SO_PIN " SO=" SO_PIN),
                         ("AT+SO_PIN_SET OLD=" SO_PIN " NEW=short"),
                         ("AT+SO_PIN_SET OLD=short NEW=" SO_PIN),
                         "AT+PIN_UNBLOCK NEW=short"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_starts(req(f, bad[i]), "ERROR BAD_PARAM ");
        expect_status(f, " SO=SET SO_TRIES=10 ");
    }
    assert_null(strstr(f->all, "short\r"));
}

static void test_so_pin_set_rules(void **state)
{
    fixture *f = *state;
    thsm_session other;
    thsm_session_init(&other, collect, f);
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_starts(req(f, "AT+SO_PIN_SET NEW=" SO_PIN), "ERROR NO_PIN ");
    assert_starts(req(f, "AT+AUTH_SO PIN=" SO_PIN), "ERROR NO_PIN ");
    assert_string_equal(req(f, "AT+PIN_SET NEW=" USER_PIN), "OK\r\n\r\n");
    expect_status(f, " SO=NONE SO_TRIES=0 ");
    assert_starts(req(f, "AT+AUTH_SO PIN=" SO_PIN), "ERROR NO_PIN ");
    assert_starts(req(f, "AT+PIN_SET OLD=" USER_PIN " NEW=" USER_PIN
                         " SO=" SO_PIN), "ERROR BAD_PARAM ");
    /* only the user's own session sets the first SO PIN */
    assert_starts(req_on(f, &other, "AT+SO_PIN_SET NEW=" SO_PIN),
                  "ERROR AUTH_REQUIRED ");
    assert_string_equal(req(f, "AT+SO_PIN_SET NEW=" SO_PIN), "OK\r\n\r\n");
    assert_true(logged(f, "SO_PIN_SET", "GEN="));
    assert_starts(req(f, "AT+SO_PIN_SET NEW=other-puk"), "ERROR BAD_PARAM ");
    /* a change needs the old SO PIN, and the old one stops working */
    assert_starts(req(f, "AT+SO_PIN_SET OLD=wrong-puk NEW=other-puk"),
                  "ERROR AUTH_FAILED 9 tries left");
    assert_string_equal(req_on(f, &other, "AT+SO_PIN_SET OLD=" SO_PIN
                                          " NEW=other-puk"), "OK\r\n\r\n");
    assert_starts(req(f, "AT+AUTH_SO PIN=" SO_PIN), "ERROR AUTH_FAILED ");
    assert_string_equal(req(f, "AT+AUTH_SO PIN=other-puk"), "OK\r\n\r\n");
    expect_status(f, " SO=SET SO_TRIES=10 SO_AUTH=1 ");
    /* the SO set after the user PIN unblocks it with the keys kept */
    char pub[200];
    keep(pub, sizeof(pub), req(f, "AT+SIGNER_PUBKEY?"));
    assert_string_equal(req(f, "AT+PIN_UNBLOCK NEW=new-user-pin"),
                        "OK\r\n\r\n");
    reinit(f);
    assert_string_equal(req(f, "AT+AUTH PIN=new-user-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+SIGNER_PUBKEY?"), pub);
    assert_starts(req(f, SIGN_REQ), "OK ");
}

/* "ERROR PIN_DELAY <n> ..." for the login on s, no try spent. */
static void expect_delay(fixture *f, const char *login, int seconds,
                         const char *tries)
{
    char want[40];
    snprintf(want, sizeof(want), "ERROR PIN_DELAY %d ", seconds);
    assert_starts(req(f, login), want);
    expect_status(f, tries);
}

static void test_pin_delay_doubles(void **state)
{
    fixture *f = *state;
    f->tick = 0; /* the clock moves only when this test says */
    f->dev.pin_kdf.log2_cost = 4;
    assert_string_equal(req(f, "AT+PIN_SET NEW=" USER_PIN), "OK\r\n\r\n");
    assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED 4 ");
    expect_status(f, " DELAY=1 ");
    /* refused during the wait, right PIN or not, and no try spent */
    expect_delay(f, "AT+AUTH PIN=wrong-pin", 1, " TRIES=4 ");
    expect_delay(f, "AT+AUTH PIN=" USER_PIN, 1, " TRIES=4 ");
    expect_delay(f, "AT+PIN_SET OLD=" USER_PIN " NEW=other-pin", 1,
                 " TRIES=4 ");
    assert_true(logged(f, "PIN_DELAY", "AUTH"));
    int waits[] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        f->mp.now += waits[i] - 1;
        expect_delay(f, "AT+AUTH PIN=wrong-pin", 1, " TRIES=");
        f->mp.now += 1;
        assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED ");
    }
    expect_status(f, " TRIES=1 ");
    expect_delay(f, "AT+AUTH PIN=" USER_PIN, 8, " TRIES=1 ");
    f->mp.now += 8;
    /* a right PIN clears the wait: the next wrong one is at once */
    assert_string_equal(req(f, "AT+AUTH PIN=" USER_PIN), "OK\r\n\r\n");
    expect_status(f, " TRIES=5 AUTH=1 ");
    expect_status(f, " DELAY=0 ");
    assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED 4 ");
    /* a clock gone back waits in full from the next try on */
    f->mp.now -= 3600;
    expect_delay(f, "AT+AUTH PIN=wrong-pin", 1, " TRIES=4 ");
    f->mp.now += 1;
    assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED 3 ");
}

static void test_pin_delay_survives_restart(void **state)
{
    fixture *f = *state;
    f->tick = 0;
    two_roles(f);
    assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED 4 ");
    f->mp.now += 1;
    assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED 3 ");
    assert_starts(req(f, "AT+AUTH_SO PIN=wrong-puk"), "ERROR AUTH_FAILED 9 ");
    reinit(f);
    expect_status(f, " DELAY=2 ");
    expect_status(f, " SO_DELAY=1");
    expect_delay(f, "AT+AUTH PIN=" USER_PIN, 2, " TRIES=3 ");
    expect_delay(f, "AT+AUTH_SO PIN=" SO_PIN, 1, " SO_TRIES=9 ");
    f->mp.now += 1;
    assert_string_equal(req(f, "AT+AUTH_SO PIN=" SO_PIN), "OK\r\n\r\n");
    expect_status(f, " SO_TRIES=10 SO_AUTH=1 SO_DELAY=0");
    expect_delay(f, "AT+AUTH PIN=" USER_PIN, 1, " TRIES=3 ");
    f->mp.now += 1;
    assert_string_equal(req(f, "AT+AUTH PIN=" USER_PIN), "OK\r\n\r\n");
    reinit(f);
    expect_status(f, " TRIES=5 ");
    expect_status(f, " DELAY=0 ");
    assert_string_equal(req(f, "AT+AUTH PIN=" USER_PIN), "OK\r\n\r\n");
}


/* ---- issue 16, findings 2 and 9 ---------------------------------------- */

/* Record i of the log object (from its start), as a string. */
static const char *record_at(fixture *f, size_t i, char out[THSM_LOG_RECORD])
{
    thsm_mem_object *o = log_object(f);
    assert_true((i + 1) * THSM_LOG_RECORD <= o->len);
    memcpy(out, o->data + i * THSM_LOG_RECORD, THSM_LOG_LINE);
    out[THSM_LOG_LINE] = '\0';
    return out;
}

/* A device with a PIN, logged out, its clock standing still. */
static void pin_logged_out(fixture *f)
{
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_string_equal(req(f, "AT+LOGOUT"), "OK\r\n\r\n");
    f->tick = 0;
}

static void test_refusals_counted(void **state)
{
    fixture *f = *state;
    char rec[THSM_LOG_RECORD];
    pin_logged_out(f);
    uint32_t count = f->dev.log_count;
    snprintf(f->s.peer, sizeof(f->s.peer), "UID=1234");
    for (int i = 0; i < 1000; i++)
        assert_starts(req(f, SIGN_REQ), "ERROR AUTH_REQUIRED ");
    /* the first at once, the other 999 counted */
    assert_int_equal(f->dev.log_count, count + 1);
    assert_non_null(strstr(record_at(f, count, rec), " AUTH_REQUIRED "));
    assert_non_null(strstr(rec, " UID=1234 "));
    thsm_device_flush(&f->dev); /* the first record synced */
    assert_false(thsm_device_flush_pending(&f->dev)); /* no busy loop */
    assert_int_equal(f->dev.log_count, count + 1); /* the window is open */
    int64_t t1 = f->mp.now;
    f->mp.now += THSM_REFUSAL_WINDOW;
    assert_true(thsm_device_flush_pending(&f->dev));
    thsm_device_flush(&f->dev);
    assert_int_equal(f->dev.log_count, count + 2);
    char want[100];
    snprintf(want, sizeof(want), " COUNT=999,FROM=%lld,TO=%lld,UID=1234 ",
             (long long)t1, (long long)t1);
    assert_non_null(strstr(record_at(f, count + 1, rec), want));
    assert_non_null(strstr(rec, " SIGNER_SIGN "));
    /* a state change writes the counted ones first, in order */
    for (int i = 0; i < 5; i++)
        req(f, SIGN_REQ);
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_non_null(strstr(record_at(f, count + 3, rec), " COUNT=4,"));
    assert_non_null(strstr(record_at(f, count + 4, rec), " AUTH "));
    expect_status(f, " LOG_STATE=OK ");
}

/* Counted refusals are written when the device stops: none is lost. */
static void test_refusals_written_at_stop(void **state)
{
    fixture *f = *state;
    char rec[THSM_LOG_RECORD];
    pin_logged_out(f);
    uint32_t count = f->dev.log_count;
    for (int i = 0; i < 5; i++)
        req(f, SIGN_REQ);
    reinit(f);
    assert_int_equal(f->dev.log_count, count + 2);
    assert_non_null(strstr(record_at(f, count + 1, rec), " COUNT=4,"));
    expect_status(f, " LOG_STATE=OK STATE=OK ");
}

/* Many kinds at once: each kind once, then all others counted together. */
static void test_refusal_kinds_bounded(void **state)
{
    fixture *f = *state;
    char rec[THSM_LOG_RECORD];
    pin_logged_out(f);
    uint32_t count = f->dev.log_count;
    for (int round = 0; round < 50; round++)
        for (int uid = 0; uid < 2 * THSM_REFUSAL_KINDS; uid++) {
            snprintf(f->s.peer, sizeof(f->s.peer), "UID=%d", uid);
            req(f, SIGN_REQ);
        }
    assert_int_equal(f->dev.log_count, count + THSM_REFUSAL_KINDS);
    f->mp.now += THSM_REFUSAL_WINDOW;
    thsm_device_flush(&f->dev);
    assert_int_equal(f->dev.log_count, count + 2 * THSM_REFUSAL_KINDS + 1);
    int others = 0;
    for (uint32_t i = count; i < f->dev.log_count; i++)
        others += strstr(record_at(f, i, rec), " REFUSED ") &&
                  strstr(rec, " COUNT=400,") && strstr(rec, " OTHERS ");
    assert_int_equal(others, 1);
}

/* Refusals never take the last part of a bounded log; signatures do. */
static void test_refusals_leave_reserve(void **state)
{
    fixture *f = *state;
    pin_logged_out(f);
    f->mp.append_max = 40 * THSM_LOG_RECORD;
    for (int i = 0; i < 200; i++) {
        f->mp.now += THSM_REFUSAL_WINDOW; /* every one a record of its own */
        req(f, SIGN_REQ);
    }
    /* the last 1/8 is for signatures, then the state changes' reserve */
    assert_int_equal(f->dev.log_count, 40 - 40 / 8 - THSM_LOG_CHANGE_RESERVE);
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    int signed_ = 0;
    while (strncmp(req(f, SIGN_REQ), "OK ", 3) == 0)
        signed_++;
    assert_non_null(strstr(f->out, "audit log full"));
    /* signatures leave the last records to state changes */
    assert_int_equal(signed_, 40 / 8 - 1); /* after the login's record */
    assert_string_equal(req(f, "AT+PIN_SET OLD=secret-pin NEW=other-pin"),
                        "OK\r\n\r\n");
    assert_true(logged(f, "PIN_SET", "GEN="));
    expect_status(f, " LOG_STATE=OK ");
}

/* Puts back a state from before three wrong PINs: a rollback. */
static void roll_back(fixture *f)
{
    thsm_mem_object *o = state_object(f);
    static uint8_t old[THSM_MEM_OBJECT_MAX];
    size_t old_len = o->len;
    memcpy(old, o->data, old_len);
    for (int i = 0; i < 3; i++)
        assert_starts(req(f, "AT+AUTH PIN=wrong-pin"), "ERROR AUTH_FAILED ");
    thsm_device_deinit(&f->dev);
    memcpy(o->data, old, old_len);
    o->len = old_len;
    reinit(f);
}

static void test_finding_acknowledged(void **state)
{
    fixture *f = *state;
    char rec[THSM_LOG_RECORD];
    f->dev.pin_kdf.log2_cost = 4;
    provision(f);
    assert_starts(req(f, "AT+LOG_ACK"), "ERROR NO_PIN ");
    assert_string_equal(req(f, "AT+PIN_SET NEW=secret-pin"), "OK\r\n\r\n");
    assert_starts(req(f, "AT+LOG_ACK"), "ERROR NO_FINDING ");
    roll_back(f);
    expect_status(f, " STATE=ROLLED_BACK ");
    expect_status(f, " ACK=NONE ");
    assert_starts(req(f, "AT+LOG_ACK"), "ERROR AUTH_REQUIRED ");
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    snprintf(f->s.peer, sizeof(f->s.peer), "UID=77");
    uint32_t at = f->dev.log_count;
    char want[40];
    snprintf(want, sizeof(want), "OK %lu\r\n\r\n", (unsigned long)at);
    assert_string_equal(req(f, "AT+LOG_ACK"), want);
    assert_non_null(strstr(record_at(f, at, rec), " FINDING_ACK "));
    assert_non_null(strstr(rec, " LOG_STATE=OK,STATE=ROLLED_BACK,UID=77 "));
    snprintf(want, sizeof(want), " STATE=ROLLED_BACK ");
    expect_status(f, want);
    snprintf(want, sizeof(want), " ACK=%lu ", (unsigned long)at);
    expect_status(f, want);
    reinit(f); /* sealed: still acknowledged, and no new finding */
    expect_status(f, want);
    expect_status(f, " STATE=ROLLED_BACK ");
    /* a new rollback after the acknowledgement is open again */
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    roll_back(f);
    expect_status(f, " STATE=ROLLED_BACK ");
    expect_status(f, " ACK=NONE ");
}

/* A new finding after an acknowledged one replaces it, open. */
static void test_new_finding_after_ack(void **state)
{
    fixture *f = *state;
    pin_logged_out(f);
    f->tick = 1;
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    req(f, SIGN_REQ);
    log_object(f)->len -= THSM_LOG_RECORD; /* cut while running */
    char first[40];
    snprintf(first, sizeof(first), " LOG_STATE=MISSING_FROM_%lu ",
             (unsigned long)f->dev.log_count - 1);
    assert_starts(req(f, "AT+LOG_ACK"), "ERROR STORAGE "); /* a new segment */
    assert_starts(req(f, "AT+LOG_ACK"), "OK ");
    expect_status(f, first);
    assert_null(strstr(status_of(f), " ACK=NONE "));
    reinit(f);
    expect_status(f, first);
    assert_null(strstr(status_of(f), " ACK=NONE "));
    req(f, SIGN_REQ);
    log_object(f)->len -= THSM_LOG_RECORD; /* cut again: a new finding */
    char second[40];
    snprintf(second, sizeof(second), " LOG_STATE=MISSING_FROM_%lu ",
             (unsigned long)f->dev.log_count - 1);
    expect_status(f, second);
    expect_status(f, " ACK=NONE ");
}

static void test_log_cleared_after_archive(void **state)
{
    fixture *f = *state;
    char rec[THSM_LOG_RECORD], head[65], line[200];
    pin_logged_out(f);
    f->tick = 1;
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK ");
    uint32_t n = f->dev.log_count;
    thsm_hex(f->dev.log_head, 32, head);
    snprintf(line, sizeof(line), "AT+LOG_CLEAR COUNT=%lu HEAD=%064d",
             (unsigned long)n, 0);
    assert_starts(req(f, line), "ERROR NOT_ARCHIVED ");
    snprintf(line, sizeof(line), "AT+LOG_CLEAR COUNT=%lu HEAD=%s",
             (unsigned long)n - 1, head);
    assert_starts(req(f, line), "ERROR NOT_ARCHIVED ");
    assert_true(logged(f, "NOT_ARCHIVED", "LOG_CLEAR"));
    f->mp.now += THSM_REFUSAL_WINDOW; /* the repeat's record written */
    thsm_device_flush(&f->dev);
    n = f->dev.log_count;
    thsm_hex(f->dev.log_head, 32, head);
    snprintf(line, sizeof(line), "AT+LOG_CLEAR COUNT=%lu HEAD=%s",
             (unsigned long)n, head);
    char want[40];
    snprintf(want, sizeof(want), "OK %lu\r\n\r\n", (unsigned long)n);
    assert_string_equal(req(f, line), want);
    /* one record left: the clear, numbered on, its digest the old head */
    assert_int_equal(log_object(f)->len, THSM_LOG_RECORD);
    snprintf(want, sizeof(want), "%08lu ", (unsigned long)n);
    assert_memory_equal(record_at(f, 0, rec), want, 9);
    assert_non_null(strstr(rec, " LOG_CLEARED "));
    assert_non_null(strstr(rec, head));
    snprintf(line, sizeof(line), "OK 1 %lu ", (unsigned long)n + 1);
    assert_starts(req(f, "AT+LOG? FROM=0"), line);
    snprintf(line, sizeof(line), " %lu %s\r\n", (unsigned long)n, head);
    assert_non_null(strstr(f->out, line));
    /* the chain goes on from the archived head: a restart finds it whole */
    assert_starts(req(f, SIGN_REQ), "OK ");
    reinit(f);
    expect_status(f, " LOG_STATE=OK STATE=OK ");
    snprintf(line, sizeof(line), " LOG=%lu ", (unsigned long)n + 2);
    expect_status(f, line);
    snprintf(line, sizeof(line), " LOG_BASE=%lu", (unsigned long)n);
    expect_status(f, line);
}

/* A clear saved but cut off before the log was emptied: the next start
 * finishes it. */
static void test_log_clear_finished_at_start(void **state)
{
    fixture *f = *state;
    char head[65], line[200];
    pin_logged_out(f);
    f->tick = 1;
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    uint32_t n = f->dev.log_count;
    thsm_hex(f->dev.log_head, 32, head);
    snprintf(line, sizeof(line), "AT+LOG_CLEAR COUNT=%lu HEAD=%s",
             (unsigned long)n, head);
    f->mp.saves_ok = 1; /* the clear's save, then the power fails */
    assert_starts(req(f, line), "ERROR STORAGE could not empty");
    thsm_device_deinit(&f->dev);
    f->mp.fail_writes = 0;
    thsm_session_init(&f->s, collect, f);
    assert_int_equal(thsm_device_init(&f->dev, &f->port), 0);
    f->dev.pin_kdf.log2_cost = 4;
    assert_int_equal(log_object(f)->len, 0);
    expect_status(f, " LOG_STATE=OK STATE=OK ");
    snprintf(line, sizeof(line), " LOG=%lu ", (unsigned long)n);
    expect_status(f, line);
    assert_string_equal(req(f, "AT+AUTH PIN=secret-pin"), "OK\r\n\r\n");
    assert_starts(req(f, SIGN_REQ), "OK ");
    reinit(f);
    expect_status(f, " LOG_STATE=OK STATE=OK ");
}

static void test_state_v05_fixture_loads(void **state)
{
    fixture *f = *state;
    start_from_fixture(f, "state_v05.bin", "audit_v05.log");
    expect_status(f, "CA=1 SIGNER=1 SIGNER_CERT=1 PIN=NONE");
    expect_status(f, "CA_KEY=5729737B56704845 SIGNER_KEY=A3DD406A2DAE9652 "
                     "LOG=4 LOG_STATE=OK STATE=OK");
    expect_status(f, " ACK=NONE LOG_BASE=0");
    assert_starts(req(f, "AT+SIGNER_PUBKEY?"), "OK 04D653BADE66629E");
    assert_starts(req(f, SIGN_REQ), "OK ");
    thsm_device_flush(&f->dev);
    assert_memory_equal(state_object(f)->data, "THSMST07", 8);
    reinit(f);
    expect_status(f, "SIGNER_KEY=A3DD406A2DAE9652 LOG=5 LOG_STATE=OK STATE=OK");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_param_validation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_provision_and_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_key_invalidates_cert, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_signer_cert_needs_ca, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pem_and_der_agree, setup, teardown),
        cmocka_unit_test(test_pem_line_breaking),
        cmocka_unit_test_setup_teardown(test_decommission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_save_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_private_key_in_output, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pin_gates_key_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signer_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_counts_down_and_blocks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pin_power_cut_before_check, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pin_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_useless_without_pin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pin_default_cost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_belongs_to_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_login_blocked_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kdf_failure_spends_no_try, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_records_everything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_tampering_detected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_signature_without_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_anchor_finds_lost_records,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_unsynced_window_accepted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_cut_while_running, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_log_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_refusals_recorded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_refused_while_running,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_found_at_start, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_long_names_never_cut, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cert_renew, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_v04_migrates_keeping_old,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_newer_format_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_before_anchor_loads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_v03_fixture_loads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_v03_pin_fixture, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pin_kdf_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_pin_kdf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_full_withholds_signature,
                                        setup, teardown),
        cmocka_unit_test(test_format_i64),
        cmocka_unit_test_setup_teardown(test_log_cut_found_at_next_record,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_cut_shows_in_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_deleted_while_running, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_foreign_records_found, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_cut_refuses_state_change,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_pin_spends_no_try,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_tries_from_log, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pin_text_never_echoed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_forged_auth_keeps_bound,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_append_is_storage_error,
                                        setup, teardown),

        cmocka_unit_test_setup_teardown(test_so_unblocks_and_keeps_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_so_is_not_the_user, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_so_tries_exhausted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_so_pin_malformed_spends_no_try,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_so_pin_set_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_delay_doubles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_delay_survives_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refusals_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal_kinds_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_written_at_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_leave_reserve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finding_acknowledged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_finding_after_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_cleared_after_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_clear_finished_at_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_v05_fixture_loads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
