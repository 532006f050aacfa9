/*
 * huk_link.c - tinyhsmd-qemu's huk.bin as a link to a key kept elsewhere.
 */
#include "port/posix/huk_link.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port/posix/rootkey.h"

#define HUK "huk.bin"
#define HUK_LEN 32

#define FAIL(...)                                                              \
    do {                                                                       \
        snprintf(err, err_cap, __VA_ARGS__);                                   \
        return -1;                                                             \
    } while (0)

/* Reads exactly HUK_LEN bytes of name (relative to dir) into key. */
static int read_huk(int dir, const char *name, uint8_t key[HUK_LEN])
{
    int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int ok = fd >= 0 && fstat(fd, &st) == 0 && st.st_size == HUK_LEN &&
             read(fd, key, HUK_LEN) == HUK_LEN;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

static int check_key(const char *key, char *err, size_t err_cap)
{
    struct stat st;
    if (stat(key, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != HUK_LEN)
        FAIL("%s is not a 32-byte root key file", key);
    if (st.st_uid != geteuid())
        FAIL("the root key %s belongs to another user", key);
    if (st.st_mode & 077)
        FAIL("the root key %s is accessible by others; run: chmod 600 %s", key,
             key);
    return 0;
}

/* huk.bin := symlink to key, atomically (a new link renamed over it). */
static int put_link(int dir, const char *key, char *err, size_t err_cap)
{
    unlinkat(dir, HUK ".lnk", 0);
    if (symlinkat(key, dir, HUK ".lnk") != 0 ||
        renameat(dir, HUK ".lnk", dir, HUK) != 0 || fsync(dir) != 0)
        FAIL("cannot link huk.bin to %s: %s", key, strerror(errno));
    return 0;
}

/* A huk.bin file in the state: to key (new, or the same key), then the link. */
static int move_huk(int dir, const char *key, const char *who, char *err,
                    size_t err_cap)
{
    uint8_t old[HUK_LEN], moved[HUK_LEN];
    int rc = -1;
    if (read_huk(dir, HUK, old) != 0)
        snprintf(err, err_cap, "huk.bin in the state directory is not a "
                 "32-byte key");
    else if (access(key, F_OK) != 0 &&
             thsm_key_file_write(key, old, HUK_LEN, 0, err, err_cap) != 0)
        ; /* err says why */
    else if (read_huk(AT_FDCWD, key, moved) != 0 ||
             memcmp(old, moved, HUK_LEN) != 0)
        snprintf(err, err_cap, "two different root keys: %s and huk.bin in "
                 "the state directory; move away the one that does not "
                 "belong to this device", key);
    else
        rc = put_link(dir, key, err, err_cap);
    explicit_bzero(old, sizeof(old));
    explicit_bzero(moved, sizeof(moved));
    if (rc == 0)
        fprintf(stderr, "%s: moved the root key from the state directory's "
                "huk.bin to %s\n", who, key);
    return rc;
}

/* No huk.bin: a new key at key unless the device has a flash image. */
static int new_huk(int dir, const char *key, const char *who, char *err,
                   size_t err_cap)
{
    uint8_t fresh[HUK_LEN];
    struct stat st;
    if (access(key, F_OK) == 0)
        return 0;
    if (fstatat(dir, "flash.img", &st, 0) == 0)
        FAIL("the state directory has a flash image but no root key (not at "
             "%s): refusing to make a new one", key);
    if (getrandom(fresh, HUK_LEN, 0) != HUK_LEN)
        FAIL("no entropy for a root key");
    int rc = thsm_key_file_write(key, fresh, HUK_LEN, 0, err, err_cap);
    explicit_bzero(fresh, sizeof(fresh));
    if (rc == 0)
        fprintf(stderr, "%s: created a new root key %s\n", who, key);
    return rc;
}

int thsm_huk_link(int dir, const char *key_path, const char *who, char *err,
                  size_t err_cap)
{
    char key[4096], cwd[4096], target[4096];
    struct stat st;
    if (key_path[0] == '/')
        snprintf(key, sizeof(key), "%s", key_path);
    else if (!getcwd(cwd, sizeof(cwd)) ||
             snprintf(key, sizeof(key), "%s/%s", cwd, key_path) >= (int)sizeof(key))
        FAIL("root key path too long");
    if (fstatat(dir, HUK, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
        if (move_huk(dir, key, who, err, err_cap) != 0)
            return -1;
    } else if (fstatat(dir, HUK, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        ssize_t n = readlinkat(dir, HUK, target, sizeof(target) - 1);
        if (n < 0 || (target[n] = '\0', strcmp(target, key) != 0))
            FAIL("huk.bin in the state directory is not a link to %s; move it "
                 "away or give --root-key %s", key, n < 0 ? "FILE" : target);
    } else if (new_huk(dir, key, who, err, err_cap) != 0 ||
               put_link(dir, key, err, err_cap) != 0) {
        return -1;
    }
    return check_key(key, err, err_cap);
}
