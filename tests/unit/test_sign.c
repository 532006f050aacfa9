/*
 * The signing pipeline as a library call (host/sign.h), without a shell:
 * against a tinyhsmd on a temporary state, it signs a firmware into an image
 * the verifier accepts, refuses what the bootloader cannot boot (unless
 * forced), and writes its three outputs all or none.
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

#include "boot/boot.h"
#include "host/hsm.h"
#include "host/image.h"
#include "host/sign.h"
#include "testutil.h"

#define BOARD "B-U585I-IOT02A"

typedef struct {
    thsm_test_daemon d;
    char dir[256];
    thsm_at at;
    char fw[300], out[THSM_SIGN_OUTPUTS][300];
    thsm_sign_req req;
    thsm_sign_result res;
    thsm_err err;
    int notes, connects;
} fixture;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A raw firmware whose vector table fits the board. */
static void write_firmware(const char *path, size_t len)
{
    uint8_t *fw = malloc(len);
    assert_non_null(fw);
    for (size_t i = 0; i < len; i++)
        fw[i] = (uint8_t)(i * 7);
    put32(fw, 0x20010000);
    put32(fw + 4, 0x08008200 + 0x101);
    thsm_test_write_file(path, fw, len);
    free(fw);
}

static void on_note(void *ctx, thsm_note_kind kind, const char *msg)
{
    (void)kind;
    (void)msg;
    ((fixture *)ctx)->notes++;
}

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
    assert_non_null(f);
    thsm_test_tmpdir(f->dir, sizeof(f->dir));
    snprintf(st, sizeof(st), "%s/state", f->dir);
    assert_int_equal(thsm_test_daemon_start(&f->d, st, NULL), 0);
    assert_int_equal(thsm_at_open(&f->at, f->d.link, err, sizeof(err)),
                     THSM_AT_OK);
    if (thsm_hsm_provision(&f->at, true, &ca, &signer, &herr) != THSM_OK)
        fail_msg("%s", herr.msg);
    snprintf(f->fw, sizeof(f->fw), "%s/fw.bin", f->dir);
    write_firmware(f->fw, 5000);
    static const char *const names[] = {"signed.bin", "cert.pem", "SigGen.c"};
    for (int i = 0; i < THSM_SIGN_OUTPUTS; i++) {
        snprintf(f->out[i], sizeof(f->out[i]), "%s/%s", f->dir, names[i]);
        f->req.out[i] = f->out[i];
    }
    f->req.board = BOARD;
    f->req.version = "1.2.3";
    f->req.firmware = f->fw;
    f->req.max_size = thsm_board_find(BOARD)->max_size;
    f->req.connect = on_connect;
    f->req.note = on_note;
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

static void assert_no_outputs(const fixture *f)
{
    for (int i = 0; i < THSM_SIGN_OUTPUTS; i++)
        assert_false(exists(f->out[i]));
}

static void test_signs_an_image_the_verifier_accepts(void **state)
{
    fixture *f = *state;
    size_t len;
    thsm_boot_header h;
    if (thsm_sign_image(&f->req, &f->res, &f->err) != THSM_OK)
        fail_msg("%s", f->err.msg);
    assert_int_equal(f->err.code, THSM_OK);
    assert_int_equal(f->connects, 1);
    assert_int_equal(f->res.fw_len, 5000);
    assert_false(f->res.to_stdout);
    uint8_t *img = thsm_test_read_file(f->out[THSM_SIGN_IMAGE], &len);
    assert_non_null(img);
    assert_int_equal(len, f->res.size + THSM_BOOT_SIG_LEN);
    assert_int_equal(thsm_boot_parse_header(img, len, &h), THSM_BOOT_OK);
    assert_int_equal(thsm_boot_check_signature(img, &h, f->res.pub),
                     THSM_BOOT_OK);
    assert_memory_equal(img + len - THSM_BOOT_SIG_LEN, f->res.sig,
                        THSM_BOOT_SIG_LEN);
    free(img);
    char *siggen = (char *)thsm_test_read_file(f->out[THSM_SIGN_SIGGEN], &len);
    assert_non_null(siggen);
    assert_non_null(strstr(siggen, "SigGen_Qx"));
    free(siggen);
    assert_true(exists(f->out[THSM_SIGN_CERT]));
}

/* An open connection given in the request is used as it is. */
static void test_uses_a_given_connection(void **state)
{
    fixture *f = *state;
    f->req.at = &f->at;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err), THSM_OK);
    assert_int_equal(f->connects, 0);
}

static void test_refuses_a_signed_image_unless_forced(void **state)
{
    fixture *f = *state;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err), THSM_OK);
    char signed_copy[300];
    snprintf(signed_copy, sizeof(signed_copy), "%s/again.bin", f->dir);
    assert_int_equal(rename(f->out[THSM_SIGN_IMAGE], signed_copy), 0);
    unlink(f->out[THSM_SIGN_CERT]);
    unlink(f->out[THSM_SIGN_SIGGEN]);
    f->req.firmware = signed_copy;
    f->connects = 0;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_REFUSED);
    assert_non_null(strstr(f->err.msg, "already a signed SECUREBOOT10 image"));
    assert_int_equal(f->connects, 0); /* refused before the device */
    assert_no_outputs(f);
    f->req.force = true;
    f->notes = 0;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err), THSM_OK);
    assert_int_equal(f->res.n_warnings, 1);
    assert_int_equal(f->notes, 1);
    assert_non_null(strstr(f->res.warnings[0], "(going on: --force)"));
}

