/*
 * image.h - building SECUREBOOT10 images on the host (see IMAGE.md), the
 * board table, version files, and atomic file output.
 * Functions return 0, or -1 with a one-line message in err.
 */
#ifndef THSM_IMAGE_H
#define THSM_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "boot/boot.h"

typedef struct {
    const char *name;
    const char *mcu;
    uint32_t max_size; /* largest signed size the bootloader accepts */
} thsm_board_info;

/* The built-in table; *n receives its length. */
const thsm_board_info *thsm_boards(size_t *n);

/* A board by name, or NULL. */
const thsm_board_info *thsm_board_find(const char *name);

/* 1..15 printable ASCII characters. */
int thsm_board_name_check(const char *name, char *err, size_t cap);

/* "MAJOR.MINOR.BUILD" as the bootloader header holds it. */
int thsm_version_check(const char *version, char *err, size_t cap);

/* Reads APP_VERSION_MAJOR/MINOR/BUILD from an application_version.h into
 * out as "MAJOR.MINOR.BUILD". */
int thsm_version_file_read(const char *path, char *out, size_t out_cap,
                           char *err, size_t cap);

/* Signed size for a firmware of fw_len bytes: the header plus the firmware
 * padded with 0xFF to a multiple of 512. */
uint64_t thsm_image_signed_size(uint64_t fw_len);

/* The 512-byte header (checks board and version). */
int thsm_image_header(uint8_t hdr[THSM_BOOT_HEADER_LEN], const char *board,
                      const char *version, uint32_t signed_size, char *err,
                      size_t cap);

/* An output file being written: a temporary beside path that becomes path
 * at commit (fsync, rename, fsync of the directory). Until then the old
 * file, if any, is untouched; abort leaves nothing behind. */
typedef struct {
    char path[4096], tmp[4200];
    int fd;
} thsm_atomic_file;

int thsm_atomic_begin(thsm_atomic_file *f, const char *path, mode_t mode,
                      char *err, size_t cap);
int thsm_atomic_write(thsm_atomic_file *f, const void *data, size_t len);
/* Appends len bytes of the file open at in_fd (from offset 0), copied in
 * the kernel where it can. */
int thsm_atomic_copy(thsm_atomic_file *f, int in_fd, size_t len);
/* Starts writing what was written so far to disk, without waiting. */
void thsm_atomic_start_writeback(thsm_atomic_file *f);
int thsm_atomic_commit(thsm_atomic_file *f, char *err, size_t cap);
void thsm_atomic_abort(thsm_atomic_file *f);

/* Writes a whole file atomically, as above. */
int thsm_write_file_atomic(const char *path, const void *data, size_t len,
                           mode_t mode, char *err, size_t cap);

#endif
