/*
 * at_port_win32.c - the AT client's line on Windows (host/at_port.h): a COM
 * port, 115200 8N1, no flow control, opened exclusively. "COM5" and
 * "\\.\COM12" both work (the prefix is added to a bare COMn). Reads poll a
 * port set to return at once (COMMTIMEOUTS all-MAXDWORD-interval): the
 * timeouts are ours, as on Linux, and do not depend on the driver's (or
 * Wine's) handling of read timeouts.
 */
#include "host/at_port.h"
#include "host/win32.h"
#include "proto/at.h"

#include <ctype.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAY(...) snprintf(err, err_cap, __VA_ARGS__)
#define POLL_MS 5

static HANDLE handle(const thsm_at *at)
{
    return (HANDLE)_get_osfhandle(at->fd);
}

/* "COM12" -> "\\.\COM12": names above COM9 need the device prefix. */
static void device_name(const char *port, char *out, size_t cap)
{
    int com = (port[0] == 'C' || port[0] == 'c') &&
              (port[1] == 'O' || port[1] == 'o') &&
              (port[2] == 'M' || port[2] == 'm') && isdigit((unsigned char)port[3]);
    for (const char *p = port + 3; com && *p; p++)
        com = isdigit((unsigned char)*p);
    snprintf(out, cap, "%s%s", com ? "\\\\.\\" : "", port);
}

static int configure(HANDLE h)
{
    DCB dcb = {.DCBlength = sizeof(DCB)};
    COMMTIMEOUTS to = {.ReadIntervalTimeout = MAXDWORD,
                       .WriteTotalTimeoutConstant = THSM_AT_TIMEOUT_MS};
    if (!GetCommState(h, &dcb))
        return -1;
    dcb.BaudRate = CBR_115200;
    dcb.ByteSize = 8;
    dcb.Parity = NOPARITY;
    dcb.StopBits = ONESTOPBIT;
    dcb.fBinary = TRUE;
    dcb.fParity = FALSE;
    dcb.fOutxCtsFlow = dcb.fOutxDsrFlow = FALSE;
    dcb.fDtrControl = DTR_CONTROL_ENABLE;
    dcb.fRtsControl = RTS_CONTROL_ENABLE;
    dcb.fDsrSensitivity = FALSE;
    dcb.fOutX = dcb.fInX = FALSE;
    dcb.fNull = FALSE;
    dcb.fAbortOnError = FALSE;
    if (!SetCommState(h, &dcb) || !SetCommTimeouts(h, &to))
        return -1;
    PurgeComm(h, PURGE_RXCLEAR | PURGE_TXCLEAR); /* an earlier client's */
    return 0;
}

int thsm_at_port_open(thsm_at *at, const char *port, char *err, size_t err_cap)
{
    char dev[600], msg[256];
    device_name(port, dev, sizeof(dev));
    wchar_t *w = thsm_w_from_utf8(dev);
    HANDLE h = w ? CreateFileW(w, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                               OPEN_EXISTING, 0, NULL)
                 : INVALID_HANDLE_VALUE;
    DWORD why = w ? GetLastError() : ERROR_INVALID_NAME;
    DWORD attr = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
    free(w);
    if (h == INVALID_HANDLE_VALUE && attr != INVALID_FILE_ATTRIBUTES &&
        (attr & FILE_ATTRIBUTE_DIRECTORY)) {
        SAY("%s is not a serial port", port);
        return THSM_AT_ERR_OPEN;
    }
    if (h == INVALID_HANDLE_VALUE && (why == ERROR_ACCESS_DENIED ||
                                      why == ERROR_SHARING_VIOLATION)) {
        SAY("port %s is busy: another program has it open", port);
        return THSM_AT_ERR_BUSY;
    }
    if (h == INVALID_HANDLE_VALUE) {
        SAY("cannot open port %s: %s", port,
            why == ERROR_FILE_NOT_FOUND || why == ERROR_PATH_NOT_FOUND
                ? "no such port (is the board plugged in? see Device Manager, "
                  "Ports (COM & LPT))"
                : thsm_w_strerror(why, msg, sizeof(msg)));
        return THSM_AT_ERR_OPEN;
    }
    if (GetFileType(h) != FILE_TYPE_CHAR || configure(h) != 0) {
        SAY("%s is not a serial port", port);
        CloseHandle(h);
        return THSM_AT_ERR_OPEN;
    }
    at->fd = _open_osfhandle((intptr_t)h, 0);
    if (at->fd < 0) {
        CloseHandle(h);
        SAY("cannot open port %s: out of descriptors", port);
        return THSM_AT_ERR_OPEN;
    }
    return THSM_AT_OK;
}

