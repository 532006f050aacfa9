/*
 * The boot verifier against a table of valid and malformed images, all made
 * here from a key generated for the test. Header mutations are re-signed so
 * that exactly the rule under test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot.h"
#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "host/image.h"

#define FW_LEN 1000
#define SIZE 1536 /* 512 + 1000 padded to 1024 */
#define CAP (SIZE + 64 + 16)

static thsm_p256_key key, other_key;
static const thsm_boot_board u585 = {"B-U585I-IOT02A", 1007616};

typedef struct {
    uint8_t b[CAP];
    size_t len;
} image;

static void sign_with(image *im, thsm_p256_key *k)
{
    uint8_t digest[32], der[72];
    size_t der_len;
    uint32_t size = 0;
    sscanf((const char *)im->b + 16, "%u", &size);
    if (size == 0 || size > SIZE)
        size = SIZE; /* malformed size fields: sign the usual span */
    assert_int_equal(thsm_sha256(im->b, size, digest), 0);
    assert_int_equal(thsm_p256_sign(k, digest, der, &der_len), 0);
    assert_int_equal(thsm_p256_sig_der_to_raw(der, der_len, im->b + SIZE), 0);
}

static void make(image *im, const char *board, const char *version)
{
    char err[200];
    memset(im->b, 0xFF, sizeof(im->b));
    assert_int_equal(thsm_image_header(im->b, board, version, SIZE, err,
                                       sizeof(err)), 0);
    for (int i = 0; i < FW_LEN; i++)
        im->b[512 + i] = (uint8_t)(i * 31);
    im->len = SIZE + 64;
    sign_with(im, &key);
}

/* Replaces a header field's text (NUL, then 0xFF to width) and re-signs. */
static void set_field(image *im, size_t off, size_t width, const char *text)
{
    memset(im->b + off, 0xFF, width);
    memcpy(im->b + off, text, strlen(text) + 1);
    sign_with(im, &key);
}

typedef void (*mutation)(image *im);

static void m_none(image *im) { (void)im; }
static void m_too_short(image *im) { im->len = 511; }
static void m_truncated(image *im) { im->len = SIZE + 63; }
static void m_trailing(image *im) { im->len = SIZE + 65; }
static void m_magic(image *im) { set_field(im, 0, 16, "SECUREBOOT11"); }
static void m_magic_pad(image *im) { im->b[15] = 0; sign_with(im, &key); }
static void m_size_align(image *im) { set_field(im, 16, 16, "1537"); }
static void m_size_small(image *im) { set_field(im, 16, 16, "512"); }
static void m_size_hex(image *im) { set_field(im, 16, 16, "12a4"); }
static void m_size_zero_lead(image *im) { set_field(im, 16, 16, "01536"); }
static void m_size_empty(image *im) { set_field(im, 16, 16, ""); }
static void m_size_one_nul(image *im) { set_field(im, 16, 16, "1536"); }
static void m_size_three_nuls(image *im)
{
    set_field(im, 16, 16, "1536");
    im->b[16 + 5] = im->b[16 + 6] = 0;
    sign_with(im, &key);
}
static void m_board_two_nuls(image *im)
{
    im->b[32 + 15] = 0; /* "B-U585I-IOT02A" NUL NUL */
    sign_with(im, &key);
}
static void m_board_no_nul(image *im)
{
    memset(im->b + 32, 'B', 16);
    sign_with(im, &key);
}
static void m_board_pad(image *im) { im->b[47] = 0x00; sign_with(im, &key); }
static void m_board_empty(image *im) { set_field(im, 32, 16, ""); }
static void m_board_ctrl(image *im) { set_field(im, 32, 16, "B\tX"); }
static void m_version_pad(image *im) { im->b[0x1FF] = 0x00; sign_with(im, &key); }
static void m_v_two(image *im) { set_field(im, 48, 464, "1.2"); }
static void m_v_four(image *im) { set_field(im, 48, 464, "1.2.3.4"); }
static void m_v_lead(image *im) { set_field(im, 48, 464, "01.2.3"); }
static void m_v_neg(image *im) { set_field(im, 48, 464, "1.-2.3"); }
static void m_v_alpha(image *im) { set_field(im, 48, 464, "a.b.c"); }
static void m_v_gap(image *im) { set_field(im, 48, 464, "1..3"); }
static void m_v_big(image *im) { set_field(im, 48, 464, "4294967296.0.0"); }
static void m_v_zero(image *im) { set_field(im, 48, 464, "0.0.0"); }
static void m_board_other(image *im) { set_field(im, 32, 16, "NUCLEO-G071RB"); }
static void m_other_key(image *im) { sign_with(im, &other_key); }
static void m_fw_flip(image *im) { im->b[700] ^= 1; }
static void m_r_zero(image *im) { memset(im->b + SIZE, 0, 32); }
static void m_s_order(image *im)
{
    static const uint8_t n[32] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
        0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
    memcpy(im->b + SIZE + 32, n, 32);
}
static void m_r_max(image *im) { memset(im->b + SIZE, 0xFF, 32); }

