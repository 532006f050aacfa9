/* output.c - deciding how each output is written (see output.h). */
#include "host/output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* canon = realpath(directory of path) + "/" + last component. */
static int canonical(const char *path, char *canon, size_t cap, char *err,
                     size_t ecap)
{
    char dir[4096], real[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path),
                 path);
    if (!realpath(dir, real)) {
        if (errno == ENOENT)
            snprintf(err, ecap, "cannot write %s: directory %s does not exist; "
                     "create it first (mkdir -p %s)", path, dir, dir);
        else
            snprintf(err, ecap, "cannot write %s: directory %s: %s", path, dir,
                     strerror(errno));
        return -1;
    }
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        snprintf(err, ecap, "cannot write %s: not a file name", path);
        return -1;
    }
    int n = snprintf(canon, cap, "%s/%s", strcmp(real, "/") ? real : "", base);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, ecap, "cannot write %s: path too long", path);
        return -1;
    }
    return 0;
}

/* The kernel's protected_symlinks rule, in every directory: a symlink,
 * FIFO or device of another user (root aside) may be a trap. */
static int trusted_owner(uid_t uid)
{
    return uid == geteuid() || uid == 0;
}

/* 1 when st is the file on standard output. A character device other than
 * a terminal (/dev/null) is not: mixing output there harms nothing. */
static int is_stdout(const struct stat *st)
{
    struct stat out;
    if (S_ISCHR(st->st_mode) && !isatty(STDOUT_FILENO))
        return 0;
    return fstat(STDOUT_FILENO, &out) == 0 && out.st_dev == st->st_dev &&
           out.st_ino == st->st_ino;
}

/* Appends "/" (unless at the start) and the n bytes of s to buf. */
static int append(char *buf, size_t cap, const char *s, size_t n)
{
    size_t used = strlen(buf);
    int sep = used > 0 && buf[used - 1] != '/';
    if (used + (size_t)sep + n >= cap)
        return -1;
    if (sep)
        buf[used++] = '/';
    memcpy(buf + used, s, n);
    buf[used + n] = '\0';
    return 0;
}

/* Walks name as the kernel does, link by link, and refuses it when one of
 * the symlinks on the way belongs to another user. What does not exist
 * ends the walk (the caller decides about missing files). */
static int links_trusted(const char *name, char *err, size_t cap)
{
    char done[PATH_MAX] = "", todo[PATH_MAX], cur[PATH_MAX], target[PATH_MAX];
    struct stat st;
    int hops = 0;
    snprintf(todo, sizeof(todo), "%s", name);
    if (todo[0] == '/')
        strcpy(done, "/");
    for (char *p = todo; *p;) {
        size_t n = strcspn(p, "/");
        snprintf(cur, sizeof(cur), "%s", done);
        if (n == 0 || (n == 1 && *p == '.') || append(cur, sizeof(cur), p, n)) {
            p += n + (p[n] == '/');
            continue;
        }
        if (lstat(cur, &st) != 0)
            return 0;
        p += n + (p[n] == '/');
        if (!S_ISLNK(st.st_mode)) {
            strcpy(done, cur);
            continue;
        }
        if (!trusted_owner(st.st_uid)) {
            snprintf(err, cap, "cannot write %s: %s is a symlink owned by "
                     "another user (uid %u); not followed, nothing written",
                     name, cur, (unsigned)st.st_uid);
            return -1;
        }
        ssize_t len = readlink(cur, target, sizeof(target) - 1);
        if (len < 0 || ++hops > 40)
            return 0; /* the open fails later, with the reason */
        target[len] = '\0';
        if (target[0] == '/')
            strcpy(done, "/");
        if (append(target, sizeof(target), p, strlen(p)))
            return 0;
        snprintf(todo, sizeof(todo), "%s", target);
        p = todo;
    }
    return 0;
}

