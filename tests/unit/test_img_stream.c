/* The host side of image mode (host/img_stream.h) against the device core
 * in this process, over a socketpair: the capability asked, the stream, the
 * signature, refusals; and the audit log's image records parsed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "device/device.h"
#include "host/image.h"
#include "host/img_stream.h"
#include "port/mem/port_mem.h"

typedef struct {
    thsm_mem_port mp;
    thsm_port port;
    thsm_device dev;
    thsm_session s;
    int sv[2];
    int hide; /* take IMAGE= out of the answers (a device without it) */
    int sb10_only; /* IMAGE=SECUREBOOT10: a device without MCUboot */
    int original; /* answer the status with ERROR (the original board) */
    pthread_t thread;
    thsm_at at;
} fixture;

static void out(void *ctx, const char *data, size_t len)
{
    fixture *f = ctx;
    char buf[THSM_PROTO_ANSWER_MAX + 1];
    memcpy(buf, data, len);
    buf[len] = '\0';
    char *w = f->hide ? strstr(buf, " IMAGE=") : NULL;
    if (w) {
        size_t n = 1 + strcspn(w + 1, " \r");
        memmove(w, w + n, strlen(w + n) + 1);
    }
    char *mcu = f->sb10_only ? strstr(buf, " IMAGE=SECUREBOOT10,MCUBOOT")
                             : NULL;
    if (mcu)
        memmove(mcu + 19, mcu + 27, strlen(mcu + 27) + 1);
    if (f->original && strncmp(buf, "OK CA=", 6) == 0)
        strcpy(buf, "ERROR UNKNOWN_COMMAND\r\n\r\n");
    assert_true(write(f->sv[1], buf, strlen(buf)) == (ssize_t)strlen(buf));
}

static void *serve(void *arg)
{
    fixture *f = arg;
    uint8_t buf[4096];
    ssize_t n;
    while ((n = read(f->sv[1], buf, sizeof(buf))) > 0)
        thsm_device_input(&f->dev, &f->s, buf, (size_t)n);
    return NULL;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    thsm_mem_port_init(&f->mp, &f->port);
    f->mp.now = 1700000000;
    assert_int_equal(thsm_device_init(&f->dev, &f->port), 0);
    thsm_session_init(&f->s, out, f);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv), 0);
    assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
    f->at.fd = f->sv[0];
    f->at.via_socket = true;
    f->at.timeout_ms = 5000;
    static const char *const prov[] = {
        "AT+HSM_CA_NEW_CERT C=US O=MyHSM CN=My_CA START=20230101000000 DAYS=365",
        "AT+SIGNER_NEW_KEY ALGO=SECP256R1",
        ("AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=Me CN=Signer "
         "START=20230101000000 DAYS=365")};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(thsm_at_cmd(&f->at, prov[i], &f->at.resp), THSM_AT_OK);
        assert_true(f->at.resp.ok);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    shutdown(f->sv[0], SHUT_RDWR);
    pthread_join(f->thread, NULL);
    close(f->sv[0]);
    close(f->sv[1]);
    thsm_device_disconnect(&f->dev, &f->s);
    thsm_device_deinit(&f->dev);
    free(f);
    return 0;
}

static void pubkey(fixture *f, uint8_t pub[65])
{
    assert_int_equal(thsm_at_cmd(&f->at, "AT+SIGNER_PUBKEY?", &f->at.resp),
                     THSM_AT_OK);
    for (int i = 0; i < 65; i++)
        assert_int_equal(sscanf(f->at.resp.text + 2 * i, "%2hhx", &pub[i]), 1);
}

static void test_mode_asked(void **state)
{
    fixture *f = *state;
    assert_true(thsm_hsm_image_mode(&f->at, THSM_STREAM_SECUREBOOT10));
    assert_true(thsm_hsm_image_mode(&f->at, THSM_STREAM_MCUBOOT));
    f->sb10_only = 1; /* each format asked for itself */
    assert_true(thsm_hsm_image_mode(&f->at, THSM_STREAM_SECUREBOOT10));
    assert_false(thsm_hsm_image_mode(&f->at, THSM_STREAM_MCUBOOT));
    f->sb10_only = 0;
    f->hide = 1;
    assert_false(thsm_hsm_image_mode(&f->at, THSM_STREAM_SECUREBOOT10));
    f->hide = 0;
    f->original = 1;
    assert_false(thsm_hsm_image_mode(&f->at, THSM_STREAM_SECUREBOOT10));
}

