/* The POSIX port: state directory rules, device key, atomic saves. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "device/device.h"
#include "port/posix/port_posix.h"
#include "testutil.h"

static char base[256], dir[300], err[512];
static thsm_posix_port pp;
static thsm_port port;

static int setup(void **state)
{
    (void)state;
    thsm_test_tmpdir(base, sizeof(base));
    snprintf(dir, sizeof(dir), "%s/a/state", base);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    thsm_posix_port_close(&pp);
    thsm_test_rmtree(base);
    return 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 0777;
}

static void test_fresh_directory(void **state)
{
    (void)state;
    char key_path[400];
    uint8_t k1[32], k2[32];
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), 0);
    snprintf(key_path, sizeof(key_path), "%s/device.key", dir);
    assert_int_equal(mode_of(dir), 0700);
    assert_int_equal(mode_of(key_path), 0600);
    assert_int_equal(port.derive(port.ctx, "test", NULL, 0, k1), 0);
    thsm_posix_port_close(&pp);
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), 0);
    assert_int_equal(port.derive(port.ctx, "test", NULL, 0, k2), 0);
    assert_memory_equal(k1, k2, 32); /* the same device after a restart */
}

static void test_refusals(void **state)
{
    (void)state;
    thsm_posix_port other;
    thsm_port p2;
    char key_path[400];
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), 0);
    assert_int_equal(thsm_posix_port_open(&other, dir, &p2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "in use"));
    assert_int_equal(port.save(port.ctx, "state.bin", (const uint8_t *)"s", 1), 0);
    thsm_posix_port_close(&pp);
    chmod(dir, 0755);
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "chmod 700"));
    chmod(dir, 0700);
    snprintf(key_path, sizeof(key_path), "%s/device.key", dir);
    unlink(key_path); /* state without its key: never make a new key */
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no device.key"));
    assert_int_not_equal(access(key_path, F_OK), 0);
}

static int dir_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void test_objects(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t len;
    uint64_t size;
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), 0);
    assert_int_equal(port.load(port.ctx, "state.bin", buf, sizeof(buf), &len),
                     THSM_PORT_NOT_FOUND);
    assert_int_equal(port.save(port.ctx, "state.bin", (const uint8_t *)"hello", 5), 0);
    assert_int_equal(port.save(port.ctx, "state.bin", (const uint8_t *)"world!", 6), 0);
    assert_int_equal(port.load(port.ctx, "state.bin", buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "world!", 6);
    assert_int_equal(port.load(port.ctx, "state.bin", buf, 3, &len),
                     THSM_PORT_TOO_BIG);
    assert_int_equal(dir_entries(), 2); /* device.key, state.bin: no temporary */
    assert_int_equal(port.save(port.ctx, "../x", (const uint8_t *)"x", 1),
                     THSM_PORT_IO);
    assert_int_equal(port.append(port.ctx, "audit.log", (const uint8_t *)"ab", 2), 0);
    assert_int_equal(port.append(port.ctx, "audit.log", (const uint8_t *)"cd", 2), 0);
    assert_int_equal(port.sync(port.ctx, "audit.log"), 0);
    assert_int_equal(port.size(port.ctx, "audit.log", &size), 0);
    assert_int_equal(size, 4);
    assert_int_equal(port.read(port.ctx, "audit.log", 1, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "bcd", 3);
}

/* A saver killed at random moments leaves one whole version or the other. */
static void test_save_survives_kill(void **state)
{
    (void)state;
    static uint8_t a[4096], b[4096], got[8192];
    size_t len;
    memset(a, 'A', sizeof(a));
    memset(b, 'B', sizeof(b));
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), 0);
    assert_int_equal(port.save(port.ctx, "state.bin", a, sizeof(a)), 0);
    thsm_posix_port_close(&pp);
    for (int i = 0; i < 40; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            thsm_posix_port mine;
            thsm_port p;
            if (thsm_posix_port_open(&mine, dir, &p, err, sizeof(err)) != 0)
                _exit(1);
            for (int n = 0;; n++)
                p.save(p.ctx, "state.bin", n % 2 ? a : b, sizeof(a));
        }
        usleep((useconds_t)(2000 + rand() % 20000));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), 0);
        assert_int_equal(port.load(port.ctx, "state.bin", got, sizeof(got), &len), 0);
        assert_int_equal(len, sizeof(a));
        assert_true(memcmp(got, a, len) == 0 || memcmp(got, b, len) == 0);
        thsm_posix_port_close(&pp);
    }
}