static int classify(thsm_output *o, const struct stat *st, char *err, size_t cap)
{
    o->dev = st->st_dev;
    o->ino = st->st_ino;
    o->is_stdout = is_stdout(st);
    if (S_ISREG(st->st_mode)) {
        o->exists = true;
        return 0;
    }
    if ((S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode)) && !o->is_stdout &&
        !trusted_owner(st->st_uid)) {
        snprintf(err, cap, "cannot write %s: it is a %s owned by another user "
                 "(uid %u); nothing written", o->name,
                 S_ISFIFO(st->st_mode) ? "FIFO" : "character device",
                 (unsigned)st->st_uid);
        return -1;
    }
    if (S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode)) {
        o->kind = THSM_OUT_DIRECT;
        o->chr = S_ISCHR(st->st_mode);
        return 0;
    }
    snprintf(err, cap, "cannot write %s: it is %s, not a file", o->name,
             S_ISDIR(st->st_mode) ? "a directory" : "a socket or block device");
    return -1;
}

/* Standard output: its file, so that naming it twice (-o - and
 * /dev/stdout) is found. */
static void resolve_stdout(thsm_output *o)
{
    struct stat st;
    o->kind = THSM_OUT_STDOUT;
    o->is_stdout = true;
    o->fd = STDOUT_FILENO;
    snprintf(o->canon, sizeof(o->canon), "-");
    if (fstat(STDOUT_FILENO, &st) == 0) {
        o->dev = st.st_dev;
        o->ino = st.st_ino;
        o->chr = S_ISCHR(st.st_mode);
    }
}

int thsm_output_resolve(thsm_output *o, const char *name, char *err, size_t cap)
{
    struct stat st;
    char real[PATH_MAX];
    memset(o, 0, sizeof(*o));
    o->name = name;
    o->kind = THSM_OUT_FILE;
    o->f.fd = -1;
    o->fd = -1;
    if (strcmp(name, "-") == 0) {
        resolve_stdout(o);
        return 0;
    }
    snprintf(o->path, sizeof(o->path), "%s", name);
    if (links_trusted(name, err, cap) != 0)
        return -1;
    if (lstat(name, &st) != 0) {
        if (errno != ENOENT) {
            snprintf(err, cap, "cannot write %s: %s", name, strerror(errno));
            return -1;
        }
        return canonical(name, o->canon, sizeof(o->canon), err, cap);
    }
    if (S_ISLNK(st.st_mode)) {
        if (stat(name, &st) != 0) {
            snprintf(err, cap, "cannot write %s: it is a symlink to a missing "
                     "file; give the target's name", name);
            return -1;
        }
        /* a pipe behind /dev/stdout has no name to resolve: open the link */
        if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
            if (!realpath(name, real)) {
                snprintf(err, cap, "cannot write %s: %s", name, strerror(errno));
                return -1;
            }
            snprintf(o->path, sizeof(o->path), "%s", real);
        }
    }
    if (classify(o, &st, err, cap) != 0)
        return -1;
    return canonical(o->path, o->canon, sizeof(o->canon), err, cap);
}

bool thsm_output_same(const thsm_output *a, const thsm_output *b)
{
    if (a->chr && b->chr)
        return false; /* /dev/null twice is fine */
    if (strcmp(a->canon, b->canon) == 0)
        return true;
    return a->ino && a->dev == b->dev && a->ino == b->ino;
}

bool thsm_output_is_input(const thsm_output *o, const char *path)
{
    struct stat st;
    return o->ino && !o->chr && stat(path, &st) == 0 && st.st_dev == o->dev &&
           st.st_ino == o->ino;
}

/* Opens a FIFO or device now, without blocking: a FIFO with no reader
 * (after 2 s, for a reader started beside us: cat fifo & tinyhsm ...) is
 * refused before the device signs, instead of hanging after. The file
 * opened must be the one checked by resolve. */