typedef struct {
    const char *name;
    mutation mutate;
    const thsm_boot_board *board;
    int exact;
    int want;
} boot_case;

static const thsm_boot_board g071 = {"NUCLEO-G071RB", 47104};
static const thsm_boot_board tiny = {"B-U585I-IOT02A", 1024};

static const boot_case cases[] = {
    {"valid", m_none, &u585, 1, THSM_BOOT_OK},
    {"short file", m_too_short, &u585, 1, THSM_BOOT_TOO_SHORT},
    {"truncated signature", m_truncated, &u585, 1, THSM_BOOT_TRUNCATED},
    {"trailing byte", m_trailing, &u585, 1, THSM_BOOT_TRAILING},
    {"trailing byte in a flash slot", m_trailing, &u585, 0, THSM_BOOT_OK},
    {"magic", m_magic, &u585, 1, THSM_BOOT_BAD_MAGIC},
    {"magic padding", m_magic_pad, &u585, 1, THSM_BOOT_BAD_PADDING},
    {"size not multiple of 512", m_size_align, &u585, 1, THSM_BOOT_SIZE_ALIGN},
    {"size 512", m_size_small, &u585, 1, THSM_BOOT_SIZE_SMALL},
    {"size in hex", m_size_hex, &u585, 1, THSM_BOOT_SIZE_FORMAT},
    {"size leading zero", m_size_zero_lead, &u585, 1, THSM_BOOT_SIZE_FORMAT},
    {"size empty", m_size_empty, &u585, 1, THSM_BOOT_SIZE_FORMAT},
    {"size with one NUL (older tinyhsm)", m_size_one_nul, &u585, 1, THSM_BOOT_OK},
    {"size with three NULs", m_size_three_nuls, &u585, 1, THSM_BOOT_BAD_PADDING},
    {"board with two NULs", m_board_two_nuls, &u585, 1, THSM_BOOT_BAD_PADDING},
    {"board without NUL", m_board_no_nul, &u585, 1, THSM_BOOT_FIELD_NO_NUL},
    {"board padding", m_board_pad, &u585, 1, THSM_BOOT_BAD_PADDING},
    {"board empty", m_board_empty, &u585, 1, THSM_BOOT_BOARD_FORMAT},
    {"board control char", m_board_ctrl, &u585, 1, THSM_BOOT_BOARD_FORMAT},
    {"version padding", m_version_pad, &u585, 1, THSM_BOOT_BAD_PADDING},
    {"version 1.2", m_v_two, &u585, 1, THSM_BOOT_VERSION_FORMAT},
    {"version 1.2.3.4", m_v_four, &u585, 1, THSM_BOOT_VERSION_FORMAT},
    {"version 01.2.3", m_v_lead, &u585, 1, THSM_BOOT_VERSION_FORMAT},
    {"version 1.-2.3", m_v_neg, &u585, 1, THSM_BOOT_VERSION_FORMAT},
    {"version a.b.c", m_v_alpha, &u585, 1, THSM_BOOT_VERSION_FORMAT},
    {"version 1..3", m_v_gap, &u585, 1, THSM_BOOT_VERSION_FORMAT},
    {"version over 32 bits", m_v_big, &u585, 1, THSM_BOOT_VERSION_FORMAT},
    {"version 0.0.0", m_v_zero, &u585, 1, THSM_BOOT_VERSION_ZERO},
    {"other board", m_board_other, &u585, 1, THSM_BOOT_BOARD_MISMATCH},
    {"right other board", m_board_other, &g071, 1, THSM_BOOT_OK},
    {"over the maximum", m_none, &tiny, 1, THSM_BOOT_TOO_BIG},
    {"another key", m_other_key, &u585, 1, THSM_BOOT_BAD_SIGNATURE},
    {"firmware byte flipped", m_fw_flip, &u585, 1, THSM_BOOT_BAD_SIGNATURE},
    {"r = 0", m_r_zero, &u585, 1, THSM_BOOT_SIG_RANGE},
    {"s = n", m_s_order, &u585, 1, THSM_BOOT_SIG_RANGE},
    {"r > n", m_r_max, &u585, 1, THSM_BOOT_SIG_RANGE},
};

