/*
 * tinyhsmd's transports against hostile neighbours: a login belongs to the
 * client that made it (socket and pty), fair service of several clients,
 * peer uid checks, stale links, takeover, SIGHUP, and idle CPU.
 */
#define _GNU_SOURCE /* openpty's neighbours, setresuid */
#include <errno.h>
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
#include <sys/ioctl.h>
#include <sys/socket.h>
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
 * starve a polite one: the flooder is not served while its last answer
 * waits to be taken, and is closed after 5 s of that. A starved client
 * would wait those 5 s: the bound is below them, far above the few ms a
 * request takes even on a loaded machine. */
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
    assert_true(worst < 4.5);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    thsm_at_close(&flood);
    thsm_at_close(&polite);
}

/* Time for one "AT" from a fresh socket client, or a failure. */
static double victim_seconds(const char *link, int timeout_ms)
{
    static thsm_at at;
    static thsm_at_resp r;
    struct timespec t0;
    char err[512];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (thsm_at_open(&at, link, err, sizeof(err)) != THSM_AT_OK)
        fail_msg("victim cannot open %s: %s", link, err);
    at.timeout_ms = timeout_ms;
    int rc = thsm_at_cmd(&at, "AT+STSAFE_READY?", &r);
    double s = seconds_since(&t0);
    thsm_at_close(&at);
    if (rc != THSM_AT_OK || !r.ok)
        fail_msg("victim not served within %d ms", timeout_ms);
    return s;
}

/* 16 idle connections (every slot) do not lock a new client out: the one
 * idle the longest gives up its slot. Locked out means never served: the
 * 20 s bound is a margin for a loaded machine, not a latency target. */
static void test_idle_connections_do_not_lock_out(void **state)
{
    fixture *f = *state;
    static thsm_at idle[16];
    for (int i = 0; i < 16; i++)
        open_at(&idle[i], f->d.link);
    for (int i = 0; i < 3; i++) {
        double s = victim_seconds(f->d.link, 20000);
        printf("# new client beside 16 idle connections served in %.3f s\n", s);
    }
    for (int i = 0; i < 16; i++)
        thsm_at_close(&idle[i]);
}

/* Writes requests to every fd, never reading, until killed. */
static void flood(const int *fds, int n, const char *line)
{
    static char burst[4096];
    size_t len = strlen(line), used = 0;
    while (used + len <= sizeof(burst)) {
        memcpy(burst + used, line, len);
        used += len;
    }
    for (;;) {
        for (int i = 0; i < n; i++)
            (void)!send(fds[i], burst, used, MSG_NOSIGNAL | MSG_DONTWAIT);
        usleep(1000);
    }
}

/* 15 clients that send many AT+HSM_CA_CERT? and never read the answers
 * do not stall the daemon: a 16th is served every time (within 20 s, a
 * margin for a loaded machine; a stalled daemon serves it never). */
static void test_non_reading_flooders_do_not_stall(void **state)
{
    fixture *f = *state;
    static thsm_at fl[15];
    int fds[15];
    provision_with_pin(f);
    for (int i = 0; i < 15; i++) {
        open_at(&fl[i], f->d.link);
        fds[i] = fl[i].fd;
    }
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        flood(fds, 15, "AT+HSM_CA_CERT?\n");
    sleep(1); /* their socket buffers fill up */
    double worst = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int n = 0;
    for (; n < 300 && seconds_since(&t0) < 3; n++) {
        double s = victim_seconds(f->d.link, 20000);
        worst = s > worst ? s : worst;
    }
    printf("# slowest of %d new clients beside 15 non-reading "
           "flooders: %.3f s\n", n, worst);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    for (int i = 0; i < 15; i++)
        thsm_at_close(&fl[i]);
}

/* 16 clients that trickle an unfinished line (a byte a second) hold no
 * slot for ever: a new client is served once the 5 s stall limit closes
 * one (60 s: a margin for a loaded machine; held for ever, it never is). */
static void test_slow_lines_are_closed(void **state)
{
    fixture *f = *state;
    static thsm_at slow[16];
    int fds[16];
    for (int i = 0; i < 16; i++) {
        open_at(&slow[i], f->d.link);
        fds[i] = slow[i].fd;
    }
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        for (;;) {
            for (int i = 0; i < 16; i++)
                (void)!send(fds[i], "A", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            sleep(1);
        }
    }
    usleep(300000);
    double s = victim_seconds(f->d.link, 60000);
    printf("# new client beside 16 slow lines served in %.3f s\n", s);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    for (int i = 0; i < 16; i++)
        thsm_at_close(&slow[i]);
}

/* Requests from uid's child, on one connection: 0 when all answered OK,
 * 1 on ERROR NOT_ALLOWED, 2 when it could not connect, 3 for another
 * answer. */
