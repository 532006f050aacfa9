/* testutil.c - helpers shared by the tests (see testutil.h). */
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "testutil: %s: %s\n", what, strerror(errno));
    abort();
}

void thsm_test_tmpdir(char *out, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, cap, "%s/thsm-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(out))
        die("mkdtemp");
}

void thsm_test_rmtree(const char *path)
{
    char cmd[1100];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "testutil: could not remove %s\n", path);
}

const char *thsm_test_bin(const char *name)
{
    static char path[4][1024];
    static int next;
    const char *dir = getenv("THSM_BIN");
    char *p = path[next++ % 4];
    snprintf(p, sizeof(path[0]), "%s/%s", dir ? dir : "build/bin", name);
    return p;
}

/* Reads the daemon's first stdout line within 10 s. */
static int read_first_line(int fd, char *out, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            return -1;
        ssize_t r = read(fd, out + n, 1);
        if (r <= 0)
            return -1;
        if (out[n] == '\n') {
            out[n] = '\0';
            return 0;
        }
        n++;
    }
    return -1;
}

int thsm_test_daemon_start(thsm_test_daemon *d, const char *state_dir,
                           const char *const *extra_args)
{
    return thsm_test_device_start(d, "tinyhsmd", state_dir, extra_args);
}

int thsm_test_device_start(thsm_test_daemon *d, const char *program,
                           const char *state_dir, const char *const *extra_args)
{
    int pipefd[2];
    char tmp[256];
    thsm_test_tmpdir(tmp, sizeof(tmp));
    snprintf(d->state_dir, sizeof(d->state_dir), "%s", state_dir);
    snprintf(d->link, sizeof(d->link), "%s/tty", tmp);
    if (pipe(pipefd) != 0)
        die("pipe");
    const char *argv[16] = {thsm_test_bin(program), "--state", state_dir,
                            "--link", d->link};
    int argc = 5;
    for (int i = 0; extra_args && extra_args[i] && argc < 15; i++)
        argv[argc++] = extra_args[i];
    pid_t parent = getpid();
    d->pid = fork();
    if (d->pid < 0)
        die("fork");
    if (d->pid == 0) {
        /* dies with the test: an orphan holding ctest's output pipe would
         * keep ctest waiting until its timeout */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    int rc = read_first_line(pipefd[0], d->pty, sizeof(d->pty));
    close(pipefd[0]);
    if (rc != 0) {
        waitpid(d->pid, NULL, 0);
        d->pid = -1;
    }
    return rc;
}

int thsm_test_daemon_stop(thsm_test_daemon *d)
{
    int status;
    if (d->pid <= 0)
        return -1;
    kill(d->pid, SIGTERM);
    if (waitpid(d->pid, &status, 0) != d->pid)
        return -1;
    d->pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void thsm_test_daemon_kill(thsm_test_daemon *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    d->pid = -1;
}

int thsm_test_run(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = out ? fread(out, 1, cap - 1, p) : 0;
    if (out)
        out[n] = '\0';
    char sink[4096];
    while (fread(sink, 1, sizeof(sink), p) > 0)
        ;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

unsigned char *thsm_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)size + 1);
    *len = buf ? fread(buf, 1, (size_t)size, f) : 0;
    if (buf)
        buf[*len] = '\0';
    fclose(f);
    return buf;
}

void thsm_test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len)
        die(path);
    fclose(f);
}
