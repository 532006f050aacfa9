/* plat_win32.c - host/plat.h on Windows (tinyhsm.exe). */
#include "host/plat.h"
#include "host/win32.h"

#include <aclapi.h>
#include <conio.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

wchar_t *thsm_w_from_utf8(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof(wchar_t)) : NULL;
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

int thsm_w_to_utf8(const wchar_t *w, char *out, size_t cap)
{
    int n = cap > INT_MAX ? INT_MAX : (int)cap;
    return WideCharToMultiByte(CP_UTF8, 0, w, -1, out, n, NULL, NULL) > 0 ? 0
                                                                           : -1;
}

const char *thsm_w_strerror(DWORD code, char *buf, size_t cap)
{
    wchar_t msg[512];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM |
                                 FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0,
                             msg, 512, NULL);
    while (n > 0 && (msg[n - 1] == L'\n' || msg[n - 1] == L'\r' ||
                     msg[n - 1] == L'.'))
        msg[--n] = 0;
    if (n == 0 || thsm_w_to_utf8(msg, buf, cap) != 0)
        snprintf(buf, cap, "Windows error %lu", (unsigned long)code);
    return buf;
}

void thsm_plat_wipe(void *p, size_t len)
{
    SecureZeroMemory(p, len);
}

/* argv from the UTF-16 command line as UTF-8, whatever the code page: a
 * path with any name reaches fopen (UTF-8 through the manifest's code
 * page) intact. Kept for the life of the process. */
static void utf8_args(int *argc, char ***argv)
{
    int n = 0;
    wchar_t **w = CommandLineToArgvW(GetCommandLineW(), &n);
    char **a = w ? calloc((size_t)n + 1, sizeof(char *)) : NULL;
    for (int i = 0; a && i < n; i++) {
        int len = WideCharToMultiByte(CP_UTF8, 0, w[i], -1, NULL, 0, NULL, NULL);
        a[i] = len > 0 ? malloc((size_t)len) : NULL;
        if (!a[i] || thsm_w_to_utf8(w[i], a[i], (size_t)len) != 0)
            return; /* keep the C runtime's argv */
    }
    if (a) {
        *argc = n;
        *argv = a;
    }
    LocalFree(w);
}

void thsm_plat_init(int *argc, char ***argv)
{
    utf8_args(argc, argv);
    /* bytes as they are: no CRLF in images, PEM or SigGen.c */
    _fmode = _O_BINARY;
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    SetConsoleOutputCP(CP_UTF8);
    /* no "send error report" dialogs: a crash is an exit code */
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
}

bool thsm_plat_stat_changed(const struct stat *a, const struct stat *b)
{
    return a->st_size != b->st_size || a->st_mtime != b->st_mtime;
}

/* Reads a line from the console with echo off: 1 a line, 0 end of input,
 * -1 Ctrl+C. */
static int read_quiet_line(HANDLE in, char *out, size_t cap)
{
    wchar_t line[512];
    DWORD got = 0;
    /* line input without echo: the console edits, Enter ends */
    if (!ReadConsoleW(in, line, 511, &got, NULL))
        return -1;
    line[got] = 0;
    if (got == 0)
        return -1; /* Ctrl+C (held by ctrl_held) ends the read empty */
    line[wcscspn(line, L"\r\n")] = 0;
    if (line[0] == 0x1a)
        return 0; /* Ctrl+Z: end of input */
    int rc = thsm_w_to_utf8(line, out, cap) == 0 ? 1 : 0;
    SecureZeroMemory(line, sizeof(line));
    return rc;
}

/* While the echo is off, Ctrl+C only ends the read: the process stops after
 * the console mode is restored, not with the echo left off. */
static BOOL WINAPI ctrl_held(DWORD type)
{
    return type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT;
}

int thsm_plat_prompt_secret(const char *prompt, char *out, size_t cap)
{
    HANDLE in = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE,
                            FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                            OPEN_EXISTING, 0, NULL);
    HANDLE con = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                             OPEN_EXISTING, 0, NULL);
    DWORD old = 0, n;
    int got = -2;
    out[0] = '\0';
    if (in != INVALID_HANDLE_VALUE && con != INVALID_HANDLE_VALUE &&
        _isatty(_fileno(stdin)) && GetConsoleMode(in, &old)) {
        SetConsoleMode(in, (old | ENABLE_LINE_INPUT | ENABLE_PROCESSED_INPUT) &
                               ~(DWORD)ENABLE_ECHO_INPUT);
        WriteFile(con, prompt, (DWORD)strlen(prompt), &n, NULL);
        SetConsoleCtrlHandler(ctrl_held, TRUE);
        got = read_quiet_line(in, out, cap);
        SetConsoleMode(in, old);
        SetConsoleCtrlHandler(ctrl_held, FALSE);
        WriteFile(con, "\r\n", 2, &n, NULL);
    }
    if (in != INVALID_HANDLE_VALUE)
        CloseHandle(in);
    if (con != INVALID_HANDLE_VALUE)
        CloseHandle(con);
    if (got == -1) {
        SecureZeroMemory(out, cap);
        raise(SIGINT);
    }
    return got > 0 ? 0 : -1;
}

