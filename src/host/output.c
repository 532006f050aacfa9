/* output.c - deciding how each output is written (see output.h). */
#define _GNU_SOURCE /* O_PATH */
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

#include "host/defaults.h"

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

/* A name walked as the kernel would, but one component at a time from the
 * descriptor of the directory it is in: what is checked (the symlinks on
 * the way belong to us or root) is what is held. */
typedef struct {
    int dir;                 /* where base is; held */
    char base[NAME_MAX + 1]; /* the last component */
    char shown[PATH_MAX];    /* the directories walked, for messages */
    bool via_link;           /* the name's own symlink was followed */
    bool direct_link;        /* the name is a symlink to a FIFO or device */
} walk;

static void set_shown(walk *w, const char *cur)
{
    size_t n = strnlen(cur, sizeof(w->shown) - 1);
    memcpy(w->shown, cur, n);
    w->shown[n] = '\0';
}

static int set_dir(walk *w, int fd)
{
    if (w->dir >= 0)
        close(w->dir);
    w->dir = fd;
    return fd < 0 ? -1 : 0;
}

/* Puts the target of the symlink fd in front of rest, in todo. */
static int expand_link(walk *w, int fd, char *todo, size_t cap,
                       const char *rest)
{
    char target[PATH_MAX], next[PATH_MAX];
    ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
    if (n <= 0)
        return -1;
    target[n] = '\0';
    int len = snprintf(next, sizeof(next), "%s%s%s", target, *rest ? "/" : "",
                       rest);
    if (len < 0 || (size_t)len >= cap || (size_t)len >= sizeof(next)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (target[0] == '/') {
        snprintf(w->shown, sizeof(w->shown), "/");
        if (set_dir(w, open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) != 0)
            return -1;
    }
    memcpy(todo, next, (size_t)len + 1);
    return 0;
}

/* Why a component could not be opened. */
static int walk_error(const char *name, const char *cur, bool last,
                      char *err, size_t cap)
{
    char dir[4096];
    if (errno == ENOENT && !last) {
        thsm_dir_of(name, dir, sizeof(dir));
        snprintf(err, cap, "cannot write %s: directory %s does not exist; "
                 "create it first (mkdir -p %s)", name, dir, dir);
    } else if (errno == ENOENT)
        snprintf(err, cap, "cannot write %s: it is a symlink to a missing "
                 "file; give the target's name", name);
    else
        snprintf(err, cap, "cannot write %s: %s: %s", name, cur,
                 strerror(errno));
    return -1;
}

/* The name's last symlink: to a FIFO or device it is opened as it is (a
 * pipe behind /dev/stdout has no name to walk to); else followed. */
static int last_link(walk *w, const char *comp, const char *name, char *err,
                     size_t cap)
{
    struct stat st;
    if (fstatat(w->dir, comp, &st, 0) != 0) {
        snprintf(err, cap, "cannot write %s: it is a symlink to a missing "
                 "file; give the target's name", name);
        return -1;
    }
    w->direct_link = S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode);
    w->via_link = true;
    return 0;
}

/* One component, opened without following. 1 when the walk ends here
 * (base set), 2 when a symlink's target was put in front of the rest in
 * todo, 0 to go on, -1 with the reason. */
