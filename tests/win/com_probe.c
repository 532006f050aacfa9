/*
 * com_probe.c - the raw serial path under Wine, without tinyhsm.exe (test
 * only; tests/win/win_com.sh cross-compiles it with mingw-w64).
 *
 * Opens the port (default COM1), sets 115200 8N1, writes AT+VERSION? and
 * prints the answer line. Exit 0 when a line came back, 1 otherwise.
 */
#include <windows.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "com_probe: %s failed (error %lu)\n", what, GetLastError());
    return 1;
}

int main(int argc, char **argv)
{
    const char *port = argc > 1 ? argv[1] : "COM1";
    HANDLE h = CreateFileA(port, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return fail("CreateFile");
    DCB dcb = {.DCBlength = sizeof(dcb)};
    if (!GetCommState(h, &dcb))
        return fail("GetCommState");
    dcb.BaudRate = CBR_115200;
    dcb.ByteSize = 8;
    dcb.Parity = NOPARITY;
    dcb.StopBits = ONESTOPBIT;
    dcb.fBinary = TRUE;
    if (!SetCommState(h, &dcb))
        return fail("SetCommState");
    COMMTIMEOUTS to = {.ReadIntervalTimeout = 0, .ReadTotalTimeoutConstant = 5000};
    if (!SetCommTimeouts(h, &to))
        return fail("SetCommTimeouts");
    const char req[] = "AT+VERSION?\r\n";
    DWORD n = 0;
    if (!WriteFile(h, req, sizeof(req) - 1, &n, NULL) || n != sizeof(req) - 1)
        return fail("WriteFile");
    char line[256];
    size_t len = 0;
    while (len < sizeof(line) - 1) { /* a byte at a time up to the newline */
        char c;
        if (!ReadFile(h, &c, 1, &n, NULL))
            return fail("ReadFile");
        if (n == 0)
            break; /* timeout */
        if (c == '\n')
            break;
        if (c != '\r')
            line[len++] = c;
    }
    line[len] = '\0';
    CloseHandle(h);
    printf("%s\n", line);
    return len > 0 ? 0 : 1;
}
