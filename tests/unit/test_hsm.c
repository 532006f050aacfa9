/*
 * The host's parsers of device answers, the terminal escaping and the
 * shared certificate value rules: what they accept and what they refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/hsm.h"
#include "util/certvalues.h"
#include "util/escape.h"
#include "util/hex.h"

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(thsm_escape("plain text ~", out, sizeof(out)),
                        "plain text ~");
    assert_string_equal(thsm_escape("\033[2J\033]0;x\007\r\n\177\377", out,
                                    sizeof(out)),
                        "\\x1b[2J\\x1b]0;x\\x07\\x0d\\x0a\\x7f\\xff");
    /* a cut is visible, and what is left is still plain text */
    assert_string_equal(thsm_escape("abcdefghij", out, 8), "abcd...");
    assert_string_equal(thsm_escape("\033\033\033", out, 8), "\\x1b...");
    assert_string_equal(thsm_escape("abc", out, 3), "ab");
}

static void test_status(void **state)
{
    (void)state;
    thsm_status st;
    assert_int_equal(thsm_parse_status("CA=1 SIGNER=1 SIGNER_CERT=0 PIN=SET "
                                       "TRIES=4 AUTH=0 SIGNATURES=12 "
                                       "CA_KEY=0123456789abcdef SIGNER_KEY=- "
                                       "LOG=9 LOG_STATE=OK FUTURE=x", &st), 0);
    assert_int_equal(st.pin, THSM_PIN_SET);
    assert_int_equal(st.tries, 4);
    assert_int_equal(st.signer_cert, 0);
    assert_int_equal(st.signatures, 12);
    assert_string_equal(st.ca_key, "0123456789abcdef");
    assert_string_equal(st.log_state, "OK");
    assert_int_equal(thsm_parse_status("PIN=BLOCKED AUTH=0", &st), 0);
    assert_int_equal(st.pin, THSM_PIN_BLOCKED);
    assert_int_equal(thsm_parse_status("AUTH=0", &st), -1);       /* no PIN= */
    assert_int_equal(thsm_parse_status("PIN=MAYBE AUTH=0", &st), -1);
    assert_int_equal(thsm_parse_status("PIN=SET AUTH=2", &st), -1);
    assert_int_equal(thsm_parse_status("PIN=SET AUTH=0 TRIES=-1", &st), -1);
    assert_int_equal(thsm_parse_status("PIN=SET AUTH=0 CA_KEY=0123456789abcdef0",
                                       &st), -1); /* longer than a key id */
    assert_int_equal(thsm_parse_status("PIN=SET AUTH=0 junk", &st), -1);
    /* the SO role and the waits */
    assert_int_equal(thsm_parse_status("PIN=BLOCKED AUTH=0", &st), 0);
    assert_false(st.has_so);
    assert_int_equal(thsm_parse_status("PIN=SET TRIES=3 AUTH=0 DELAY=2 SO=SET "
                                       "SO_TRIES=9 SO_AUTH=1 SO_DELAY=1", &st), 0);
    assert_true(st.has_so);
    assert_int_equal(st.so, THSM_PIN_SET);
    assert_int_equal(st.delay, 2);
    assert_int_equal(st.so_tries, 9);
    assert_true(st.so_auth);
    assert_int_equal(st.so_delay, 1);
    assert_int_equal(thsm_parse_status("PIN=SET AUTH=0 SO=MAYBE", &st), -1);
    assert_int_equal(thsm_parse_status("PIN=SET AUTH=0 SO_DELAY=x", &st), -1);
}

