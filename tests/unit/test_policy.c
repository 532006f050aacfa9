/*
 * test_policy.c - the signing policy in the device core: every rule
 * refuses and allows, a refusal changes nothing but the log, a lock holds
 * until decommission, the policy survives a restart, and a format 06 state
 * loads as one without a policy. Image rules are driven through
 * thsm_policy_check_image / note_signed as the image handlers call them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "device/device.h"
#include "device/policy.h"
#include "device/state.h"
#include "host/policy.h"
#include "port/mem/port_mem.h"
#include "testutil.h"

typedef struct {
    thsm_mem_port mp;
    thsm_port port;
    thsm_device dev;
    thsm_session s;
    char out[16384];
} fixture;

static void collect(void *ctx, const char *data, size_t len)
{
    fixture *f = ctx;
    assert_true(len < sizeof(f->out));
    memcpy(f->out, data, len);
    f->out[len] = '\0';
}

static void start(fixture *f)
{
    thsm_session_init(&f->s, collect, f);
    assert_int_equal(thsm_device_init(&f->dev, &f->port), 0);
    f->dev.pin_kdf.log2_cost = 4; /* fast PINs in tests */
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    thsm_mem_port_init(&f->mp, &f->port);
    start(f);
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

static void restart(fixture *f)
{
    thsm_device_deinit(&f->dev);
    start(f);
}

static const char *req(fixture *f, const char *line)
{
    f->out[0] = '\0';
    thsm_device_input(&f->dev, &f->s, (const uint8_t *)line, strlen(line));
    thsm_device_input(&f->dev, &f->s, (const uint8_t *)"\r\n", 2);
    return f->out;
}

static void expect(fixture *f, const char *line, const char *prefix)
{
    const char *r = req(f, line);
    if (strncmp(r, prefix, strlen(prefix)) != 0)
        fail_msg("%s: expected '%s...', got '%s'", line, prefix, r);
}

static void expect_in(fixture *f, const char *line, const char *part)
{
    const char *r = req(f, line);
    if (!strstr(r, part))
        fail_msg("%s: expected '%s' in '%s'", line, part, r);
}

/* A CA, a signer with its certificate, a PIN, logged in. */
static void provision(fixture *f)
{
    expect(f, "AT+HSM_CA_NEW_CERT C=US O=MyHSM CN=My_CA START=20230101000000 "
              "DAYS=365", "OK\r\n");
    expect(f, "AT+SIGNER_NEW_KEY ALGO=SECP256R1", "OK\r\n");
    expect(f, "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=Me CN=Signer "
              "START=20230101000000 DAYS=365", "OK\r\n");
    expect(f, "AT+PIN_SET NEW=policy-pin-1", "OK\r\n");
}

#define HASH "HASH=" \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static thsm_image_info image(const char *board, uint64_t version,
                             uint32_t size)
{
    thsm_image_info img = {.format = THSM_IMG_SECUREBOOT10,
                           .version = version, .size = size};
    snprintf(img.board, sizeof(img.board), "%s", board);
    snprintf(img.version_text, sizeof(img.version_text), "1.0.%lu",
             (unsigned long)version);
    return img;
}

/* The policy check of img: "" when allowed, else the refusal line. */
static const char *policy_check(fixture *f, const thsm_image_info *img)
{
    f->dev.resp_len = 0;
    f->dev.resp[0] = '\0';
    int rc = thsm_policy_check_image(&f->dev, img);
    f->dev.resp[f->dev.resp_len] = '\0';
    assert_int_equal(rc == 0, f->dev.resp_len == 0);
    const char *r = rc == 0 ? "" : f->dev.resp;
    snprintf(f->out, sizeof(f->out), "%s", r);
    f->dev.resp_len = 0;
    f->dev.err_code = NULL;
    return f->out;
}

static void expect_policy(fixture *f, const thsm_image_info *img,
                         const char *refusal)
{
    const char *r = policy_check(f, img);
    if (refusal ? strncmp(r, refusal, strlen(refusal)) != 0 : r[0] != '\0')
        fail_msg("expected '%s', got '%s'", refusal ? refusal : "allowed", r);
}

static void signed_(fixture *f, const thsm_image_info *img)
{
    if (thsm_policy_note_signed(&f->dev, img))
        assert_int_equal(thsm_state_save(&f->dev), 0);
}

