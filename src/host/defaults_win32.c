/* defaults_win32.c - default places (defaults.h) on Windows: there is no
 * tinyhsmd and no run directory, so every default place is absent and the
 * tool goes on to board discovery (usb_boards_win32.c) or --port COMn. */
#include "host/defaults.h"

#include <stdio.h>
#include <stdlib.h>

int thsm_default_run_dir(char *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return -1;
}

int thsm_other_run_dir(char *buf, size_t cap)
{
    return thsm_default_run_dir(buf, cap);
}

/* Only TINYHSM_PORT: no daemon makes a default port on Windows. */
int thsm_default_port(char *buf, size_t cap, int *is_default)
{
    const char *v = getenv("TINYHSM_PORT");
    *is_default = 0;
    int n = v && *v ? snprintf(buf, cap, "%s", v) : -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int thsm_system_port(char *buf, size_t cap)
{
    return thsm_default_run_dir(buf, cap);
}

int thsm_check_private_dir(const char *dir, uid_t uid, char *err, size_t cap)
{
    (void)dir;
    (void)uid;
    (void)err;
    (void)cap;
    return 0;
}

int thsm_companion(const char *link, const char *suffix, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s%s", link, suffix);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}
