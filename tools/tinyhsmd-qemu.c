/*
 * tinyhsmd-qemu - the TinyHSM firmware in QEMU (mps2-an505), served on a
 * pseudo-terminal exactly as tinyhsmd serves the software device.
 *
 * QEMU's UART0 is wired to two pipes here; this program owns the client's pty
 * and relays bytes both ways, so that it can tell the firmware when the set
 * of openers changed (an EOT byte ends the session, see fw/main.c) and
 * whether more than one process has the port open (SO or SI: no login on a
 * shared port), just as tinyhsmd does. The firmware keeps its flash image, key and random seed
 * in the state directory, which is QEMU's working directory for semihosting.
 */
#define _GNU_SOURCE /* posix_openpt flags, ptsname_r, prctl */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "host/defaults.h"
#include "host/pty.h"
#include "port/posix/huk_link.h"

#define EOT 0x04         /* to the firmware: the client closed the port */
#define SHARED 0x0e      /* to the firmware: more than one opener */
#define SOLE 0x0f        /* to the firmware: at most one opener */
#define CLIENT_CTL 0x7f  /* a client's own EOT, SO or SI, still refused by the core */
#define BANNER "\x02TINYHSM-FW "
#define READY_SECONDS 30
#define HUK_LEN 32
#define SEED_LEN 4096
#define FLASH_SECTOR 8192
#define FLASH_DEFAULT (1024 * 1024) /* two state sectors and the audit log */

typedef struct {
    const char *state, *link, *firmware, *qemu;
    const char *run_dir; /* the default link's private directory, or NULL */
    long flash_size;
    int icount;
    const char *root_key; /* huk.bin's place apart from the state, or NULL */
} options;

typedef struct {
    pid_t qemu;
    int to_fw, from_fw; /* pipes to and from the firmware's UART */
    int master;  /* the client's pty */
    int slave;   /* our own open of it (not counted): to clear TIOCEXCL */
    int opens;   /* inotify on the pty, or -1 */
    int clients; /* open file descriptions of the pty, per inotify */
    int hup;     /* the master reports a hang-up: nobody has it open */
    int draining; /* EOTs sent whose EOT has not come back: drop output */
} relay;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void die_errno(const char *what, const char *path)
{
    fprintf(stderr, "tinyhsmd-qemu: %s %s: %s\n", what, path, strerror(errno));
}