static void test_no_policy_allows_everything(void **state)
{
    fixture *f = *state;
    provision(f);
    expect_in(f, "AT+POLICY?", "OK BOARDS=ANY FORMATS=ANY RISING=OFF "
              "MAX_SIZE=0 PER_HOUR=0 PER_DAY=0 DIGEST=ON IMPORTS=ON "
              "LOCKED=0 HOUR_COUNT=0 DAY_COUNT=0 LAST=NONE");
    thsm_image_info a = image("BOARD_A", 5, 1000);
    expect_policy(f, &a, NULL);
    signed_(f, &a);
    thsm_image_info older = image("BOARD_A", 4, 1000);
    expect_policy(f, &older, NULL);
    expect(f, "AT+SIGNER_SIGN " HASH, "OK ");
    assert_int_equal(thsm_policy_check_import(&f->dev), 0);
    /* no rising rule: no version kept, no state save per signature */
    expect_in(f, "AT+POLICY?", "LAST=NONE");
}

static void test_set_needs_pin_and_login(void **state)
{
    fixture *f = *state;
    expect(f, "AT+POLICY_SET DIGEST=OFF", "ERROR NO_PIN ");
    expect(f, "AT+POLICY_LOCK", "ERROR NO_PIN ");
    expect_in(f, "AT+POLICY?", "DIGEST=ON");
    provision(f);
    expect(f, "AT+LOGOUT", "OK");
    expect(f, "AT+POLICY_SET DIGEST=OFF", "ERROR AUTH_REQUIRED ");
    expect_in(f, "AT+POLICY?", "DIGEST=ON");
    expect(f, "AT+AUTH PIN=policy-pin-1", "OK");
    expect(f, "AT+POLICY_SET DIGEST=OFF", "OK");
    expect_in(f, "AT+POLICY?", "DIGEST=OFF");
}

static void test_bad_values_change_nothing(void **state)
{
    fixture *f = *state;
    provision(f);
    expect(f, "AT+POLICY_SET PER_HOUR=5", "OK");
    expect(f, "AT+POLICY_SET PER_HOUR=6 DIGEST=maybe", "ERROR BAD_PARAM ");
    expect(f, "AT+POLICY_SET BOARDS=A,A", "ERROR BAD_PARAM ");
    expect(f, "AT+POLICY_SET BOARDS=A,B,C,D,E,F,G,H,I", "ERROR BAD_PARAM ");
    expect(f, "AT+POLICY_SET BOARDS=NAME_LONGER_THAN_16", "ERROR BAD_PARAM ");
    expect(f, "AT+POLICY_SET FORMATS=ELF", "ERROR BAD_PARAM ");
    expect(f, "AT+POLICY_SET MAX_SIZE=-1", "ERROR BAD_PARAM ");
    expect(f, "AT+POLICY_SET COLOUR=RED", "ERROR BAD_PARAM ");
    expect(f, "AT+POLICY_SET", "ERROR BAD_PARAM ");
    expect_in(f, "AT+POLICY?", "OK BOARDS=ANY FORMATS=ANY RISING=OFF "
              "MAX_SIZE=0 PER_HOUR=5 PER_DAY=0 DIGEST=ON");
}

static void test_only_rules_given_change(void **state)
{
    fixture *f = *state;
    provision(f);
    expect(f, "AT+POLICY_SET BOARDS=B1,B2 MAX_SIZE=4096", "OK");
    expect(f, "AT+POLICY_SET RISING=ON", "OK");
    expect_in(f, "AT+POLICY?", "BOARDS=B1,B2 FORMATS=ANY RISING=ON "
              "MAX_SIZE=4096");
    /* each change is a record naming the old and new value */
    expect_in(f, "AT+LOG? FROM=0", "MAX_SIZE=0>4096");
    expect_in(f, "AT+LOG? FROM=0", "RISING=OFF>ON");
    expect_in(f, "AT+LOG? FROM=0", "BOARDS=ANY>B1,B2");
}