static int request_as(uid_t uid, const char *link, const char *const *req)
{
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        static thsm_at at;
        static thsm_at_resp r;
        char err[512];
        if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid) ||
            thsm_at_open(&at, link, err, sizeof(err)) != THSM_AT_OK) {
            fprintf(stderr, "# uid %u: %s\n", (unsigned)uid, err);
            _exit(2);
        }
        for (; *req; req++) {
            if (thsm_at_cmd(&at, *req, &r) != THSM_AT_OK)
                _exit(2);
            if (!r.ok)
                _exit(strncmp(r.lines[0], "ERROR NOT_ALLOWED", 17) ? 3 : 1);
        }
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* With --allow-uid, that uid (a real second user) signs over the socket,
 * through tinyhsm's own checks; a third user is refused with NOT_ALLOWED.
 * The private default directory is refused for --allow-uid. */
static void test_other_uid_refused_unless_allowed(void **state)
{
    fixture *f = *state;
    if (geteuid() != 0)
        skip(); /* needs real second and third users */
    char ua[32], ub[32], cmd[200], dir[700], link[720], arg[16], out[4096];
    snprintf(ua, sizeof(ua), "thsma%ld", (long)getpid() % 100000);
    snprintf(ub, sizeof(ub), "thsmb%ld", (long)getpid() % 100000);
    snprintf(cmd, sizeof(cmd), "useradd -M -N %s && useradd -M -N %s", ua, ub);
    assert_int_equal(system(cmd), 0);
    char idcmd[100];
    snprintf(idcmd, sizeof(idcmd), "id -u %s", ua);
    FILE *p = popen(idcmd, "r");
    unsigned a = 0, b = 0;
    assert_true(p && fscanf(p, "%u", &a) == 1);
    pclose(p);
    snprintf(idcmd, sizeof(idcmd), "id -u %s", ub);
    p = popen(idcmd, "r");
    assert_true(p && fscanf(p, "%u", &b) == 1);
    pclose(p);
    provision_with_pin(f);
    thsm_test_daemon_kill(&f->d);
    snprintf(dir, sizeof(dir), "%s/shared", f->dir);
    snprintf(link, sizeof(link), "%s/tty", dir);
    snprintf(arg, sizeof(arg), "%u", a);
    assert_int_equal(mkdir(dir, 0700), 0);
    int refused = thsm_test_run(out, sizeof(out), "timeout 50 %s --state %s "
                                "--link %s --allow-uid %s",
                                thsm_test_bin("tinyhsmd"), f->state, link, arg);
    int said = strstr(out, "cannot enter") != NULL;
    assert_int_equal(chmod(dir, 0711), 0);
    assert_int_equal(chmod(f->dir, 0711), 0);
    const char *args[] = {"--link", link, "--allow-uid", arg, NULL};
    const char *signs[] = {"AT+AUTH PIN=" PIN, SIGN, NULL};
    const char *status[] = {"AT+HSM_STATUS?", NULL};
    int up = thsm_test_daemon_start(&f->d, f->state, args);
    int ra = up ? -1 : request_as(a, link, signs);
    int rb = up ? -1 : request_as(b, link, status);
    snprintf(cmd, sizeof(cmd), "userdel %s; userdel %s", ua, ub);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(refused, 1); /* a directory others cannot enter */
    assert_true(said);
    assert_int_equal(up, 0);
    assert_int_equal(ra, 0); /* the allowed user logs in and signs */
    assert_int_equal(rb, 1); /* the other one is refused */
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
    snprintf(path, sizeof(path), "%s/other", f->dir);
    if (exists(path)) /* nothing is created before the link is ours */
        fail_msg("refused daemon created its state directory %s", path);
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

/* A client killed while it holds TIOCEXCL on the pty does not keep
 * others out: the next (non-root) opener gets in. */
static void test_killed_exclusive_client_releases_the_pty(void **state)
{
    fixture *f = *state;
    const uid_t nobody = 65534;
    int sync[2];
    if (geteuid() == 0) /* root ignores TIOCEXCL: open as nobody */
        assert_int_equal(chown(f->d.pty, nobody, (gid_t)-1), 0);
    assert_int_equal(pipe(sync), 0);
    pid_t holder = fork();
    assert_true(holder >= 0);
    if (holder == 0) {
        int fd = open(f->d.pty, O_RDWR | O_NOCTTY);
        if (fd >= 0 && ioctl(fd, TIOCEXCL) == 0)
            (void)!write(sync[1], "x", 1);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(sync[0], &c, 1), 1);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    pid_t opener = fork();
    assert_true(opener >= 0);
    if (opener == 0) {
        if (geteuid() == 0 && (setresgid(nobody, nobody, nobody) ||
                               setresuid(nobody, nobody, nobody)))
            _exit(3);
        for (int i = 0; i < 40; i++) { /* the daemon sees the close at once */
            int fd = open(f->d.pty, O_RDWR | O_NOCTTY);
            if (fd >= 0)
                _exit(0);
            if (errno != EBUSY)
                _exit(2);
            usleep(50000);
        }
        _exit(1);
    }
    int status;
    assert_int_equal(waitpid(opener, &status, 0), opener);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0); /* 1: still EBUSY after 2 s */
}

