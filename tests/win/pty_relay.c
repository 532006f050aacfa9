/*
 * pty_relay.c - a pty for Wine's COM1 that forwards to tinyhsmd's socket
 * (test only; tests/win/lib.sh runs it).
 *
 * If wineserver holds the pty as well while a Wine program has COM1 open
 * (as the issue saw), tinyhsmd counts two openers of its own pty and refuses
 * a login there (its rule against an idle second opener riding a login),
 * which stays as it is for real users. This relay owns
 * the pty Wine opens and speaks to tinyhsmd over one socket connection, whose
 * session is its own. The connection is made on the first byte after the
 * pty was free and dropped when the last opener closes it (counted as
 * tinyhsmd counts its pty's openers, which also drops what a former opener
 * left unread), so each Wine program starts a new session, as after opening
 * a real COM port.
 *
 * Usage: pty_relay SOCKET: prints the pty's name as the first line on
 * stdout, then relays until SIGTERM.
 */
#define _GNU_SOURCE
#include "daemon/pty.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
        goto fail;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return fd;
fail:
    fprintf(stderr, "pty_relay: cannot connect to %s: %s\n", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Writes all of buf to a non-blocking fd, waiting while it is full. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 100);
            continue;
        }
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static void drop(int *conn)
{
    if (*conn >= 0)
        close(*conn);
    *conn = -1;
}

/* One round: moves what is ready; the connection ends when the last
 * opener closes the pty (the openers' watch, as tinyhsmd counts them). */
static void relay_once(thsm_openers *o, int *conn, const char *sock)
{
    struct pollfd p[3] = {{.fd = o->master, .events = POLLIN},
                          {.fd = o->watch, .events = POLLIN},
                          {.fd = *conn, .events = POLLIN}};
    char buf[4096];
    if (poll(p, 3, 200) < 0)
        return;
    if (thsm_openers_changed(o) && o->clients == 0)
        drop(conn);
    if (p[0].revents & POLLIN) {
        ssize_t n = read(o->master, buf, sizeof(buf));
        if (n > 0 && *conn < 0)
            *conn = connect_to(sock);
        if (n > 0 && *conn >= 0 && write_all(*conn, buf, (size_t)n) != 0)
            drop(conn);
    }
    if (*conn >= 0 && (p[2].revents & (POLLIN | POLLHUP))) {
        ssize_t n = read(*conn, buf, sizeof(buf));
        if (n <= 0 || write_all(o->master, buf, (size_t)n) != 0)
            drop(conn);
    }
}

int main(int argc, char **argv)
{
    char name[256];
    if (argc != 2) {
        fprintf(stderr, "usage: pty_relay SOCKET\n");
        return 2;
    }
    int master = thsm_open_pty(name, sizeof(name));
    if (master < 0) {
        fprintf(stderr, "pty_relay: no pty: %s\n", strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    printf("%s\n", name);
    fflush(stdout);
    thsm_openers o = THSM_OPENERS_NONE;
    thsm_openers_watch(&o, name, master);
    if (o.watch < 0) {
        fprintf(stderr, "pty_relay: no inotify watch on %s\n", name);
        return 1;
    }
    int conn = -1;
    while (!stop)
        relay_once(&o, &conn, argv[1]);
    drop(&conn);
    thsm_openers_close(&o);
    close(master);
    return 0;
}
