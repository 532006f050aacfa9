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

static int classify(thsm_output *o, const struct stat *st, char *err, size_t cap)
{
    o->dev = st->st_dev;
    o->ino = st->st_ino;
    if (S_ISREG(st->st_mode)) {
        o->exists = 1;
        return 0;
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
    if (strcmp(name, "-") == 0) {
        resolve_stdout(o);
        return 0;
    }
    snprintf(o->path, sizeof(o->path), "%s", name);
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

int thsm_output_same(const thsm_output *a, const thsm_output *b)
{
    if (a->chr && b->chr)
        return 0; /* /dev/null twice is fine */
    if (strcmp(a->canon, b->canon) == 0)
        return 1;
    return a->ino && a->dev == b->dev && a->ino == b->ino;
}

int thsm_output_is_input(const thsm_output *o, const char *path)
{
    struct stat st;
    return o->ino && !o->chr && stat(path, &st) == 0 && st.st_dev == o->dev &&
           st.st_ino == o->ino;
}

int thsm_output_prepare(thsm_output *o, char *err, size_t cap)
{
    if (o->kind == THSM_OUT_FILE)
        return thsm_atomic_begin(&o->f, o->path, 0644, err, cap);
    if (o->kind == THSM_OUT_DIRECT && access(o->path, W_OK) != 0) {
        snprintf(err, cap, "cannot write %s: %s", o->name, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
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

static int write_direct(const thsm_output *o, const thsm_output_data *d,
                        char *err, size_t cap)
{
    int fd = o->kind == THSM_OUT_STDOUT
                 ? STDOUT_FILENO
                 : open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    int ok = fd >= 0;
    for (size_t i = 0; ok && i < d->n; i++)
        ok = write_all(fd, d->part[i], d->len[i]) == 0;
    int saved = errno;
    if (fd >= 0 && fd != STDOUT_FILENO && close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok)
        snprintf(err, cap, "cannot write %s: %s", o->name, strerror(saved));
    return ok ? 0 : -1;
}

void thsm_output_abort(thsm_output *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (out[i].kind == THSM_OUT_FILE && out[i].f.fd >= 0)
            thsm_atomic_abort(&out[i].f);
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
