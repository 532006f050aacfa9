/* atomic_file.c - output files written whole or not at all (image.h,
 * thsm_atomic_*), on POSIX: a temporary in the directory, renamed over. */
#define _GNU_SOURCE /* sync_file_range */
#include "host/image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int thsm_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The directory of path, and its last component. */
static void split_path(const char *path, char *dir, size_t cap,
                       const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, cap, ".");
    else if (slash == path)
        snprintf(dir, cap, "/");
    else
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

/* Temporaries that a SIGINT, SIGTERM or SIGHUP must remove. A signal
 * handler finds its work only through a global: this table is the host
 * library's one writable global (tests/host/check_host.py allows it alone).
 * Its entries are lock-free atomics, so threads signing at once and the
 * handler never see a torn entry; an entry is set only once the file's
 * directory and temporary name are. */
#define MAX_TEMPS 8
static _Atomic(const thsm_atomic_file *) temps[MAX_TEMPS];

static void remove_temps(int sig)
{
    static const char msg[] = "tinyhsm: interrupted; no output file was "
                              "replaced\n";
    int any = 0;
    for (int i = 0; i < MAX_TEMPS; i++) {
        const thsm_atomic_file *t = atomic_load(&temps[i]);
        if (t)
            any |= unlinkat(t->dir, t->tmp, 0) == 0;
    }
    if (any && write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        any = 0; /* nothing more to do: we are dying */
    signal(sig, SIG_DFL);
    raise(sig);
}

void thsm_atomic_cleanup_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = remove_temps;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        /* a signal ignored by whoever started us (nohup, a background job
         * of a script) stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
}

static void block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

/* Sets (on) or clears the entry of f. */
static void track_temp(const thsm_atomic_file *f, bool on)
{
    for (int i = 0; i < MAX_TEMPS; i++) {
        const thsm_atomic_file *want = on ? NULL : f;
        if (atomic_compare_exchange_strong(&temps[i], &want, on ? f : NULL))
            return;
    }
}

/* A new temporary NAME.tmp.XXXXXX in f->dir, as mkstemp makes one but
 * relative to the directory held. Created with mode (the umask applies). */
static int create_temp(thsm_atomic_file *f, mode_t mode)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                "QRSTUVWXYZ0123456789";
    for (int tries = 0; tries < 100; tries++) {
        unsigned char rnd[6];
        char suffix[7];
        if (getentropy(rnd, sizeof(rnd)) != 0)
            break;
        for (size_t i = 0; i < sizeof(rnd); i++)
            suffix[i] = chars[rnd[i] % (sizeof(chars) - 1)];
        suffix[6] = '\0';
        int n = snprintf(f->tmp, sizeof(f->tmp), "%s.tmp.%s", f->name, suffix);
        if (n < 0 || (size_t)n >= sizeof(f->tmp)) {
            errno = ENAMETOOLONG;
            break;
        }
        f->fd = openat(f->dir, f->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
                                           O_CLOEXEC, mode);
        if (f->fd >= 0)
            return f->fd;
        if (errno != EEXIST)
            break;
    }
    f->tmp[0] = '\0'; /* not ours: abort must not remove it */
    return -1;
}

/* Never set-user/group-ID, sticky or writable by others: a file another
 * user planted (06777) must not make our output setuid. */
#define MODE_MASK 0775

/* The mode of the file about to be replaced when it is ours (another
 * user's mode is none of our business, even for root's output). 0, or -1. */
static int keep_mode(const thsm_atomic_file *f)
{
    struct stat st;
    if (fstatat(f->dir, f->name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode) || st.st_uid != geteuid())
        return 0;
    return fchmod(f->fd, st.st_mode & MODE_MASK);
}

int thsm_atomic_begin_at(thsm_atomic_file *f, int dir, const char *name,
                         const char *path, mode_t mode, char *err, size_t cap)
{
    sigset_t old;
    f->fd = -1;
    f->tmp[0] = '\0';
    snprintf(f->path, sizeof(f->path), "%s", path);
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->dir = fcntl(dir, F_DUPFD_CLOEXEC, 0);
    if (f->dir < 0 || strlen(name) >= sizeof(f->name)) {
        snprintf(err, cap, "cannot write %s: %s", path,
                 strerror(f->dir < 0 ? errno : ENAMETOOLONG));
        thsm_atomic_abort(f);
        return -1;
    }
    block_signals(&old);
    if (create_temp(f, mode & MODE_MASK) >= 0)
        track_temp(f, true);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (f->fd < 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        thsm_atomic_abort(f);
        return -1;
    }
    return 0;
}

int thsm_atomic_begin(thsm_atomic_file *f, const char *path, mode_t mode,
                      char *err, size_t cap)
{
    char dir[4096];
    const char *base;
    split_path(path, dir, sizeof(dir), &base);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        f->fd = f->dir = -1;
        return -1;
    }
    int rc = thsm_atomic_begin_at(f, fd, base, path, mode, err, cap);
    close(fd);
    return rc;
}

int thsm_atomic_write(thsm_atomic_file *f, const void *data, size_t len)
{
    return thsm_write_all(f->fd, data, len);
}

int thsm_atomic_flush(thsm_atomic_file *f)
{
    return fsync(f->fd);
}

void thsm_atomic_start_writeback(thsm_atomic_file *f)
{
    sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

int thsm_atomic_commit(thsm_atomic_file *f, char *err, size_t cap)
{
    int ok = keep_mode(f) == 0 && fsync(f->fd) == 0;
    int saved = errno;
    ok = close(f->fd) == 0 && ok;
    f->fd = -1;
    sigset_t old;
    block_signals(&old);
    if (ok && renameat(f->dir, f->tmp, f->dir, f->name) != 0) {
        saved = errno;
        ok = 0;
    }
    if (ok)
        track_temp(f, false);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!ok) {
        snprintf(err, cap, "cannot write %s: %s", f->path, strerror(saved));
        thsm_atomic_abort(f);
        return -1;
    }
    fsync(f->dir); /* EBADF when the directory could not be opened to read */
    close(f->dir);
    f->dir = -1;
    return 0;
}

void thsm_atomic_abort(thsm_atomic_file *f)
{
    sigset_t old;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->dir < 0)
        return;
    block_signals(&old);
    if (f->tmp[0])
        unlinkat(f->dir, f->tmp, 0);
    track_temp(f, false);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(f->dir);
    f->dir = -1;
}
