/*
 * board_qemu.c - the rest of the board interface on QEMU: storage, entropy
 * and the measurement file, the latter two through semihosting stand-ins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port/board.h"
#include "port/qemu/port_qemu.h"
#include "port/qemu/semihost.h"

#define SEED_FILE "seed.bin"
#define REPORT_FILE "fw-stats.txt"
#define STDERR_FILE "fw-stderr.txt"

int board_port_open(thsm_port *port, char *why, size_t cap)
{
    return thsm_qemu_port_open(port, why, cap);
}

/* EMULATOR STAND-IN for a TRNG: tinyhsmd-qemu writes fresh random bytes to
 * seed.bin before each start. The firmware removes the name at once, so no
 * later boot can read the same bytes; when they run out, it fails rather
 * than repeat them. A board reads its TRNG here. */
int board_entropy(uint8_t *buf, size_t len)
{
    static int fd = -2;
    if (fd == -2) {
        fd = sh_open(SEED_FILE, SH_MODE_RB);
        if (fd >= 0 && sh_remove(SEED_FILE) != 0) {
            sh_close(fd);
            fd = -1;
        }
    }
    return fd >= 0 && sh_read(fd, buf, len) == 0 ? 0 : -1;
}

/* EMULATOR: tinyhsmd-qemu --idle-logout passes "idle_logout=N" as the
 * program's command line, so tests need no second firmware build. */
uint32_t board_idle_logout_s(void)
{
    static uint32_t secs;
    char line[64];
    const char *v;
    if (!secs) {
        secs = BOARD_IDLE_LOGOUT_S;
        if (sh_cmdline(line, sizeof(line)) == 0 &&
            (v = strstr(line, "idle_logout=")) != NULL &&
            strtoul(v + 12, NULL, 10) > 0)
            secs = (uint32_t)strtoul(v + 12, NULL, 10);
    }
    return secs;
}

void board_report(const char *text)
{
    int fd = sh_open(REPORT_FILE, SH_MODE_WB);
    if (fd >= 0) {
        sh_write(fd, text, strlen(text));
        sh_close(fd);
    }
}

/* The C library's stderr (mbedTLS reports pool corruption there) goes to a
 * file in the state directory, never to the UART, which carries AT. */
static int stderr_put(char c, FILE *f)
{
    static int fd = -2;
    (void)f;
    if (fd == -2)
        fd = sh_open(STDERR_FILE, SH_MODE_WB);
    return fd >= 0 && sh_write(fd, &c, 1) == 0 ? (unsigned char)c : EOF;
}

static FILE stderr_file = FDEV_SETUP_STREAM(stderr_put, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stderr = &stderr_file;
