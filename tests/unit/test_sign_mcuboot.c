/*
 * The signing pipeline building an MCUboot image (host/sign.h with
 * req.mcuboot), against a tinyhsmd on a temporary state: the image the
 * device signs passes the verifier, only the image is written, and what
 * cannot fit the slot, a signature that does not verify or an output that
 * is the input writes nothing and signs nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot/mcuboot.h"
#include "host/hsm.h"
#include "host/sign.h"
#include "testutil.h"

#define APP_LEN 3000

typedef struct {
    thsm_test_daemon d;
    char dir[256];
    thsm_at at;
    char app[300], out[300];
    thsm_mcuboot_opts mb;
    thsm_sign_req req;
    thsm_sign_result res;
    thsm_err err;
    int connects;
} fixture;

static int on_connect(void *ctx, thsm_at **at, thsm_err *err)
{
    fixture *f = ctx;
    (void)err;
    f->connects++;
    *at = &f->at;
    return THSM_OK;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char st[300], err[300];
    thsm_err herr;
    thsm_subject ca = {"US", "MyHSM", "My_CA", "20250101000000", 3650};
    thsm_subject signer = {"US", "Me", "Sign", "20250101000000", 730};
    uint8_t app[APP_LEN];
    assert_non_null(f);
    thsm_test_tmpdir(f->dir, sizeof(f->dir));
    snprintf(st, sizeof(st), "%s/state", f->dir);
    assert_int_equal(thsm_test_daemon_start(&f->d, st, NULL), 0);
    assert_int_equal(thsm_at_open(&f->at, f->d.link, err, sizeof(err)),
                     THSM_AT_OK);
    if (thsm_hsm_provision(&f->at, true, &ca, &signer, &herr) != THSM_OK)
        fail_msg("%s", herr.msg);
    for (size_t i = 0; i < sizeof(app); i++)
        app[i] = (uint8_t)(i * 13 + 1);
    snprintf(f->app, sizeof(f->app), "%s/app.bin", f->dir);
    thsm_test_write_file(f->app, app, sizeof(app));
    snprintf(f->out, sizeof(f->out), "%s/signed.bin", f->dir);
    f->mb = (thsm_mcuboot_opts){.header_size = 0x200, .pad_header = 1,
                                .slot_size = 0x10000,
                                .version = {1, 2, 3, 4}};
    f->req.firmware = f->app;
    f->req.out[THSM_SIGN_IMAGE] = f->out;
    f->req.mcuboot = &f->mb;
    f->req.connect = on_connect;
    f->req.ctx = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    thsm_at_close(&f->at);
    thsm_test_daemon_stop(&f->d);
    thsm_test_rmtree(f->dir);
    free(f);
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static unsigned long signatures(fixture *f)
{
    thsm_status st;
    thsm_err e;
    assert_int_equal(thsm_hsm_status(&f->at, &st, &e), THSM_OK);
    return st.signatures;
}

/* The written image passes every check of the verifier with the key the
 * result names, and holds the application after the header. */
static void assert_image_verifies(fixture *f)
{
    size_t len;
    thsm_mcuboot_report r;
    uint8_t *img = thsm_test_read_file(f->out, &len);
    uint8_t *app = thsm_test_read_file(f->app, &(size_t){0});
    const thsm_mcuboot_expect e = {f->res.pub, f->mb.slot_size, 1, 1};
    assert_non_null(img);
    assert_int_equal(len, f->res.image_len);
    assert_int_equal(thsm_mcuboot_verify(img, len, &e, &r), THSM_MCUBOOT_OK);
    assert_memory_equal(r.digest, f->res.digest, 32);
    assert_int_equal(r.image.hdr.version.build, 4);
    assert_memory_equal(img + 0x200, app, APP_LEN);
    free(app);
    free(img);
}

static void test_device_signs_an_image_the_verifier_accepts(void **state)
{
    fixture *f = *state;
    f->mb.has_security_counter = 1;
    f->mb.security_counter = 9;
    if (thsm_sign_image(&f->req, &f->res, &f->err) != THSM_OK)
        fail_msg("%s", f->err.msg);
    assert_int_equal(f->connects, 1);
    assert_int_equal(f->res.fw_len, APP_LEN);
    assert_int_equal(f->res.size, 0x200 + APP_LEN + 12);
    assert_true(f->res.image_mode); /* tinyhsmd streams: it hashed them */
    assert_image_verifies(f);
    char list[600];
    assert_int_equal(thsm_test_run(list, sizeof(list), "ls %s", f->dir), 0);
    assert_string_equal(list, "app.bin\nsigned.bin\nstate\n"); /* only */
}