/* After tinyhsmd was SIGKILLed, tinyhsm says the link is stale and whose
 * it was, not just "No such file or directory". */
static void test_stale_link_after_kill_is_named(void **state)
{
    fixture *f = *state;
    char out[4096], want[800];
    struct stat st;
    pid_t pid = f->d.pid;
    thsm_test_daemon_kill(&f->d);
    assert_int_equal(thsm_test_run(out, sizeof(out), "%s -p %s info",
                                   thsm_test_bin("tinyhsm"), f->d.link), 1);
    if (stat(f->d.pty, &st) == 0) {
        printf("# %s was reused by another program; message: %s\n", f->d.pty, out);
        return;
    }
    snprintf(want, sizeof(want), "stale link: the tinyhsmd that served %s "
             "(pid %ld) is not running; start tinyhsmd", f->d.link, (long)pid);
    if (!strstr(out, want))
        fail_msg("expected '%s', got: %s", want, out);
}

/* A pid file that is a hard link to another file is refused, and that
 * file is left as it was. */
static void test_pid_file_hard_link_refused(void **state)
{
    fixture *f = *state;
    char victim[700], pid[740], lk[720], out[4096], got[64] = "";
    snprintf(victim, sizeof(victim), "%s/precious", f->dir);
    snprintf(lk, sizeof(lk), "%s/l2", f->dir);
    snprintf(pid, sizeof(pid), "%s.pid", lk);
    FILE *fp = fopen(victim, "w");
    assert_non_null(fp);
    fputs("keep me\n", fp);
    fclose(fp);
    assert_int_equal(link(victim, pid), 0);
    assert_int_equal(thsm_test_run(out, sizeof(out), "timeout 50 %s --state "
                                   "%s/s2 --link %s", thsm_test_bin("tinyhsmd"),
                                   f->dir, lk), 1);
    assert_non_null(strstr(out, "hard link"));
    fp = fopen(victim, "r");
    assert_non_null(fp);
    assert_non_null(fgets(got, sizeof(got), fp));
    fclose(fp);
    assert_string_equal(got, "keep me\n");
}

/* A squatter's directory at the old predictable L.<pid>.tmp does not stop
 * the daemon from making its link. */
static void test_link_temp_name_cannot_be_squatted(void **state)
{
    fixture *f = *state;
    char link[700], squat[760], state2[700];
    snprintf(link, sizeof(link), "%s/l3", f->dir);
    snprintf(state2, sizeof(state2), "%s/s3", f->dir);
    pid_t d = fork();
    assert_true(d >= 0);
    if (d == 0) { /* same pid after exec: the squat is where it would look */
        snprintf(squat, sizeof(squat), "%s.%ld.tmp", link, (long)getpid());
        if (mkdir(squat, 0700) != 0)
            _exit(126);
        execl(thsm_test_bin("tinyhsmd"), "tinyhsmd", "--state", state2,
              "--link", link, (char *)NULL);
        _exit(127);
    }
    int up = 0, status;
    for (int i = 0; i < 100 && !up; i++) {
        struct stat st;
        up = lstat(link, &st) == 0;
        if (!up && waitpid(d, &status, WNOHANG) == d)
            fail_msg("tinyhsmd exited (%d) instead of making its link",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        usleep(50000);
    }
    kill(d, SIGTERM);
    assert_int_equal(waitpid(d, &status, 0), d);
    assert_true(up);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
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
 * (almost) no CPU: under 10% of a core (a loop polling would use all of it;
 * an idle daemon uses 0-10 ms, and load does not add to that). */
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
    assert_true(ms < 500);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_idle_pty_opener_before_the_user),
        T(test_pty_opener_right_after),
        T(test_concurrent_socket_clients),
        T(test_flooding_client_gets_only_its_turn),
        T(test_idle_connections_do_not_lock_out),
        T(test_non_reading_flooders_do_not_stall),
        T(test_slow_lines_are_closed),
        T(test_other_uid_refused_unless_allowed),
        T(test_stale_link_gets_no_bytes),
        T(test_takeover_refused_and_sighup_cleans_up),
        T(test_killed_exclusive_client_releases_the_pty),
        T(test_stale_link_after_kill_is_named),
        T(test_pid_file_hard_link_refused),
        T(test_link_temp_name_cannot_be_squatted),
        T(test_idle_daemon_uses_no_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