static void test_len_hex_and_signature(void **state)
{
    (void)state;
    uint8_t out[8], sig[THSM_P256_SIG_RAW_LEN];
    size_t len = 0;
    assert_int_equal(thsm_parse_len_hex("3 ABcdEF", out, sizeof(out), &len), 0);
    assert_int_equal(len, 3);
    assert_int_equal(out[2], 0xef);
    const char *bad[] = {"3 ABCD",  "3 ABCDEF00", "-1 AB", "+1 AB", " 1 AB",
                         "1  AB",   "9 AABBCCDDEEFF001122", "0 ", "1 GG",
                         "1AB",     "1 AB "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(thsm_parse_len_hex(bad[i], out, sizeof(out), &len),
                         -1);
    assert_int_equal(thsm_parse_sig("2 3000", sig), -1);
}

static void test_pem(void **state)
{
    (void)state;
    char l0[] = "OK", l1[] = "-----BEGIN CERTIFICATE-----", l2[] = "MIIB",
         l3[] = "-----END CERTIFICATE-----";
    char *lines[] = {l0, l1, l2, l3};
    char pem[128];
    assert_int_equal(thsm_parse_pem(lines, 4, pem, sizeof(pem)), 0);
    assert_string_equal(pem, "-----BEGIN CERTIFICATE-----\nMIIB\n"
                             "-----END CERTIFICATE-----\n");
    assert_int_equal(thsm_parse_pem(lines, 3, pem, sizeof(pem)), -1);
    assert_int_equal(thsm_parse_pem(lines, 4, pem, 40), -1);
}

/* A record as the device writes it, chained from head. */
static void record(unsigned i, uint8_t head[32], char out[THSM_LOG_LINE + 1])
{
    snprintf(out, THSM_LOG_LINE + 1, "%08u %010u %-16.16s %-16s %-64s %-16.16s ",
             i, 1700000000u + i, "SIGN", "0123456789abcdef", "-", "OK");
    uint8_t copy[32];
    memcpy(copy, head, 32);
    char tmp[THSM_LOG_LINE + 1];
    memcpy(tmp, out, THSM_LOG_CHAIN_AT);
    memset(tmp + THSM_LOG_CHAIN_AT, '0', 64);
    tmp[THSM_LOG_LINE] = '\0';
    thsm_log_chain_next(copy, tmp); /* computes the link, whatever is stored */
    thsm_hex(copy, 32, out + THSM_LOG_CHAIN_AT);
    memcpy(head, copy, 32);
}

static void test_log_parsers(void **state)
{
    (void)state;
    thsm_log_page p;
    thsm_log_record r;
    char line[THSM_LOG_LINE + 1], zeros[70];
    uint8_t head[32] = {0}, check[32] = {0};
    assert_int_equal(thsm_parse_log_page("2 7", &p), 0);
    assert_false(p.has_head);
    assert_int_equal(p.total, 7);
    memset(zeros, '0', 64);
    snprintf(zeros + 64, 6, "%s", "");
    char anchored[100];
    snprintf(anchored, sizeof(anchored), "0 0 %s", zeros);
    assert_int_equal(thsm_parse_log_page(anchored, &p), 0);
    assert_true(p.has_head);
    const char *bad[] = {"5", "5 3", "1 2 00", "1 2 ", "x 2", "1 200000000",
                         "1 2 3 4"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(thsm_parse_log_page(bad[i], &p), -1);
    /* after a clear: the first record held and the chain before it */
    char cleared[200], ones[65];
    memset(ones, '1', 64);
    ones[64] = '\0';
    snprintf(cleared, sizeof(cleared), "1 9 %s 8 %s", zeros, ones);
    assert_int_equal(thsm_parse_log_page(cleared, &p), 0);
    assert_int_equal(p.base, 8);
    assert_int_equal(p.base_head[0], 0x11);
    assert_int_equal(p.head[0], 0);
    const char *tails[] = {" 8", " 10 ", " x ", " 8 11", " 8 "};
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        snprintf(cleared, sizeof(cleared), "1 9 %s%s%s", zeros, tails[i],
                 i == 1 ? ones : "");
        assert_int_equal(thsm_parse_log_page(cleared, &p), -1);
    }

    record(0, head, line);
    assert_int_equal(thsm_parse_log_record(line, &r), 0);
    assert_int_equal(r.index, 0);
    assert_int_equal(r.time, 1700000000);
    assert_string_equal(r.event, "SIGN");
    assert_string_equal(r.digest, "-");
    assert_true(thsm_log_chain_next(check, line));
    line[25] = '\033';
    assert_int_equal(thsm_parse_log_record(line, &r), -1);
    assert_false(thsm_log_chain_next(head, line)); /* altered */
    assert_int_equal(thsm_parse_log_record("00000000 short", &r), -1);
}

static void test_cert_values(void **state)
{
    (void)state;
    int64_t from, to;
    assert_null(thsm_cert_values_check("US", "O", "CN", "20240229235959",
                                       "36500", &from, &to));
    assert_null(thsm_cert_values_check("US", "O", "CN", "99991230000000", "1",
                                       &from, &to));
    assert_int_equal(to, INT64_C(253402300800) - 86400);
    struct {
        const char *c, *o, *cn, *start, *days, *why;
    } bad[] = {
        {"usa", "O", "CN", "20250101000000", "1", "C must"},
        {"U", "O", "CN", "20250101000000", "1", "C must"},
        {"US", "", "CN", "20250101000000", "1", "O and CN"},
        {"US", "O", "two words", "20250101000000", "1", "O and CN"},
        {"US", "O", "CN", "20230229000000", "1", "START"},
        {"US", "O", "CN", "19691231235959", "1", "START"},
        {"US", "O", "CN", "20250101000000", "0", "DAYS"},
        {"US", "O", "CN", "20250101000000", "36501", "DAYS"},
        {"US", "O", "CN", "20250101000000", "010", "DAYS"},
        {"US", "O", "CN", "99991231000000", "2", "after year 9999"},
        {NULL, "O", "CN", "20250101000000", "1", "C must"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = thsm_cert_values_check(bad[i].c, bad[i].o, bad[i].cn,
                                                 bad[i].start, bad[i].days,
                                                 &from, &to);
        assert_non_null(why);
        assert_non_null(strstr(why, bad[i].why));
    }
    thsm_subject s = {"US", "Me", "x", "20250101000000", 36501};
    assert_non_null(thsm_subject_check(&s));
    s.days = 36500;
    assert_null(thsm_subject_check(&s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_len_hex_and_signature),
        cmocka_unit_test(test_pem),
        cmocka_unit_test(test_log_parsers),
        cmocka_unit_test(test_cert_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
