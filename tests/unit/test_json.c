/* JSON string literals for --json output: always valid JSON, text kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/json.h"

static void expect(const char *in, const char *want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    thsm_json_string(f, in);
    fclose(f);
    assert_string_equal(buf, want);
    free(buf);
}

static void test_ascii(void **state)
{
    (void)state;
    expect("C=US, O=MyHSM, CN=My_CA", "\"C=US, O=MyHSM, CN=My_CA\"");
    expect("", "\"\"");
    expect(NULL, "null");
}

static void test_escapes(void **state)
{
    (void)state;
    expect("a\"b\\c", "\"a\\\"b\\\\c\"");
    expect("tab\there\nCR\r", "\"tab\\u0009here\\u000aCR\\u000d\"");
    expect("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
}

static void test_utf8(void **state)
{
    (void)state;
    expect("Zürich €", "\"Zürich €\"");          /* 2 and 3 bytes */
    expect("\xF0\x9F\x94\x91", "\"\xF0\x9F\x94\x91\""); /* 4 bytes */
    expect("a\xFFz", "\"a\\ufffdz\"");              /* never UTF-8 */
    expect("\xC3", "\"\\ufffd\"");                  /* cut short */
    expect("\xC0\xAF", "\"\\ufffd\\ufffd\"");       /* overlong '/' */
    expect("\xE0\x80\xAF", "\"\\ufffd\\ufffd\\ufffd\"");
    expect("\xED\xA0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    expect("\xF4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
