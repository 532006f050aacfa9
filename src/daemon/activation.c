/* activation.c - socket activation and sd_notify (see activation.h). */
#include "daemon/activation.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define FIRST_FD 3 /* SD_LISTEN_FDS_START */

static int passed_count(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    char *end;
    if (!pid || !fds || strtol(pid, &end, 10) != (long)getpid() || *end)
        return 0;
    long n = strtol(fds, &end, 10);
    return *end || n < 0 ? -1 : (int)n;
}

static int sockopt(int fd, int name)
{
    int v = -1;
    socklen_t len = sizeof(v);
    return getsockopt(fd, SOL_SOCKET, name, &v, &len) == 0 ? v : -1;
}

/* fd is a listening Unix stream socket bound to path. */
static int bound_to(int fd, const char *path)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    return sockopt(fd, SO_DOMAIN) == AF_UNIX && sockopt(fd, SO_TYPE) == SOCK_STREAM &&
           sockopt(fd, SO_ACCEPTCONN) == 1 &&
           getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
           len > offsetof(struct sockaddr_un, sun_path) &&
           strncmp(sa.sun_path, path, sizeof(sa.sun_path)) == 0;
}

/* The same checks a socket of our own passes: ours, writable by us alone.
 * A shared one (a system service's) may be root's, with a group mode. */
static int check_path(const char *path, int shared)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "tinyhsmd: the socket systemd passed is not at %s\n", path);
        return -1;
    }
    if (st.st_uid != geteuid() && !(shared && st.st_uid == 0)) {
        fprintf(stderr, "tinyhsmd: socket %s belongs to uid %lu, not to us; "
                "refusing it\n", path, (unsigned long)st.st_uid);
        return -1;
    }
    if (!shared && (st.st_mode & 022)) {
        fprintf(stderr, "tinyhsmd: socket %s has mode %03o: others could "
                "connect; use SocketMode=0600\n", path, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

int thsm_activation_socket(const char *path, int shared)
{
    int n = passed_count();
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (n == 0)
        return THSM_NOT_ACTIVATED;
    if (n != 1) {
        fprintf(stderr, "tinyhsmd: systemd passed %d sockets; one is served "
                "(ListenStream= once)\n", n);
        return -1;
    }
    if (!bound_to(FIRST_FD, path)) {
        fprintf(stderr, "tinyhsmd: the socket systemd passed is not a "
                "listening stream socket at %s (the unit's ListenStream= "
                "must be the link's path with .sock)\n", path);
        return -1;
    }
    if (check_path(path, shared) != 0)
        return -1;
    if (fcntl(FIRST_FD, F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(FIRST_FD, F_SETFL, fcntl(FIRST_FD, F_GETFL) | O_NONBLOCK) != 0) {
        fprintf(stderr, "tinyhsmd: cannot set up the passed socket: %s\n",
                strerror(errno));
        return -1;
    }
    return FIRST_FD;
}

void thsm_activation_ready(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    static const char msg[] = "READY=1";
    if (!path || (path[0] != '/' && path[0] != '@') ||
        strlen(path) >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, strlen(path));
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* the abstract namespace */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
        fprintf(stderr, "tinyhsmd: cannot notify systemd at %s: %s\n", path,
                strerror(errno));
    close(fd);
    unsetenv("NOTIFY_SOCKET");
}
