/* qemu.c - the emulator behind the relay (see qemu.h). */
#define _GNU_SOURCE /* pipe2, prctl, explicit_bzero */
#include "daemon/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "port/posix/huk_link.h"
#include "port/qemu/layout.h"
#include "proto/link.h"

#define READY_SECONDS 30
#define HUK_LEN 32
#define SEED_LEN 4096
#define BANNER "\x02" THSM_LINK_BANNER

static void die_errno(const char *what, const char *path)
{
    fprintf(stderr, "tinyhsmd-qemu: %s %s: %s\n", what, path, strerror(errno));
}

/* Writes a new file atomically: temporary name, fsync, rename. */
static int write_new(int dir, const char *name, const void *data, size_t len)
{
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", name, (long)getpid());
    int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    ok = ok && renameat(dir, tmp, dir, name) == 0 && fsync(dir) == 0;
    if (!ok)
        unlinkat(dir, tmp, 0);
    return ok ? 0 : -1;
}

static int random_bytes(uint8_t *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0 && errno != EINTR)
            return -1;
        got += n > 0 ? (size_t)n : 0;
    }
    return 0;
}

/* Creates what a new device has (erased flash, its key), once. */
static int create_missing(int dir, long flash_size)
{
    struct stat st;
    if (fstatat(dir, "huk.bin", &st, 0) != 0) {
        uint8_t huk[HUK_LEN];
        int rc = random_bytes(huk, sizeof(huk)) ? -1
                 : write_new(dir, "huk.bin", huk, sizeof(huk));
        explicit_bzero(huk, sizeof(huk));
        if (rc)
            return -1;
    }
    if (fstatat(dir, FLASH_FILE, &st, 0) != 0) {
        uint8_t *erased = malloc((size_t)flash_size);
        if (!erased)
            return -1;
        memset(erased, 0xff, (size_t)flash_size);
        int rc = write_new(dir, FLASH_FILE, erased, (size_t)flash_size);
        free(erased);
        return rc;
    }
    return 0;
}