/* Copies tests/fixtures/<file> to <dir>/<name>, mode 0600. */
static void put_fixture(const char *file, const char *name)
{
    char from[512], to[512], buf[8192];
    snprintf(from, sizeof(from), "%s/%s", THSM_FIXTURES, file);
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    size_t n = fread(buf, 1, sizeof(buf), in);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    assert_int_equal(chmod(to, 0600), 0);
}

static char answer[4096];

static void keep_answer(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    assert_true(len < sizeof(answer));
    memcpy(answer, data, len);
    answer[len] = '\0';
}

static const char *ask(thsm_device *dev, thsm_session *s, const char *line)
{
    thsm_device_input(dev, s, (const uint8_t *)line, strlen(line));
    thsm_device_input(dev, s, (const uint8_t *)"\r\n", 2);
    return answer;
}

/* A state directory from before derive(): the keys derived from device.key
 * are the ones the state was sealed and wrapped with. */
static void test_state_from_main_opens(void **state)
{
    (void)state;
    static thsm_device dev;
    thsm_session s;
    char key_path[400];
    uint8_t key_file[40];
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), 0);
    thsm_posix_port_close(&pp);
    memcpy(key_file, "THSMDK01", 8); /* the fixture's device key: 32 x 0x5a */
    memset(key_file + 8, 0x5a, 32);
    snprintf(key_path, sizeof(key_path), "%s/device.key", dir);
    FILE *f = fopen(key_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(key_file, 1, sizeof(key_file), f), sizeof(key_file));
    fclose(f);
    put_fixture("state_v03.bin", "state.bin");
    put_fixture("audit_v03.log", "audit.log");
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), 0);
    thsm_session_init(&s, keep_answer, NULL);
    assert_int_equal(thsm_device_init(&dev, &port), 0);
    assert_string_equal(ask(&dev, &s, "AT+STSAFE_SERIAL?"),
                        "OK 39FE7A9576754FBCE8\r\n\r\n");
    assert_non_null(strstr(ask(&dev, &s, "AT+HSM_STATUS?"),
                           "SIGNER_KEY=5AB15D982AEA4A80 LOG=4 LOG_STATE=OK "));
    assert_non_null(strstr(ask(&dev, &s, "AT+SIGNER_SIGN HASH=00112233445566778899"
                                         "aabbccddeeff00112233445566778899aabbccddeeff"),
                           "OK "));
    thsm_device_deinit(&dev);
}

/* A tinyhsmd's device over this state directory, fast PINs. */
static thsm_device run_dev;
static thsm_session run_s;

static void start_device(void)
{
    assert_int_equal(thsm_posix_port_open(&pp, dir, &port, err, sizeof(err)), 0);
    thsm_session_init(&run_s, keep_answer, NULL);
    assert_int_equal(thsm_device_init(&run_dev, &port), 0);
    run_dev.pin_kdf.log2_cost = 4;
}

static void stop_device(void)
{
    thsm_device_deinit(&run_dev);
    thsm_posix_port_close(&pp);
}

static const char *run(const char *line)
{
    return ask(&run_dev, &run_s, line);
}

static void expect_run(const char *line, const char *part)
{
    const char *r = run(line);
    if (!strstr(r, part))
        fail_msg("%s: expected %s in %s", line, part, r);
}

static const char SIGN[] = "AT+SIGNER_SIGN HASH=00112233445566778899aabbccdd"
                           "eeff00112233445566778899aabbccddeeff";

/* A provisioned device with 9 audit records (0-8), the last a SIGN. */
static void nine_records(char *log_path, size_t cap)
{
    snprintf(log_path, cap, "%s/audit.log", dir);
    start_device();
    expect_run("AT+HSM_CA_NEW_CERT C=US O=MyHSM CN=My_CA START=20230101000000 "
               "DAYS=365", "OK");
    expect_run("AT+SIGNER_NEW_KEY ALGO=SECP256R1", "OK");
    expect_run("AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=Me CN=Signer "
               "START=20230101000000 DAYS=365", "OK");
    for (int i = 0; i < 6; i++)
        expect_run(SIGN, "OK ");
    expect_run("AT+HSM_STATUS?", " LOG=9 LOG_STATE=OK ");
}

