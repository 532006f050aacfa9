/*
 * tinyhsmd's transports against hostile neighbours: a login belongs to the
 * client that made it (socket and pty), fair service of several clients,
 * peer uid checks, stale links, takeover, SIGHUP, and idle CPU.
 */
#define _GNU_SOURCE /* openpty's neighbours, setresuid */
#include <fcntl.h>
#include <pty.h>
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
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/at_client.h"
#include "testutil.h"

#define ROUNDS 100
#define PIN "right-pin-1"
#define SIGN ("AT+SIGNER_SIGN HASH=00112233445566778899AABBCCDDEEFF" \
              "00112233445566778899AABBCCDDEEFF")

typedef struct {
    char dir[512], state[600];
    thsm_test_daemon d;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    thsm_test_tmpdir(f->dir, sizeof(f->dir));
    snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
    assert_int_equal(thsm_test_daemon_start(&f->d, f->state, NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    thsm_test_daemon_kill(&f->d);
    thsm_test_rmtree(f->dir);
    free(f);
    return 0;
}

static void open_at(thsm_at *at, const char *port)
{
    char err[512];
    if (thsm_at_open(at, port, err, sizeof(err)) != THSM_AT_OK)
        fail_msg("open %s: %s", port, err);
}

/* The status line of one request. */
static const char *ask(thsm_at *at, const char *req)
{
    static thsm_at_resp r;
    int rc = thsm_at_cmd(at, req, &r);
    if (rc != THSM_AT_OK)
        fail_msg("%.40s: %s", req, thsm_at_strerror(rc));
    return r.lines[0];
}

static void expect(thsm_at *at, const char *req, const char *want)
{
    const char *got = ask(at, req);
    if (strncmp(got, want, strlen(want)) != 0)
        fail_msg("%s -> '%s', expected '%s...'", req, got, want);
}

/* A provisioned device with a PIN, over the socket. */
static void provision_with_pin(fixture *f)
{
    static thsm_at at;
    open_at(&at, f->d.link);
    expect(&at, "AT+HSM_CA_NEW_CERT C=US O=A CN=CA START=20250101000000 DAYS=9",
           "OK");
    expect(&at, "AT+SIGNER_NEW_KEY ALGO=SECP256R1", "OK");
    expect(&at, "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=A CN=S "
                "START=20250101000000 DAYS=9", "OK");
    expect(&at, "AT+PIN_SET NEW=" PIN, "OK");
    thsm_at_close(&at);
}

/* A process that opens the pty as anyone could: no lock, no TIOCEXCL. */
static void raw_pty(thsm_at *at, const char *pty)
{
    struct termios t;
    memset(at, 0, sizeof(*at));
    at->timeout_ms = 5000;
    at->fd = open(pty, O_RDWR | O_NOCTTY | O_NONBLOCK);
    assert_true(at->fd >= 0);
    tcgetattr(at->fd, &t);
    cfmakeraw(&t);
    tcsetattr(at->fd, TCSANOW, &t);
}

/* A key operation without a login must be refused; counts the others. */
static int intruder_signs(thsm_at *at)
{
    int leaks = strstr(ask(at, "AT+HSM_STATUS?"), "AUTH=1") != NULL;
    return leaks + (strncmp(ask(at, SIGN), "OK ", 3) == 0);
}

/* An idle process opened the pty before the user: whether the user signs
 * on the socket or on the pty, the idle one never gets the login. */
static void test_idle_pty_opener_before_the_user(void **state)
{
    fixture *f = *state;
    static thsm_at spy, user;
    int leaks = 0;
    provision_with_pin(f);
    raw_pty(&spy, f->d.pty);
    for (int i = 0; i < ROUNDS; i++) {
        open_at(&user, f->d.link); /* the socket */
        expect(&user, "AT+AUTH PIN=" PIN, "OK");
        expect(&user, SIGN, "OK ");
        leaks += intruder_signs(&spy);
        thsm_at_close(&user);
        open_at(&user, f->d.pty); /* the pty, shared with the spy */
        expect(&user, "AT+AUTH PIN=" PIN, "ERROR AUTH_REFUSED");
        leaks += intruder_signs(&spy);
        thsm_at_close(&user);
    }
    thsm_at_close(&spy);
    assert_int_equal(leaks, 0);
    /* the refusals spent no try: the right PIN still works at once */
    open_at(&user, f->d.link);
    expect(&user, "AT+AUTH PIN=" PIN, "OK");
    thsm_at_close(&user);
}

/* A process that opens the pty right after the user closed it gets no
 * login, however fast it comes. */
static void test_pty_opener_right_after(void **state)
{
    fixture *f = *state;
    static thsm_at user, next;
    int leaks = 0;
    provision_with_pin(f);
    for (int i = 0; i < ROUNDS; i++) {
        open_at(&user, f->d.pty);
        expect(&user, "AT+AUTH PIN=" PIN, "OK");
        expect(&user, SIGN, "OK ");
        thsm_at_close(&user);
        raw_pty(&next, f->d.pty);
        leaks += intruder_signs(&next);
        thsm_at_close(&next);
    }
    assert_int_equal(leaks, 0);
}

/* Two socket clients at once, one with the PIN and one without: the one
 * without never signs, and neither is told the port is busy. */
static void test_concurrent_socket_clients(void **state)
{
    fixture *f = *state;
    static thsm_at at;
    provision_with_pin(f);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int leaks = 0;
        for (int i = 0; i < ROUNDS; i++) {
            char err[512];
            if (thsm_at_open(&at, f->d.link, err, sizeof(err)) != THSM_AT_OK)
                _exit(100);
            leaks += intruder_signs(&at);
            thsm_at_close(&at);
        }
        _exit(leaks);
    }
    for (int i = 0; i < ROUNDS; i++) {
        open_at(&at, f->d.link);
        expect(&at, "AT+AUTH PIN=" PIN, "OK");
        expect(&at, SIGN, "OK ");
        thsm_at_close(&at);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A client that floods requests and never reads its answers does not
 * starve a polite one: each polite request is answered within a second or
 * so (the daemon gives up on the flooder after 1 s of a full socket). */
static void test_flooding_client_gets_only_its_turn(void **state)
{
    fixture *f = *state;
    static thsm_at flood, polite;
    static char burst[64 * 1024];
    open_at(&flood, f->d.link);
    open_at(&polite, f->d.link);
    for (size_t i = 0; i + 12 <= sizeof(burst); i += 12)
        memcpy(burst + i, "AT+VERSION?\n", 12);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) { /* writes until the daemon stops reading it */
        fcntl(flood.fd, F_SETFL, 0);
        for (int i = 0; i < 64; i++)
            if (write(flood.fd, burst, sizeof(burst)) < 0)
                break;
        _exit(0);
    }
    double worst = 0;
    for (int i = 0; i < 20; i++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        expect(&polite, "AT+STSAFE_READY?", "OK");
        double s = seconds_since(&t0);
        worst = s > worst ? s : worst;
    }
    printf("# slowest of 20 requests beside a flooding client: %.3f s\n", worst);
    assert_true(worst < 2.5);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    thsm_at_close(&flood);
    thsm_at_close(&polite);
}

/* Another uid is refused on the socket unless --allow-uid names it. */
static void test_other_uid_refused_unless_allowed(void **state)
{
    fixture *f = *state;
    if (geteuid() != 0)
        skip(); /* needs a second uid */
    const uid_t nobody = 65534;
    for (int allow = 0; allow < 2; allow++) {
        char uid_arg[16], sock[700];
        snprintf(uid_arg, sizeof(uid_arg), "%u", nobody);
        const char *args[] = {"--allow-uid", uid_arg, NULL};
        thsm_test_daemon_kill(&f->d);
        assert_int_equal(thsm_test_daemon_start(&f->d, f->state,
                                                allow ? args : NULL), 0);
        /* let nobody reach the socket: only the daemon's check stands */
        snprintf(sock, sizeof(sock), "%s.sock", f->d.link);
        char dir[600];
        snprintf(dir, sizeof(dir), "%s", f->d.link);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(chmod(dir, 0755), 0);
        assert_int_equal(chmod(sock, 0666), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            static thsm_at at;
            static thsm_at_resp r;
            char err[512];
            if (setresgid(nobody, nobody, nobody) || setresuid(nobody, nobody, nobody) ||
                thsm_at_open(&at, sock, err, sizeof(err)) != THSM_AT_OK ||
                thsm_at_cmd(&at, "AT", &r) != THSM_AT_OK)
                _exit(2);
            _exit(strncmp(r.lines[0], "ERROR NOT_ALLOWED", 17) == 0 ? 1
                  : strcmp(r.lines[0], "OK") == 0                 ? 0
                                                                  : 3);
        }
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), allow ? 0 : 1);
    }
}