static void test_refuses_a_firmware_too_large(void **state)
{
    fixture *f = *state;
    f->req.max_size = 4096; /* the 5000-byte firmware does not fit */
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_FAIL);
    assert_non_null(strstr(f->err.msg, "over the maximum of 4096"));
    assert_int_equal(f->connects, 0);
    assert_no_outputs(f);
}

static void test_refuses_version_zero(void **state)
{
    fixture *f = *state;
    f->req.version = "0.0.0";
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_REFUSED);
    assert_no_outputs(f);
}

static void test_refuses_an_output_that_is_an_input(void **state)
{
    fixture *f = *state;
    f->req.out[THSM_SIGN_SIGGEN] = f->fw;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_USAGE);
    assert_non_null(strstr(f->err.msg, "is the firmware itself"));
    f->req.out[THSM_SIGN_SIGGEN] = f->out[THSM_SIGN_CERT];
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_USAGE);
    assert_non_null(strstr(f->err.msg, "name the same file"));
    assert_false(exists(f->out[THSM_SIGN_IMAGE]));
    assert_false(exists(f->out[THSM_SIGN_CERT]));
}

/* One output that cannot be written: none is, and no signature is made. */
static void test_all_or_nothing(void **state)
{
    fixture *f = *state;
    char bad[300];
    thsm_status st;
    thsm_err e;
    assert_int_equal(thsm_hsm_status(&f->at, &st, &e), THSM_OK);
    unsigned long before = st.signatures;
    snprintf(bad, sizeof(bad), "%s/no-such-dir/SigGen.c", f->dir);
    f->req.out[THSM_SIGN_SIGGEN] = bad;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_FAIL);
    assert_false(exists(f->out[THSM_SIGN_IMAGE]));
    assert_false(exists(f->out[THSM_SIGN_CERT]));
    assert_int_equal(thsm_hsm_status(&f->at, &st, &e), THSM_OK);
    assert_int_equal(st.signatures, before);
}

/* A device that refuses (a PIN is needed): nothing written. */
static void test_device_refusal_writes_nothing(void **state)
{
    fixture *f = *state;
    thsm_deny why;
    assert_int_equal(thsm_hsm_pin_set(&f->at, NULL, "secret-pin", &why),
                     THSM_OK);
    thsm_at_close(&f->at); /* a new session: not logged in */
    char err[300];
    assert_int_equal(thsm_at_open(&f->at, f->d.link, err, sizeof(err)),
                     THSM_AT_OK);
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_FAIL);
    assert_non_null(strstr(f->err.msg, "needs its PIN"));
    assert_no_outputs(f);
    assert_int_equal(thsm_hsm_auth(&f->at, "wrong-pin", &why), THSM_ERR_FAIL);
    assert_int_equal(why.kind, THSM_DENY_WRONG_PIN);
    assert_true(why.has_left);
    sleep(2); /* the device refuses any try for 1 s after a wrong PIN */
    assert_int_equal(thsm_hsm_auth(&f->at, "secret-pin", &why), THSM_OK);
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err), THSM_OK);
}

/* Another signer (thsm_signer) with no certificate: the device's key
 * behind it, its certificate withheld. */
typedef struct {
    fixture *f;
    int signs;
} bare_key;

static int bare_open(void *ctx, thsm_err *err)
{
    (void)ctx;
    (void)err;
    return THSM_OK;
}

static int bare_key_of(void *ctx, uint8_t pub[THSM_P256_PUB_LEN], char *pem,
                       size_t cap, thsm_err *err)
{
    bare_key *k = ctx;
    thsm_x509_info cert;
    if (thsm_hsm_cert_pem(&k->f->at, false, pem, cap, err) != THSM_OK ||
        thsm_x509_parse((uint8_t *)pem, strlen(pem), &cert) != 0)
        return THSM_ERR_FAIL;
    memcpy(pub, cert.pub, THSM_P256_PUB_LEN);
    pem[0] = '\0';
    return THSM_OK;
}

static int bare_sign(void *ctx, const uint8_t digest[THSM_SHA256_LEN],
                     uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err)
{
    bare_key *k = ctx;
    k->signs++;
    return thsm_hsm_sign_digest(&k->f->at, digest, sig, err);
}

/* Without a certificate: a certificate output asked for is refused before
 * signing, with nothing written; one left to its default is not written,
 * and the image and SigGen.c are. */
static void test_signer_without_certificate(void **state)
{
    fixture *f = *state;
    bare_key k = {f, 0};
    const thsm_signer s = {"the test key", bare_open, bare_key_of, bare_sign,
                           &k};
    f->req.signer = &s;
    assert_int_equal(thsm_sign_image(&f->req, &f->res, &f->err),
                     THSM_ERR_FAIL);
    assert_non_null(strstr(f->err.msg, "the test key has no certificate"));
    assert_int_equal(k.signs, 0);
    assert_no_outputs(f);
    f->req.cert_optional = true;
    if (thsm_sign_image(&f->req, &f->res, &f->err) != THSM_OK)
        fail_msg("%s", f->err.msg);
    assert_int_equal(k.signs, 1);
    assert_int_equal(f->connects, 0);
    assert_true(f->res.no_cert);
    assert_true(exists(f->out[THSM_SIGN_IMAGE]));
    assert_true(exists(f->out[THSM_SIGN_SIGGEN]));
    assert_false(exists(f->out[THSM_SIGN_CERT]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signs_an_image_the_verifier_accepts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_uses_a_given_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_refuses_a_signed_image_unless_forced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_a_firmware_too_large,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_version_zero, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refuses_an_output_that_is_an_input,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_refusal_writes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_signer_without_certificate,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