static int open_direct(thsm_output *o, char *err, size_t cap)
{
    struct stat st;
    const struct timespec tick = {0, 50 * 1000 * 1000};
    for (int i = 0; i < 40; i++) {
        o->fd = open(o->path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (o->fd >= 0 || errno != ENXIO)
            break;
        nanosleep(&tick, NULL);
    }
    if (o->fd < 0) {
        if (errno == ENXIO)
            snprintf(err, cap, "no reader on FIFO %s", o->name);
        else
            snprintf(err, cap, "cannot write %s: %s", o->name, strerror(errno));
        return -1;
    }
    int flags = fcntl(o->fd, F_GETFL);
    if (fstat(o->fd, &st) != 0 || st.st_dev != o->dev || st.st_ino != o->ino ||
        flags < 0 || fcntl(o->fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        snprintf(err, cap, "cannot write %s: it changed while being opened",
                 o->name);
        close(o->fd);
        o->fd = -1;
        return -1;
    }
    return 0;
}

int thsm_output_prepare(thsm_output *o, char *err, size_t cap)
{
    if (o->kind == THSM_OUT_FILE)
        return thsm_atomic_begin(&o->f, o->path, 0644, err, cap);
    if (o->kind == THSM_OUT_DIRECT)
        return open_direct(o, err, cap);
    return 0;
}

static int write_direct(thsm_output *o, const thsm_output_data *d,
                        char *err, size_t cap)
{
    int fd = o->fd;
    int ok = fd >= 0;
    errno = EBADF;
    for (size_t i = 0; ok && i < d->n; i++)
        ok = thsm_write_all(fd, d->part[i], d->len[i]) == 0;
    int saved = errno;
    if (o->kind == THSM_OUT_DIRECT && fd >= 0) {
        o->fd = -1;
        if (close(fd) != 0 && ok) {
            ok = 0;
            saved = errno;
        }
    }
    if (!ok)
        snprintf(err, cap, "cannot write %s: %s", o->name, strerror(saved));
    return ok ? 0 : -1;
}

void thsm_output_abort(thsm_output *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == THSM_OUT_FILE && out[i].f.fd >= 0)
            thsm_atomic_abort(&out[i].f);
        if (out[i].kind == THSM_OUT_DIRECT && out[i].fd >= 0) {
            close(out[i].fd);
            out[i].fd = -1;
        }
    }
}

/* Appends "; LABEL: a, b" listing the outputs whose done flag is want. */
static void list(char *err, size_t cap, const char *label,
                 const thsm_output *out, const int *done, size_t n, int want)
{
    const char *sep = "; ";
    for (size_t i = 0; i < n; i++) {
        if (done[i] != want)
            continue;
        size_t used = strlen(err);
        snprintf(err + used, cap - used, "%s%s%s", sep, *sep == ';' ? label : "",
                 out[i].name);
        sep = ", ";
    }
}

static int failed(thsm_output *out, const int *done, size_t n, char *err,
                  size_t cap)
{
    thsm_output_abort(out, n);
    list(err, cap, "written: ", out, done, n, 1);
    list(err, cap, "not written: ", out, done, n, 0);
    return -1;
}

int thsm_output_deliver(thsm_output *out, const thsm_output_data *data,
                        size_t n, char *err, size_t cap)
{
    int done[8] = {0};
    sigset_t stop, old;
    if (n > sizeof(done) / sizeof(done[0]))
        return -1;
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == THSM_OUT_FILE)
            continue;
        if (write_direct(&out[i], &data[i], err, cap) != 0) {
            done[i] = -1; /* in part, maybe: in neither list */
            return failed(out, done, n, err, cap);
        }
        done[i] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == THSM_OUT_FILE && thsm_atomic_flush(&out[i].f)) {
            snprintf(err, cap, "cannot write %s: %s", out[i].name,
                     strerror(errno));
            return failed(out, done, n, err, cap);
        }
    }
    /* the renames: no signal between them */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (out[i].kind != THSM_OUT_FILE)
            continue;
        if (thsm_atomic_commit(&out[i].f, err, cap) != 0) {
            done[i] = -1;
            rc = failed(out, done, n, err, cap);
        }
        else
            done[i] = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
