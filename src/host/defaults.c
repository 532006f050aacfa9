/* defaults.c - default port and state directory (see defaults.h). */
#include "host/defaults.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int set(char *buf, size_t cap, const char *fmt, const char *a)
{
    int n = snprintf(buf, cap, fmt, a);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int thsm_default_port(char *buf, size_t cap)
{
    if (env("TINYHSM_PORT"))
        return set(buf, cap, "%s", env("TINYHSM_PORT"));
    if (env("XDG_RUNTIME_DIR"))
        return set(buf, cap, "%s/tinyhsm", env("XDG_RUNTIME_DIR"));
    int n = snprintf(buf, cap, "/tmp/tinyhsm-%lu", (unsigned long)getuid());
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int thsm_default_state_dir(char *buf, size_t cap)
{
    if (env("TINYHSM_STATE"))
        return set(buf, cap, "%s", env("TINYHSM_STATE"));
    if (env("XDG_STATE_HOME"))
        return set(buf, cap, "%s/tinyhsm", env("XDG_STATE_HOME"));
    if (env("HOME"))
        return set(buf, cap, "%s/.local/state/tinyhsm", env("HOME"));
    return -1;
}
