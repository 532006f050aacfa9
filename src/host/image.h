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
#include <sys/uio.h>

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

/* Writes path atomically from n buffers: a temporary in the same directory,
 * fsync, rename, fsync of the directory. On failure the old file, if any,
 * is untouched and no temporary is left. */
int thsm_write_atomic_iov(const char *path, const struct iovec *iov, int n,
                          mode_t mode, char *err, size_t cap);

/* The same for one buffer. */
int thsm_write_file_atomic(const char *path, const void *data, size_t len,
                           mode_t mode, char *err, size_t cap);

#endif
