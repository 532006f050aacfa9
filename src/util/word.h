/*
 * word.h - a name from outside (an image header, a host's NAME=) as one
 * word of an answer or an audit record, whose fields split at spaces,
 * commas and colons.
 */
#ifndef THSM_UTIL_WORD_H
#define THSM_UTIL_WORD_H

#include <stddef.h>

/* Copies s to out (cap bytes, NUL included); every byte that is not
 * printable ASCII, or is a space, ',' or ':', becomes '?'. */
void thsm_word_of(const char *s, char *out, size_t cap);

#endif
