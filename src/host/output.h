/*
 * output.h - where a host command's output files go, decided and prepared
 * before anything is written, then delivered all or nothing.
 *
 * "-" is standard output. An existing FIFO or character device is written
 * directly (it cannot be replaced, and must not be); so is a symlink to one,
 * such as /dev/stdout or /proc/self/fd/N on a pipe. Any other symlink is
 * followed to its target, which must exist; the link itself stays.
 * As the kernel's protected_symlinks rule, but in every directory: a
 * symlink on the way (the name's or a directory's) must belong to the
 * user or root, and so must a FIFO or device written to (standard output
 * aside); another user's is refused. A
 * regular file, or a name that does not exist yet, is replaced atomically
 * (image.h). Anything else (a directory, a socket, a block device) is
 * refused.
 *
 * The name is walked one component at a time from descriptors, and the
 * directory reached is held from resolve to delivery: everything after the
 * check (the temporary, the rename, reading the file replaced) happens in
 * that directory, even when a directory on the way is swapped meanwhile.
 */
#ifndef THSM_OUTPUT_H
#define THSM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "host/image.h"

typedef enum { THSM_OUT_FILE, THSM_OUT_DIRECT, THSM_OUT_STDOUT } thsm_out_kind;

typedef struct {
    thsm_out_kind kind;
    const char *name;   /* as the user gave it */
    char path[4096];    /* for messages: a followed symlink's target */
    int dir;            /* FILE and DIRECT: the directory, held; else -1 */
    char base[NAME_MAX + 1]; /* the name in dir */
    dev_t dir_dev;      /* of dir, to find duplicates */
    ino_t dir_ino;
    dev_t dev;          /* of an existing file, else 0 */
    ino_t ino;
    bool exists;        /* a regular file is there now */
    bool chr;           /* a character device: may be named twice */
    bool is_stdout;     /* the file on standard output, by any name */
    int fd;             /* DIRECT (once prepared) and STDOUT: written here */
    thsm_atomic_file f; /* THSM_OUT_FILE: the temporary */
} thsm_output;

/* What a DIRECT or STDOUT output receives: up to 4 pieces. */
typedef struct {
    const void *part[4];
    size_t len[4];
    size_t n;
} thsm_output_data;

/* Decides how name is written (see above). 0, or -1 with the reason.
 * From then on the output holds a descriptor: thsm_output_deliver or
 * thsm_output_abort releases it. */
int thsm_output_resolve(thsm_output *o, const char *name, char *err, size_t cap);

/* Whether a and b end up in the same file (character devices never do). */
bool thsm_output_same(const thsm_output *a, const thsm_output *b);

/* Whether o would overwrite the input file path (which exists). */
bool thsm_output_is_input(const thsm_output *o, const char *path);

/* Before the work that produces the data: creates a regular file's
 * temporary (so that an unwritable directory is found now), opens a FIFO
 * or device without blocking ("no reader on FIFO X" when a FIFO has
 * none). 0, or -1 with the reason (o released). */
int thsm_output_prepare(thsm_output *o, char *err, size_t cap);

/* Delivers n outputs: FIFOs, devices and standard output first, written
 * from data[i] (a program that ignores SIGPIPE gets a reader that went
 * away as an error here, not its death); only when all of them are complete, the regular files
 * (whose temporaries the caller has filled) are fsync'ed and renamed.
 * SIGPIPE is ignored: a closed pipe is an error like any other. On
 * failure nothing more is written, every temporary is removed, and err
 * names the failure, what was written and what was not. Releases the
 * outputs either way. */
int thsm_output_deliver(thsm_output *out, const thsm_output_data *data,
                        size_t n, char *err, size_t cap);

/* Removes the temporaries of prepared regular files and closes what the
 * outputs hold; at any time after resolve, and more than once. */
void thsm_output_abort(thsm_output *out, size_t n);

/* For thsm_output_deliver's variants: aborts the n outputs and appends to
 * err "; written: a, b; not written: c" (done[i]: 1 written, 0 not, -1
 * in part, named in neither). Returns -1. */
int thsm_output_failed(thsm_output *out, const int *done, size_t n,
                       char *err, size_t cap);

/* The regular file a FILE output would replace now, opened to read through
 * the directory held (never through a symlink): a descriptor, or -1 with
 * errno (ENOENT when there is none, or no regular file). */
int thsm_output_open_existing(const thsm_output *o);

#endif
