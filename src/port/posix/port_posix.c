/*
 * port_posix.c - the device port on a POSIX system: a state directory.
 *
 * Saves are write-to-temporary, fsync, rename, fsync(directory): after a
 * crash at any instant a load sees the old or the new object, whole.
 */
#include "port/posix/port_posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "port/root_key.h"

#define KEY_FILE "device.key"

/* Object names are plain file names: no paths, no hidden files. */
static int name_ok(const char *name)
{
    if (!*name || *name == '.' || strlen(name) > 64)
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return 0;
    return 1;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Opens object name for reading into *fd. */
static int open_object(thsm_posix_port *pp, const char *name, int *fd)
{
    if (!name_ok(name))
        return THSM_PORT_IO;
    *fd = openat(pp->dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return errno == ENOENT ? THSM_PORT_NOT_FOUND : THSM_PORT_IO;
    return THSM_PORT_OK;
}

static int posix_load(void *ctx, const char *name, uint8_t *buf, size_t cap,
                      size_t *len)
{
    int fd, opened = open_object(ctx, name, &fd);
    if (opened != THSM_PORT_OK)
        return opened;
    struct stat st;
    int rc = THSM_PORT_IO;
    if (fstat(fd, &st) == 0) {
        if ((uint64_t)st.st_size > cap)
            rc = THSM_PORT_TOO_BIG;
        else if (pread(fd, buf, (size_t)st.st_size, 0) == st.st_size) {
            *len = (size_t)st.st_size;
            rc = THSM_PORT_OK;
        }
    }
    close(fd);
    return rc;
}

static int posix_save(void *ctx, const char *name, const uint8_t *buf,
                      size_t len)
{
    thsm_posix_port *pp = ctx;
    char tmp[80];
    if (!name_ok(name))
        return THSM_PORT_IO;
    snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
    int fd = openat(pp->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    0600);
    if (fd < 0)
        return THSM_PORT_IO;
    int ok = write_all(fd, buf, len) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && renameat(pp->dir_fd, tmp, pp->dir_fd, name) == 0;
    if (!ok) {
        unlinkat(pp->dir_fd, tmp, 0);
        return THSM_PORT_IO;
    }
    return fsync(pp->dir_fd) == 0 ? THSM_PORT_OK : THSM_PORT_IO;
}

/* Whether the open log is still the file the name leads to (not deleted or
 * replaced behind the device's back). */
static int log_fd_current(thsm_posix_port *pp, const char *name)
{
    struct stat open_st, named_st;
    return fstat(pp->log_fd, &open_st) == 0 &&
           fstatat(pp->dir_fd, name, &named_st, 0) == 0 &&
           open_st.st_dev == named_st.st_dev &&
           open_st.st_ino == named_st.st_ino;
}

/* The audit log stays open: one write() per record, no open() per record.
 * Appends go to the file the name now leads to, so the core's size check
 * sees what the next append writes to. */
static int log_fd(thsm_posix_port *pp, const char *name)
{
    if (pp->log_fd >= 0 && log_fd_current(pp, name))
        return pp->log_fd;
    if (pp->log_fd >= 0)
        close(pp->log_fd);
    pp->log_fd = -1;
    int created = faccessat(pp->dir_fd, name, F_OK, 0) != 0;
    pp->log_fd = openat(pp->dir_fd, name,
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (pp->log_fd >= 0 && created)
        fsync(pp->dir_fd);
    return pp->log_fd;
}

static int posix_append(void *ctx, const char *name, const uint8_t *buf,
                        size_t len)
{
    thsm_posix_port *pp = ctx;
    if (!name_ok(name) || strcmp(name, "audit.log") != 0)
        return THSM_PORT_IO; /* one append-only object is all we need */
    int fd = log_fd(pp, name);
    return fd >= 0 && write_all(fd, buf, len) == 0 ? THSM_PORT_OK
                                                   : THSM_PORT_IO;
}

static int posix_sync(void *ctx, const char *name)
{
    thsm_posix_port *pp = ctx;
    (void)name;
    return pp->log_fd < 0 || fdatasync(pp->log_fd) == 0 ? THSM_PORT_OK
                                                        : THSM_PORT_IO;
}

static int posix_read(void *ctx, const char *name, uint64_t offset,
                      uint8_t *buf, size_t cap, size_t *len)
{
    int fd, opened = open_object(ctx, name, &fd);
    if (opened != THSM_PORT_OK)
        return opened;
    size_t got = 0;
    while (got < cap) {
        ssize_t n = pread(fd, buf + got, cap - got, (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return THSM_PORT_OK;
}

static int posix_size(void *ctx, const char *name, uint64_t *size)
{
    thsm_posix_port *pp = ctx;
    struct stat st;
    if (!name_ok(name))
        return THSM_PORT_IO;
    if (fstatat(pp->dir_fd, name, &st, 0) != 0)
        return errno == ENOENT ? THSM_PORT_NOT_FOUND : THSM_PORT_IO;
    *size = (uint64_t)st.st_size;
    return THSM_PORT_OK;
}

static int posix_truncate(void *ctx, const char *name, uint64_t size)
{
    thsm_posix_port *pp = ctx;
    if (!name_ok(name))
        return THSM_PORT_IO;
    int fd = openat(pp->dir_fd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT && size == 0 ? THSM_PORT_OK : THSM_PORT_IO;
    int rc = ftruncate(fd, (off_t)size) == 0 && fdatasync(fd) == 0;
    close(fd);
    return rc ? THSM_PORT_OK : THSM_PORT_IO;
}

/* A disk has no bound of its own: a full one fails the append. */
static int posix_room(void *ctx, const char *name, uint64_t *bytes)
{
    (void)ctx;
    (void)name;
    *bytes = UINT64_MAX;
    return THSM_PORT_OK;
}

static int posix_derive(void *ctx, const char *label, const uint8_t *context,
                        size_t context_len, uint8_t out[THSM_DERIVE_LEN])
{
    thsm_posix_port *pp = ctx;
    return thsm_root_key_derive(pp->device_key, label, context, context_len,
                                out);
}

static int64_t posix_now(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* Whether the directory holds anything besides the key (state exists). */
static int has_state(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strcmp(e->d_name, KEY_FILE) != 0)
            found = 1;
    if (d)
        closedir(d);
    return found;
}

#define FAIL(...)                                                              \
    do {                                                                       \
        snprintf(err, err_cap, __VA_ARGS__);                                   \
        return -1;                                                             \
    } while (0)

static int check_private(int fd, const char *what, const char *path,
                         mode_t want_type, char *err, size_t err_cap)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != want_type)
        FAIL("%s %s is not a %s", what, path,
             want_type == S_IFDIR ? "directory" : "regular file");
    if (st.st_uid != geteuid())
        FAIL("%s %s belongs to another user", what, path);
    if (st.st_mode & 077)
        FAIL("%s %s is accessible by others (mode %04o); run: chmod %s %s",
             what, path, (unsigned)(st.st_mode & 07777),
             want_type == S_IFDIR ? "700" : "600", path);
    return 0;
}

/* What the key handling did, on stderr after who (nothing when who is NULL). */
__attribute__((format(printf, 2, 3))) static void
note(const char *who, const char *fmt, ...)
{
    va_list ap;
    if (!who)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", who);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Seals a plain key that a TPM was asked for (never a credential). */
static int seal_if_asked(thsm_posix_port *pp, const thsm_root_key_opts *rk,
                         const char *path, int sealed, const char *who,
                         char *err, size_t err_cap)
{
    if (!rk->tpm || sealed || rk->read_only)
        return 0;
    if (thsm_root_key_write(path, rk->tpm, pp->device_key, 1, err, err_cap))
        return -1;
    note(who, "sealed the root key %s to the TPM at %s", path, rk->tpm);
    return 0;
}

/* A new root key at path, unless the directory already has state. */
static int create_key(thsm_posix_port *pp, const thsm_root_key_opts *rk,
                      const char *path, const char *who, char *err,
                      size_t err_cap)
{
    if (has_state(pp->dir))
        FAIL("%s has state but no root key (not at %s): refusing to make a new "
             "one, which would make that state unreadable", pp->dir, path);
    if (getrandom(pp->device_key, THSM_DEVICE_KEY_LEN, 0) != THSM_DEVICE_KEY_LEN)
        FAIL("no entropy for a root key");
    if (thsm_root_key_write(path, rk->tpm, pp->device_key, 0, err, err_cap))
        return -1;
    note(who, "created a new root key %s%s", path,
         rk->tpm ? ", sealed to the TPM" : "");
    return 0;
}

/* The key beside the state, where earlier versions kept it. */
static int open_beside(thsm_posix_port *pp, const thsm_root_key_opts *rk,
                       const char *who, char *err, size_t err_cap)
{
    char path[4200];
    int sealed = 0;
    snprintf(path, sizeof(path), "%s/%s", pp->dir, KEY_FILE);
    if (!exists(path)) {
        if (has_state(pp->dir))
            FAIL("%s has state but no %s: refusing to make a new device key, "
                 "which would make that state unreadable", pp->dir, KEY_FILE);
        if (create_key(pp, rk, path, NULL, err, err_cap))
            return -1;
        sealed = rk->tpm != NULL;
    } else if (thsm_root_key_read(path, rk->tpm, 0, pp->device_key, &sealed,
                                  err, err_cap)) {
        return -1;
    }
    note(who, "warning: the root key is in the state directory (%s): whoever "
         "can read %s can guess PINs offline; give it a place of its own with "
         "--root-key PATH (it is moved there)", path, pp->dir);
    return seal_if_asked(pp, rk, path, sealed, who, err, err_cap);
}

/* Finishes a move that stopped after the copy: the old key must be the
 * same key, else neither is trusted. */
static int drop_beside(thsm_posix_port *pp, const thsm_root_key_opts *rk,
                       const char *beside, const char *who, char *err,
                       size_t err_cap)
{
    uint8_t old[THSM_DEVICE_KEY_LEN];
    int sealed, same;
    if (thsm_root_key_read(beside, rk->tpm, 0, old, &sealed, err, err_cap))
        return -1;
    same = memcmp(old, pp->device_key, sizeof(old)) == 0;
    explicit_bzero(old, sizeof(old));
    if (!same)
        FAIL("two different root keys: %s and %s; move away the one that "
             "does not belong to the state in %s", rk->path, beside, pp->dir);
    if (unlinkat(pp->dir_fd, KEY_FILE, 0) != 0 || fsync(pp->dir_fd) != 0)
        FAIL("cannot remove %s: %s", beside, strerror(errno));
    note(who, "removed %s, a copy of the root key %s", beside, rk->path);
    return 0;
}

/* Moves the key from beside the state to rk->path: write, sync, check by
 * reading it back, and only then remove the old file. */
static int move_key(thsm_posix_port *pp, const thsm_root_key_opts *rk,
                    const char *beside, const char *who, char *err,
                    size_t err_cap)
{
    int sealed;
    if (thsm_root_key_read(beside, rk->tpm, 0, pp->device_key, &sealed, err,
                           err_cap) ||
        thsm_root_key_write(rk->path, rk->tpm, pp->device_key, 0, err, err_cap))
        return -1;
    note(who, "moved the root key from %s to %s", beside, rk->path);
    if (thsm_root_key_read(rk->path, rk->tpm, 0, pp->device_key, &sealed,
                           err, err_cap))
        return -1;
    return drop_beside(pp, rk, beside, NULL, err, err_cap);
}

/* The key at rk->path, apart from the state. */
static int open_apart(thsm_posix_port *pp, const thsm_root_key_opts *rk,
                      const char *who, char *err, size_t err_cap)
{
    char beside[4200];
    int sealed = 0;
    snprintf(beside, sizeof(beside), "%s/%s", pp->dir, KEY_FILE);
    if (exists(rk->path)) {
        if (thsm_root_key_read(rk->path, rk->tpm, rk->read_only,
                               pp->device_key, &sealed, err, err_cap) ||
            (exists(beside) &&
             drop_beside(pp, rk, beside, who, err, err_cap)))
            return -1;
    } else if (exists(beside)) {
        if (move_key(pp, rk, beside, who, err, err_cap))
            return -1;
        sealed = rk->tpm != NULL;
    } else {
        if (create_key(pp, rk, rk->path, who, err, err_cap))
            return -1;
        sealed = rk->tpm != NULL;
    }
    return seal_if_asked(pp, rk, rk->path, sealed, who, err, err_cap);
}

static int open_dir(thsm_posix_port *pp, const char *dir, char *err,
                    size_t err_cap)
{
    if (strlen(dir) >= sizeof(pp->dir))
        FAIL("state directory path too long");
    snprintf(pp->dir, sizeof(pp->dir), "%s", dir);
    if (make_dirs(dir) != 0)
        FAIL("cannot create state directory %s: %s", dir, strerror(errno));
    pp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pp->dir_fd < 0)
        FAIL("cannot open state directory %s: %s", dir, strerror(errno));
    if (check_private(pp->dir_fd, "state directory", dir, S_IFDIR, err,
                      err_cap))
        return -1;
    if (flock(pp->dir_fd, LOCK_EX | LOCK_NB) != 0)
        FAIL("state directory %s is in use by another tinyhsmd", dir);
    return 0;
}

int thsm_posix_port_open_rk(thsm_posix_port *pp, const char *dir,
                            const thsm_root_key_opts *rk, const char *who,
                            thsm_port *port, char *err, size_t err_cap)
{
    memset(pp, 0, sizeof(*pp));
    pp->dir_fd = pp->log_fd = -1;
    int rc = open_dir(pp, dir, err, err_cap);
    if (rc == 0)
        rc = rk->path ? open_apart(pp, rk, who, err, err_cap)
                      : open_beside(pp, rk, who, err, err_cap);
    if (rc != 0) {
        thsm_posix_port_close(pp);
        return -1;
    }
    *port = (thsm_port){pp, posix_load, posix_save, posix_append, posix_sync,
                        posix_read, posix_size, posix_derive, posix_now,
                        posix_truncate, posix_room};
    return 0;
}

int thsm_posix_port_open(thsm_posix_port *pp, const char *dir, thsm_port *port,
                         char *err, size_t err_cap)
{
    const thsm_root_key_opts beside = {0};
    return thsm_posix_port_open_rk(pp, dir, &beside, NULL, port, err, err_cap);
}

void thsm_posix_port_close(thsm_posix_port *pp)
{
    explicit_bzero(pp->device_key, sizeof(pp->device_key));
    if (pp->log_fd >= 0) {
        fdatasync(pp->log_fd);
        close(pp->log_fd);
    }
    if (pp->dir_fd >= 0)
        close(pp->dir_fd);
    pp->dir_fd = pp->log_fd = -1;
}