static void test_board_format_size(void **state)
{
    fixture *f = *state;
    provision(f);
    expect(f, "AT+POLICY_SET BOARDS=B1,B2 FORMATS=SECUREBOOT10 "
              "MAX_SIZE=4096", "OK");
    thsm_image_info ok = image("B2", 1, 4096);
    expect_policy(f, &ok, NULL);
    thsm_image_info board = image("B3", 1, 100);
    expect_policy(f, &board, "ERROR POLICY BOARD ");
    thsm_image_info big = image("B1", 1, 4097);
    expect_policy(f, &big, "ERROR POLICY SIZE ");
    thsm_image_info mcu = image("slot0", 1, 100);
    mcu.format = THSM_IMG_MCUBOOT;
    expect_policy(f, &mcu, "ERROR POLICY FORMAT ");
    expect(f, "AT+POLICY_SET FORMATS=SECUREBOOT10,MCUBOOT", "OK");
    /* the list holds MCUboot's image names too: a fresh name would start
       a fresh version sequence */
    expect_policy(f, &mcu, "ERROR POLICY BOARD ");
    thsm_image_info unnamed = image("", 1, 100);
    unnamed.format = THSM_IMG_MCUBOOT;
    expect_policy(f, &unnamed, "ERROR POLICY BOARD ");
    expect(f, "AT+POLICY_SET BOARDS=B1,B2,slot0", "OK");
    expect_policy(f, &mcu, NULL);
}

static void test_rising_versions(void **state)
{
    fixture *f = *state;
    provision(f);
    expect(f, "AT+POLICY_SET RISING=ON", "OK");
    thsm_image_info v5 = image("B1", 5, 10), v4 = image("B1", 4, 10);
    thsm_image_info v6 = image("B1", 6, 10), other = image("B2", 1, 10);
    expect_policy(f, &v5, NULL);
    signed_(f, &v5);
    expect_policy(f, &v5, "ERROR POLICY REPLAY ");
    expect_policy(f, &v4, "ERROR POLICY DOWNGRADE ");
    expect_policy(f, &other, NULL); /* per board */
    thsm_image_info mcu = v5;
    mcu.format = THSM_IMG_MCUBOOT;
    expect_policy(f, &mcu, NULL); /* per format */
    expect_policy(f, &v6, NULL);
    restart(f); /* the last versions are sealed in the state */
    expect(f, "AT+AUTH PIN=policy-pin-1", "OK");
    expect_policy(f, &v5, "ERROR POLICY REPLAY ");
    expect_in(f, "AT+POLICY?", "LAST=SECUREBOOT10:B1:1.0.5");
}

static void test_versions_full(void **state)
{
    fixture *f = *state;
    provision(f);
    expect(f, "AT+POLICY_SET RISING=ON", "OK");
    char name[8];
    for (int i = 0; i < THSM_POLICY_VERSIONS; i++) {
        snprintf(name, sizeof(name), "B%d", i);
        thsm_image_info img = image(name, 1, 10);
        expect_policy(f, &img, NULL);
        signed_(f, &img);
    }
    thsm_image_info new_one = image("NEW", 1, 10);
    expect_policy(f, &new_one, "ERROR POLICY VERSIONS_FULL ");
    thsm_image_info known = image("B3", 2, 10);
    expect_policy(f, &known, NULL);
}

static void test_digest_off(void **state)
{
    fixture *f = *state;
    provision(f);
    expect(f, "AT+POLICY_SET DIGEST=OFF", "OK");
    uint32_t log = f->dev.log_count, gen = f->dev.st.generation;
    uint8_t tries = f->dev.st.pin.tries;
    expect(f, "AT+SIGNER_SIGN " HASH, "ERROR POLICY DIGEST ");
    thsm_device_flush(&f->dev);
    /* the refusal is logged, spends no try, changes no state */
    assert_int_equal(f->dev.log_count, log + 1);
    assert_int_equal(f->dev.st.generation, gen + 1); /* the log's anchor */
    assert_int_equal(f->dev.st.pin.tries, tries);
    expect_in(f, "AT+LOG? FROM=0", "POLICY");
    expect_in(f, "AT+HSM_STATUS?", "SIGNATURES=0");
    expect(f, "AT+POLICY_SET DIGEST=ON", "OK");
    expect(f, "AT+SIGNER_SIGN " HASH, "OK ");
}

static void test_imports_off(void **state)
{
    fixture *f = *state;
    provision(f);
    assert_int_equal(thsm_policy_check_import(&f->dev), 0);
    expect(f, "AT+POLICY_SET IMPORTS=OFF", "OK");
    f->dev.resp_len = 0;
    assert_int_equal(thsm_policy_check_import(&f->dev), -1);
    f->dev.resp[f->dev.resp_len] = '\0';
    assert_non_null(strstr(f->dev.resp, "ERROR POLICY IMPORT "));
    f->dev.resp_len = 0;
}