/* ---- the state directory ------------------------------------------------ */

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
    if (fstatat(dir, "flash.img", &st, 0) != 0) {
        uint8_t *erased = malloc((size_t)flash_size);
        if (!erased)
            return -1;
        memset(erased, 0xff, (size_t)flash_size);
        int rc = write_new(dir, "flash.img", erased, (size_t)flash_size);
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

/* Opens and locks DIR (one emulator per device), prepares its files and a
 * fresh random seed. Returns the directory's descriptor, or -1. */
static int prepare_state(const options *o)
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

/* ---- the emulator ------------------------------------------------------- */

/* QEMU's own messages go to DIR/qemu.log, shown when it stops unexpectedly. */
#define QEMU_LOG "qemu.log"

static void exec_qemu(const options *o, int in, int out)
{
    char kernel[PATH_MAX + 1];
    if (!realpath(o->firmware, kernel))
        _exit(127);
    const char *argv[] = {
        o->qemu, "-M", "mps2-an505", "-nodefaults", "-display", "none", "-nic", "none",
        "-chardev", "stdio,id=uart0,signal=off", "-serial", "chardev:uart0",
        "-semihosting-config", "enable=on,target=native", "-kernel", kernel,
        o->icount ? "-icount" : NULL, "shift=0", NULL}; /* NULL ends it early */
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

static int start_qemu(const options *o, relay *r)
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
    r->qemu = fork();
    if (r->qemu == 0) {
        if (getppid() != parent)
            _exit(127);
        exec_qemu(o, in[0], out[1]);
    }
    close(in[0]);
    close(out[1]);
    r->to_fw = in[1];
    r->from_fw = out[0];
    return r->qemu < 0 ? -1 : 0;
}

/* Ends QEMU: SIGTERM, then SIGKILL after two seconds. */
static void stop_qemu(relay *r)
{
    if (r->qemu <= 0)
        return;
    kill(r->qemu, SIGTERM);
    for (int i = 0; i < 200 && waitpid(r->qemu, NULL, WNOHANG) == 0; i++)
        usleep(10000);
    if (kill(r->qemu, SIGKILL) == 0)
        waitpid(r->qemu, NULL, 0);
    r->qemu = 0;
}

/* Copies DIR/qemu.log to stderr: why the emulator stopped. */
static void show_qemu_log(int dir)
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

/* Reads the firmware's start line. 0 when READY; -1 when it refused the
 * state (and says why); -2 when it did not start. */
static int wait_ready(relay *r, const char *state)
{
    char line[256];
    size_t len = 0;
    time_t until = time(NULL) + READY_SECONDS;
    while (len < sizeof(line) - 1 && time(NULL) < until && !stop) {
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
    if (len > b && memcmp(line, BANNER, b) == 0 && strcmp(line + b, "READY") == 0)
        return 0;
    if (len > b + 8 && memcmp(line, BANNER "STORAGE ", b + 8) == 0) {
        fprintf(stderr, "tinyhsmd-qemu: cannot use the state in %s: %s\n"
                "tinyhsmd-qemu: nothing was changed; move the directory away "
                "to start a new device\n", state, line + b + 8);
        return -1;
    }
    fprintf(stderr, "tinyhsmd-qemu: the firmware did not start\n");
    return -2;
}

/* ---- the client's pty --------------------------------------------------- */

/* Our own open of the pty, then the watch on its opens and closes: ours
 * is not counted, and lets us clear TIOCEXCL when a client died holding it. */
static void watch_pty(relay *r, const char *pty)
{
    r->slave = open(pty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    r->opens = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (r->opens >= 0 && inotify_add_watch(r->opens, pty, IN_OPEN | IN_CLOSE) < 0) {
        close(r->opens);
        r->opens = -1;
    }
}

/* Counts the pty's opens and closes; 1 when the set of openers changed. */
static int openers_changed(relay *r)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    int changed = 0;
    while (r->opens >= 0 && (n = read(r->opens, buf, sizeof(buf))) > 0) {
        r->hup = 0;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            if (e->mask & IN_OPEN)
                r->clients++;
            if ((e->mask & IN_CLOSE) && r->clients > 0)
                r->clients--;
            changed = 1;
            p += sizeof(*e) + e->len;
        }
    }
    return changed;
}

/* ---- relaying ----------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd w = {fd, POLLOUT, 0};
            if (poll(&w, 1, 1000) <= 0)
                return -1; /* the reader stopped reading: drop the rest */
        } else {
            return -1;
        }
    }
    return 0;
}

/* Client bytes to the firmware; a client's own control bytes are refused. */
static void from_client(relay *r)
{
    uint8_t buf[4096];
    ssize_t n = read(r->master, buf, sizeof(buf));
    if (n < 0 && errno == EIO)
        r->hup = 1;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == EOT || buf[i] == SHARED || buf[i] == SOLE)
            buf[i] = CLIENT_CTL;
    if (n > 0)
        write_all(r->to_fw, buf, (size_t)n);
}

/* Firmware bytes to the client; after an EOT, answers meant for the former
 * openers are dropped up to the firmware's EOT. 0, or -1 when QEMU ended. */
static int from_firmware(relay *r)
{
    uint8_t buf[4096];
    ssize_t n = read(r->from_fw, buf, sizeof(buf));
    if (n <= 0)
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    size_t start = 0;
    while (r->draining > 0 && start < (size_t)n) {
        uint8_t *eot = memchr(buf + start, EOT, (size_t)n - start);
        if (!eot)
            return 0;
        r->draining--;
        start = (size_t)(eot - buf) + 1;
    }
    if (r->draining == 0 && start < (size_t)n)
        write_all(r->master, buf + start, (size_t)n - start);
    return 0;
}

/* Any change of openers ends the session (as in tinyhsmd) and says whether
 * a login may be granted: only to a sole opener. When the last one left,
 * a client killed while holding TIOCEXCL no longer locks out the next. */
static void openers_now(relay *r)
{
    uint8_t ctl[2] = {EOT, r->clients > 1 ? SHARED : SOLE};
    if (write_all(r->to_fw, ctl, sizeof(ctl)) == 0)
        r->draining++;
    if (r->clients == 0 && r->slave >= 0) {
        ioctl(r->slave, TIOCNXCL);
        tcflush(r->slave, TCIFLUSH); /* nothing for the next client to read */
    }
}

