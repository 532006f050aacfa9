/*
 * win32.h - helpers of the src/host/..._win32.c files (tinyhsm.exe): paths
 * and messages between UTF-8 (what the library speaks) and UTF-16 (what
 * the *W calls of Windows take). Windows only.
 */
#ifndef THSM_HOST_WIN32_H
#define THSM_HOST_WIN32_H

#include <stddef.h>
#include <windows.h>

/* UTF-8 -> newly allocated UTF-16 (free()); NULL when invalid or no memory. */
wchar_t *thsm_w_from_utf8(const char *s);

/* UTF-16 -> UTF-8 in out; 0, or -1 when it does not fit. */
int thsm_w_to_utf8(const wchar_t *w, char *out, size_t cap);

/* The message of a Windows error code, UTF-8, without its line end. */
const char *thsm_w_strerror(DWORD code, char *buf, size_t cap);

#endif