static void test_full_key_and_room_in_the_app(void **state)
{
    fixture *f = *state;
    uint8_t app[0x200 + 100] = {0};
    memset(app + 0x200, 0xA5, 100);
    thsm_test_write_file(f->app, app, sizeof(app));
    f->mb.pad_header = 0;
    f->mb.key_format = THSM_MCUBOOT_KEY_FULL;
    if (thsm_sign_image(&f->req, &f->res, &f->err) != THSM_OK)
        fail_msg("%s", f->err.msg);
    assert_int_equal(f->res.size, sizeof(app));
    size_t len;
    uint8_t *img = thsm_test_read_file(f->out, &len);
    thsm_mcuboot_report r;
    const thsm_mcuboot_expect e = {f->res.pub, 0, 1, 1};
    assert_int_equal(thsm_mcuboot_verify(img, len, &e, &r), THSM_MCUBOOT_OK);
    assert_int_equal(r.image.key.type, THSM_MCUBOOT_TLV_PUBKEY);
    free(img);
}

/* Checked before the device is reached: no connection, no signature. */
static void test_too_big_for_the_slot(void **state)
{
    fixture *f = *state;
    unsigned long before = signatures(f);
    thsm_test_write_file(f->out, "old", 3);
    f->mb.slot_size = 0x200 + APP_LEN + 200;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_FAIL);
    assert_non_null(strstr(f->err.msg, "do not fit the slot"));
    assert_int_equal(f->connects, 0);
    assert_int_equal(signatures(f), before);
    size_t len;
    char *old = (char *)thsm_test_read_file(f->out, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(old, "old", 3);
    free(old);
}

static void test_refuses_an_mcuboot_image_unless_forced(void **state)
{
    fixture *f = *state;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err), THSM_OK);
    char again[300];
    snprintf(again, sizeof(again), "%s/again.bin", f->dir);
    assert_int_equal(rename(f->out, again), 0);
    f->req.firmware = again;
    f->connects = 0;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_REFUSED);
    assert_non_null(strstr(f->err.msg, "already an MCUboot image"));
    assert_int_equal(f->connects, 0);
    assert_false(exists(f->out));
    f->req.force = true;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err), THSM_OK);
    assert_int_equal(f->res.n_warnings, 1);
}

static void test_output_is_the_input(void **state)
{
    fixture *f = *state;
    f->req.out[THSM_SIGN_IMAGE] = f->app;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_USAGE);
    assert_non_null(strstr(f->err.msg, "is the firmware itself"));
    assert_int_equal(f->connects, 0);
}

/* Another signer: a key without a certificate is fine (none is written);
 * one whose signature does not verify yields no image. */
typedef struct {
    fixture *f;
    bool corrupt;
} test_key;

static int key_open(void *ctx, thsm_err *err)
{
    (void)ctx;
    (void)err;
    return THSM_OK;
}

static int key_of(void *ctx, uint8_t pub[THSM_P256_PUB_LEN], char *pem,
                  size_t cap, thsm_err *err)
{
    test_key *k = ctx;
    thsm_x509_info cert;
    if (thsm_hsm_cert_pem(&k->f->at, false, pem, cap, err) != THSM_OK ||
        thsm_x509_parse((uint8_t *)pem, strlen(pem), &cert) != 0)
        return THSM_ERR_FAIL;
    memcpy(pub, cert.pub, THSM_P256_PUB_LEN);
    pem[0] = '\0';
    return THSM_OK;
}

static int key_sign(void *ctx, const uint8_t digest[THSM_SHA256_LEN],
                    uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err)
{
    test_key *k = ctx;
    int rc = thsm_hsm_sign_digest(&k->f->at, digest, sig, err);
    sig[40] ^= k->corrupt;
    return rc;
}

static void test_another_signer(void **state)
{
    fixture *f = *state;
    test_key k = {f, false};
    const thsm_signer s = {"the test key", key_open, key_of, key_sign, &k};
    f->req.signer = &s;
    if (thsm_sign_image(&f->req, &f->res, &f->err) != THSM_OK)
        fail_msg("%s", f->err.msg);
    assert_int_equal(f->connects, 0);
    assert_true(f->res.no_cert);
    assert_image_verifies(f);
    unlink(f->out);
    k.corrupt = true;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_FAIL);
    assert_non_null(strstr(f->err.msg, "does not verify"));
    assert_false(exists(f->out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_device_signs_an_image_the_verifier_accepts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_key_and_room_in_the_app,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big_for_the_slot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_refuses_an_mcuboot_image_unless_forced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_is_the_input, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_another_signer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
