/*
 * at_port.c - the AT client's line on Linux (host/at_port.h): a tty (115200
 * 8N1, raw) or a tinyhsmd socket.
 */
#define _GNU_SOURCE /* struct ucred */
#include "host/at_port.h"
#include "host/defaults.h"
#include "proto/at.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define SAY(...) snprintf(err, err_cap, __VA_ARGS__)

static int set_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        return -1;
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD | CS8;
    t.c_cflag &= ~(tcflag_t)(CRTSCTS | PARENB | CSTOPB);
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (cfsetispeed(&t, B115200) != 0 || cfsetospeed(&t, B115200) != 0)
        return -1;
    return tcsetattr(fd, TCSANOW, &t);
}

/* Major numbers of Unix98 pty slaves (/dev/pts/N). */
static int is_pts(dev_t rdev)
{
    return major(rdev) >= 136 && major(rdev) < 144;
}

/* Whether a live tinyhsmd serves the pty rdev that link points at: link.pid
 * is write-locked by a live process, and names that pid and that pty. */
static int served_by_daemon(const char *link, dev_t rdev)
{
    char path[4200], pty[256];
    long pid = 0;
    struct stat st;
    if (thsm_companion(link, ".pid", path, sizeof(path)) != 0)
        return 0;
    pid_t holder = thsm_lock_holder(path);
    FILE *f = holder > 0 ? fopen(path, "re") : NULL;
    int ok = f && fscanf(f, "%ld %255s", &pid, pty) == 2 && pid == holder &&
             stat(pty, &st) == 0 && st.st_rdev == rdev;
    if (f)
        fclose(f);
    return ok;
}

/* Opens a serial line or pty; refuses one another user owns, and a link to
 * a pty that no live tinyhsmd serves (its pts may be another program's). */
static int open_tty(thsm_at *at, const char *port, int is_link, char *err,
                    size_t err_cap)
{
    struct stat st;
    at->fd = open(port, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (at->fd < 0 && errno == EBUSY) { /* another client set TIOCEXCL */
        SAY("port %s is busy: another client holds it exclusively", port);
        return THSM_AT_ERR_BUSY;
    }
    if (at->fd < 0) {
        thsm_open_failure(port, errno, err, err_cap); /* names a stale link */
        return THSM_AT_ERR_OPEN;
    }
    if (fstat(at->fd, &st) != 0 || (st.st_uid != getuid() && st.st_uid != 0)) {
        SAY("port %s belongs to uid %lu, not to you or root; refusing to talk "
            "to it", port, (unsigned long)st.st_uid);
        return THSM_AT_ERR_OPEN;
    }
    if (is_link && S_ISCHR(st.st_mode) && is_pts(st.st_rdev) &&
        !served_by_daemon(port, st.st_rdev)) {
        SAY("port %s points at a pseudo-terminal that no running tinyhsmd "
            "serves (a stale link?); nothing was sent to it", port);
        return THSM_AT_ERR_OPEN;
    }
    if (flock(at->fd, LOCK_EX | LOCK_NB) != 0) {
        SAY("port %s is busy: another TinyHSM client is using it", port);
        return THSM_AT_ERR_BUSY;
    }
    if (set_raw(at->fd) != 0) {
        SAY(errno == ENOTTY ? "%s is not a serial port"
                            : "cannot configure port %s", port);
        return THSM_AT_ERR_OPEN;
    }
    ioctl(at->fd, TIOCEXCL); /* no other opener while we use it (tinyhsmd
                                grants a login only to a sole opener) */
    tcflush(at->fd, TCIOFLUSH); /* drop what an earlier client left */
    return THSM_AT_OK;
}

/* Whether path is in a directory only root can write (a system service's,
 * such as /run/tinyhsm): root put it there, whoever runs it. */
static int placed_by_root(const char *path)
{
    char dir[4200];
    thsm_dir_of(path, dir, sizeof(dir));
    return thsm_root_only_dir(dir);
}

/* Connects to a tinyhsmd socket; refuses a server run by another user,
 * unless root placed the socket. THSM_AT_ERR_IO when nobody listens (a
 * stale socket). */
static int open_socket(thsm_at *at, const char *path, char *err, size_t err_cap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (strlen(path) >= sizeof(sa.sun_path)) {
        SAY("socket path %s is too long", path);
        return THSM_AT_ERR_OPEN;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    at->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (at->fd < 0 || connect(at->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        SAY("cannot connect to %s: %s", path, strerror(errno));
        return errno == ECONNREFUSED ? THSM_AT_ERR_IO : THSM_AT_ERR_OPEN;
    }
    if (getsockopt(at->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != getuid() && cred.uid != 0 && !placed_by_root(path))) {
        SAY("the daemon behind %s runs as uid %lu, not as you or root, and "
            "the socket is not in a directory only root can write; refusing "
            "to talk to it", path, (unsigned long)cred.uid);
        return THSM_AT_ERR_OPEN;
    }
    fcntl(at->fd, F_SETFL, fcntl(at->fd, F_GETFL) | O_NONBLOCK);
    at->via_socket = true;
    return THSM_AT_OK;
}

/* The directory holding path, and path itself, belong to us or root (or
 * root placed path, for a system service's socket). */
static int check_place(const char *port, char *err, size_t err_cap)
{
    char dir[4200];
    thsm_dir_of(port, dir, sizeof(dir));
    if (thsm_check_owner("directory", dir, getuid(), err, err_cap) != 0 ||
        (!placed_by_root(port) &&
         thsm_check_owner("port", port, getuid(), err, err_cap) != 0))
        return -1;
    return 0;
}

/* A tinyhsmd socket (port itself, or port.sock beside a link) comes first:
 * there each client has its own session. Else the tty. */
int thsm_at_port_open(thsm_at *at, const char *port, char *err, size_t err_cap)
{
    char sock[4200];
    struct stat st, ss;
    int has_sock = thsm_companion(port, ".sock", sock, sizeof(sock)) == 0 &&
                   lstat(sock, &ss) == 0 && S_ISSOCK(ss.st_mode);
    int has_port = lstat(port, &st) == 0;
    /* A socket without its link yet: systemd's, tinyhsmd starts on connect. */
    if (!has_port && !(errno == ENOENT && has_sock)) {
        SAY("cannot open port %s: %s", port, strerror(errno));
        return THSM_AT_ERR_OPEN;
    }
    if (check_place(has_port ? port : sock, err, err_cap) != 0)
        return THSM_AT_ERR_OPEN;
    if (has_port && S_ISSOCK(st.st_mode))
        return open_socket(at, port, err, err_cap);
    if (has_sock) {
        if (!placed_by_root(sock) &&
            thsm_check_owner("socket", sock, getuid(), err, err_cap) != 0)
            return THSM_AT_ERR_OPEN;
        int rc = open_socket(at, sock, err, err_cap);
        if (rc != THSM_AT_ERR_IO || !has_port)
            return rc;
        close(at->fd); /* a stale socket: the tty decides */
        at->fd = -1;
    }
    return open_tty(at, port, S_ISLNK(st.st_mode), err, err_cap);
}

void thsm_at_port_drop(thsm_at *at)
{
    close(at->fd);
    at->fd = -1;
}

/* A raw UART tells the device nothing when we close it: end our login
 * ourselves and wait briefly for the answer. Failures are ignored. */
static void logout_tty(int fd)
{
    static const char req[] = THSM_CMD_LOGOUT "\r\n";
    char buf[128];
    size_t len = 0;
    struct pollfd p = {fd, POLLIN, 0};
    if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
        return;
    while (len < sizeof(buf) - 1 && poll(&p, 1, THSM_AT_IDLE_MS) > 0) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            return;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            return; /* the status line and the empty line that ends it */
    }
}

void thsm_at_port_close(thsm_at *at)
{
    if (at->fd >= 0 && !at->via_socket)
        logout_tty(at->fd);
    if (at->fd >= 0 && !at->via_socket)
        ioctl(at->fd, TIOCNXCL); /* a tty keeps the flag while others have
                                    it open: let the next client in */
    if (at->fd >= 0)
        close(at->fd);
    at->fd = -1;
    at->via_socket = false;
    explicit_bzero(at->pending, sizeof(at->pending));
    at->pending_len = 0;
}

int thsm_at_port_write(thsm_at *at, const char *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = at->via_socket /* a closed peer: EPIPE, not SIGPIPE */
                        ? send(at->fd, data + off, len - off, MSG_NOSIGNAL)
                        : write(at->fd, data + off, len - off);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = {at->fd, POLLOUT, 0};
            if (poll(&p, 1, at->timeout_ms) <= 0)
                return THSM_AT_ERR_TIMEOUT;
        } else {
            return THSM_AT_ERR_IO;
        }
    }
    return THSM_AT_OK;
}

