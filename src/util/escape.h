/*
 * escape.h - device text made safe for a terminal.
 * Text that comes from a device (or a file) may carry escape sequences that
 * move the cursor, rewrite earlier lines or retitle the window. Print it
 * only through thsm_escape.
 */
#ifndef THSM_ESCAPE_H
#define THSM_ESCAPE_H

#include <stddef.h>

/* Room that thsm_escape needs for n input bytes, NUL included. */
#define THSM_ESCAPED_MAX(n) (4 * (n) + 1)

/* Copies in to out, with every byte outside printable ASCII (0x20-0x7e)
 * written as \xNN. When out is too small the text ends with "..." so a
 * cut is visible. Returns out. */
char *thsm_escape(const char *in, char *out, size_t cap);

#endif
