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
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "port/root_key.h"

#define KEY_FILE "device.key"
#define KEY_MAGIC "THSMDK01"
#define KEY_FILE_LEN (8 + THSM_DEVICE_KEY_LEN)

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

static int create_key(thsm_posix_port *pp, char *err, size_t err_cap)
{
    uint8_t file[KEY_FILE_LEN];
    memcpy(file, KEY_MAGIC, 8);
    if (getrandom(file + 8, THSM_DEVICE_KEY_LEN, 0) != THSM_DEVICE_KEY_LEN)
        FAIL("no entropy for a device key");
    int fd = openat(pp->dir_fd, KEY_FILE,
                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write_all(fd, file, sizeof(file)) == 0 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    memset(file, 0, sizeof(file));
    if (!ok || fsync(pp->dir_fd) != 0)
        FAIL("cannot create %s/%s: %s", pp->dir, KEY_FILE, strerror(errno));
    return 0;
}

static int load_key(thsm_posix_port *pp, char *err, size_t err_cap)
{
    char path[4200];
    uint8_t file[KEY_FILE_LEN + 1];
    snprintf(path, sizeof(path), "%s/%s", pp->dir, KEY_FILE);
    pp->lock_fd = openat(pp->dir_fd, KEY_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (pp->lock_fd < 0)
        FAIL("cannot open %s: %s", path, strerror(errno));
    if (check_private(pp->lock_fd, "device key", path, S_IFREG, err, err_cap))
        return -1;
    if (flock(pp->lock_fd, LOCK_EX | LOCK_NB) != 0)
        FAIL("state directory %s is in use by another tinyhsmd", pp->dir);
    ssize_t n = pread(pp->lock_fd, file, sizeof(file), 0);
    int ok = n == KEY_FILE_LEN && memcmp(file, KEY_MAGIC, 8) == 0;
    if (ok)
        memcpy(pp->device_key, file + 8, THSM_DEVICE_KEY_LEN);
    memset(file, 0, sizeof(file));
    if (!ok)
        FAIL("%s is not a TinyHSM device key", path);
    return 0;
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
    return check_private(pp->dir_fd, "state directory", dir, S_IFDIR, err,
                         err_cap);
}

int thsm_posix_port_open(thsm_posix_port *pp, const char *dir, thsm_port *port,
                         char *err, size_t err_cap)
{
    memset(pp, 0, sizeof(*pp));
    pp->dir_fd = pp->lock_fd = pp->log_fd = -1;
    int rc = open_dir(pp, dir, err, err_cap);
    if (rc == 0 && faccessat(pp->dir_fd, KEY_FILE, F_OK, AT_SYMLINK_NOFOLLOW)) {
        if (has_state(dir)) {
            snprintf(err, err_cap, "%s has state but no %s: refusing to make a "
                     "new device key, which would make that state unreadable",
                     dir, KEY_FILE);
            rc = -1;
        } else {
            rc = create_key(pp, err, err_cap);
        }
    }
    if (rc == 0)
        rc = load_key(pp, err, err_cap);
    if (rc != 0) {
        thsm_posix_port_close(pp);
        return -1;
    }
    *port = (thsm_port){pp, posix_load, posix_save, posix_append, posix_sync,
                        posix_read, posix_size, posix_derive, posix_now,
                        posix_truncate, posix_room};
    return 0;
}

void thsm_posix_port_close(thsm_posix_port *pp)
{
    explicit_bzero(pp->device_key, sizeof(pp->device_key));
    if (pp->log_fd >= 0) {
        fdatasync(pp->log_fd);
        close(pp->log_fd);
    }
    if (pp->lock_fd >= 0)
        close(pp->lock_fd);
    if (pp->dir_fd >= 0)
        close(pp->dir_fd);
    pp->dir_fd = pp->lock_fd = pp->log_fd = -1;
}