static void test_rate_limits(void **state)
{
    fixture *f = *state;
    provision(f);
    f->mp.now = (f->mp.now / 86400) * 86400 + 600; /* early in a day */
    expect(f, "AT+POLICY_SET PER_HOUR=2 PER_DAY=3", "OK");
    expect(f, "AT+SIGNER_SIGN " HASH, "OK ");
    expect(f, "AT+SIGNER_SIGN " HASH, "OK ");
    expect(f, "AT+SIGNER_SIGN " HASH, "ERROR POLICY RATE_HOUR ");
    thsm_image_info img = image("B1", 1, 10);
    expect_policy(f, &img, "ERROR POLICY RATE_HOUR "); /* images count too */
    expect_in(f, "AT+POLICY?", "HOUR_COUNT=2 DAY_COUNT=2");
    restart(f); /* the counters are sealed in the state */
    expect(f, "AT+AUTH PIN=policy-pin-1", "OK");
    expect(f, "AT+SIGNER_SIGN " HASH, "ERROR POLICY RATE_HOUR ");
    f->mp.now += 3600; /* the next hour */
    expect(f, "AT+SIGNER_SIGN " HASH, "OK ");
    expect(f, "AT+SIGNER_SIGN " HASH, "ERROR POLICY RATE_DAY ");
    f->mp.now -= 7200; /* a clock going back opens no fresh window */
    expect(f, "AT+SIGNER_SIGN " HASH, "ERROR POLICY RATE_DAY ");
    f->mp.now += 86400 + 7200;
    expect(f, "AT+SIGNER_SIGN " HASH, "OK ");
}

static void test_lock(void **state)
{
    fixture *f = *state;
    provision(f);
    expect(f, "AT+POLICY_SET DIGEST=OFF", "OK");
    expect(f, "AT+POLICY_LOCK", "OK");
    expect_in(f, "AT+LOG? FROM=0", "POLICY_LOCK");
    expect(f, "AT+POLICY_SET DIGEST=ON", "ERROR POLICY LOCKED ");
    expect(f, "AT+POLICY_SET PER_DAY=1", "ERROR POLICY LOCKED ");
    expect(f, "AT+POLICY_LOCK", "ERROR POLICY LOCKED ");
    restart(f);
    expect(f, "AT+AUTH PIN=policy-pin-1", "OK");
    expect(f, "AT+POLICY_SET DIGEST=ON", "ERROR POLICY LOCKED ");
    expect_in(f, "AT+POLICY?", "DIGEST=OFF IMPORTS=ON LOCKED=1");
    expect(f, "AT+SIGNER_SIGN " HASH, "ERROR POLICY DIGEST ");
    /* a decommission wipes it with the keys */
    expect(f, "AT+STSAFE_DECOMMISSION", "OK");
    expect_in(f, "AT+POLICY?", "DIGEST=ON IMPORTS=ON LOCKED=0");
}

/* A failed save changes nothing: the old policy stays in memory. */
static void test_failed_save_keeps_old_policy(void **state)
{
    fixture *f = *state;
    provision(f);
    expect(f, "AT+POLICY_SET PER_DAY=7", "OK");
    f->mp.fail_writes = 1;
    expect(f, "AT+POLICY_SET PER_DAY=9", "ERROR STORAGE ");
    f->mp.fail_writes = 0;
    expect_in(f, "AT+POLICY?", "PER_DAY=7");
}

/* The slots' imported flags (set by the key import) survive a restart. */
static void test_imported_flag_persists(void **state)
{
    fixture *f = *state;
    provision(f);
    f->dev.st.signer.imported = 1;
    assert_int_equal(thsm_state_save(&f->dev), 0);
    restart(f);
    assert_int_equal(f->dev.st.signer.imported, 1);
    assert_int_equal(f->dev.st.ca.imported, 0);
}

/* The host reads what the device answers, last versions included, and
 * refuses an answer that lacks a rule or breaks its syntax. */
