/*
 * case_filter.c - runs only the cmocka test cases named by
 * $CMOCKA_TEST_FILTER (a name, or a pattern with * and ?), for
 * `make test CASE=name`. Linked into every cmocka program by
 * tests/CMakeLists.txt, so no test's main needs to know.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

__attribute__((constructor)) static void thsm_case_filter(void)
{
    const char *pattern = getenv("CMOCKA_TEST_FILTER");
    if (pattern && *pattern)
        cmocka_set_test_filter(pattern);
}