static void test_corpus(void **state)
{
    (void)state;
    static image im;
    thsm_boot_header h;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        make(&im, "B-U585I-IOT02A", "1.2.3");
        cases[i].mutate(&im);
        int got = thsm_boot_verify(im.b, im.len, cases[i].exact, cases[i].board,
                                   key.pub, &h);
        if (got != cases[i].want)
            fail_msg("%s: got %d (%s), want %d (%s)", cases[i].name, got,
                     thsm_boot_strerror(got), cases[i].want,
                     thsm_boot_strerror(cases[i].want));
    }
}

static void test_bad_public_key(void **state)
{
    (void)state;
    static image im;
    thsm_boot_header h;
    uint8_t pub[65];
    make(&im, "B-U585I-IOT02A", "1.2.3");
    memcpy(pub, key.pub, 65);
    pub[64] ^= 1; /* off the curve */
    assert_int_equal(thsm_boot_verify(im.b, im.len, 1, &u585, pub, &h),
                     THSM_BOOT_BAD_KEY);
    uint8_t qx[32], qy[32];
    memcpy(qx, key.pub + 1, 32);
    memcpy(qy, key.pub + 33, 32);
    thsm_boot_pub_from_xy(qx, qy, pub);
    assert_int_equal(thsm_boot_verify(im.b, im.len, 1, &u585, pub, &h),
                     THSM_BOOT_OK);
    assert_string_equal(h.board, "B-U585I-IOT02A");
    assert_int_equal(h.size, SIZE);
    assert_int_equal(h.version.major, 1);
    assert_int_equal(h.version.build, 3);
}

/* The reference script's header (SIZE ends with two NULs), built here
 * byte by byte from IMAGE.md, passes as it is. */
static void test_reference_header(void **state)
{
    (void)state;
    static image im;
    thsm_boot_header h;
    memset(im.b, 0xFF, sizeof(im.b));
    memcpy(im.b, "SECUREBOOT10", 13);
    memcpy(im.b + 0x10, "1536\0", 6);
    memcpy(im.b + 0x20, "B-U585I-IOT02A", 15);
    memcpy(im.b + 0x30, "1.2.3", 6);
    im.len = SIZE + 64;
    sign_with(&im, &key);
    assert_int_equal(thsm_boot_verify(im.b, im.len, 1, &u585, key.pub, &h),
                     THSM_BOOT_OK);
    assert_int_equal(h.size, SIZE);
}

