/* output.c - deciding how each output is written (see output.h). */
#include "host/output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
        return 0;
    }
    snprintf(err, cap, "cannot write %s: it is %s, not a file", o->name,
             S_ISDIR(st->st_mode) ? "a directory" : "a socket or block device");
    return -1;
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
        o->kind = THSM_OUT_STDOUT;
        snprintf(o->canon, sizeof(o->canon), "-");
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
        if (!realpath(name, real) || stat(real, &st) != 0) {
            snprintf(err, cap, "cannot write %s: it is a symlink to a missing "
                     "file; give the target's name", name);
            return -1;
        }
        snprintf(o->path, sizeof(o->path), "%s", real);
    }
    if (classify(o, &st, err, cap) != 0)
        return -1;
    return canonical(o->path, o->canon, sizeof(o->canon), err, cap);
}

int thsm_output_same(const thsm_output *a, const thsm_output *b)
{
    if (strcmp(a->canon, b->canon) == 0)
        return 1;
    return a->ino && a->dev == b->dev && a->ino == b->ino;
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

int thsm_output_write_direct(const thsm_output *o, const void *const *parts,
                             const size_t *lens, size_t n, char *err,
                             size_t cap)
{
    int fd = o->kind == THSM_OUT_STDOUT
                 ? STDOUT_FILENO
                 : open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    int ok = fd >= 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = write_all(fd, parts[i], lens[i]) == 0;
    int saved = errno;
    if (fd >= 0 && fd != STDOUT_FILENO && close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok)
        snprintf(err, cap, "cannot write %s: %s", o->name, strerror(saved));
    return ok ? 0 : -1;
}
