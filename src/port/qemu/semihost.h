/*
 * semihost.h - ARM semihosting calls (QEMU -semihosting-config target=native).
 *
 * EMULATOR STAND-IN: a board has no host to ask. The QEMU port uses these
 * calls where a board would use its flash controller, TRNG, RTC and
 * hardware unique key. Names are relative to QEMU's working directory, which
 * tinyhsmd-qemu sets to the state directory.
 */
#ifndef THSM_SEMIHOST_H
#define THSM_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* Modes of SYS_OPEN (ISO C fopen modes in the ARM numbering). */
#define SH_MODE_RB 1   /* read, binary */
#define SH_MODE_RPB 3  /* read and write an existing file, binary */
#define SH_MODE_WB 5   /* create or truncate, write, binary */
#define SH_MODE_WPB 7  /* create or truncate, read and write, binary */

/* A host file handle, or -1. */
int sh_open(const char *name, int mode);
int sh_close(int fd);
/* 0 when all len bytes moved, else -1. */
int sh_write(int fd, const void *buf, size_t len);
int sh_read(int fd, void *buf, size_t len);
int sh_seek(int fd, uint32_t pos);
/* Removes a host file (an open handle keeps reading it). */
int sh_remove(const char *name);
/* File length, or -1. */
long sh_flen(int fd);
/* Host wall clock, seconds since 1970-01-01 UTC. */
int64_t sh_time(void);
/* The emulator's command line for the program (QEMU: the kernel's path,
 * then -append's text), NUL-terminated. 0, or -1. */
int sh_cmdline(char *buf, size_t cap);
/* Ends the program (QEMU exits with code). */
void sh_exit(int code) __attribute__((noreturn));

#endif