/* A 300 KiB SECUREBOOT10 image streamed: the signature covers its bytes. */
static void test_sign_stream(void **state)
{
    fixture *f = *state;
    char err[200];
    size_t len = (size_t)thsm_image_signed_size(300 * 1024 + 5);
    uint8_t *img = malloc(len), digest[32], sig[64], pub[65];
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)(i * 13);
    assert_int_equal(thsm_image_header(img, "B-U585I-IOT02A", "3.2.1",
                                       (uint32_t)len, err, sizeof(err)), 0);
    thsm_stream_req req = {THSM_STREAM_SECUREBOOT10, img, len, NULL};
    thsm_err e;
    assert_int_equal(thsm_hsm_sign_stream(&f->at, &req, sig, &e), THSM_OK);
    thsm_sha256(img, len, digest);
    pubkey(f, pub);
    assert_int_equal(thsm_p256_verify(pub, digest, sig), 0);
    /* a header that disagrees with the bytes streamed: refused, named */
    req.len = len - 512;
    assert_int_equal(thsm_hsm_sign_stream(&f->at, &req, sig, &e), THSM_ERR_FAIL);
    assert_non_null(strstr(e.msg, "IMG_HEADER"));
    free(img);
}

/* MCUboot with a slot name: the name is what the log records. */
static void test_mcuboot_named(void **state)
{
    fixture *f = *state;
    uint8_t img[1056] = {0x3d, 0xb8, 0xf3, 0x96}, sig[64];
    img[8] = 32;                 /* hdr_size */
    img[12] = 0x00, img[13] = 4; /* img_size 1024 */
    img[20] = 7;                 /* 7.0.0 */
    thsm_stream_req req = {THSM_STREAM_MCUBOOT, img, sizeof(img), "app"};
    thsm_err e;
    assert_int_equal(thsm_hsm_sign_stream(&f->at, &req, sig, &e), THSM_OK);
    assert_int_equal(thsm_at_cmd(&f->at, "AT+LOG? FROM=3", &f->at.resp),
                     THSM_AT_OK);
    thsm_log_record r;
    thsm_log_image li;
    assert_int_equal(thsm_parse_log_record(f->at.resp.lines[1], &r), 0);
    assert_int_equal(thsm_parse_log_image(&r, &li), 0);
    assert_string_equal(li.format, "MCUBOOT");
    assert_string_equal(li.board, "app");
    assert_string_equal(li.version, "7.0.0");
    assert_int_equal(li.size, 1056);
    assert_int_equal(thsm_parse_log_record(f->at.resp.lines[2], &r), 0);
    assert_true(thsm_log_is_image_signature(&r));
}

static void test_parse_log_image_refuses(void **state)
{
    (void)state;
    static const char *const bad[][3] = {
        {"IMAGE", "SECUREBOOT10", "B=x,V=1.0.0"},       /* no size */
        {"IMAGE", "SECUREBOOT10", "V=1.0.0,B=x,S=1"},   /* order */
        {"IMAGE", "OK", "B=x,V=1.0.0,S=1"},             /* no format */
        {"SIGN", "SECUREBOOT10", "B=x,V=1.0.0,S=1"},    /* not IMAGE */
        {"IMAGE", "MCUBOOT", "B=x,V=1.0.0,S=1,X=2"},    /* more */
        {"IMAGE", "MCUBOOT", "B=,V=1.0.0,S=1"},         /* empty */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        thsm_log_record r = {0};
        thsm_log_image li;
        strcpy(r.event, bad[i][0]);
        strcpy(r.result, bad[i][1]);
        strcpy(r.digest, bad[i][2]);
        assert_int_equal(thsm_parse_log_image(&r, &li), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mode_asked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mcuboot_named, setup, teardown),
        cmocka_unit_test(test_parse_log_image_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
