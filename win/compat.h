/*
 * compat.h - included before every file of tinyhsm.exe (win/CMakeLists.txt):
 * the few POSIX names mingw-w64 lacks that mean nothing on Windows (flags of
 * open() with no Windows counterpart, user ids). What behaves differently
 * lives behind src/host/plat.h and the src/host/..._win32.c files instead.
 */
#ifndef THSM_WIN_COMPAT_H
#define THSM_WIN_COMPAT_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

/* mingw-w64's printf family is C99 (%zu, %lld): check formats that way */
#define THSM_PRINTF_FMT gnu_printf

#ifndef NAME_MAX
#define NAME_MAX 255
#endif
/* No inheritance into children (we start none), no symlinks followed
 * silently by CreateFile on plain files, no non-blocking opens of files. */
#define O_CLOEXEC 0
#define O_NOFOLLOW 0
#define O_NONBLOCK 0
#define O_NOCTTY 0

/* Windows has no numeric user ids: ownership checks are ACL checks there. */
typedef unsigned int uid_t;
static inline uid_t getuid(void) { return 0; }
static inline uid_t geteuid(void) { return 0; }

/* No symbolic links to tell apart in the places the tool looks. */
#include <sys/stat.h>
static inline int lstat(const char *path, struct stat *st)
{
    return stat(path, st);
}

static inline struct tm *gmtime_r(const time_t *t, struct tm *out)
{
    return gmtime_s(out, t) == 0 ? out : NULL;
}

void thsm_plat_wipe(void *p, size_t len); /* src/host/plat_win32.c */
#define explicit_bzero thsm_plat_wipe

#endif