/* mkdir -p, mode 0700 for what it creates. */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* tinyhsmd's files: the two devices never share a directory. */
static int holds_tinyhsmd_state(int dir)
{
    struct stat st;
    return fstatat(dir, "state.bin", &st, AT_SYMLINK_NOFOLLOW) == 0 ||
           fstatat(dir, "device.key", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int thsm_emu_prepare_state(const thsm_relay_cfg *o)
{
    uint8_t seed[SEED_LEN];
    char err[1024];
    if (make_dirs(o->state) != 0) {
        die_errno("cannot create", o->state);
        return -1;
    }
    int dir = open(o->state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        die_errno("cannot open", o->state);
        return -1;
    }
    if (flock(dir, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "tinyhsmd-qemu: %s is in use by another tinyhsmd-qemu\n",
                o->state);
    } else if (holds_tinyhsmd_state(dir)) {
        fprintf(stderr, "tinyhsmd-qemu: %s holds a tinyhsmd state (state.bin or "
                "device.key); not using it: give tinyhsmd-qemu a directory of "
                "its own (--state)\n", o->state);
    } else if (o->root_key && thsm_huk_link(dir, o->root_key, "tinyhsmd-qemu",
                                            err, sizeof(err)) != 0) {
        fprintf(stderr, "tinyhsmd-qemu: %s\n", err);
    } else if (create_missing(dir, o->flash_size) != 0 ||
               random_bytes(seed, sizeof(seed)) != 0 ||
               write_new(dir, "seed.bin", seed, sizeof(seed)) != 0) {
        die_errno("cannot prepare the device files in", o->state);
    } else {
        explicit_bzero(seed, sizeof(seed));
        return dir;
    }
    close(dir);
    return -1;
}

/* QEMU's own messages go to DIR/qemu.log, shown when it stops unexpectedly. */
#define QEMU_LOG "qemu.log"

static void exec_qemu(const thsm_relay_cfg *o, int in, int out)
{
    char kernel[PATH_MAX + 1];
    if (!realpath(o->firmware, kernel))
        _exit(127);
    char semi[80] = "enable=on,target=native";
    const char *argv[24] = {
        o->qemu, "-M", "mps2-an505", "-nodefaults", "-display", "none", "-nic", "none",
        "-chardev", "stdio,id=uart0,signal=off", "-serial", "chardev:uart0",
        "-semihosting-config", semi, "-kernel", kernel};
    size_t n = 0;
    while (argv[n])
        n++;
    if (o->icount) {
        argv[n++] = "-icount";
        argv[n++] = "shift=0";
    }
    if (o->idle_logout) /* the firmware's command line, by semihosting */
        snprintf(semi + strlen(semi), sizeof(semi) - strlen(semi),
                 ",arg=idle_logout=%u", o->idle_logout);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive this program */
    setpgid(0, 0); /* the terminal's signals are ours: we stop QEMU */
    if (chdir(o->state) != 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
        _exit(127);
    int log = open(QEMU_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log >= 0)
        dup2(log, 2);
    execvp(o->qemu, (char *const *)argv);
    fprintf(stderr, "tinyhsmd-qemu: cannot run %s: %s\n", o->qemu, strerror(errno));
    _exit(127);
}

int thsm_emu_start(const thsm_relay_cfg *o, thsm_emu *r)
{
    /* Pipes, not a socket: QEMU's stdio chardev reads nothing from a socket. */
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid_t parent = getpid();
    r->pid = fork();
    if (r->pid == 0) {
        if (getppid() != parent)
            _exit(127);
        exec_qemu(o, in[0], out[1]);
    }
    close(in[0]);
    close(out[1]);
    r->to_fw = in[1];
    r->from_fw = out[0];
    return r->pid < 0 ? -1 : 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void thsm_emu_stop(thsm_emu *r)
{
    close_fd(&r->to_fw);
    close_fd(&r->from_fw);
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGTERM);
    for (int i = 0; i < 200 && waitpid(r->pid, NULL, WNOHANG) == 0; i++)
        usleep(10000);
    if (kill(r->pid, SIGKILL) == 0)
        waitpid(r->pid, NULL, 0);
    r->pid = 0;
}

void thsm_emu_show_log(int dir)
{
    char buf[4096];
    int fd = openat(dir, QEMU_LOG, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
    if (n > 0) {
        fprintf(stderr, "tinyhsmd-qemu: %s says:\n", QEMU_LOG);
        fwrite(buf, 1, (size_t)n, stderr);
    }
    if (fd >= 0)
        close(fd);
}

int thsm_emu_wait_ready(thsm_emu *r, const char *state,
                        volatile sig_atomic_t *stop)
{
    char line[256];
    size_t len = 0;
    time_t until = time(NULL) + READY_SECONDS;
    while (len < sizeof(line) - 1 && time(NULL) < until && !*stop) {
        struct pollfd p = {r->from_fw, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(r->from_fw, line + len, 1);
        if (n <= 0)
            break;
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    size_t b = strlen(BANNER);
    if (len > b && memcmp(line, BANNER, b) == 0 && strcmp(line + b, THSM_LINK_READY) == 0)
        return 0;
    size_t st = strlen(THSM_LINK_STORAGE " ");
    if (len > b + st && memcmp(line, BANNER THSM_LINK_STORAGE " ", b + st) == 0) {
        /* a newer firmware's state: the reason names the release it needs */
        bool newer = strstr(line + b + st, " or newer") != NULL;
        fprintf(stderr, "tinyhsmd-qemu: cannot use the state in %s: %s\n"
                "tinyhsmd-qemu: nothing was changed%s\n", state, line + b + st,
                newer ? "" : "; move the directory away to start a new device");
        return -1;
    }
    fprintf(stderr, "tinyhsmd-qemu: the firmware did not start\n");
    return -2;
}

