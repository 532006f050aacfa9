/*
 * The AT client against a scripted fake device on a pty: the completion
 * rules that the original board needs (PEM end line, idle gap), leftovers,
 * errors, the masked trace, a busy port.
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/at_client.h"

typedef struct {
    int master;
    char slave[128];
    pid_t pid;
} fake;

/* Forks a device that answers each request line with the next reply. */
static void fake_start(fake *f, const char *const *replies)
{
    int slave;
    struct termios raw;
    cfmakeraw(&raw);
    assert_int_equal(openpty(&f->master, &slave, f->slave, &raw, NULL), 0);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid > 0) {
        close(slave);
        return;
    } /* the child keeps the slave open, so reads never see a hang-up */
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test must not leave it */
    char c;
    for (int i = 0; replies[i];) {
        if (read(f->master, &c, 1) != 1)
            _exit(0);
        if (c != '\n')
            continue;
        const char *r = replies[i++];
        if (strncmp(r, "SLOW:", 5) == 0) { /* two bursts 50 ms apart */
            r += 5;
            if (write(f->master, r, 3) != 3)
                _exit(1);
            usleep(50000);
            r += 3;
        }
        if (write(f->master, r, strlen(r)) != (ssize_t)strlen(r))
            _exit(1);
    }
    pause();
    _exit(0);
}

static void fake_stop(fake *f)
{
    kill(f->pid, SIGKILL);
    waitpid(f->pid, NULL, 0);
    close(f->master);
}

static char traced[4096];

static void trace(void *ctx, char dir, const char *line)
{
    (void)ctx;
    size_t n = strlen(traced);
    snprintf(traced + n, sizeof(traced) - n, "%c %s\n", dir, line);
}

static void test_completion_rules(void **state)
{
    (void)state;
    static const char *const replies[] = {
        "OK\r\n\r\n",                                /* empty line */
        "OK\r\n-----BEGIN CERTIFICATE-----\r\nMIIB\r\n"
        "-----END CERTIFICATE-----\r\n",             /* PEM end, no empty line */
        "OK 3 ABCDEF\r\n",                           /* idle gap */
        "\r\n\r\nERROR NO_CA no CA here\r\n\r\n",    /* leading empty lines */
        "SLOW:OK Reset\r\n\r\n",                     /* split in two bursts */
        "OK partial",                                /* no line end at all */
        NULL,
    };
    fake f;
    static thsm_at at;
    static thsm_at_resp r;
    char err[200];
    fake_start(&f, replies);
    assert_int_equal(thsm_at_open(&at, f.slave, err, sizeof(err)), THSM_AT_OK);
    assert_int_equal(thsm_at_cmd(&at, "AT", &r), THSM_AT_OK);
    assert_true(r.ok);
    assert_int_equal(r.nlines, 1);
    assert_int_equal(thsm_at_cmd(&at, "AT+HSM_CA_CERT?", &r), THSM_AT_OK);
    assert_int_equal(r.nlines, 4);
    assert_string_equal(r.lines[3], "-----END CERTIFICATE-----");
    assert_int_equal(thsm_at_cmd(&at, "AT+HSM_CA_CERT? FORMAT=DER", &r),
                     THSM_AT_OK);
    assert_string_equal(r.text, "3 ABCDEF");
    assert_int_equal(thsm_at_cmd(&at, "AT+X", &r), THSM_AT_OK);
    assert_false(r.ok);
    assert_string_equal(r.code, "NO_CA");
    assert_string_equal(r.text, "no CA here");
    assert_int_equal(thsm_at_cmd(&at, "AT+RESET", &r), THSM_AT_OK);
    assert_string_equal(r.lines[0], "OK Reset");
    assert_int_equal(thsm_at_cmd(&at, "AT", &r), THSM_AT_OK);
    assert_string_equal(r.lines[0], "OK partial");
    at.timeout_ms = 300; /* the fake has nothing more to say */
    assert_int_equal(thsm_at_cmd(&at, "AT", &r), THSM_AT_ERR_TIMEOUT);
    thsm_at_close(&at);
    fake_stop(&f);
}

