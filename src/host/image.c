/* image.c - SECUREBOOT10 image building (see image.h); the output files
 * are atomic_file.c (atomic_file_win32.c on Windows). */
#include "host/image.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/*
 * Maximum image sizes. The first two are from IMAGE.md. The others use its
 * formulas (dual-bank FLASH/2 - 32 KiB - PAGE; single-bank
 * (FLASH - 2*PAGE - 32 KiB)/2) with flash/page sizes from the STM32
 * reference manuals: L4S5 2 MiB/4 KiB dual; G0B1 512 KiB/2 KiB dual;
 * H503 128 KiB/8 KiB dual; H563 2 MiB/8 KiB dual; U545 512 KiB/8 KiB dual;
 * U575 2 MiB/8 KiB dual; WB55 1 MiB/4 KiB single; L562 512 KiB/2 KiB dual.
 * When in doubt about a board's bootloader build, pass --max-size.
 *
 * Memory maps (reference manuals, non-secure aliases): every flash starts at
 * 0x08000000; RAM is the SRAM contiguous from 0x20000000: U585/U575 SRAM1-3
 * 768 KiB; G071 36 KiB; L4S5 SRAM1-3 640 KiB; G0B1 144 KiB; H503 32 KiB;
 * H563 SRAM1-3 640 KiB; U545 SRAM1-2 256 KiB; WB55 SRAM1+SRAM2a/b 256 KiB;
 * L562 SRAM1-2 256 KiB.
 */
#define FLASH 0x08000000u
#define SRAM 0x20000000u
#define KIB 1024u
static const thsm_board_info boards[] = {
    {"B-U585I-IOT02A", "STM32U585AI", 1007616, FLASH, SRAM, SRAM + 768 * KIB},
    {"NUCLEO-G071RB", "STM32G071RB", 47104, FLASH, SRAM, SRAM + 36 * KIB},
    {"B-L4S5I-IOT01A", "STM32L4S5VI", 1011712, FLASH, SRAM, SRAM + 640 * KIB},
    {"NUCLEO-G0B1RE", "STM32G0B1RE", 227328, FLASH, SRAM, SRAM + 144 * KIB},
    {"NUCLEO-H503RB", "STM32H503RB", 24576, FLASH, SRAM, SRAM + 32 * KIB},
    {"NUCLEO-H563ZI", "STM32H563ZI", 1007616, FLASH, SRAM, SRAM + 640 * KIB},
    {"NUCLEO-U545RE-Q", "STM32U545RE", 221184, FLASH, SRAM, SRAM + 256 * KIB},
    {"NUCLEO-U575ZI-Q", "STM32U575ZI", 1007616, FLASH, SRAM, SRAM + 768 * KIB},
    {"NUCLEO-WB55RG", "STM32WB55RG", 503808, FLASH, SRAM, SRAM + 256 * KIB},
    {"STM32L562E-DK", "STM32L562QE", 227328, FLASH, SRAM, SRAM + 256 * KIB},
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

const thsm_board_info *thsm_board_find_nocase(const char *name)
{
    for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
        if (strcasecmp(boards[i].name, name) == 0)
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

/* Why version is not MAJOR.MINOR.BUILD: the first rule it breaks. */
static const char *version_problem(const char *version)
{
    size_t n = strlen(version), parts = 1;
    if (n > THSM_BOOT_TEXT_MAX)
        return "it has more than 15 characters, the most the header holds";
    if (strspn(version, "0123456789.") != n)
        return "only digits and dots are allowed";
    for (const char *p = version; *p; p++)
        parts += *p == '.';
    if (parts != 3)
        return "it needs exactly three numbers, MAJOR.MINOR.BUILD";
    for (const char *p = version; *p;) {
        size_t len = strcspn(p, ".");
        if (len == 0 || (len > 1 && *p == '0'))
            return "each number needs a digit and no leading zero";
        if (len > 10 || strtoull(p, NULL, 10) > UINT32_MAX)
            return "each number is at most 4294967295";
        p += len + (p[len] == '.');
    }
    return "it is not MAJOR.MINOR.BUILD";
}

int thsm_version_check(const char *version, char *err, size_t cap)
{
    thsm_boot_version v;
    if (thsm_boot_parse_version(version, &v) != THSM_BOOT_OK) {
        snprintf(err, cap, "version '%.40s' is not MAJOR.MINOR.BUILD "
                 "(decimal numbers, no leading zeros, at most %d characters): "
                 "%s", version, THSM_BOOT_TEXT_MAX, version_problem(version));
        return -1;
    }
    return 0;
}

static const char *const version_names[3] = {
    "APP_VERSION_MAJOR", "APP_VERSION_MINOR", "APP_VERSION_BUILD"};

/* A plain decimal number: digits, no leading zero, at most 32 bits. */
static int plain_decimal(const char *v)
{
    size_t n = strlen(v);
    return n > 0 && n <= 10 && strspn(v, "0123456789") == n &&
           (n == 1 || v[0] != '0') && strtoull(v, NULL, 10) <= UINT32_MAX;
}

/* One line: when it defines one of the version names, records its value
 * (the last definition wins, as in the reference script). */
static int version_line(const char *line, unsigned lineno, const char *path,
                        char val[3][16], char *err, size_t cap)
{
    char nm[64], v[64] = "";
    if (sscanf(line, " # define %63s %63s", nm, v) < 1)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (strcmp(nm, version_names[i]) != 0)
            continue;
        if (!plain_decimal(v)) {
            snprintf(err, cap, "%s:%u: %s is '%.20s', not a plain decimal "
                     "number (no suffix, brackets or leading zeros)", path,
                     lineno, nm, v);
            return -1;
        }
        snprintf(val[i], 16, "%.10s", v); /* plain_decimal: <= 10 digits */
    }
    return 0;
}

int thsm_version_file_read(const char *path, char *out, size_t out_cap,
                           char *err, size_t cap)
{
    char line[1024], val[3][16] = {"", "", ""};
    unsigned lineno = 0;
    struct stat st;
    FILE *f = fopen(path, "r");
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(err, cap, "cannot open version file %s: %s", path,
                 strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, cap, "version file %s is a directory", path);
        fclose(f);
        return -1;
    }
    int rc = 0, fresh = 1; /* fresh: this chunk starts a line */
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        if (fresh)
            rc = version_line(line, ++lineno, path, val, err, cap);
        fresh = strchr(line, '\n') != NULL;
    }
    fclose(f);
    for (int i = 0; rc == 0 && i < 3; i++) {
        if (!val[i][0]) {
            snprintf(err, cap, "%s has no '#define %s <number>'", path,
                     version_names[i]);
            rc = -1;
        }
    }
    if (rc != 0)
        return -1;
    snprintf(out, out_cap, "%s.%s.%s", val[0], val[1], val[2]);
    return thsm_version_check(out, err, cap);
}

