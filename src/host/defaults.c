/* defaults.c - default port and state directory, ownership checks (see
 * defaults.h). */
#include "host/defaults.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SAY(...) snprintf(err, cap, __VA_ARGS__)

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

int thsm_default_run_dir(char *buf, size_t cap)
{
    if (env("XDG_RUNTIME_DIR"))
        return set(buf, cap, "%s/tinyhsm", env("XDG_RUNTIME_DIR"));
    const char *tmp = env("TMPDIR") ? env("TMPDIR") : "/tmp";
    int n = snprintf(buf, cap, "%s/tinyhsm-%lu", tmp, (unsigned long)getuid());
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int thsm_other_run_dir(char *buf, size_t cap)
{
    int n;
    if (env("XDG_RUNTIME_DIR"))
        n = snprintf(buf, cap, "%s/tinyhsm-%lu",
                     env("TMPDIR") ? env("TMPDIR") : "/tmp",
                     (unsigned long)getuid());
    else
        n = snprintf(buf, cap, "/run/user/%lu/tinyhsm", (unsigned long)getuid());
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int thsm_default_port(char *buf, size_t cap, int *is_default)
{
    *is_default = !env("TINYHSM_PORT");
    if (!*is_default)
        return set(buf, cap, "%s", env("TINYHSM_PORT"));
    char dir[4096];
    if (thsm_default_run_dir(dir, sizeof(dir)) != 0)
        return -1;
    return set(buf, cap, "%s/tty", dir);
}

int thsm_system_port(char *buf, size_t cap)
{
    const char *p = env("TINYHSM_SYSTEM_PORT");
    return set(buf, cap, "%s", p ? p : THSM_SYSTEM_PORT);
}

int thsm_root_only_dir(const char *dir)
{
    char path[4096];
    struct stat st;
    if (dir[0] != '/' || set(path, sizeof(path), "%s", dir) != 0)
        return 0;
    for (;;) {
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
            (st.st_mode & 022))
            return 0;
        char *slash = strrchr(path, '/');
        if (slash == path && !path[1])
            return 1; /* "/" checked */
        slash[slash == path] = '\0';
    }
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

int thsm_check_private_dir(const char *dir, uid_t uid, char *err, size_t cap)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        SAY("cannot use directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        SAY("%s is not a directory (a link or file put there by someone?); "
            "refusing it", dir);
        return -1;
    }
    if (st.st_uid != uid) {
        SAY("directory %s belongs to uid %lu, not to you (uid %lu); refusing it",
            dir, (unsigned long)st.st_uid, (unsigned long)uid);
        return -1;
    }
    if (st.st_mode & 077) {
        SAY("directory %s has mode %03o; it must be private (0700); refusing it",
            dir, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

int thsm_check_owner(const char *what, const char *path, uid_t uid, char *err,
                     size_t cap)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        SAY("cannot use %s %s: %s", what, path, strerror(errno));
        return -1;
    }
    if (st.st_uid != uid && st.st_uid != 0) {
        SAY("%s %s belongs to uid %lu, not to you (uid %lu) or root; refusing "
            "to talk to it", what, path, (unsigned long)st.st_uid,
            (unsigned long)uid);
        return -1;
    }
    return 0;
}

void thsm_dir_of(const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, cap, ".");
    else
        slash[slash == buf] = '\0'; /* "/x" -> "/" */
}

int thsm_companion(const char *link, const char *suffix, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s%s", link, suffix);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

pid_t thsm_lock_holder(const char *pid_file)
{
    int fd = open(pid_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    pid_t pid = 0;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
        pid = fl.l_pid;
    close(fd);
    return pid;
}

int thsm_pid_file_take(const char *link, const char *pty, char *err, size_t cap)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    struct stat st;
    char path[4200], line[300];
    if (thsm_companion(link, ".pid", path, sizeof(path)) != 0) {
        SAY("link path %s is too long", link);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                  0600);
    if (fd < 0 || fstat(fd, &st) != 0) {
        SAY("cannot use %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
               st.st_uid != geteuid()) {
        SAY("cannot use %s: %s; not touching it", path,
            !S_ISREG(st.st_mode) ? "it is not a regular file"
            : st.st_nlink != 1   ? "it has other hard links"
                                 : "it belongs to another user");
    } else if (fcntl(fd, F_SETLK, &fl) != 0) {
        SAY("a live tinyhsmd (pid %ld) serves %s; not taking it over (stop "
            "it, or use another --link)", (long)thsm_lock_holder(path), link);
    } else {
        int n = snprintf(line, sizeof(line), "%ld %s\n", (long)getpid(), pty);
        if (ftruncate(fd, 0) == 0 && write(fd, line, (size_t)n) == n)
            return fd;
        SAY("cannot write %s", path);
    }
    if (fd >= 0)
        close(fd);
    return -1;
}

void thsm_pid_file_drop(const char *link, int fd)
{
    char path[4200];
    if (fd < 0)
        return;
    if (thsm_companion(link, ".pid", path, sizeof(path)) == 0)
        unlink(path);
    close(fd);
}

void thsm_open_failure(const char *port, int errnum, char *err, size_t cap)
{
    char path[4200];
    long pid = 0;
    struct stat st;
    FILE *f = NULL;
    int fd = thsm_companion(port, ".pid", path, sizeof(path)) == 0
                 ? open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                 : -1;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
                    (f = fdopen(fd, "r")) == NULL))
        close(fd);
    if (f && thsm_lock_holder(path) == 0 && fscanf(f, "%ld", &pid) == 1 &&
        pid > 0) {
        SAY("stale link: the tinyhsmd that served %s (pid %ld) is not "
            "running; start tinyhsmd", port, pid);
    } else {
        SAY("cannot open port %s: %s", port, strerror(errnum));
    }
    if (f)
        fclose(f);
}