static void test_host_parses_answer(void **state)
{
    fixture *f = *state;
    thsm_policy_info p;
    provision(f);
    expect(f, "AT+POLICY_SET BOARDS=B1,B2 FORMATS=MCUBOOT PER_DAY=9 "
              "IMPORTS=OFF RISING=ON", "OK");
    thsm_image_info img = image("B1", 5, 10);
    signed_(f, &img);
    const char *r = req(f, "AT+POLICY?");
    char line[4096];
    snprintf(line, sizeof(line), "%.*s", (int)strcspn(r + 3, "\r"), r + 3);
    assert_int_equal(thsm_parse_policy(line, &p), 0);
    assert_int_equal(p.n_boards, 2);
    assert_string_equal(p.boards[1], "B2");
    assert_true(p.mcuboot && !p.secureboot10 && p.rising && p.digest);
    assert_true(!p.imports && !p.locked && thsm_policy_info_any(&p));
    assert_int_equal(p.per_day, 9);
    assert_int_equal(p.day_count, 1);
    assert_int_equal(p.n_last, 1);
    assert_string_equal(p.last[0].format, "SECUREBOOT10");
    assert_string_equal(p.last[0].name, "B1");
    assert_string_equal(p.last[0].version, "1.0.5");
    static const char *const bad[] = {
        "BOARDS=ANY",
        "BOARDS=ANY FORMATS=ELF RISING=ON MAX_SIZE=0 PER_HOUR=0 PER_DAY=0 "
        "DIGEST=ON IMPORTS=ON LOCKED=0 HOUR_COUNT=0 DAY_COUNT=0 LAST=NONE",
        "BOARDS=ANY FORMATS=ANY RISING=ON MAX_SIZE=x PER_HOUR=0 PER_DAY=0 "
        "DIGEST=ON IMPORTS=ON LOCKED=0 HOUR_COUNT=0 DAY_COUNT=0 LAST=NONE",
        "BOARDS=ANY FORMATS=ANY RISING=ON MAX_SIZE=0 PER_HOUR=0 PER_DAY=0 "
        "DIGEST=ON IMPORTS=ON LOCKED=0 HOUR_COUNT=0 DAY_COUNT=0 LAST=B1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(thsm_parse_policy(bad[i], &p), -1);
    assert_int_equal(thsm_parse_policy("BOARDS=ANY FORMATS=ANY RISING=OFF "
                     "MAX_SIZE=0 PER_HOUR=0 PER_DAY=0 DIGEST=ON IMPORTS=ON "
                     "LOCKED=0 HOUR_COUNT=0 DAY_COUNT=0 LAST=NONE", &p), 0);
    assert_false(thsm_policy_info_any(&p));
}

#ifdef THSM_FIXTURES
static void load_fixture(fixture *f, const char *file, const char *name)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", THSM_FIXTURES, file);
    unsigned char *data = thsm_test_read_file(path, &len);
    assert_non_null(data);
    for (int i = 0; i < THSM_MEM_OBJECTS; i++) {
        thsm_mem_object *o = &f->mp.obj[i];
        if (!o->used || strcmp(o->name, name) == 0) {
            snprintf(o->name, sizeof(o->name), "%s", name);
            memcpy(o->data, data, len);
            o->len = len;
            o->used = 1;
            break;
        }
    }
    free(data);
}

/* A format 06 state loads with no policy, is kept as state.bin.v06 and
 * the next save writes 07 holding the policy. */
static void test_v06_migrates(void **state)
{
    fixture *f = *state;
    thsm_device_deinit(&f->dev);
    memset(f->mp.obj, 0, sizeof(f->mp.obj));
    load_fixture(f, "state_v06.bin", "state.bin");
    load_fixture(f, "audit_v06.log", "audit.log");
    start(f);
    assert_int_equal(thsm_device_state_format(&f->dev)->old_format, 6);
    expect_in(f, "AT+POLICY?", "OK BOARDS=ANY FORMATS=ANY RISING=OFF");
    expect(f, "AT+SIGNER_SIGN " HASH, "OK ");
    expect(f, "AT+PIN_SET NEW=policy-pin-1", "OK");
    expect(f, "AT+POLICY_SET RISING=ON", "OK");
    int kept = 0;
    for (int i = 0; i < THSM_MEM_OBJECTS; i++) {
        thsm_mem_object *o = &f->mp.obj[i];
        if (o->used && strcmp(o->name, "state.bin.v06") == 0)
            kept = memcmp(o->data, "THSMST06", 8) == 0;
        if (o->used && strcmp(o->name, "state.bin") == 0)
            assert_memory_equal(o->data, "THSMST07", 8);
    }
    assert_true(kept);
    restart(f);
    expect_in(f, "AT+POLICY?", "RISING=ON");
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_no_policy_allows_everything),
        T(test_set_needs_pin_and_login),
        T(test_bad_values_change_nothing),
        T(test_only_rules_given_change),
        T(test_board_format_size),
        T(test_rising_versions),
        T(test_versions_full),
        T(test_digest_off),
        T(test_imports_off),
        T(test_rate_limits),
        T(test_lock),
        T(test_failed_save_keeps_old_policy),
        T(test_imported_flag_persists),
        T(test_host_parses_answer),
#ifdef THSM_FIXTURES
        T(test_v06_migrates),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
