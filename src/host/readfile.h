/* readfile.h - a whole small file into memory, with a size limit. */
#ifndef THSM_HOST_READFILE_H
#define THSM_HOST_READFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Reads f to its end into a malloc'ed buffer of *len bytes and a NUL after
 * them; closes f. NULL when reading fails (errno), memory runs out, or f
 * holds more than max bytes (*too_large set). */
uint8_t *thsm_read_all(FILE *f, size_t max, size_t *len, bool *too_large);

#endif
