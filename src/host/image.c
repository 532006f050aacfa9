/* image.c - SECUREBOOT10 image building and file output (see image.h). */
#define _GNU_SOURCE /* copy_file_range, sync_file_range */
#include "host/image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Maximum image sizes. The first two are from IMAGE.md. The others use its
 * formulas (dual-bank FLASH/2 - 32 KiB - PAGE; single-bank
 * (FLASH - 2*PAGE - 32 KiB)/2) with flash/page sizes from the STM32
 * reference manuals: L4S5 2 MiB/4 KiB dual; G0B1 512 KiB/2 KiB dual;
 * H503 128 KiB/8 KiB dual; H563 2 MiB/8 KiB dual; U545 512 KiB/8 KiB dual;
 * U575 2 MiB/8 KiB dual; WB55 1 MiB/4 KiB single; L562 512 KiB/2 KiB dual.
 * When in doubt about a board's bootloader build, pass --max-size.
 */
static const thsm_board_info boards[] = {
    {"B-U585I-IOT02A", "STM32U585AI", 1007616},
    {"NUCLEO-G071RB", "STM32G071RB", 47104},
    {"B-L4S5I-IOT01A", "STM32L4S5VI", 1011712},
    {"NUCLEO-G0B1RE", "STM32G0B1RE", 227328},
    {"NUCLEO-H503RB", "STM32H503RB", 24576},
    {"NUCLEO-H563ZI", "STM32H563ZI", 1007616},
    {"NUCLEO-U545RE-Q", "STM32U545RE", 221184},
    {"NUCLEO-U575ZI-Q", "STM32U575ZI", 1007616},
    {"NUCLEO-WB55RG", "STM32WB55RG", 503808},
    {"STM32L562E-DK", "STM32L562QE", 227328},
};

const thsm_board_info *thsm_boards(size_t *n)
{
    *n = sizeof(boards) / sizeof(boards[0]);
    return boards;
}

const thsm_board_info *thsm_board_find(const char *name)
{
    for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
        if (strcmp(boards[i].name, name) == 0)
            return &boards[i];
    return NULL;
}

int thsm_board_name_check(const char *name, char *err, size_t cap)
{
    size_t n = strlen(name);
    if (n == 0 || n > THSM_BOOT_TEXT_MAX) {
        snprintf(err, cap, "board name '%.40s' has %zu characters; the header "
                 "holds 1 to %d", name, n, THSM_BOOT_TEXT_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (name[i] < 0x20 || name[i] > 0x7e) {
            snprintf(err, cap, "board name must be printable ASCII");
            return -1;
        }
    }
    return 0;
}

int thsm_version_check(const char *version, char *err, size_t cap)
{
    thsm_boot_version v;
    if (thsm_boot_parse_version(version, &v) != THSM_BOOT_OK) {
        snprintf(err, cap, "version '%.40s' is not MAJOR.MINOR.BUILD (decimal "
                 "numbers, no leading zeros, at most %d characters)", version,
                 THSM_BOOT_TEXT_MAX);
        return -1;
    }
    return 0;
}

/* Value of "#define NAME <decimal>" in text (modified); -1 when absent. */
static long find_define(char *text, const char *name)
{
    char *save = NULL, nm[64], val[32];
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (sscanf(line, " # define %63s %31s", nm, val) != 2 ||
            strcmp(nm, name) != 0 || strspn(val, "0123456789") != strlen(val))
            continue;
        unsigned long v = strtoul(val, NULL, 10);
        return strlen(val) <= 10 && v <= UINT32_MAX ? (long)v : -1;
    }
    return -1;
}

int thsm_version_file_read(const char *path, char *out, size_t out_cap,
                           char *err, size_t cap)
{
    static const char *const names[3] = {
        "APP_VERSION_MAJOR", "APP_VERSION_MINOR", "APP_VERSION_BUILD"};
    char text[65536];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, cap, "cannot open version file %s: %s", path,
                 strerror(errno));
        return -1;
    }
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    long v[3];
    for (int i = 0; i < 3; i++) {
        char copy[sizeof(text)];
        memcpy(copy, text, n + 1);
        if ((v[i] = find_define(copy, names[i])) < 0) {
            snprintf(err, cap, "%s has no '#define %s <number>'", path,
                     names[i]);
            return -1;
        }
    }
    snprintf(out, out_cap, "%ld.%ld.%ld", v[0], v[1], v[2]);
    return thsm_version_check(out, err, cap);
}