uint64_t thsm_image_signed_size(uint64_t fw_len)
{
    return THSM_BOOT_HEADER_LEN + (fw_len + 511) / 512 * 512;
}

/* text, nuls NUL bytes, then 0xFF up to width. */
/* A text line of hex digits after a one-character prefix of length skip. */
static int hex_line(const uint8_t *fw, size_t len, size_t skip)
{
    size_t i = skip;
    while (i < len && i < 600 && strchr("0123456789ABCDEFabcdef", fw[i]) && fw[i])
        i++;
    return i >= skip + 8 && (i == len || fw[i] == '\r' || fw[i] == '\n');
}

thsm_fw_kind thsm_firmware_kind(const uint8_t *fw, size_t len)
{
    if (len >= 4 && memcmp(fw, "\177ELF", 4) == 0)
        return THSM_FW_ELF;
    if (len >= sizeof(THSM_BOOT_MAGIC) &&
        memcmp(fw, THSM_BOOT_MAGIC, sizeof(THSM_BOOT_MAGIC)) == 0)
        return THSM_FW_IMAGE;
    if (len > 1 && fw[0] == ':' && hex_line(fw, len, 1))
        return THSM_FW_IHEX;
    if (len > 2 && fw[0] == 'S' && fw[1] >= '0' && fw[1] <= '9' &&
        hex_line(fw, len, 2))
        return THSM_FW_SREC;
    return THSM_FW_RAW;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

int thsm_vector_check(const uint8_t *fw, size_t len, const thsm_board_info *b,
                      char *err, size_t cap)
{
    uint32_t app = b->flash_base + THSM_APP_OFFSET;
    if (len < 8) {
        snprintf(err, cap, "firmware of %zu bytes has no vector table (initial "
                 "stack pointer and reset vector)", len);
        return -1;
    }
    uint32_t sp = le32(fw), reset = le32(fw + 4), entry = reset & ~1u;
    if (sp <= b->ram_start || sp > b->ram_end || sp % 4) {
        snprintf(err, cap, "initial stack pointer 0x%08lX is not in %s's RAM "
                 "(0x%08lX..0x%08lX): is this a raw binary linked for this "
                 "board?", (unsigned long)sp, b->name,
                 (unsigned long)b->ram_start, (unsigned long)b->ram_end);
        return -1;
    }
    if (!(reset & 1u) || entry < app || entry - app >= len) {
        snprintf(err, cap, "reset vector 0x%08lX is not a Thumb address inside "
                 "the firmware at 0x%08lX..0x%08lX: link the application at "
                 "0x%08lX (flash base + 0x8200) for the bootloader",
                 (unsigned long)reset, (unsigned long)app,
                 (unsigned long)(app + len), (unsigned long)app);
        return -1;
    }
    return 0;
}

static void put_field(uint8_t *at, size_t width, const char *text, size_t nuls)
{
    memset(at, 0xFF, width);
    memcpy(at, text, strlen(text));
    memset(at + strlen(text), 0, nuls);
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
    put_field(hdr, 16, THSM_BOOT_MAGIC, 1);
    put_field(hdr + 0x10, 16, size, 2); /* as the reference script writes it */
    put_field(hdr + 0x20, 16, board, 1);
    put_field(hdr + 0x30, THSM_BOOT_HEADER_LEN - 0x30, version, 1);
    return 0;
}
