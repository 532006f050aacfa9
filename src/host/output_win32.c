/* output_win32.c - the outputs of sign and cert (output.h) on Windows:
 * regular files through atomic_file_win32.c, devices such as NUL written
 * directly, "-" standard output. Windows holds no directory open for us:
 * the path (made absolute at resolve) is what later steps use. */
#include "host/output.h"
#include "host/win32.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The absolute path of name, UTF-8, in out. */
static int full_path(const char *name, char *out, size_t cap)
{
    wchar_t *w = thsm_w_from_utf8(name), full[4096];
    DWORD n = w ? GetFullPathNameW(w, 4096, full, NULL) : 0;
    free(w);
    return n > 0 && n < 4096 ? thsm_w_to_utf8(full, out, cap) : -1;
}

/* Volume and file index of an existing file: its identity. */
static bool file_id(const char *path, dev_t *dev, ino_t *ino, bool *chr)
{
    wchar_t *w = thsm_w_from_utf8(path);
    HANDLE h = w ? CreateFileW(w, 0, FILE_SHARE_READ | FILE_SHARE_WRITE |
                                         FILE_SHARE_DELETE, NULL,
                               OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL)
                 : INVALID_HANDLE_VALUE;
    free(w);
    BY_HANDLE_FILE_INFORMATION info;
    bool ok = h != INVALID_HANDLE_VALUE;
    *chr = ok && GetFileType(h) == FILE_TYPE_CHAR;
    ok = ok && !*chr && GetFileInformationByHandle(h, &info);
    if (ok) {
        *dev = (dev_t)info.dwVolumeSerialNumber;
        *ino = (ino_t)(((uint64_t)info.nFileIndexHigh << 32) |
                       info.nFileIndexLow);
    }
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    return ok;
}

static int directory_missing(const thsm_output *o, char *err, size_t cap)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", o->path);
    char *end = strrchr(dir, '\\');
    if (end && end > dir && end[-1] != ':')
        *end = '\0';
    else if (end)
        end[1] = '\0';
    wchar_t *w = thsm_w_from_utf8(dir);
    DWORD attr = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
    free(w);
    if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY))
        return 0;
    snprintf(err, cap, "cannot write %s: directory %s does not exist; create "
             "it first (mkdir \"%s\")", o->name, dir, dir);
    return -1;
}

int thsm_output_resolve(thsm_output *o, const char *name, char *err, size_t cap)
{
    memset(o, 0, sizeof(*o));
    o->name = name;
    o->kind = THSM_OUT_FILE;
    o->f.fd = o->f.dir = o->fd = o->dir = -1;
    if (strcmp(name, "-") == 0) {
        o->kind = THSM_OUT_STDOUT;
        o->is_stdout = true;
        o->fd = 1;
        return 0;
    }
    if (full_path(name, o->path, sizeof(o->path)) != 0) {
        snprintf(err, cap, "cannot write %s: not a valid path", name);
        return -1;
    }
    wchar_t *w = thsm_w_from_utf8(o->path);
    DWORD attr = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
    free(w);
    if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY)) {
        snprintf(err, cap, "cannot write %s: it is a directory, not a file",
                 name);
        return -1;
    }
    o->exists = file_id(o->path, &o->dev, &o->ino, &o->chr);
    if (o->chr)
        o->kind = THSM_OUT_DIRECT; /* NUL, CON, COM1: no temporary there */
    return o->chr ? 0 : directory_missing(o, err, cap);
}

bool thsm_output_same(const thsm_output *a, const thsm_output *b)
{
    if (a->kind == THSM_OUT_STDOUT || b->kind == THSM_OUT_STDOUT)
        return a->kind == b->kind;
    if (a->chr || b->chr)
        return false; /* NUL may be named twice */
    if (a->exists && b->exists)
        return a->dev == b->dev && a->ino == b->ino;
    return _stricmp(a->path, b->path) == 0; /* NTFS ignores case */
}

bool thsm_output_is_input(const thsm_output *o, const char *path)
{
    thsm_output in;
    char err[64];
    return o->kind == THSM_OUT_FILE &&
           thsm_output_resolve(&in, path, err, sizeof(err)) == 0 &&
           thsm_output_same(o, &in);
}

int thsm_output_prepare(thsm_output *o, char *err, size_t cap)
{
    if (o->kind == THSM_OUT_FILE)
        return thsm_atomic_begin(&o->f, o->path, 0644, err, cap);
    if (o->kind == THSM_OUT_DIRECT) {
        wchar_t *w = thsm_w_from_utf8(o->path);
        o->fd = w ? _wopen(w, _O_WRONLY | _O_BINARY) : -1;
        free(w);
        if (o->fd < 0) {
            snprintf(err, cap, "cannot write %s: %s", o->name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int write_direct(thsm_output *o, const thsm_output_data *d, char *err,
                        size_t cap)
{
    int ok = o->fd >= 0;
    for (size_t i = 0; ok && i < d->n; i++)
        ok = thsm_write_all(o->fd, d->part[i], d->len[i]) == 0;
    if (o->kind == THSM_OUT_DIRECT && o->fd >= 0) {
        _close(o->fd);
        o->fd = -1;
    }
    if (!ok)
        snprintf(err, cap, "cannot write %s: %s", o->name, strerror(errno));
    return ok ? 0 : -1;
}

void thsm_output_abort(thsm_output *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == THSM_OUT_FILE)
            thsm_atomic_abort(&out[i].f);
        if (out[i].kind == THSM_OUT_DIRECT && out[i].fd >= 0) {
            _close(out[i].fd);
            out[i].fd = -1;
        }
    }
}

int thsm_output_deliver(thsm_output *out, const thsm_output_data *data,
                        size_t n, char *err, size_t cap)
{
    int done[8] = {0};
    if (n > sizeof(done) / sizeof(done[0]))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == THSM_OUT_FILE)
            continue;
        if (write_direct(&out[i], &data[i], err, cap) != 0) {
            done[i] = -1;
            return thsm_output_failed(out, done, n, err, cap);
        }
        done[i] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == THSM_OUT_FILE && thsm_atomic_flush(&out[i].f)) {
            snprintf(err, cap, "cannot write %s: %s", out[i].name,
                     strerror(errno));
            return thsm_output_failed(out, done, n, err, cap);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind != THSM_OUT_FILE)
            continue;
        if (thsm_atomic_commit(&out[i].f, err, cap) != 0) {
            done[i] = -1;
            return thsm_output_failed(out, done, n, err, cap);
        }
        done[i] = 1;
    }
    return 0;
}

int thsm_output_open_existing(const thsm_output *o)
{
    if (o->kind != THSM_OUT_FILE || !o->exists) {
        errno = ENOENT;
        return -1;
    }
    wchar_t *w = thsm_w_from_utf8(o->path);
    int fd = w ? _wopen(w, _O_RDONLY | _O_BINARY) : -1;
    free(w);
    return fd;
}