/* Whether an allow entry of the DACL gives read or write to a broad group:
 * Everyone, Authenticated Users, Users, or Guests. */
static const char *broad_reader(PACL dacl)
{
    static const WELL_KNOWN_SID_TYPE broad[] = {
        WinWorldSid, WinAuthenticatedUserSid, WinBuiltinUsersSid,
        WinBuiltinGuestsSid};
    static const char *const names[] = {"Everyone", "Authenticated Users",
                                        "Users", "Guests"};
    for (DWORD i = 0; dacl && i < dacl->AceCount; i++) {
        ACCESS_ALLOWED_ACE *ace;
        if (!GetAce(dacl, i, (void **)&ace) ||
            ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE ||
            !(ace->Mask & (FILE_READ_DATA | FILE_WRITE_DATA | GENERIC_READ |
                           GENERIC_WRITE | GENERIC_ALL)))
            continue;
        for (size_t k = 0; k < sizeof(broad) / sizeof(broad[0]); k++) {
            BYTE sid[SECURITY_MAX_SID_SIZE];
            DWORD len = sizeof(sid);
            if (CreateWellKnownSid(broad[k], NULL, sid, &len) &&
                EqualSid(sid, (PSID)&ace->SidStart))
                return names[k];
        }
    }
    return NULL;
}

bool thsm_plat_file_shared(FILE *f, const char *path, char *why, size_t cap)
{
    HANDLE h = (HANDLE)_get_osfhandle(_fileno(f));
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (h == INVALID_HANDLE_VALUE ||
        GetSecurityInfo(h, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL,
                        NULL, &dacl, NULL, &sd) != ERROR_SUCCESS)
        return false; /* cannot tell */
    const char *who = sd && !dacl ? "Everyone" /* no DACL: all access */
                                  : broad_reader(dacl);
    if (who)
        snprintf(why, cap, "can be read or written by other users (%s); make "
                 "it private: icacls \"%s\" /inheritance:r /grant:r "
                 "\"%%USERNAME%%\":F", who, path);
    LocalFree(sd);
    return who != NULL;
}

const uint8_t *thsm_plat_map_file(const char *path, size_t *len, char *why,
                                  size_t cap)
{
    char msg[256];
    wchar_t *w = thsm_w_from_utf8(path);
    HANDLE h = w ? CreateFileW(w, GENERIC_READ, FILE_SHARE_READ, NULL,
                               OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)
                 : INVALID_HANDLE_VALUE;
    DWORD attr = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
    free(w);
    LARGE_INTEGER size = {0};
    uint8_t *p = NULL;
    if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY))
        snprintf(why, cap, "%s is a directory, not an image", path);
    else if (h == INVALID_HANDLE_VALUE)
        snprintf(why, cap, "cannot open %s: %s", path,
                 thsm_w_strerror(GetLastError(), msg, sizeof(msg)));
    else if (GetFileType(h) != FILE_TYPE_DISK || !GetFileSizeEx(h, &size))
        snprintf(why, cap, "%s is not a regular file", path);
    else if (size.QuadPart == 0)
        snprintf(why, cap, "%s is empty", path);
    else if ((uint64_t)size.QuadPart > SIZE_MAX ||
             !(p = malloc((size_t)size.QuadPart)))
        snprintf(why, cap, "cannot read %s: too large", path);
    else {
        size_t at = 0;
        DWORD got = 1;
        while (at < (size_t)size.QuadPart && got > 0) {
            size_t want = (size_t)size.QuadPart - at;
            if (!ReadFile(h, p + at, want > (1u << 30) ? (1u << 30) : (DWORD)want,
                          &got, NULL))
                got = 0;
            at += got;
        }
        if (at != (size_t)size.QuadPart) {
            snprintf(why, cap, "cannot read %s: %s", path,
                     thsm_w_strerror(GetLastError(), msg, sizeof(msg)));
            free(p);
            p = NULL;
        } else
            *len = at;
    }
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    return p;
}

void thsm_plat_unmap(const uint8_t *p, size_t len)
{
    (void)len;
    free((void *)p);
}

const char *thsm_plat_no_device_hint(void)
{
    return "is the board plugged in (its ST-LINK USB port)? Device Manager "
           "lists its port under Ports (COM & LPT); give it with --port COM5 "
           "or TINYHSM_PORT";
}