/* A flash dump: erased flash after the signature, nothing else. */
static void test_erased_tail(void **state)
{
    (void)state;
    static image im;
    thsm_boot_header h;
    make(&im, "B-U585I-IOT02A", "1.2.3");
    assert_int_equal(thsm_boot_parse_header(im.b, CAP, &h), THSM_BOOT_OK);
    assert_int_equal(thsm_boot_check_erased_tail(im.b, &h, CAP), THSM_BOOT_OK);
    assert_int_equal(thsm_boot_check_erased_tail(im.b, &h, SIZE + 64),
                     THSM_BOOT_OK);
    im.b[CAP - 1] = 0x00;
    assert_int_equal(thsm_boot_check_erased_tail(im.b, &h, CAP),
                     THSM_BOOT_TAIL_NOT_ERASED);
}

static thsm_boot_header header_of(const char *board, const char *version)
{
    static image im;
    thsm_boot_header h;
    make(&im, board, version);
    assert_int_equal(thsm_boot_parse_header(im.b, im.len, &h), THSM_BOOT_OK);
    return h;
}

static void test_update_rule(void **state)
{
    (void)state;
    const char *b = "B-U585I-IOT02A";
    thsm_boot_header cur = header_of(b, "1.9.9");
    thsm_boot_header newer = header_of(b, "1.10.0"); /* numeric, not text */
    thsm_boot_header major = header_of(b, "2.0.0");
    thsm_boot_header older = header_of(b, "1.9.8");
    thsm_boot_header much_older = header_of(b, "0.99.99");
    thsm_boot_header equal = header_of(b, "1.9.9");
    thsm_boot_header other = header_of("NUCLEO-G071RB", "3.0.0");
    assert_int_equal(thsm_boot_check_update(&cur, &newer), THSM_BOOT_OK);
    assert_int_equal(thsm_boot_check_update(&cur, &major), THSM_BOOT_OK);
    assert_int_equal(thsm_boot_check_update(&cur, &older), THSM_BOOT_DOWNGRADE);
    assert_int_equal(thsm_boot_check_update(&cur, &much_older),
                     THSM_BOOT_DOWNGRADE);
    assert_int_equal(thsm_boot_check_update(&cur, &equal),
                     THSM_BOOT_SAME_VERSION);
    assert_int_equal(thsm_boot_check_update(&cur, &other),
                     THSM_BOOT_UPDATE_BOARD);
}

static void test_version_syntax(void **state)
{
    (void)state;
    thsm_boot_version v;
    const char *good[] = {"0.0.1", "1.2.3", "4294967295.0.0", "0.0.0"};
    const char *bad[] = {"", "1", "1.2", "1.2.3.", ".1.2", "1.2.3 ", " 1.2.3",
                         "+1.2.3", "1.2.03", "4294967296.0.0", "1.2.3.4",
                         "1234567.1234567.1"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(thsm_boot_parse_version(good[i], &v), THSM_BOOT_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (thsm_boot_parse_version(bad[i], &v) != THSM_BOOT_VERSION_FORMAT)
            fail_msg("'%s' was accepted", bad[i]);
}

static void test_every_result_has_its_text(void **state)
{
    (void)state;
    for (int i = 0; i < THSM_BOOT_RESULT_COUNT; i++) {
        const char *t = thsm_boot_strerror(i);
        assert_true(t && *t && strcmp(t, "unknown result") != 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(t, thsm_boot_strerror(j));
    }
}

static int setup(void **state)
{
    (void)state;
    return thsm_p256_generate(&key) || thsm_p256_generate(&other_key);
}

static int teardown(void **state)
{
    (void)state;
    thsm_p256_key_clear(&key);
    thsm_p256_key_clear(&other_key);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_bad_public_key),
        cmocka_unit_test(test_reference_header),
        cmocka_unit_test(test_erased_tail),
        cmocka_unit_test(test_update_rule),
        cmocka_unit_test(test_version_syntax),
        cmocka_unit_test(test_every_result_has_its_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