/* truncate -s -201 audit.log while the device runs: the next signature is
 * withheld and the finding stays MISSING_FROM_8 across restarts. */
static void test_log_truncated_while_running(void **state)
{
    (void)state;
    char log_path[400];
    struct stat st;
    nine_records(log_path, sizeof(log_path));
    assert_int_equal(stat(log_path, &st), 0);
    assert_int_equal(truncate(log_path, st.st_size - 201), 0);
    expect_run(SIGN, "ERROR STORAGE audit log is missing records from 8 ");
    expect_run("AT+HSM_STATUS?", " LOG_STATE=MISSING_FROM_8 ");
    expect_run(SIGN, "OK ");
    expect_run("AT+LOG? FROM=8", " RECORDS_LOST ");
    stop_device();
    start_device();
    expect_run("AT+HSM_STATUS?", " LOG_STATE=MISSING_FROM_8 ");
    expect_run("AT+LOG?", "OK 11 11 ");
    stop_device();
}

static void test_log_deleted_while_running(void **state)
{
    (void)state;
    char log_path[400];
    nine_records(log_path, sizeof(log_path));
    assert_int_equal(unlink(log_path), 0);
    expect_run("AT+HSM_STATUS?", " LOG=9 LOG_STATE=MISSING_FROM_0 ");
    expect_run("AT+LOG?", "ERROR STORAGE audit log is missing records from 0 ");
    expect_run("AT+LOG?", "\r\n00000000 ");
    expect_run("AT+LOG?", " RECORDS_LOST ");
    expect_run(SIGN, "OK ");
    stop_device();
    start_device();
    expect_run("AT+HSM_STATUS?", " LOG=2 LOG_STATE=MISSING_FROM_0 ");
    stop_device();
}

static void copy_file(const char *from, const char *to)
{
    static uint8_t data[16384];
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    size_t n = fread(data, 1, sizeof(data), in);
    fclose(in);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(data, 1, n, out), n);
    fclose(out);
}

/* A wrong PIN, once the wait a previous one started has passed (the port's
 * clock is the real one). */
static void wrong_pin_after_delay(void)
{
    const char *r = run("AT+AUTH PIN=wrong-pin");
    for (int i = 0; i < 20 && strstr(r, "ERROR PIN_DELAY "); i++) {
        sleep(1);
        r = run("AT+AUTH PIN=wrong-pin");
    }
    if (!strstr(r, "ERROR AUTH_FAILED "))
        fail_msg("AT+AUTH PIN=wrong-pin: expected AUTH_FAILED in %s", r);
}

/* Spend 2 tries, copy an old state.bin back while stopped, restart: the
 * log's wrong PINs bound the tries (3, not 5). */
static void test_rollback_restores_tries(void **state)
{
    (void)state;
    char log_path[400], state_path[400], old_path[400];
    nine_records(log_path, sizeof(log_path));
    snprintf(state_path, sizeof(state_path), "%s/state.bin", dir);
    snprintf(old_path, sizeof(old_path), "%s/old.bin", base);
    expect_run("AT+PIN_SET NEW=secret-pin", "OK");
    copy_file(state_path, old_path);
    expect_run("AT+LOGOUT", "OK");
    for (int i = 0; i < 2; i++)
        wrong_pin_after_delay();
    stop_device();
    copy_file(old_path, state_path);
    start_device();
    expect_run("AT+HSM_STATUS?", " TRIES=3 ");
    expect_run("AT+HSM_STATUS?", " STATE=ROLLED_BACK");
    stop_device();
    start_device();
    expect_run("AT+HSM_STATUS?", " TRIES=3 ");
    expect_run("AT+HSM_STATUS?", " STATE=ROLLED_BACK");
    stop_device();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_survives_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_from_main_opens, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_truncated_while_running,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_deleted_while_running, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_restores_tries, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
