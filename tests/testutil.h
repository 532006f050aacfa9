/*
 * testutil.h - helpers shared by the tests: temporary directories, a real
 * tinyhsmd started on a pty, running commands.
 */
#ifndef THSM_TESTUTIL_H
#define THSM_TESTUTIL_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    char state_dir[512]; /* the --state directory */
    char link[512];      /* the --link symlink, pointing at the pty */
    char pty[256];       /* the pty path printed by tinyhsmd */
} thsm_test_daemon;

/* Makes a fresh temporary directory (mkdtemp) under $TMPDIR; aborts on failure. */
void thsm_test_tmpdir(char *out, size_t cap);

/* Removes a directory tree. */
void thsm_test_rmtree(const char *path);

/* Starts $THSM_BIN/tinyhsmd --state state_dir --link <tmp>/tty and waits for
 * its first stdout line. extra_args (NULL-terminated, may be NULL) are
 * appended. Returns 0, or -1 when it did not start (e.g. bad state). The
 * daemon is killed when the thread that started it ends (PR_SET_PDEATHSIG),
 * so a test that dies leaves no daemon behind to hold ctest's pipe. */
int thsm_test_daemon_start(thsm_test_daemon *d, const char *state_dir,
                           const char *const *extra_args);

/* The same for another program in $THSM_BIN (e.g. tinyhsmd-qemu). */
int thsm_test_device_start(thsm_test_daemon *d, const char *program,
                           const char *state_dir, const char *const *extra_args);

/* SIGTERM, then waits; returns its exit status (or -1). */
int thsm_test_daemon_stop(thsm_test_daemon *d);

/* SIGKILL, then waits. */
void thsm_test_daemon_kill(thsm_test_daemon *d);

/* Path of a built program: $THSM_BIN/name. */
const char *thsm_test_bin(const char *name);

/* Runs a shell command, capturing stdout+stderr into out (NUL-terminated,
 * truncated to cap). Returns the exit status, or -1. */
int thsm_test_run(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads a whole file into a malloc'ed buffer; NULL when missing. */
unsigned char *thsm_test_read_file(const char *path, size_t *len);

/* Writes a file; aborts on failure. */
void thsm_test_write_file(const char *path, const void *data, size_t len);

#endif