uint64_t thsm_image_signed_size(uint64_t fw_len)
{
    return THSM_BOOT_HEADER_LEN + (fw_len + 511) / 512 * 512;
}

static void put_field(uint8_t *at, size_t width, const char *text)
{
    memset(at, 0xFF, width);
    memcpy(at, text, strlen(text) + 1);
}

int thsm_image_header(uint8_t hdr[THSM_BOOT_HEADER_LEN], const char *board,
                      const char *version, uint32_t signed_size, char *err,
                      size_t cap)
{
    char size[THSM_BOOT_FIELD_LEN];
    if (thsm_board_name_check(board, err, cap) ||
        thsm_version_check(version, err, cap))
        return -1;
    snprintf(size, sizeof(size), "%lu", (unsigned long)signed_size);
    put_field(hdr, 16, THSM_BOOT_MAGIC);
    put_field(hdr + 0x10, 16, size);
    put_field(hdr + 0x20, 16, board);
    put_field(hdr + 0x30, THSM_BOOT_HEADER_LEN - 0x30, version);
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

/* The directory of path, for the final fsync. */
static void dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, cap, ".");
    else if (slash == path)
        snprintf(dir, cap, "/");
    else
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

int thsm_atomic_begin(thsm_atomic_file *f, const char *path, mode_t mode,
                      char *err, size_t cap)
{
    snprintf(f->path, sizeof(f->path), "%s", path);
    snprintf(f->tmp, sizeof(f->tmp), "%s.tmp.XXXXXX", path);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0 || fchmod(f->fd, mode) != 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        thsm_atomic_abort(f);
        return -1;
    }
    return 0;
}

int thsm_atomic_write(thsm_atomic_file *f, const void *data, size_t len)
{
    return write_all(f->fd, data, len);
}

int thsm_atomic_copy(thsm_atomic_file *f, int in_fd, size_t len)
{
    loff_t off = 0;
    while (len > 0) {
        ssize_t n = copy_file_range(in_fd, &off, f->fd, NULL, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* not supported here: copy through memory */
        len -= (size_t)n;
    }
    char buf[65536];
    while (len > 0) {
        ssize_t n = pread(in_fd, buf, len < sizeof(buf) ? len : sizeof(buf), off);
        if (n <= 0 || write_all(f->fd, buf, (size_t)n) != 0)
            return -1;
        off += n;
        len -= (size_t)n;
    }
    return 0;
}

void thsm_atomic_start_writeback(thsm_atomic_file *f)
{
    sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

int thsm_atomic_commit(thsm_atomic_file *f, char *err, size_t cap)
{
    char dir[4096];
    int ok = fsync(f->fd) == 0;
    int saved = errno;
    ok = close(f->fd) == 0 && ok;
    f->fd = -1;
    if (ok && rename(f->tmp, f->path) != 0) {
        saved = errno;
        ok = 0;
    }
    if (!ok) {
        snprintf(err, cap, "cannot write %s: %s", f->path, strerror(saved));
        thsm_atomic_abort(f);
        return -1;
    }
    dir_of(f->path, dir, sizeof(dir));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

void thsm_atomic_abort(thsm_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    unlink(f->tmp);
}

int thsm_write_file_atomic(const char *path, const void *data, size_t len,
                           mode_t mode, char *err, size_t cap)
{
    thsm_atomic_file f;
    if (thsm_atomic_begin(&f, path, mode, err, cap) != 0)
        return -1;
    if (thsm_atomic_write(&f, data, len) != 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        thsm_atomic_abort(&f);
        return -1;
    }
    return thsm_atomic_commit(&f, err, cap);
}
