/*
 * boot.h - SECUREBOOT10 image verification, as a bootloader does it.
 *
 * For firmware: no allocation, no OS calls, no stdio; cryptography only
 * through the src/crypto headers. The checks follow the Tiny Secure Boot bootloader and are
 * stricter where it is wrong (see shared/spec/IMAGE.md): malformed headers
 * are refused instead of being parsed leniently, and an update must carry a
 * strictly newer version (the reference installs downgrades).
 *
 * Image layout: a 512-byte header, the firmware padded with 0xFF to a
 * multiple of 512, then a 64-byte raw r||s signature at offset SIZE, where
 * SIZE (written in the header) counts the header and the padded firmware.
 *
 * thsm_boot_verify() runs the checks in this order and returns the first
 * failure: header, layout, board, size, version, signature.
 */
#ifndef THSM_BOOT_H
#define THSM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#define THSM_BOOT_HEADER_LEN 512
#define THSM_BOOT_SIG_LEN 64
#define THSM_BOOT_FIELD_LEN 16
#define THSM_BOOT_TEXT_MAX 15 /* characters in a field, NUL excluded */
#define THSM_BOOT_MAGIC "SECUREBOOT10"

typedef enum {
    THSM_BOOT_OK = 0,
    THSM_BOOT_TOO_SHORT,      /* fewer bytes than a header */
    THSM_BOOT_BAD_MAGIC,      /* not "SECUREBOOT10" */
    THSM_BOOT_FIELD_NO_NUL,   /* a text field without its NUL in 16 bytes */
    THSM_BOOT_BAD_PADDING,    /* a header byte after a field's NUL is not 0xFF */
    THSM_BOOT_SIZE_FORMAT,    /* SIZE is not a plain decimal number */
    THSM_BOOT_SIZE_ALIGN,     /* SIZE is not a multiple of 512 */
    THSM_BOOT_SIZE_SMALL,     /* SIZE is below 1024: no firmware */
    THSM_BOOT_BOARD_FORMAT,   /* board name empty or not printable ASCII */
    THSM_BOOT_VERSION_FORMAT, /* version is not MAJOR.MINOR.BUILD */
    THSM_BOOT_TRUNCATED,      /* fewer bytes than SIZE + 64 */
    THSM_BOOT_TRAILING,       /* bytes after the signature (exact files) */
    THSM_BOOT_BOARD_MISMATCH, /* built for another board */
    THSM_BOOT_TOO_BIG,        /* SIZE over the board's maximum */
    THSM_BOOT_VERSION_ZERO,   /* version 0.0.0 */
    THSM_BOOT_BAD_KEY,        /* public key is not a P-256 point */
    THSM_BOOT_SIG_RANGE,      /* r or s is 0 or not below the group order */
    THSM_BOOT_BAD_SIGNATURE,  /* the signature does not verify */
    THSM_BOOT_DOWNGRADE,      /* update older than the installed image */
    THSM_BOOT_SAME_VERSION,   /* update equal to the installed image */
    THSM_BOOT_UPDATE_BOARD,   /* update for another board than installed */
    THSM_BOOT_CRYPTO,         /* the crypto layer failed */
    THSM_BOOT_TAIL_NOT_ERASED, /* flash dump: a byte after the signature is not 0xFF */
    THSM_BOOT_RESULT_COUNT
} thsm_boot_result;

typedef struct {
    uint32_t major, minor, build;
} thsm_boot_version;

typedef struct {
    uint32_t size;                      /* signed bytes, header included */
    char board[THSM_BOOT_FIELD_LEN];    /* NUL-terminated */
    char version_text[THSM_BOOT_FIELD_LEN];
    thsm_boot_version version;
} thsm_boot_header;

typedef struct {
    const char *name;  /* as written in the header */
    uint32_t max_size; /* largest SIZE the board's slot holds */
} thsm_boot_board;

/* A short English description of a result. */
const char *thsm_boot_strerror(int result);

/* Parses "MAJOR.MINOR.BUILD": decimal numbers without sign or leading zeros
 * (0 itself is fine), each fitting 32 bits, at most 15 characters. */
int thsm_boot_parse_version(const char *text, thsm_boot_version *v);

/* -1, 0 or 1 as a is older than, equal to or newer than b. */
int thsm_boot_version_cmp(const thsm_boot_version *a, const thsm_boot_version *b);

/* Parses and checks the header's fields (magic, padding, SIZE, board,
 * version syntax). img must hold len bytes. SIZE may end with one NUL or
 * with two (the reference script's form); every other field with one. */
int thsm_boot_parse_header(const uint8_t *img, size_t len, thsm_boot_header *h);

/* The image holds SIZE + 64 bytes; with exact set (a file), nothing more. */
int thsm_boot_check_layout(const thsm_boot_header *h, size_t len, int exact);

/* A flash dump: every byte after the signature (up to len) is erased flash,
 * 0xFF. Needs a checked layout. */
int thsm_boot_check_erased_tail(const uint8_t *img, const thsm_boot_header *h,
                                size_t len);

/* Same board name, and SIZE within the board's maximum. */
int thsm_boot_check_board(const thsm_boot_header *h, const thsm_boot_board *b);

/* Version greater than 0.0.0. */
int thsm_boot_check_version(const thsm_boot_header *h);

/* Signature at offset SIZE over bytes [0, SIZE) with the public key
 * 0x04 || Qx || Qy. Needs a checked layout. */
int thsm_boot_check_signature(const uint8_t *img, const thsm_boot_header *h,
                              const uint8_t pub[65]);

/* Builds 0x04 || qx || qy, the form the other functions take. */
void thsm_boot_pub_from_xy(const uint8_t qx[32], const uint8_t qy[32],
                           uint8_t pub[65]);

/* Everything above, in order; fills h when the header parses. */
int thsm_boot_verify(const uint8_t *img, size_t len, int exact,
                     const thsm_boot_board *b, const uint8_t pub[65],
                     thsm_boot_header *h);

/* May update replace installed? Same board and strictly newer version.
 * (The update must also pass thsm_boot_verify on its own.) */
int thsm_boot_check_update(const thsm_boot_header *installed,
                           const thsm_boot_header *update);

#endif