/* Waits up to ms for bytes; appends them to pending. >0, 0 (quiet) or error. */
int thsm_at_port_read(thsm_at *at, int ms)
{
    struct pollfd p = {at->fd, POLLIN, 0};
    int r;
    do
        r = poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    if (r < 0)
        return THSM_AT_ERR_IO;
    size_t room = sizeof(at->pending) - at->pending_len;
    if (room == 0)
        return THSM_AT_ERR_TOO_BIG;
    ssize_t n = read(at->fd, at->pending + at->pending_len, room);
    if (n > 0) {
        at->pending_len += (size_t)n;
        return (int)n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return thsm_at_port_read(at, ms);
    return THSM_AT_ERR_IO; /* EOF or EIO: the device hung up */
}

/* Bytes that arrived after the previous response ended answer nothing:
 * taken as the next answer they would shift every answer by one. A tty
 * drops them; on a socket every response ends with its empty line, so
 * anything more than line ends there is a protocol error, unless the
 * daemon hung up after it (its parting words: read them as the answer). */
int thsm_at_port_drain(thsm_at *at)
{
    struct pollfd p = {at->fd, POLLIN, 0};
    int stale = 0, hup = 0;
    for (int i = 0; i < 64 && !hup && poll(&p, 1, 0) == 1; i++) {
        if (at->pending_len == sizeof(at->pending))
            at->pending_len = 0; /* only whether any came matters */
        ssize_t n = read(at->fd, at->pending + at->pending_len,
                         sizeof(at->pending) - at->pending_len);
        if (n > 0)
            at->pending_len += (size_t)n;
        hup = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
    }
    if (hup && at->via_socket)
        return THSM_AT_OK;
    for (size_t i = 0; i < at->pending_len; i++)
        stale |= at->pending[i] != '\r' && at->pending[i] != '\n';
    explicit_bzero(at->pending, at->pending_len);
    at->pending_len = 0;
    if (!at->via_socket)
        tcflush(at->fd, TCIFLUSH);
    return stale && at->via_socket ? THSM_AT_ERR_PROTO : THSM_AT_OK;
}

