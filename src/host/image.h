/*
 * image.h - building SECUREBOOT10 images on the host (see IMAGE.md), the
 * board table, version files, and atomic file output.
 * Functions return 0, or -1 with a one-line message in err.
 */
#ifndef THSM_IMAGE_H
#define THSM_IMAGE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "boot/boot.h"

typedef struct {
    const char *name;
    const char *mcu;
    uint32_t max_size; /* largest signed size the bootloader accepts */
    uint32_t flash_base;         /* the application runs at flash_base + 0x8200 */
    uint32_t ram_start, ram_end; /* RAM [start, end): where the stack may be */
} thsm_board_info;

/* The built-in table; *n receives its length. */
const thsm_board_info *thsm_boards(size_t *n);

/* A board by name, or NULL. */
const thsm_board_info *thsm_board_find(const char *name);
/* The same, ignoring case ("b-u585i-iot02a"), or NULL. */
const thsm_board_info *thsm_board_find_nocase(const char *name);

/* 1..15 printable ASCII characters. */
int thsm_board_name_check(const char *name, char *err, size_t cap);

/* "MAJOR.MINOR.BUILD" as the bootloader header holds it. */
int thsm_version_check(const char *version, char *err, size_t cap);

/* Reads APP_VERSION_MAJOR/MINOR/BUILD from an application_version.h into
 * out as "MAJOR.MINOR.BUILD", as the reference script does: every
 * "#define NAME VALUE" line counts (#if is ignored) and the last definition
 * of a name wins. A value that is not a plain decimal number ((1U), 1u, 07)
 * is refused with its line number. */
int thsm_version_file_read(const char *path, char *out, size_t out_cap,
                           char *err, size_t cap);

/* The application starts at flash base + this: the bootloader's 32 KiB,
 * then the 512-byte header. */
#define THSM_APP_OFFSET 0x8200u

typedef enum {
    THSM_FW_RAW,   /* anything else: a raw binary, presumably */
    THSM_FW_ELF,   /* "\177ELF" */
    THSM_FW_IHEX,  /* Intel HEX text */
    THSM_FW_SREC,  /* Motorola S-record text */
    THSM_FW_IMAGE  /* already a SECUREBOOT10 image */
} thsm_fw_kind;

/* What a firmware file holds, from its first bytes. */
thsm_fw_kind thsm_firmware_kind(const uint8_t *fw, size_t len);

/* The vector table at the start of a raw Cortex-M binary fits the board:
 * the initial stack pointer lies in its RAM, and the reset vector is a
 * Thumb address inside the firmware as linked at flash base + 0x8200. */
int thsm_vector_check(const uint8_t *fw, size_t len, const thsm_board_info *b,
                      char *err, size_t cap);

/* Signed size for a firmware of fw_len bytes: the header plus the firmware
 * padded with 0xFF to a multiple of 512. */
uint64_t thsm_image_signed_size(uint64_t fw_len);

/* The 512-byte header (checks board and version), byte for byte as the
 * reference script writes it: SIZE ends with two NULs, the others with one. */
int thsm_image_header(uint8_t hdr[THSM_BOOT_HEADER_LEN], const char *board,
                      const char *version, uint32_t signed_size, char *err,
                      size_t cap);

/* An output file being written: a temporary in the output's directory that
 * becomes the file at commit (fsync, rename, fsync of the directory). The
 * directory is held as a descriptor from begin on, and every step is
 * relative to it: a directory swapped for a symlink meanwhile changes
 * nothing. Until commit the old file, if any, is untouched; abort leaves
 * nothing behind. The mode is the replaced file's when it is ours, else
 * mode less the umask; never set-user/group-ID, sticky or o+w. */
typedef struct {
    char path[4096];        /* for messages */
    char name[NAME_MAX + 1]; /* the file replaced, in dir */
    char tmp[NAME_MAX + 1];  /* the temporary, in dir */
    int dir, fd;
} thsm_atomic_file;

/* From now on SIGINT, SIGTERM and SIGHUP remove the temporaries of
 * unfinished atomic files before the process dies of the signal. */
void thsm_atomic_cleanup_on_signals(void);

/* Writes all of data to fd (1 GiB at a time, EINTR retried). 0 or -1. */
int thsm_write_all(int fd, const void *data, size_t len);

/* The file name in the directory dir (a descriptor, which f duplicates);
 * path names it in messages. */
int thsm_atomic_begin_at(thsm_atomic_file *f, int dir, const char *name,
                         const char *path, mode_t mode, char *err, size_t cap);
/* The same for a path, its directory opened now. */
int thsm_atomic_begin(thsm_atomic_file *f, const char *path, mode_t mode,
                      char *err, size_t cap);
int thsm_atomic_write(thsm_atomic_file *f, const void *data, size_t len);
/* Starts writing what was written so far to disk, without waiting. */
void thsm_atomic_start_writeback(thsm_atomic_file *f);
/* Waits until what was written is on disk (so that a commit cannot fail
 * for lack of space). 0 or -1. */
int thsm_atomic_flush(thsm_atomic_file *f);
int thsm_atomic_commit(thsm_atomic_file *f, char *err, size_t cap);
void thsm_atomic_abort(thsm_atomic_file *f);

#endif