void thsm_at_port_drop(thsm_at *at)
{
    _close(at->fd); /* closes the handle too */
    at->fd = -1;
}

/* Bytes now waiting, without blocking: >0, 0, or THSM_AT_ERR_IO. */
static int read_now(thsm_at *at, char *buf, size_t cap)
{
    DWORD got = 0;
    if (!ReadFile(handle(at), buf, cap > 65536 ? 65536 : (DWORD)cap, &got,
                  NULL))
        return THSM_AT_ERR_IO; /* the board was unplugged */
    return (int)got;
}

int thsm_at_port_read(thsm_at *at, int ms)
{
    ULONGLONG end = GetTickCount64() + (ULONGLONG)(ms > 0 ? ms : 0);
    for (;;) {
        size_t room = sizeof(at->pending) - at->pending_len;
        if (room == 0)
            return THSM_AT_ERR_TOO_BIG;
        int n = read_now(at, at->pending + at->pending_len, room);
        if (n > 0)
            at->pending_len += (size_t)n;
        ULONGLONG now = GetTickCount64();
        if (n != 0 || now >= end)
            return n;
        Sleep(end - now < POLL_MS ? (DWORD)(end - now) : POLL_MS);
    }
}

int thsm_at_port_write(thsm_at *at, const char *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        DWORD w = 0;
        if (!WriteFile(handle(at), data + off, (DWORD)(len - off), &w, NULL))
            return THSM_AT_ERR_IO;
        if (w == 0)
            return THSM_AT_ERR_TIMEOUT; /* WriteTotalTimeoutConstant */
        off += w;
    }
    return THSM_AT_OK;
}

/* As on a Linux tty: whatever arrived since the last response is dropped. */
int thsm_at_port_drain(thsm_at *at)
{
    char junk[256];
    for (int i = 0; i < 64 && read_now(at, junk, sizeof(junk)) > 0; i++)
        ;
    SecureZeroMemory(junk, sizeof(junk));
    PurgeComm(handle(at), PURGE_RXCLEAR);
    explicit_bzero(at->pending, at->pending_len);
    at->pending_len = 0;
    return THSM_AT_OK;
}

/* A raw UART tells the device nothing when we close it: end our login
 * ourselves and wait briefly for the answer. Failures are ignored. */
static void logout(thsm_at *at)
{
    static const char req[] = THSM_CMD_LOGOUT "\r\n";
    if (thsm_at_port_write(at, req, sizeof(req) - 1) != THSM_AT_OK)
        return;
    at->pending_len = 0;
    while (thsm_at_port_read(at, THSM_AT_IDLE_MS) > 0) {
        at->pending[at->pending_len < sizeof(at->pending)
                        ? at->pending_len : sizeof(at->pending) - 1] = '\0';
        if (at->pending_len >= sizeof(at->pending) - 1 ||
            strstr(at->pending, "\r\n\r\n"))
            return; /* the status line and the empty line that ends it */
    }
}

void thsm_at_port_close(thsm_at *at)
{
    if (at->fd >= 0) {
        logout(at);
        thsm_at_port_drop(at);
    }
    at->via_socket = false;
    explicit_bzero(at->pending, sizeof(at->pending));
    at->pending_len = 0;
}
