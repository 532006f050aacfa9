/* atomic_file_win32.c - output files written whole or not at all (image.h,
 * thsm_atomic_*) on Windows: a temporary beside the file, flushed, then
 * moved over it with MoveFileExW (replace, write through). f->path is the
 * whole path; f->tmp the suffix of the temporary's name; f->dir unused. */
#include "host/image.h"
#include "host/win32.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/util.h"
#include "util/hex.h"

#define MAX_TEMPS 8
static _Atomic(const thsm_atomic_file *) temps[MAX_TEMPS];

/* path + suffix as UTF-16 (free()), or NULL. */
static wchar_t *wide_name(const thsm_atomic_file *f, bool tmp)
{
    char both[sizeof(f->path) + sizeof(f->tmp)];
    snprintf(both, sizeof(both), "%s%s", f->path, tmp ? f->tmp : "");
    return thsm_w_from_utf8(both);
}

static void remove_temp(const thsm_atomic_file *f)
{
    wchar_t *w = wide_name(f, true);
    if (w)
        DeleteFileW(w);
    free(w);
}

/* Ctrl+C, Ctrl+Break, closing the console: the temporaries go first. */
static BOOL WINAPI on_ctrl(DWORD type)
{
    (void)type;
    for (size_t i = 0; i < MAX_TEMPS; i++) {
        const thsm_atomic_file *t = atomic_load(&temps[i]);
        if (t)
            remove_temp(t);
    }
    return FALSE; /* then the default: the process ends */
}

void thsm_atomic_cleanup_on_signals(void)
{
    SetConsoleCtrlHandler(on_ctrl, TRUE);
}

static void track_temp(const thsm_atomic_file *f, bool on)
{
    for (size_t i = 0; i < MAX_TEMPS; i++) {
        const thsm_atomic_file *want = on ? NULL : f;
        if (atomic_compare_exchange_strong(&temps[i], &want, on ? f : NULL))
            return;
    }
}

int thsm_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        int w = _write(fd, p, len > (1u << 30) ? (1u << 30) : (unsigned)len);
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int thsm_atomic_begin(thsm_atomic_file *f, const char *path, mode_t mode,
                      char *err, size_t cap)
{
    (void)mode; /* the new file inherits its directory's ACL */
    memset(f, 0, sizeof(*f));
    f->dir = f->fd = -1;
    if (strlen(path) >= sizeof(f->path)) {
        snprintf(err, cap, "cannot write %s: the path is too long", path);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s", path);
    for (int tries = 0; f->fd < 0 && tries < 16; tries++) {
        uint8_t rnd[6];
        char hex[13];
        if (thsm_random(rnd, sizeof(rnd)) != 0)
            break;
        thsm_hex(rnd, sizeof(rnd), hex);
        snprintf(f->tmp, sizeof(f->tmp), ".tinyhsm-%s.tmp", hex);
        wchar_t *w = wide_name(f, true);
        f->fd = w ? _wopen(w, _O_WRONLY | _O_CREAT | _O_EXCL | _O_BINARY,
                           _S_IREAD | _S_IWRITE)
                  : -1;
        free(w);
        if (f->fd < 0 && errno != EEXIST)
            break;
    }
    if (f->fd < 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    track_temp(f, true);
    return 0;
}

int thsm_atomic_begin_at(thsm_atomic_file *f, int dir, const char *name,
                         const char *path, mode_t mode, char *err, size_t cap)
{
    (void)dir;
    (void)name;
    return thsm_atomic_begin(f, path, mode, err, cap);
}

int thsm_atomic_write(thsm_atomic_file *f, const void *data, size_t len)
{
    return thsm_write_all(f->fd, data, len);
}

void thsm_atomic_start_writeback(thsm_atomic_file *f)
{
    (void)f;
}

int thsm_atomic_flush(thsm_atomic_file *f)
{
    return _commit(f->fd) == 0 ? 0 : -1;
}

int thsm_atomic_commit(thsm_atomic_file *f, char *err, size_t cap)
{
    char msg[256];
    int ok = _commit(f->fd) == 0;
    ok = _close(f->fd) == 0 && ok;
    f->fd = -1;
    wchar_t *from = wide_name(f, true), *to = wide_name(f, false);
    DWORD why = ERROR_OUTOFMEMORY;
    if (ok && from && to &&
        !MoveFileExW(from, to, MOVEFILE_REPLACE_EXISTING |
                                   MOVEFILE_WRITE_THROUGH))
        why = GetLastError();
    else if (ok && from && to)
        why = 0;
    free(from);
    free(to);
    if (why != 0) {
        snprintf(err, cap, "cannot write %s: %s", f->path,
                 ok ? thsm_w_strerror(why, msg, sizeof(msg)) : strerror(errno));
        thsm_atomic_abort(f);
        return -1;
    }
    track_temp(f, false);
    return 0;
}

void thsm_atomic_abort(thsm_atomic_file *f)
{
    if (f->fd >= 0)
        _close(f->fd);
    if (f->tmp[0])
        remove_temp(f);
    track_temp(f, false);
    f->fd = -1;
    f->tmp[0] = '\0';
}