/* Relays until a signal or QEMU's end. 0 after a signal, 1 otherwise. */
static int serve(relay *r)
{
    while (!stop) {
        if (openers_changed(r))
            openers_now(r);
        struct pollfd p[3] = {{r->from_fw, POLLIN, 0}, {r->opens, POLLIN, 0},
                              {r->master, POLLIN, 0}};
        int watch_master = !r->hup;
        int rc = poll(p, watch_master ? 3 : 2, r->opens < 0 ? 20 : 1000);
        if (rc < 0 && errno != EINTR)
            return 1;
        if (r->opens < 0)
            r->hup = 0; /* without inotify, look at the master again soon */
        if (rc <= 0)
            continue;
        if ((p[0].revents & (POLLIN | POLLHUP)) && from_firmware(r) != 0) {
            fprintf(stderr, "tinyhsmd-qemu: the emulator stopped\n");
            return 1;
        }
        if (p[1].revents & POLLIN)
            continue; /* count opens and closes before reading more */
        if (watch_master && (p[2].revents & POLLIN))
            from_client(r);
        else if (watch_master && (p[2].revents & POLLHUP))
            r->hup = 1;
    }
    return 0;
}

/* Where the link and its pid file go, as tinyhsmd checks it: the default
 * directory is created private and checked; any other must be ours or
 * root's. A link path that is not a symlink is never replaced. */
static int check_place(const options *o)
{
    char err[600], dir[4096];
    struct stat st;
    if (o->run_dir && mkdir(o->run_dir, 0700) != 0 && errno != EEXIST) {
        die_errno("cannot create", o->run_dir);
        return -1;
    }
    thsm_dir_of(o->link, dir, sizeof(dir));
    int bad = o->run_dir
                  ? thsm_check_private_dir(o->run_dir, geteuid(), err, sizeof(err))
                  : thsm_check_owner("directory", dir, geteuid(), err, sizeof(err));
    if (bad) {
        fprintf(stderr, "tinyhsmd-qemu: %s\n", err);
        return -1;
    }
    if (lstat(o->link, &st) == 0 && !S_ISLNK(st.st_mode)) {
        fprintf(stderr, "tinyhsmd-qemu: %s exists and is not a symlink; "
                        "not replacing it\n", o->link);
        return -1;
    }
    return 0;
}

/* The firmware behind the pty until a signal or QEMU's end; 0 after a
 * signal, 1 otherwise. */
static int serve_firmware(const options *o, relay *r, int dir, const char *pty)
{
    int rc = 1;
    if (start_qemu(o, r) != 0) {
        die_errno("cannot start", o->qemu);
    } else if ((rc = wait_ready(r, o->state)) != 0) {
        if (rc == -2)
            show_qemu_log(dir);
        rc = 1;
    } else if ((rc = thsm_make_link("tinyhsmd-qemu", o->link, pty)) == 0) {
        watch_pty(r, pty);
        printf("%s\n", pty);
        fflush(stdout);
        fprintf(stderr, "tinyhsmd-qemu: serving on %s (link %s), state in %s\n",
                pty, o->link, o->state);
        rc = serve(r);
        if (rc != 0)
            show_qemu_log(dir);
        thsm_remove_link(o->link, pty);
    }
    return rc != 0;
}

static void close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Everything that can refuse (the link's place, its pid file, the state
 * directory) is checked before QEMU starts. */
static int run(const options *o)
{
    relay r = {.to_fw = -1, .from_fw = -1, .master = -1, .slave = -1, .opens = -1};
    char pty[256], err[4400];
    int rc = 1, dir = -1, pid_fd = -1;
    if (check_place(o) != 0)
        return 1;
    if ((r.master = thsm_open_pty(pty, sizeof(pty))) < 0)
        die_errno("cannot open a pseudo-terminal", "");
    else if ((pid_fd = thsm_pid_file_take(o->link, pty, err, sizeof(err))) < 0)
        fprintf(stderr, "tinyhsmd-qemu: %s\n", err); /* tinyhsm needs it */
    else if ((dir = prepare_state(o)) >= 0)
        rc = serve_firmware(o, &r, dir, pty);
    thsm_pid_file_drop(o->link, pid_fd);
    stop_qemu(&r);
    close_fd(r.opens);
    close_fd(r.slave);
    close_fd(r.master);
    close_fd(r.to_fw);
    close_fd(r.from_fw);
    close_fd(dir);
    return rc;
}

/* ---- options ------------------------------------------------------------ */

