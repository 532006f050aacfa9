/*
 * tinyhsm info against a stand-in for the original board: a pty in front of
 * a real tinyhsmd that answers our extensions (AT+HSM_STATUS?,
 * AT+SIGNER_PUBKEY?, ...) with ERROR UNKNOWN_COMMAND, as the board does, and
 * ends its responses without the empty line, as the board may.
 */
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/x509.h"
#include "host/at_client.h"
#include "host/hsm.h"
#include "testutil.h"
#include "util/keyid.h"

typedef struct {
    char dir[512];
    char state[600];
    thsm_test_daemon d;
    char board[128]; /* the stand-in's pty */
    pid_t pid;
    char key_id[THSM_KEY_ID_LEN]; /* of the signer certificate's key */
} fixture;

static int is_extension(const char *line)
{
    static const char *const ours[] = {"AT+HSM_STATUS?", "AT+SIGNER_PUBKEY?",
                                       "AT+AUTH", "AT+PIN_SET", "AT+LOGOUT",
                                       "AT+LOG?"};
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        if (strncmp(line, ours[i], strlen(ours[i])) == 0)
            return 1;
    return 0;
}

static void put(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
        _exit(1);
}

/* The stand-in: one request line at a time, relayed or refused. */
static void serve(int master, const char *daemon_port)
{
    static thsm_at at;
    static thsm_at_resp r;
    char err[256], line[1100];
    size_t n = 0;
    if (thsm_at_open(&at, daemon_port, err, sizeof(err)) != THSM_AT_OK)
        _exit(1);
    for (;;) {
        char c;
        if (read(master, &c, 1) != 1)
            _exit(0);
        if (c == '\r' || n + 1 >= sizeof(line))
            continue;
        if (c != '\n') {
            line[n++] = c;
            continue;
        }
        line[n] = '\0';
        n = 0;
        if (is_extension(line)) {
            put(master, "ERROR UNKNOWN_COMMAND unknown command\r\n");
            continue;
        }
        if (thsm_at_cmd(&at, line, &r) != THSM_AT_OK)
            _exit(1);
        for (size_t i = 0; i < r.nlines; i++) {
            put(master, r.lines[i]);
            put(master, "\r\n");
        }
    }
}

static void start_board(fixture *f)
{
    int master, slave;
    struct termios raw;
    cfmakeraw(&raw);
    assert_int_equal(openpty(&master, &slave, f->board, &raw, NULL), 0);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0)
        serve(master, f->d.link); /* keeps the slave open: no hang-ups */
    close(master);
    close(slave);
}

static void provision(fixture *f)
{
    static thsm_at at;
    char err[256], pem[THSM_PEM_MAX];
    thsm_err herr;
    thsm_subject ca = {"US", "MyHSM", "My_CA", "20250101000000", 3650};
    thsm_subject signer = {"US", "Me", "Orig", "20250101000000", 730};
    thsm_x509_info info;
    assert_int_equal(thsm_at_open(&at, f->d.link, err, sizeof(err)), 0);
    assert_int_equal(thsm_hsm_provision(&at, 1, &ca, &signer, &herr), 0);
    assert_int_equal(thsm_hsm_cert_pem(&at, 0, pem, sizeof(pem), &herr), 0);
    assert_int_equal(thsm_x509_parse((uint8_t *)pem, strlen(pem), &info), 0);
    assert_int_equal(thsm_pub_key_id(info.pub, f->key_id), 0);
    thsm_at_close(&at);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    thsm_test_tmpdir(f->dir, sizeof(f->dir));
    snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
    assert_int_equal(thsm_test_daemon_start(&f->d, f->state, NULL), 0);
    provision(f);
    start_board(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kill(f->pid, SIGKILL);
    waitpid(f->pid, NULL, 0);
    thsm_test_daemon_kill(&f->d);
    thsm_test_rmtree(f->dir);
    free(f);
    return 0;
}

static void test_info_text(void **state)
{
    fixture *f = *state;
    static char out[16384];
    char want[64];
    assert_int_equal(thsm_test_run(out, sizeof(out), "%s -p %s info",
                                   thsm_test_bin("tinyhsm"), f->board), 0);
    snprintf(want, sizeof(want), "Signer key id: %s\n", f->key_id);
    if (!strstr(out, want))
        fail_msg("no '%s' in:\n%s", want, out);
    assert_non_null(strstr(out, "Device:  tinyhsmd"));
    assert_non_null(strstr(out, "Subject:     C=US, O=Me, CN=Orig"));
    assert_null(strstr(out, "Status"));
    assert_null(strstr(out, "PIN"));
}

static void test_info_json(void **state)
{
    fixture *f = *state;
    static char out[16384];
    char want[64];
    assert_int_equal(thsm_test_run(out, sizeof(out), "%s info -p %s --json",
                                   thsm_test_bin("tinyhsm"), f->board), 0);
    snprintf(want, sizeof(want), "\"signer_key_id\":\"%s\"", f->key_id);
    if (!strstr(out, want) || !strstr(out, "\"status\":null"))
        fail_msg("unexpected JSON:\n%s", out);
    assert_non_null(strstr(out, "\"subject\":\"C=US, O=Me, CN=Orig\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_info_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_json, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