static int step(walk *w, const char *name, const char *comp, const char *cur,
                bool last, char *todo, size_t cap, const char *rest,
                char *err, size_t ecap)
{
    struct stat st;
    int fd = openat(w->dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && last && !w->via_link) {
        snprintf(w->base, sizeof(w->base), "%s", comp);
        return 1; /* a new file */
    }
    if (fd < 0 || fstat(fd, &st) != 0) {
        walk_error(name, cur, last, err, ecap);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = 0;
    if (S_ISLNK(st.st_mode) && !trusted_owner(st.st_uid)) {
        snprintf(err, ecap, "cannot write %s: %s is a symlink owned by another "
                 "user (uid %u); not followed, nothing written", name, cur,
                 (unsigned)st.st_uid);
        rc = -1;
    } else if (S_ISLNK(st.st_mode)) {
        rc = last ? last_link(w, comp, name, err, ecap) : 0;
        if (rc == 0 && w->direct_link) {
            snprintf(w->base, sizeof(w->base), "%s", comp);
            rc = 1;
        } else if (rc == 0)
            rc = expand_link(w, fd, todo, cap, rest) == 0
                     ? 2 : walk_error(name, cur, last, err, ecap);
    } else if (last) {
        snprintf(w->base, sizeof(w->base), "%s", comp);
        rc = 1;
    } else if (!S_ISDIR(st.st_mode)) {
        snprintf(err, ecap, "cannot write %s: %s is not a directory", name, cur);
        rc = -1;
    } else {
        set_shown(w, cur);
        return set_dir(w, fd); /* fd is held now */
    }
    close(fd);
    return rc;
}

static int walk_name(walk *w, const char *name, char *err, size_t cap)
{
    char todo[PATH_MAX], comp[NAME_MAX + 1], cur[PATH_MAX];
    int rc = 0, hops = 0;
    memset(w, 0, sizeof(*w));
    w->dir = open(name[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    snprintf(w->shown, sizeof(w->shown), "%s", name[0] == '/' ? "/" : "");
    if (w->dir < 0 || strlen(name) >= sizeof(todo)) {
        snprintf(err, cap, "cannot write %s: %s", name,
                 strerror(w->dir < 0 ? errno : ENAMETOOLONG));
        rc = -1;
    }
    snprintf(todo, sizeof(todo), "%s", name);
    for (const char *p = todo; rc == 0;) {
        p += strspn(p, "/");
        size_t n = strcspn(p, "/");
        const char *q = p + n, *rest = q + strspn(q, "/");
        bool last = *q == '\0'; /* "x/" must be a directory: not last */
        if (n == 0 || n > NAME_MAX) {
            snprintf(err, cap, "cannot write %s: %s", name, n ? "a name is "
                     "too long" : "it is a directory, not a file");
            break;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        size_t used = strlen(w->shown);
        int len = snprintf(cur, sizeof(cur), "%s%s%s", w->shown,
                           used && w->shown[used - 1] != '/' ? "/" : "", comp);
        if (len < 0 || (size_t)len >= sizeof(cur)) {
            snprintf(err, cap, "cannot write %s: %s", name,
                     strerror(ENAMETOOLONG));
            break;
        }
        p = q;
        if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
            if (last) {
                snprintf(err, cap, "cannot write %s: it is a directory, not a "
                         "file", name);
                rc = -1;
            } else if (n == 2 && set_dir(w, openat(w->dir, "..", O_PATH |
                                         O_DIRECTORY | O_CLOEXEC)) != 0)
                rc = walk_error(name, cur, false, err, cap);
            set_shown(w, cur);
            continue;
        }
        rc = step(w, name, comp, cur, last, todo, sizeof(todo), rest, err, cap);
        if (rc == 1)
            return 0;
        if (rc == 2 && ++hops > 40) {
            snprintf(err, cap, "cannot write %s: %s", name, strerror(ELOOP));
            rc = -1;
        } else if (rc == 2) {
            p = todo; /* the link's target, then the rest */
            rc = 0;
        }
    }
    set_dir(w, -1);
    return -1;
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

/* Another user's file in a sticky directory (/tmp) of someone else: the
 * rename would fail after the signature, so it is refused before. */
static int sticky_other(const thsm_output *o, const struct stat *st, char *err,
                        size_t cap)
{
    struct stat d;
    uid_t me = geteuid();
    if (!o->exists || me == 0 || st->st_uid == me || fstat(o->dir, &d) != 0 ||
        !(d.st_mode & S_ISVTX) || d.st_uid == me)
        return 0;
    snprintf(err, cap, "cannot replace %s: it belongs to another user (uid %u) "
             "in a sticky directory; nothing written", o->name,
             (unsigned)st->st_uid);
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
    if (fstat(STDOUT_FILENO, &st) == 0) {
        o->dev = st.st_dev;
        o->ino = st.st_ino;
        o->chr = S_ISCHR(st.st_mode);
    }
}

/* Closes what resolve holds. */
static void release(thsm_output *o)
{
    if (o->dir >= 0)
        close(o->dir);
    o->dir = -1;
}

/* The directory walked to: held, opened to read when it can be (for the
 * fsync after the rename), else as a path. */
static int hold_dir(thsm_output *o, walk *w, char *err, size_t cap)
{
    struct stat st;
    int rd = openat(w->dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rd >= 0)
        set_dir(w, rd);
    o->dir = w->dir;
    snprintf(o->base, sizeof(o->base), "%s", w->base);
    if (fstat(o->dir, &st) != 0) {
        snprintf(err, cap, "cannot write %s: %s", o->name, strerror(errno));
        release(o);
        return -1;
    }
    o->dir_dev = st.st_dev;
    o->dir_ino = st.st_ino;
    return 0;
}

int thsm_output_resolve(thsm_output *o, const char *name, char *err, size_t cap)
{
    struct stat st;
    char real[PATH_MAX];
    walk w;
    memset(o, 0, sizeof(*o));
    o->name = name;
    o->kind = THSM_OUT_FILE;
    o->f.fd = o->f.dir = o->fd = o->dir = -1;
    if (strcmp(name, "-") == 0) {
        resolve_stdout(o);
        return 0;
    }
    snprintf(o->path, sizeof(o->path), "%s", name);
    if (walk_name(&w, name, err, cap) != 0 || hold_dir(o, &w, err, cap) != 0)
        return -1;
    if (fstatat(o->dir, o->base, &st, w.direct_link ? 0 : AT_SYMLINK_NOFOLLOW)) {
        if (errno == ENOENT && !w.via_link)
            return 0; /* a new file */
        snprintf(err, cap, "cannot write %s: %s", name, strerror(errno));
        release(o);
        return -1;
    }
    /* messages name a symlink's target */
    if (w.via_link && !w.direct_link && realpath(name, real))
        snprintf(o->path, sizeof(o->path), "%s", real);
    if (classify(o, &st, err, cap) != 0 || sticky_other(o, &st, err, cap)) {
        release(o);
        return -1;
    }
    return 0;
}

bool thsm_output_same(const thsm_output *a, const thsm_output *b)
{
    if (a->chr && b->chr)
        return false; /* /dev/null twice is fine */
    if (a->kind == THSM_OUT_STDOUT && b->kind == THSM_OUT_STDOUT)
        return true;
    if (a->dir_ino && a->dir_dev == b->dir_dev && a->dir_ino == b->dir_ino &&
        strcmp(a->base, b->base) == 0)
        return true;
    return a->ino && a->dev == b->dev && a->ino == b->ino;
}

int thsm_output_open_existing(const thsm_output *o)
{
    struct stat st;
    int fd = o->kind == THSM_OUT_FILE && o->dir >= 0
                 ? openat(o->dir, o->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                               O_NOCTTY | O_CLOEXEC)
                 : -1;
    if (fd < 0 && (o->kind != THSM_OUT_FILE || errno == ELOOP))
        errno = ENOENT; /* nothing, or a symlink: the rename replaces it */
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
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
        o->fd = openat(o->dir, o->base, O_WRONLY | O_NONBLOCK | O_NOCTTY |
                                            O_CLOEXEC);
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
    int rc = 0;
    if (o->kind == THSM_OUT_FILE)
        rc = thsm_atomic_begin_at(&o->f, o->dir, o->base, o->path, 0644, err,
                                  cap);
    if (o->kind == THSM_OUT_DIRECT)
        rc = open_direct(o, err, cap);
    if (rc != 0 || o->kind != THSM_OUT_FILE)
        release(o); /* the temporary holds its directory itself */
    return rc;
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
        if (out[i].kind == THSM_OUT_FILE)
            thsm_atomic_abort(&out[i].f);
        if (out[i].kind == THSM_OUT_DIRECT && out[i].fd >= 0) {
            close(out[i].fd);
            out[i].fd = -1;
        }
        release(&out[i]);
    }
}

int thsm_output_deliver(thsm_output *out, const thsm_output_data *data,
                        size_t n, char *err, size_t cap)
{
    int done[8] = {0};
    sigset_t stop, old;
    if (n > sizeof(done) / sizeof(done[0]))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == THSM_OUT_FILE)
            continue;
        if (write_direct(&out[i], &data[i], err, cap) != 0) {
            done[i] = -1; /* in part, maybe: in neither list */
            return thsm_output_failed(out, done, n, err, cap);
        }
        done[i] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == THSM_OUT_FILE && thsm_atomic_flush(&out[i].f)) {
            snprintf(err, cap, "cannot write %s: %s", out[i].name,
                     strerror(errno));
            return thsm_output_failed(out, done, n, err, cap);
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
            rc = thsm_output_failed(out, done, n, err, cap);
        }
        else
            done[i] = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    for (size_t i = 0; i < n; i++)
        release(&out[i]);
    return rc;
}
