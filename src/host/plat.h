/*
 * plat.h - what differs between the operating systems the host tool runs on,
 * for the CLI and the host library: plat_posix.c (Linux) or plat_win32.c
 * (tinyhsm.exe, win/), chosen by the build. The serial port, the outputs and
 * board discovery have their own *_win32.c variants of the host files.
 */
#ifndef THSM_HOST_PLAT_H
#define THSM_HOST_PLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

/* Process setup, first thing in main: no core dumps and SIGPIPE ignored
 * (POSIX); argv as UTF-8 and binary standard streams (Windows). */
void thsm_plat_init(int *argc, char ***argv);

/* Whether a file changed (size or modification time) between two stats. */
bool thsm_plat_stat_changed(const struct stat *a, const struct stat *b);

/* Shows prompt on the terminal and reads a line without echo. 0: a line;
 * -1: no terminal or end of input. The interrupt key restores the echo and
 * then raises SIGINT. */
int thsm_plat_prompt_secret(const char *prompt, char *out, size_t cap);

/* Whether users other than the owner may read or write the open file f
 * (path names it): true with the rest of a sentence "the PIN file PATH ..."
 * in why; false when private or when the system cannot tell. */
bool thsm_plat_file_shared(FILE *f, const char *path, char *why, size_t cap);

/* A whole regular, non-empty file read-only in memory; NULL with the reason
 * in why. Release with thsm_plat_unmap. */
const uint8_t *thsm_plat_map_file(const char *path, size_t *len, char *why,
                                  size_t cap);
void thsm_plat_unmap(const uint8_t *p, size_t len);

/* What to do when no port was given and no device answers. */
const char *thsm_plat_no_device_hint(void);

#endif
