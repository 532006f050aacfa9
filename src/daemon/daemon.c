/* daemon.c - the pty and socket server behind tinyhsmd (see daemon.h). */
#define _GNU_SOURCE /* posix_openpt flags, prctl, struct ucred */
#include "daemon/daemon.h"
#include "daemon/activation.h"
#include "daemon/place.h"
#include "daemon/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "host/defaults.h"
#include "port/posix/port_posix.h"

#define FLUSH_MS 50  /* audit records reach the disk within this */
#define IDLE_MS 20   /* poll period of a hung-up pty, when inotify is missing */
#define WAIT_MS 1000 /* longest sleep: audit flushes and stop are looked at */
#define NCONN 17     /* the pty and 16 socket clients; more wait in listen() */
#define INBOX 2048   /* > THSM_LINE_MAX + CR LF: one request always fits */
#define OUTBOX THSM_RESP_MAX /* the longest answer: never cut, never blocks */
#define STALL_MS 5000 /* a socket client that has not finished its line, or
                         not taken a byte of its answer, for this long is
                         closed: so a waiting client gets a slot within it */

struct server;

/* A client: conns[0] is the pty (everyone who has it open), the others are
 * socket connections. Each has its own session and its own inbox, from which
 * requests are served one at a time, in turn. */
typedef struct {
    int fd; /* -1: free slot */
    int dead; /* an answer could not be delivered: close it */
    struct server *srv;
    thsm_session s;
    int64_t line_since; /* when its unfinished line began (0: none) */
    int64_t out_since;  /* when its answer last made progress */
    int64_t last_seen;  /* its last byte in or request served */
    uid_t uid;          /* the peer's, for a fair share of the slots */
    size_t in_len, out_len;
    char in[INBOX];
    char out[OUTBOX]; /* socket answers not yet taken; no request of this
                         client is served until it is empty */
} conn;

typedef struct server {
    thsm_openers pty; /* who has the pty open */
    int pty_hup;  /* the master reports a hang-up: poll it again after the
                     next open (polling it now would spin) */
    unsigned changes; /* counts changes of the pty's openers */
    int listen_fd;
    int activated; /* listen_fd is systemd's: its socket is not ours to remove */
    size_t next;  /* round robin: who is served first in the next round */
    unsigned baud;
    struct timespec line_free; /* when the simulated UART is next idle */
    const thsm_daemon_cfg *cfg;
    conn conns[NCONN];
} server;

/* Everything that holds keys, PINs or parts of requests: locked in memory
 * as one block (a few hundred KiB, well inside the usual 8 MiB limit). */
static struct {
    thsm_posix_port pp;
    thsm_device dev;
    server srv;
} secrets;

static int64_t ns_of(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return ns_of(&t);
}

/* Waits as long as n bytes take on an 8N1 line (10 bits per byte). */
static void pace(server *s, size_t n)
{
    if (!s->baud)
        return;
    int64_t start = ns_of(&s->line_free), now = now_ns();
    if (start < now)
        start = now;
    int64_t end = start + (int64_t)n * 10 * 1000000000 / s->baud;
    s->line_free.tv_sec = end / 1000000000;
    s->line_free.tv_nsec = end % 1000000000;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &s->line_free,
                           NULL) == EINTR)
        ;
}

/* The pty's output, paced in small bursts; what the pty will not take
 * now is dropped (its openers share one session, as on a board). */
static void pty_write(conn *c, const char *data, size_t len)
{
    size_t chunk = c->srv->baud ? 16 : len;
    while (len > 0) {
        size_t want = len < chunk ? len : chunk;
        ssize_t n = write(c->fd, data, want);
        if (n <= 0)
            return;
        pace(c->srv, (size_t)n);
        data += n;
        len -= (size_t)n;
    }
}

/* Sends what the client will take now, without waiting. */
static void send_out(conn *c)
{
    size_t sent = 0;
    while (sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + sent, c->out_len - sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0) {
            c->dead = n < 0 && errno != EAGAIN && errno != EINTR;
            break;
        }
        sent += (size_t)n;
    }
    if (sent)
        c->out_since = now_ns();
    c->out_len -= sent;
    memmove(c->out, c->out + sent, c->out_len);
}

