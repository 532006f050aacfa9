/*
 * rootkey.c - the root key file: where it is, reading, writing, sealing.
 */
#include "port/posix/rootkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port/posix/rootkey_tpm.h"

#define PLAIN_MAGIC "THSMDK01"
#define SEALED_MAGIC "THSMTK01"
#define MAGIC_LEN 8
#define FILE_MAX (MAGIC_LEN + THSM_TPM_BLOB_MAX)

#define FAIL(...)                                                              \
    do {                                                                       \
        snprintf(err, err_cap, __VA_ARGS__);                                   \
        return -1;                                                             \
    } while (0)

static int set(char *buf, size_t cap, const char *a, const char *b)
{
    return snprintf(buf, cap, "%s%s", a, b) < (int)cap ? 0 : -1;
}

int thsm_root_key_default(char *buf, size_t cap, int state_is_default,
                          int *read_only)
{
    const char *creds = getenv("CREDENTIALS_DIRECTORY");
    const char *given = getenv("TINYHSM_ROOT_KEY");
    const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    *read_only = 0;
    if (creds && *creds && snprintf(buf, cap, "%s/%s", creds,
                                    THSM_ROOT_KEY_CREDENTIAL) < (int)cap &&
        access(buf, F_OK) == 0) {
        *read_only = 1;
        return 0;
    }
    if (given && *given)
        return set(buf, cap, given, "") == 0 ? 0 : 1;
    if (!state_is_default)
        return 1;
    if (config && *config)
        return set(buf, cap, config, "/tinyhsm/root.key") == 0 ? 0 : 1;
    if (home && *home)
        return set(buf, cap, home, "/.config/tinyhsm/root.key") == 0 ? 0 : 1;
    return 1;
}

static int read_file(const char *path, int credential, uint8_t *buf,
                     size_t *len, char *err, size_t err_cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        FAIL("cannot open the root key %s: %s", path, strerror(errno));
    struct stat st;
    const char *why = NULL;
    int loose = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        why = "is not a regular file";
    else if (credential)
        ; /* systemd's: root's with an ACL for us, in a private directory */
    else if (st.st_uid != geteuid())
        why = "belongs to another user";
    else if ((loose = (st.st_mode & 077) != 0))
        why = "is accessible by others; run: chmod 600";
    ssize_t n = why ? -1 : read(fd, buf, FILE_MAX + 1);
    close(fd);
    if (why)
        FAIL("the root key %s %s%s%s", path, why, loose ? " " : "",
             loose ? path : "");
    if (n < MAGIC_LEN || n > FILE_MAX)
        FAIL("%s is not a TinyHSM root key", path);
    *len = (size_t)n;
    return 0;
}

int thsm_root_key_read(const char *path, const char *tpm, int credential,
                       uint8_t key[32], int *sealed, char *err, size_t err_cap)
{
    uint8_t file[FILE_MAX + 1];
    size_t len;
    if (read_file(path, credential, file, &len, err, err_cap) != 0)
        return -1;
    int rc = -1;
    *sealed = memcmp(file, SEALED_MAGIC, MAGIC_LEN) == 0;
    if (len == MAGIC_LEN + 32 && memcmp(file, PLAIN_MAGIC, MAGIC_LEN) == 0) {
        memcpy(key, file + MAGIC_LEN, 32);
        rc = 0;
    } else if (*sealed) {
        const char *tcti = tpm ? tpm : THSM_TPM_DEFAULT_TCTI;
        char why[400];
        rc = thsm_tpm_unseal(tcti, file + MAGIC_LEN, len - MAGIC_LEN, key, why,
                             sizeof(why));
        if (rc != 0)
            snprintf(err, err_cap, "cannot unseal the root key %s: %s", path,
                     why);
    } else {
        snprintf(err, err_cap, "%s is not a TinyHSM root key", path);
    }
    explicit_bzero(file, sizeof(file));
    return rc;
}

/* mkdir -p of path's directory, 0700 for what it creates; its fd. */
static int open_parent(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return -1;
    char *slash = strrchr(dir, '/');
    if (!slash)
        return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *(slash == dir ? slash + 1 : slash) = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int write_tmp(const char *tmp, const uint8_t *file, size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, file, len) == (ssize_t)len && fsync(fd) == 0;
    return close(fd) == 0 && ok ? 0 : -1;
}

/* The file's bytes: magic and key, or magic and sealed blob. */
static int encode(const char *tpm, const uint8_t key[32], uint8_t *file,
                  size_t *len, char *err, size_t err_cap)
{
    if (!tpm) {
        memcpy(file, PLAIN_MAGIC, MAGIC_LEN);
        memcpy(file + MAGIC_LEN, key, 32);
        *len = MAGIC_LEN + 32;
        return 0;
    }
    memcpy(file, SEALED_MAGIC, MAGIC_LEN);
    if (thsm_tpm_seal(tpm, key, file + MAGIC_LEN, THSM_TPM_BLOB_MAX, len, err,
                      err_cap) != 0)
        return -1;
    *len += MAGIC_LEN;
    return 0;
}

int thsm_key_file_write(const char *path, const uint8_t *data, size_t len,
                        int replace, char *err, size_t err_cap)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >=
        (int)sizeof(tmp))
        FAIL("root key path too long");
    int dir = open_parent(path);
    int ok = dir >= 0 && write_tmp(tmp, data, len) == 0;
    /* link() refuses an existing file, rename() replaces it */
    ok = ok && (replace ? rename(tmp, path) : link(tmp, path)) == 0;
    int saved = errno;
    unlink(tmp);
    ok = ok && fsync(dir) == 0;
    if (dir >= 0)
        close(dir);
    if (!ok)
        FAIL("cannot write the root key %s: %s", path, strerror(saved));
    return 0;
}

int thsm_root_key_write(const char *path, const char *tpm,
                        const uint8_t key[32], int replace, char *err,
                        size_t err_cap)
{
    uint8_t file[FILE_MAX];
    size_t len;
    if (encode(tpm, key, file, &len, err, err_cap) != 0)
        return -1;
    int rc = thsm_key_file_write(path, file, len, replace, err, err_cap);
    explicit_bzero(file, sizeof(file));
    return rc;
}

int thsm_root_key_new(const char *path, const char *tpm, char *err,
                      size_t err_cap)
{
    uint8_t key[32];
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
        FAIL("no entropy for a root key");
    int rc = thsm_root_key_write(path, tpm, key, 0, err, err_cap);
    explicit_bzero(key, sizeof(key));
    return rc;
}
