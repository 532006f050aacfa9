/* The base64 codec of src/util (the device decodes AT+IMG_DATA with it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/base64.h"

/* RFC 4648's test vectors, both ways. */
static void test_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob",
                                        "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char text[16];
        uint8_t back[8];
        size_t n = strlen(plain[i]);
        assert_int_equal(thsm_base64((const uint8_t *)plain[i], n, text),
                         strlen(coded[i]));
        assert_string_equal(text, coded[i]);
        assert_int_equal(thsm_base64_decode(coded[i], back, sizeof(back)),
                         (long)n);
        assert_memory_equal(back, plain[i], n);
    }
}

/* Every byte value and length round-trips. */
static void test_round_trip(void **state)
{
    (void)state;
    uint8_t data[512], back[512];
    char text[700];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof(data); n += 1 + n / 8) {
        thsm_base64(data, n, text);
        assert_int_equal(thsm_base64_decode(text, back, sizeof(back)),
                         (long)n);
        assert_memory_equal(back, data, n);
    }
}

/* Only the strict form thsm_base64 writes is taken. */
static void test_garbage_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg=", "Zg", "Z", "Zm9vY", /* length */
        "Zg==Zg==", "Z===", "====", "=Zg=", "Zm=v", /* padding */
        "Zh==", "Zm9=", /* bits the padding drops are not zero */
        "Zm9v!", "Zm 9v", "Zm9v\n", "Zm-v", "Zm_v", /* not the alphabet */
    };
    uint8_t out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (thsm_base64_decode(bad[i], out, sizeof(out)) != -1)
            fail_msg("'%s' was decoded", bad[i]);
}

/* The output never grows past cap. */
static void test_cap(void **state)
{
    (void)state;
    uint8_t out[8] = {0};
    assert_int_equal(thsm_base64_decode("Zm9vYmFy", out, 5), -1);
    assert_int_equal(thsm_base64_decode("Zm9vYmFy", out, 6), 6);
    assert_int_equal(thsm_base64_decode("Zm9vYg==", out, 3), -1);
    assert_int_equal(THSM_BASE64_DECODED_MAX(684), 513);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_garbage_refused),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