/* The session's output: one whole answer to its own client. */
static void conn_write(void *ctx, const char *data, size_t len)
{
    conn *c = ctx;
    if (c == &c->srv->conns[0]) {
        pty_write(c, data, len);
        return;
    }
    if (len > sizeof(c->out) - c->out_len) {
        c->dead = 1; /* not reached: answers are at most THSM_RESP_MAX */
        return;
    }
    if (!c->out_len)
        c->out_since = now_ns();
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

/* No core dumps, no ptrace by others; the secrets kept out of swap where
 * the memory-lock limit allows (never at the cost of a feature: scrypt's
 * 32 MiB must stay allocatable, so nothing else is locked). */
static void harden(void)
{
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (mlock(&secrets, sizeof(secrets)) != 0)
        fprintf(stderr, "tinyhsmd: note: cannot lock key memory (%s); it "
                "may be swapped out\n", strerror(errno));
}

static int shared(const thsm_daemon_cfg *cfg)
{
    return cfg->n_allow || cfg->n_allow_gids;
}

/* With --allow-uid or --allow-group, others must reach the socket: its
 * directory must let them pass (o+x or g+x); the permission check is then
 * SO_PEERCRED's. */
static int check_shared_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !(st.st_mode & 011)) {
        fprintf(stderr, "tinyhsmd: --allow-uid/--allow-group: the other users "
                "cannot enter %s; use --link or --socket in a directory they "
                "can pass through (e.g. mode 0711)\n", dir);
        return -1;
    }
    return 0;
}

/* Where link, link.pid (place.h) and the socket go; when shared, the
 * socket in a directory the other users can reach. */
static int check_place(const thsm_daemon_cfg *cfg)
{
    char dir[4096];
    if (cfg->run_dir && shared(cfg) && !cfg->socket) {
        fprintf(stderr, "tinyhsmd: --allow-uid needs --link PATH (or --socket "
                "PATH): the default directory %s is private, so other users "
                "cannot reach its socket\n", cfg->run_dir);
        return -1;
    }
    if (thsm_check_place("tinyhsmd", cfg->link, cfg->run_dir) != 0)
        return -1;
    thsm_dir_of(cfg->socket ? cfg->socket : cfg->link, dir, sizeof(dir));
    return shared(cfg) ? check_shared_dir(dir) : 0;
}

/* Whether a live server listens on path (a daemon serving another link
 * may hold a socket given with --socket: never take it over). */
static int answers(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int live = fd >= 0 && connect(fd, (const struct sockaddr *)sa,
                                  sizeof(*sa)) == 0;
    if (fd >= 0)
        close(fd);
    return live;
}

/* Binds link.sock, replacing a stale socket (we hold the pid file, so no
 * live daemon serves it). Mode 0600, or 0666 when other uids are allowed;
 * peers are checked at accept (SO_PEERCRED) either way. */