static void usage(FILE *out, const options *o)
{
    fprintf(out,
            "Usage: tinyhsmd-qemu [--state DIR] [--link PATH] [--firmware ELF]\n"
            "                     [--qemu PROGRAM] [--flash-size BYTES] [--icount]\n\n"
            "Runs the TinyHSM firmware in QEMU (mps2-an505, Cortex-M33) and\n"
            "serves it on a new pseudo-terminal, whose path it prints as the\n"
            "first line on stdout, exactly as tinyhsmd does.\n\n"
            "  --state DIR        the device's flash image, key and seed (now: %s)\n"
            "                     default tinyhsmd's ($TINYHSM_STATE, ...) with\n"
            "                     -qemu appended; never a directory of tinyhsmd's\n"
            "  --link PATH        symlink to the pty (now: %s)\n"
            "                     default $TINYHSM_PORT, else tinyhsmd's default\n"
            "  --firmware ELF     now: %s\n"
            "  --qemu PROGRAM     now: %s\n"
            "  --flash-size BYTES size of a new flash image (default %d; at least\n"
            "                     3 sectors of %d bytes); the log takes all but 2\n"
            "  --icount           one instruction per virtual nanosecond (bench)\n"
            "  --root-key FILE    keep the root key (32 bytes) in FILE, DIR/huk.bin\n"
            "                     a link to it; a huk.bin file in DIR is moved there\n"
            "SIGINT, SIGTERM or SIGHUP stop it cleanly.\n",
            o->state, o->link, o->firmware, o->qemu, FLASH_DEFAULT, FLASH_SECTOR);
}

/* The firmware of a build tree (<bin>/../fw) or of an installation
 * (<bin>/../share/tinyhsm); the first that exists, else the first. */
static void default_firmware(char *buf, size_t cap)
{
    static const char *const where[] = {"fw", "share/tinyhsm"};
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    for (int i = 1; i >= 0; i--) {
        snprintf(buf, cap, "%s/../%s/tinyhsm-fw.elf", self, where[i]);
        if (i == 0 || access(buf, R_OK) == 0)
            return;
    }
}

static int parse(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},
        {"link", required_argument, NULL, 'l'},
        {"firmware", required_argument, NULL, 'f'},
        {"qemu", required_argument, NULL, 'q'},
        {"flash-size", required_argument, NULL, 'z'},
        {"icount", no_argument, NULL, 'i'},
        {"root-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': o->state = optarg; break;
        case 'l': o->link = optarg; o->run_dir = NULL; break;
        case 'f': o->firmware = optarg; break;
        case 'q': o->qemu = optarg; break;
        case 'i': o->icount = 1; break;
        case 'k': o->root_key = optarg; break;
        case 'z':
            o->flash_size = strtol(optarg, &end, 10);
            if (*end || o->flash_size < 3 * FLASH_SECTOR ||
                o->flash_size > (64L << 20) || o->flash_size % FLASH_SECTOR) {
                fprintf(stderr, "tinyhsmd-qemu: --flash-size takes a multiple "
                        "of %d from %d to 64 MiB\n", FLASH_SECTOR, 3 * FLASH_SECTOR);
                return 2;
            }
            break;
        case 'h': usage(stdout, o); return 0;
        case 'V': printf("tinyhsmd-qemu %s\n", THSM_VERSION); return 0;
        default: usage(stderr, o); return 2;
        }
    }
    if (optind < argc || !*o->state || !*o->link) {
        fprintf(stderr, optind < argc ? "tinyhsmd-qemu: unexpected argument\n"
                        : !*o->state ? "tinyhsmd-qemu: no state directory; use --state\n"
                                     : "tinyhsmd-qemu: no link path; use --link\n");
        return 2;
    }
    if (access(o->firmware, R_OK) != 0) {
        fprintf(stderr, "tinyhsmd-qemu: no firmware at %s; run `make firmware`\n",
                o->firmware);
        return 1;
    }
    return -1;
}

int main(int argc, char **argv)
{
    static char state[4096], link[4096], firmware[PATH_MAX + 32];
    static char run_dir[4096];
    /* never tinyhsmd's directory: the two devices keep different files */
    if (thsm_default_state_dir(state, sizeof(state)) == 0)
        strncat(state, "-qemu", sizeof(state) - strlen(state) - 1);
    int is_default;
    thsm_default_port(link, sizeof(link), &is_default);
    if (is_default)
        thsm_default_run_dir(run_dir, sizeof(run_dir));
    default_firmware(firmware, sizeof(firmware));
    options o = {state, link, firmware, "qemu-system-arm", is_default ? run_dir : NULL,
                 FLASH_DEFAULT, 0, NULL};
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* the terminal closed: leave nothing behind */
    signal(SIGPIPE, SIG_IGN);
    return run(&o);
}
