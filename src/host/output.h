/*
 * output.h - where a host command's output file goes, decided before
 * anything is written.
 *
 * "-" is standard output. An existing FIFO or character device is written
 * directly (it cannot be replaced, and must not be). A symlink is followed
 * to its target, which must exist; the link itself stays. A regular file,
 * or a name that does not exist yet, is replaced atomically (image.h).
 * Anything else (a directory, a socket, a block device) is refused.
 */
#ifndef THSM_OUTPUT_H
#define THSM_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

#include "host/image.h"

typedef enum { THSM_OUT_FILE, THSM_OUT_DIRECT, THSM_OUT_STDOUT } thsm_out_kind;

typedef struct {
    thsm_out_kind kind;
    const char *name;   /* as the user gave it */
    char path[4096];    /* what is written: a symlink's target */
    char canon[4096];   /* canonical directory + name, to find duplicates */
    dev_t dev;          /* of an existing file, else 0 */
    ino_t ino;
    int exists;         /* a regular file is there now */
    thsm_atomic_file f; /* THSM_OUT_FILE: the temporary */
} thsm_output;

/* Decides how name is written (see above). 0, or -1 with the reason. */
int thsm_output_resolve(thsm_output *o, const char *name, char *err, size_t cap);

/* 1 when a and b end up in the same file. */
int thsm_output_same(const thsm_output *a, const thsm_output *b);

/* Writes len bytes to a DIRECT or STDOUT output. 0 or -1 with the reason. */
int thsm_output_write_direct(const thsm_output *o, const void *const *parts,
                             const size_t *lens, size_t n, char *err,
                             size_t cap);

#endif