static int open_socket(const char *path, int shared)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "tinyhsmd: socket path %s is too long\n", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (lstat(path, &st) == 0 && (!S_ISSOCK(st.st_mode) || answers(&sa) ||
                                  unlink(path) != 0)) {
        fprintf(stderr, "tinyhsmd: %s exists and is not a stale socket; not "
                "replacing it\n", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(shared ? 0111 : 0177);
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
             listen(fd, 64) == 0;
    umask(old);
    if (!ok) {
        fprintf(stderr, "tinyhsmd: cannot listen on %s: %s\n", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Flushes the audit log when its oldest unsynced record is FLUSH_MS old.
 * Returns how long the loop may sleep. */
static int flush_due(thsm_device *dev, int64_t *dirty_since)
{
    if (!thsm_device_flush_pending(dev)) {
        *dirty_since = 0;
        return WAIT_MS;
    }
    int64_t now = now_ns();
    if (!*dirty_since)
        *dirty_since = now;
    int64_t left_ms = FLUSH_MS - (now - *dirty_since) / 1000000;
    if (left_ms > 0)
        return (int)left_ms;
    thsm_device_flush(dev);
    *dirty_since = 0;
    return WAIT_MS;
}

/* Ends the pty session and drops what it had read but not served. */
static void pty_reset(server *s, thsm_device *dev)
{
    conn *c = &s->conns[0];
    thsm_device_disconnect(dev, &c->s);
    explicit_bzero(c->in, sizeof(c->in));
    c->in_len = 0;
}

/* Counts opens and closes of the pty. Any change of who has it open ends
 * the pty's login, before any byte of the new set of openers is read (a
 * close-and-reopen leaves no hang-up for the master to see); a login is
 * refused while more than one process has it open. */
static void track_openers(server *s, thsm_device *dev)
{
    if (thsm_openers_changed(&s->pty)) {
        pty_reset(s, dev);
        s->pty_hup = 0;
        s->changes++;
    }
    s->conns[0].s.login_blocked = s->pty.clients > 1;
}

/* Length of c's first request: through its CR or LF (and the LF of a
 * CR LF); the whole inbox when it is full without one; 0 when incomplete. */
static size_t request_len(const conn *c)
{
    for (size_t i = 0; i < c->in_len; i++)
        if (c->in[i] == '\n' || c->in[i] == '\r')
            return i + 1 + (c->in[i] == '\r' && i + 1 < c->in_len &&
                            c->in[i + 1] == '\n');
    return c->in_len == sizeof(c->in) ? c->in_len : 0;
}

static void conn_close(conn *c, thsm_device *dev)
{
    thsm_device_disconnect(dev, &c->s);
    close(c->fd);
    c->fd = -1;
    c->dead = 0;
    explicit_bzero(c->in, sizeof(c->in)); /* it may hold a PIN */
    c->in_len = 0;
    explicit_bzero(c->out, c->out_len);
    c->out_len = 0;
    c->line_since = 0;
}

/* A socket client that holds its slot without progress: an unfinished
 * line, or an answer it does not take, older than STALL_MS. */
static int stalled(const conn *c, int64_t now)
{
    int64_t limit = (int64_t)STALL_MS * 1000000;
    return (c->line_since && !request_len(c) && now - c->line_since > limit) ||
           (c->out_len && now - c->out_since > limit);
}

/* Closes the socket clients that failed or stalled. */
static void sweep(server *s, thsm_device *dev)
{
    int64_t now = now_ns();
    for (size_t i = 1; i < NCONN; i++) {
        conn *c = &s->conns[i];
        if (c->fd >= 0 && (c->dead || stalled(c, now)))
            conn_close(c, dev);
    }
}

/* Milliseconds until the next socket client would stall (at most max). */
static int next_stall_ms(const server *s, int max)
{
    int64_t now = now_ns(), best = (int64_t)max * 1000000;
    for (size_t i = 1; i < NCONN; i++) {
        const conn *c = &s->conns[i];
        int64_t since = c->out_len ? c->out_since : c->line_since;
        if (c->fd < 0 || !since)
            continue;
        int64_t left = since + (int64_t)STALL_MS * 1000000 - now;
        if (left < best)
            best = left < 0 ? 0 : left;
    }
    return (int)((best + 999999) / 1000000);
}

/* Serves c's first request, and sends the answer as far as c takes it. */
static void serve_one(conn *c, thsm_device *dev, size_t n)
{
    thsm_device_input(dev, &c->s, (const uint8_t *)c->in, n);
    c->in_len -= n;
    memmove(c->in, c->in + n, c->in_len);
    explicit_bzero(c->in + c->in_len, n); /* the served copy: maybe a PIN */
    c->last_seen = now_ns();
    c->line_since = c->in_len ? c->last_seen : 0;
    if (c->out_len)
        send_out(c);
}

/* One turn for every client with a complete request and no answer still
 * waiting to be taken, starting with a different one each round. */
static void serve_round(server *s, thsm_device *dev)
{
    for (size_t k = 0; k < NCONN; k++) {
        conn *c = &s->conns[(s->next + k) % NCONN];
        size_t n = c->fd >= 0 && !c->dead && !c->out_len ? request_len(c) : 0;
        if (n)
            serve_one(c, dev, n);
    }
    s->next = (s->next + 1) % NCONN;
}

/* Whether gid is among the groups the peer on fd had when it connected:
 * its gid, or a supplementary group (SO_PEERGROUPS). */
static int peer_in_group(int fd, const struct ucred *cred, gid_t gid)
{
    gid_t few[256], *g = few;
    socklen_t len = sizeof(few);
    int found = cred->gid == gid;
    int rc = found ? 0 : getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len);
    if (!found && rc != 0 && errno == ERANGE && (g = malloc(len)) != NULL)
        rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len);
    for (size_t i = 0; !found && rc == 0 && i < len / sizeof(gid_t); i++)
        found = g[i] == gid;
    if (g != few)
        free(g);
    return found;
}

static int allowed(const server *s, int fd, const struct ucred *cred)
{
    if (cred->uid == geteuid() || cred->uid == 0)
        return 1;
    for (size_t i = 0; i < s->cfg->n_allow; i++)
        if (s->cfg->allow_uids[i] == cred->uid)
            return 1;
    for (size_t i = 0; i < s->cfg->n_allow_gids; i++)
        if (peer_in_group(fd, cred, s->cfg->allow_gids[i]))
            return 1;
    return 0;
}

/* A shared daemon says who connected (its stderr is the journal under
 * systemd); the audit log's records have no field for it. */
static void note_peer(const server *s, const struct ucred *cred, int ok)
{
    if (shared(s->cfg))
        fprintf(stderr, "tinyhsmd: connection from uid %lu (pid %ld) %s\n",
                (unsigned long)cred->uid, (long)cred->pid,
                ok ? "accepted" : "refused: not allowed");
}

static conn *free_slot(server *s)
{
    for (size_t i = 1; i < NCONN; i++)
        if (s->conns[i].fd < 0)
            return &s->conns[i];
    return NULL;
}

static size_t conns_of(const server *s, uid_t uid)
{
    size_t n = 0;
    for (size_t i = 1; i < NCONN; i++)
        n += s->conns[i].fd >= 0 && s->conns[i].uid == uid;
    return n;
}

/* The idle socket client (nothing in, nothing out) to close for a new one
 * of uid: one of the uid holding the most connections, uid itself on a
 * tie, the longest idle first. So a user who fills the slots closes only
 * their own connections, never another user's login. */
static conn *idlest(server *s, uid_t uid)
{
    conn *best = NULL;
    size_t best_n = 0;
    for (size_t i = 1; i < NCONN; i++) {
        conn *c = &s->conns[i];
        if (c->fd < 0 || c->in_len || c->out_len)
            continue;
        size_t n = conns_of(s, c->uid);
        bool better = !best || n > best_n ||
                      (n == best_n && c->uid == uid && best->uid != uid) ||
                      (n == best_n && (c->uid == uid) == (best->uid == uid) &&
                       c->last_seen < best->last_seen);
        if (better)
            best = c, best_n = n;
    }
    return best;
}

/* Accepts one waiting client, if its uid may use us, into a free slot or
 * else the slot of an idle client (closed; see idlest): a new client never
 * waits longer than STALL_MS for a slot. */
static void accept_client(server *s, thsm_device *dev)
{
    struct ucred cred = {.pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1};
    socklen_t len = sizeof(cred);
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    int ok = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
             allowed(s, fd, &cred);
    note_peer(s, &cred, ok);
    if (!ok) {
        char msg[140];
        int n = snprintf(msg, sizeof(msg), "ERROR NOT_ALLOWED uid %lu may not "
                         "use this device (see tinyhsmd --allow-uid, "
                         "--allow-group)\r\n\r\n", (unsigned long)cred.uid);
        (void)!send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
        return;
    }
    conn *c = free_slot(s);
    if (!c && (c = idlest(s, cred.uid)) != NULL)
        conn_close(c, dev);
    if (!c) {
        close(fd); /* not reached: we accept only with a slot to give */
        return;
    }
    c->fd = fd;
    c->uid = cred.uid;
    c->last_seen = now_ns();
    /* who refused requests and acknowledgements came from, in the log */
    snprintf(c->s.peer, sizeof(c->s.peer), THSM_LOG_DETAIL_UID "%lu",
             (unsigned long)cred.uid);
}

/* Reads what a client sent into its inbox. Returns -1 when it hung up. */
static int fill_inbox(server *s, conn *c)
{
    ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
    if (n > 0) {
        if (c == &s->conns[0])
            pace(s, (size_t)n);
        c->last_seen = now_ns();
        if (!c->in_len)
            c->line_since = c->last_seen;
        c->in_len += (size_t)n;
        return 0;
    }
    return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

/* The descriptors to wait on: inotify, the listening socket while a slot
 * is free or idle, every client with room in its inbox (the pty only while
 * someone has it open and it has not hung up) or an answer to send. */
static nfds_t watch(server *s, struct pollfd *p, conn **who)
{
    nfds_t n = 0;
    if (s->pty.watch >= 0)
        p[n] = (struct pollfd){s->pty.watch, POLLIN, 0}, who[n++] = NULL;
    if (free_slot(s) || idlest(s, geteuid()))
        p[n] = (struct pollfd){s->listen_fd, POLLIN, 0}, who[n++] = NULL;
    for (size_t i = 0; i < NCONN; i++) {
        conn *c = &s->conns[i];
        int pty_quiet = i == 0 && (s->pty_hup || (s->pty.watch >= 0 && !s->pty.clients));
        short ev = (c->in_len < sizeof(c->in) ? POLLIN : 0) |
                   (c->out_len ? POLLOUT : 0);
        if (c->fd >= 0 && ev && !pty_quiet)
            p[n] = (struct pollfd){c->fd, ev, 0}, who[n++] = c;
    }
    return n;
}

/* A socket client's events: takes its answer, reads its requests. */
static void socket_events(conn *c, short revents, thsm_device *dev)
{
    if (revents & POLLOUT)
        send_out(c);
    if ((revents & POLLIN) ? fill_inbox(c->srv, c) != 0
                           : (revents & (POLLHUP | POLLERR)) != 0)
        conn_close(c, dev);
}

/* seen: the openers' change count when poll returned; a hang-up seen then
 * is stale if they changed since (a new opener is there). */
static void read_clients(server *s, thsm_device *dev, struct pollfd *p,
                         conn **who, nfds_t n, unsigned seen)
{
    int waiting = 0;
    for (nfds_t i = 0; i < n; i++) {
        conn *c = who[i];
        waiting |= p[i].fd == s->listen_fd && (p[i].revents & POLLIN);
        if (!c || !p[i].revents || c->fd < 0)
            continue;
        if (c != &s->conns[0])
            socket_events(c, p[i].revents, dev);
        else if (!(p[i].revents & POLLIN) || fill_inbox(s, c) != 0) {
            if (seen == s->changes) /* nobody has it open: wait for an open */
                s->pty_hup = 1;
        }
    }
    if (waiting) /* after the events: a slot it takes has no stale ones */
        accept_client(s, dev);
}

static int ready(const server *s)
{
    for (size_t i = 0; i < NCONN; i++)
        if (s->conns[i].fd >= 0 && !s->conns[i].out_len &&
            request_len(&s->conns[i]))
            return 1;
    return 0;
}

static void serve(server *s, thsm_device *dev, volatile sig_atomic_t *stop)
{
    struct pollfd p[NCONN + 2];
    conn *who[NCONN + 2];
    int64_t dirty_since = 0;
    while (!*stop) {
        track_openers(s, dev);
        nfds_t n = watch(s, p, who);
        int wait = ready(s) ? 0 : next_stall_ms(s, flush_due(dev, &dirty_since));
        if (s->pty_hup && s->pty.watch < 0 && wait > IDLE_MS)
            wait = IDLE_MS; /* no inotify: look at the pty now and then */
        if (poll(p, n, wait) < 0)
            continue; /* a signal: look at stop */
        if (s->pty.watch < 0)
            s->pty_hup = 0;
        unsigned seen = s->changes;
        track_openers(s, dev);
        read_clients(s, dev, p, who, n, seen);
        track_openers(s, dev); /* bytes read across a change are dropped */
        serve_round(s, dev);
        sweep(s, dev);
        flush_due(dev, &dirty_since);
    }
}

/* The place, then its pid file: taken before anything is created in the
 * state directory, so a refused start leaves no trace. */
static int claim_place(server *s, const char *pty, int *pid_fd)
{
    char err[4400];
    if (check_place(s->cfg) != 0)
        return -1;
    if ((*pid_fd = thsm_pid_file_take(s->cfg->link, pty, err, sizeof(err))) < 0) {
        fprintf(stderr, "tinyhsmd: %s\n", err);
        return -1;
    }
    return 0;
}

/* The socket, the link, and the watch on the pty's openers. */
static int open_endpoints(server *s, const char *pty, char *sock, size_t cap)
{
    const char *link = s->cfg->link;
    int n = s->cfg->socket ? snprintf(sock, cap, "%s", s->cfg->socket) : 0;
    if (n < 0 || (size_t)n >= cap ||
        (!s->cfg->socket && thsm_companion(link, ".sock", sock, cap) != 0)) {
        fprintf(stderr, "tinyhsmd: link or socket path is too long\n");
        return -1;
    }
    s->listen_fd = thsm_activation_socket(sock, shared(s->cfg));
    s->activated = s->listen_fd >= 0;
    if (s->listen_fd == THSM_NOT_ACTIVATED)
        s->listen_fd = open_socket(sock, shared(s->cfg));
    if (s->listen_fd < 0 || thsm_make_link("tinyhsmd", link, pty) != 0)
        return -1;
    thsm_openers_watch(&s->pty, pty, s->conns[0].fd);
    return 0;
}

/* Removes only what is ours: the socket we bound, the link if it still
 * points at our pty. */
static void close_endpoints(server *s, const char *pty, const char *sock)
{
    if (s->listen_fd >= 0) {
        if (!s->activated)
            unlink(sock);
        close(s->listen_fd);
    }
    thsm_remove_link(s->cfg->link, pty);
    thsm_openers_close(&s->pty);
}

static void init_conns(server *s, int master)
{
    for (size_t i = 0; i < NCONN; i++) {
        conn *c = &s->conns[i];
        c->fd = i == 0 ? master : -1;
        c->srv = s;
        thsm_session_init(&c->s, conn_write, c);
    }
}

static int run_device(server *s, thsm_device *dev, const char *pty,
                      volatile sig_atomic_t *stop)
{
    char sock[4200] = "";
    int rc = 1;
    if (open_endpoints(s, pty, sock, sizeof(sock)) == 0) {
        printf("%s\n", pty);
        fflush(stdout);
        thsm_activation_ready();
        fprintf(stderr, "tinyhsmd: serving on %s (link %s, socket %s), state "
                "in %s\n", pty, s->cfg->link, sock, s->cfg->state_dir);
        serve(s, dev, stop);
        rc = 0;
    }
    for (size_t i = 1; i < NCONN; i++)
        if (s->conns[i].fd >= 0)
            conn_close(&s->conns[i], dev);
    close_endpoints(s, pty, sock);
    return rc;
}

/* Loads the state; says why it cannot, and what a start found wrong. */
static int start_device(thsm_device *dev, const thsm_port *port,
                        const char *state_dir)
{
    char findings[128];
    const thsm_state_format *f = thsm_device_state_format(dev);
    if (thsm_device_init(dev, port) != 0) {
        fprintf(stderr, "tinyhsmd: cannot use the state in %s: %s\n"
                "tinyhsmd: nothing was changed%s\n", state_dir,
                thsm_device_storage_reason(dev),
                f->newer ? "" : "; move the directory away to start a new "
                                "device");
        return -1;
    }
    if (f->old_format && f->kept)
        fprintf(stderr, "tinyhsmd: state.bin has the older state format "
                "%02d; the next change writes format %02d; the file as it "
                "was is kept as state.bin.v%02d, for a downgrade\n",
                f->old_format, THSM_STATE_FORMAT, f->old_format);
    else if (f->old_format)
        fprintf(stderr, "tinyhsmd: warning: state.bin has the older state "
                "format %02d and could not be copied to state.bin.v%02d; the "
                "next change writes format %02d, which older versions cannot "
                "read\n", f->old_format, f->old_format, THSM_STATE_FORMAT);
    thsm_device_findings(dev, findings, sizeof(findings));
    if (findings[0])
        fprintf(stderr, "tinyhsmd: warning: %s (see tinyhsm info and "
                        "tinyhsm log --verify)\n", findings);
    return 0;
}

/* Opens (or creates) the state and serves it. */
static int run_state(server *s, const char *pty, volatile sig_atomic_t *stop)
{
    thsm_port port;
    char err[1024];
    const char *dir = s->cfg->state_dir;
    if (thsm_posix_port_open_rk(&secrets.pp, dir, &s->cfg->root_key,
                                "tinyhsmd", &port, err, sizeof(err))) {
        fprintf(stderr, "tinyhsmd: %s\n", err);
        return 1;
    }
    int rc = 1;
    if (start_device(&secrets.dev, &port, dir) == 0)
        rc = run_device(s, &secrets.dev, pty, stop);
    thsm_device_deinit(&secrets.dev);
    thsm_posix_port_close(&secrets.pp);
    return rc;
}

int thsm_daemon_run(const thsm_daemon_cfg *cfg, volatile sig_atomic_t *stop)
{
    server *s = &secrets.srv;
    char pty[256];
    int pid_fd = -1, rc = 1;
    *s = (server){.pty = THSM_OPENERS_NONE, .listen_fd = -1, .baud = cfg->baud,
                  .cfg = cfg};
    harden();
    int master = thsm_open_pty(pty, sizeof(pty));
    if (master < 0) {
        fprintf(stderr, "tinyhsmd: cannot open a pseudo-terminal: %s\n",
                strerror(errno));
        return 1;
    }
    init_conns(s, master);
    if (claim_place(s, pty, &pid_fd) == 0)
        rc = run_state(s, pty, stop);
    thsm_pid_file_drop(cfg->link, pid_fd);
    close(master);
    explicit_bzero(s->conns, sizeof(s->conns)); /* sessions and inboxes */
    return rc;
}