/* A link to a pty that no tinyhsmd serves (say a stale link, whose pts now
 * belongs to another program) gets not a single byte. */
static void test_stale_link_gets_no_bytes(void **state)
{
    fixture *f = *state;
    int master, slave;
    char name[128], link[700], out[4096];
    struct termios raw;
    cfmakeraw(&raw);
    assert_int_equal(openpty(&master, &slave, name, &raw, NULL), 0);
    snprintf(link, sizeof(link), "%s/stale", f->dir);
    assert_int_equal(symlink(name, link), 0);
    assert_int_equal(thsm_test_run(out, sizeof(out), "TINYHSM_PORT=%s %s info",
                                   link, thsm_test_bin("tinyhsm")), 1);
    assert_non_null(strstr(out, "no running tinyhsmd"));
    static thsm_at at;
    char err[512];
    assert_int_equal(thsm_at_open(&at, link, err, sizeof(err)), THSM_AT_ERR_OPEN);
    fcntl(master, F_SETFL, O_NONBLOCK);
    char got[64];
    assert_true(read(master, got, sizeof(got)) < 0); /* nothing was written */
    close(slave);
    close(master);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A second daemon never takes over a link a live one serves (it names the
 * pid); SIGHUP stops a daemon cleanly, removing its link, socket, pid file. */
static void test_takeover_refused_and_sighup_cleans_up(void **state)
{
    fixture *f = *state;
    char out[4096], want[64], path[700], target[256];
    assert_int_equal(thsm_test_run(out, sizeof(out), "%s --state %s/other --link %s",
                                   thsm_test_bin("tinyhsmd"), f->dir, f->d.link), 1);
    snprintf(want, sizeof(want), "pid %ld", (long)f->d.pid);
    if (!strstr(out, want))
        fail_msg("refusal does not name pid %ld: %s", (long)f->d.pid, out);
    ssize_t n = readlink(f->d.link, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, f->d.pty); /* the link is still ours */
    static thsm_at at;
    open_at(&at, f->d.link);
    expect(&at, "AT", "OK");
    thsm_at_close(&at);
    kill(f->d.pid, SIGHUP);
    int status;
    assert_int_equal(waitpid(f->d.pid, &status, 0), f->d.pid);
    f->d.pid = -1;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const char *suffix[] = {"", ".sock", ".pid"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", f->d.link, suffix[i]);
        if (exists(path))
            fail_msg("%s left behind after SIGHUP", path);
    }
}

/* CPU time (utime + stime) of pid, in clock ticks, from /proc. */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    long utime, stime;
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
                            "%*u %ld %ld", &utime, &stime), 2);
    return utime + stime;
}

/* After 10 clients came and went (pty and socket), an idle daemon uses
 * (almost) no CPU. */
static void test_idle_daemon_uses_no_cpu(void **state)
{
    fixture *f = *state;
    static thsm_at at;
    for (int i = 0; i < 10; i++) {
        open_at(&at, i % 2 ? f->d.link : f->d.pty);
        expect(&at, "AT", "OK");
        thsm_at_close(&at);
    }
    usleep(200000);
    long before = cpu_ticks(f->d.pid);
    sleep(5);
    long used = cpu_ticks(f->d.pid) - before;
    double ms = 1000.0 * (double)used / (double)sysconf(_SC_CLK_TCK);
    printf("# idle tinyhsmd after 10 clients: %.0f ms of CPU in 5 s\n", ms);
    assert_true(ms < 50);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_idle_pty_opener_before_the_user),
        T(test_pty_opener_right_after),
        T(test_concurrent_socket_clients),
        T(test_flooding_client_gets_only_its_turn),
        T(test_other_uid_refused_unless_allowed),
        T(test_stale_link_gets_no_bytes),
        T(test_takeover_refused_and_sighup_cleans_up),
        T(test_idle_daemon_uses_no_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