static void test_trace_masks_pins(void **state)
{
    (void)state;
    static const char *const replies[] = {"OK\r\n\r\n", "OK\r\n\r\n",
                                          "OK\r\n\r\n", NULL};
    fake f;
    static thsm_at at;
    static thsm_at_resp r;
    char err[200];
    fake_start(&f, replies);
    assert_int_equal(thsm_at_open(&at, f.slave, err, sizeof(err)), THSM_AT_OK);
    traced[0] = '\0';
    at.trace = trace;
    assert_int_equal(thsm_at_cmd(&at, "AT+AUTH PIN=secret1", &r), THSM_AT_OK);
    assert_int_equal(thsm_at_cmd(&at, "AT+PIN_SET OLD=secret2 NEW=secret3", &r),
                     THSM_AT_OK);
    /* a PIN with spaces: everything after the key is hidden */
    assert_int_equal(thsm_at_cmdf(&at, &r, "AT+PIN_SET NEW=%s",
                                  "horse battery staple"), THSM_AT_OK);
    assert_null(strstr(traced, "secret"));
    assert_null(strstr(traced, "horse"));
    assert_null(strstr(traced, "battery"));
    assert_null(strstr(traced, "staple"));
    assert_non_null(strstr(traced, "< AT+AUTH PIN=****\n"));
    assert_non_null(strstr(traced, "< AT+PIN_SET OLD=****\n"));
    assert_non_null(strstr(traced, "< AT+PIN_SET NEW=****\n"));
    assert_non_null(strstr(traced, "> OK\n"));
    thsm_at_close(&at);
    fake_stop(&f);
}

/* An imported key's scalar (KEY=) is masked like a PIN; the status words
 * CA_KEY= and SIGNER_KEY= are not. */
static void test_mask_hides_keys(void **state)
{
    (void)state;
    char out[300];
    thsm_at_mask("AT+SIGNER_IMPORT KEY=32f86bb36391c937266bedef510eaa9e", out,
                 sizeof(out));
    assert_string_equal(out, "AT+SIGNER_IMPORT KEY=****");
    thsm_at_mask("OK CA=1 CA_KEY=0123456789ABCDEF SIGNER_KEY=FEDCBA9876543210 "
                 "SIGNER_ORIGIN=imported", out, sizeof(out));
    assert_string_equal(out, "OK CA=1 CA_KEY=0123456789ABCDEF "
                        "SIGNER_KEY=FEDCBA9876543210 SIGNER_ORIGIN=imported");
}

static void test_busy_and_not_a_tty(void **state)
{
    (void)state;
    static const char *const replies[] = {NULL};
    fake f;
    static thsm_at a, b;
    char err[200];
    fake_start(&f, replies);
    assert_int_equal(thsm_at_open(&a, f.slave, err, sizeof(err)), THSM_AT_OK);
    assert_int_equal(thsm_at_open(&b, f.slave, err, sizeof(err)),
                     THSM_AT_ERR_BUSY);
    assert_non_null(strstr(err, "busy"));
    thsm_at_close(&a);
    assert_int_equal(thsm_at_open(&b, f.slave, err, sizeof(err)), THSM_AT_OK);
    thsm_at_close(&b);
    assert_int_equal(thsm_at_open(&b, "/dev/null", err, sizeof(err)),
                     THSM_AT_ERR_OPEN);
    assert_non_null(strstr(err, "not a serial port"));
    assert_int_equal(thsm_at_open(&b, "/nonexistent/tty", err, sizeof(err)),
                     THSM_AT_ERR_OPEN);
    fake_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completion_rules),
        cmocka_unit_test(test_trace_masks_pins),
        cmocka_unit_test(test_mask_hides_keys),
        cmocka_unit_test(test_busy_and_not_a_tty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
