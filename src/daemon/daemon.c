/* daemon.c - the pseudo-terminal server behind tinyhsmd (see daemon.h). */
#define _GNU_SOURCE /* posix_openpt flags, prctl */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "port/posix/port_posix.h"

#define FLUSH_MS 50 /* audit records reach the disk within this */
#define IDLE_MS 20  /* poll period without a client, when inotify is missing */
#define WAIT_MS 1000 /* longest wait for a client, with inotify */

typedef struct {
    int master;
    int opens;   /* inotify on the pty's opens and closes, or -1 */
    int clients; /* open file descriptions of the pty, per inotify */
    unsigned baud;
    struct timespec line_free; /* when the simulated UART is next idle */
} server;

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

static void write_all(void *ctx, const char *data, size_t len)
{
    server *s = ctx;
    size_t chunk = s->baud ? 16 : len; /* paced output leaves in small bursts */
    while (len > 0) {
        ssize_t n = write(s->master, data, len < chunk ? len : chunk);
        if (n > 0) {
            pace(s, (size_t)n);
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = {s->master, POLLOUT, 0};
            if (poll(&p, 1, 1000) <= 0)
                return; /* the client stopped reading: drop the rest */
        } else {
            return; /* the client went away mid-answer */
        }
    }
}

/* No core dumps, no ptrace by others, key pages kept out of swap. */
static void harden(void)
{
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#if !defined(__SANITIZE_ADDRESS__) && !defined(THSM_NO_MLOCK)
    mlockall(MCL_CURRENT | MCL_FUTURE); /* best effort: EPERM/ENOMEM ignored */
#endif
}

static int open_pty(char *name, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios t;
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 ||
        ptsname_r(m, name, cap) != 0 || chmod(name, 0600) != 0 ||
        tcgetattr(m, &t) != 0) {
        if (m >= 0)
            close(m);
        return -1;
    }
    cfmakeraw(&t); /* on Linux this sets the slave side: no echo, no CR/LF games */
    tcsetattr(m, TCSANOW, &t);
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    return m;
}

/* Points link at target atomically; refuses to replace a non-link. */
static int make_link(const char *link, const char *target)
{
    struct stat st;
    char tmp[4200];
    if (lstat(link, &st) == 0 && !S_ISLNK(st.st_mode)) {
        fprintf(stderr, "tinyhsmd: %s exists and is not a symlink; "
                        "not replacing it\n", link);
        return -1;
    }
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", link, (long)getpid());
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, link) != 0) {
        fprintf(stderr, "tinyhsmd: cannot create link %s: %s\n", link,
                strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void remove_link(const char *link, const char *target)
{
    char now[4096];
    ssize_t n = link ? readlink(link, now, sizeof(now) - 1) : -1;
    if (n > 0) {
        now[n] = '\0';
        if (strcmp(now, target) == 0)
            unlink(link);
    }
}

/* Flushes the audit log when its oldest unsynced record is FLUSH_MS old. */
static int flush_due(thsm_device *dev, int64_t *dirty_since)
{
    if (!thsm_device_flush_pending(dev)) {
        *dirty_since = 0;
        return IDLE_MS * 50;
    }
    int64_t now = now_ns();
    if (!*dirty_since)
        *dirty_since = now;
    int64_t left_ms = FLUSH_MS - (now - *dirty_since) / 1000000;
    if (left_ms > 0)
        return (int)left_ms;
    thsm_device_flush(dev);
    *dirty_since = 0;
    return IDLE_MS * 50;
}

/* No client has the port open: wait until one opens it (or a timeout, to
 * flush the audit log and look at stop). Polling the master would spin: it
 * reports POLLHUP for as long as nobody has the port open. */
static void wait_for_client(server *s, int timeout_ms)
{
    if (s->opens < 0) {
        struct timespec idle = {0, IDLE_MS * 1000000L};
        nanosleep(&idle, NULL);
        return;
    }
    struct pollfd p = {s->opens, POLLIN, 0};
    poll(&p, 1, timeout_ms < WAIT_MS ? timeout_ms : WAIT_MS);
}

/* Counts opens and closes of the pty; 1 when the last client closed it.
 * A quick close-and-reopen leaves no hang-up for the master to see, so
 * this, not POLLHUP, is what ends a login. */
static int last_client_left(server *s)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    int left = 0;
    while (s->opens >= 0 && (n = read(s->opens, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            if (e->mask & IN_OPEN)
                s->clients++;
            if ((e->mask & IN_CLOSE) && s->clients > 0 && --s->clients == 0)
                left = 1;
            p += sizeof(*e) + e->len;
        }
    }
    return left;
}

static void serve(server *s, thsm_device *dev, thsm_session *sess,
                  volatile sig_atomic_t *stop)
{
    static uint8_t buf[4096];
    int64_t dirty_since = 0;
    while (!*stop) {
        /* a client's close is handled before the next client's bytes */
        if (last_client_left(s))
            thsm_device_disconnect(dev, sess);
        struct pollfd p[2] = {{s->master, POLLIN, 0}, {s->opens, POLLIN, 0}};
        int r = poll(p, s->opens >= 0 ? 2 : 1, flush_due(dev, &dirty_since));
        if (r <= 0 || (p[1].revents & POLLIN))
            continue; /* timeout, signal, or events to count first */
        ssize_t n = (p[0].revents & POLLIN) ? read(s->master, buf, sizeof(buf)) : -1;
        if (n > 0) {
            pace(s, (size_t)n);
            thsm_device_input(dev, sess, buf, (size_t)n);
        } else if (n < 0 && errno == EAGAIN) {
            continue;
        } else { /* POLLHUP or EIO: nobody has the port open */
            thsm_device_disconnect(dev, sess);
            wait_for_client(s, flush_due(dev, &dirty_since));
        }
    }
}

/* Loads the state; says why it cannot, and what a start found wrong. */
static int start_device(thsm_device *dev, const thsm_port *port,
                        const char *state_dir)
{
    char findings[128];
    if (thsm_device_init(dev, port) != 0) {
        fprintf(stderr, "tinyhsmd: cannot use the state in %s: %s\n"
                "tinyhsmd: nothing was changed; move the directory away to "
                "start a new device\n", state_dir,
                thsm_device_storage_reason(dev));
        return -1;
    }
    thsm_device_findings(dev, findings, sizeof(findings));
    if (findings[0])
        fprintf(stderr, "tinyhsmd: warning: %s (see AT+HSM_STATUS? and "
                        "tinyhsm log --verify)\n", findings);
    return 0;
}

int thsm_daemon_run(const thsm_daemon_cfg *cfg, volatile sig_atomic_t *stop)
{
    static thsm_posix_port pp;
    static thsm_device dev;
    static thsm_session sess; /* the pty's one connection */
    thsm_port port;
    server s = {.master = -1, .opens = -1, .baud = cfg->baud};
    char err[512], pty[256];
    harden();
    if (thsm_posix_port_open(&pp, cfg->state_dir, &port, err, sizeof(err))) {
        fprintf(stderr, "tinyhsmd: %s\n", err);
        return 1;
    }
    int rc = 1;
    thsm_session_init(&sess, write_all, &s);
    if (start_device(&dev, &port, cfg->state_dir) != 0) {
        /* start_device said why */
    } else if ((s.master = open_pty(pty, sizeof(pty))) < 0) {
        fprintf(stderr, "tinyhsmd: cannot open a pseudo-terminal: %s\n",
                strerror(errno));
    } else if (!cfg->link || make_link(cfg->link, pty) == 0) {
        s.opens = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s.opens >= 0 && inotify_add_watch(s.opens, pty, IN_OPEN | IN_CLOSE) < 0) {
            close(s.opens);
            s.opens = -1;
        }
        printf("%s\n", pty);
        fflush(stdout);
        fprintf(stderr, "tinyhsmd: serving on %s%s%s%s, state in %s\n", pty,
                cfg->link ? " (link " : "", cfg->link ? cfg->link : "",
                cfg->link ? ")" : "", cfg->state_dir);
        serve(&s, &dev, &sess, stop);
        remove_link(cfg->link, pty);
        rc = 0;
    }
    thsm_device_deinit(&dev);
    if (s.opens >= 0)
        close(s.opens);
    if (s.master >= 0)
        close(s.master);
    thsm_posix_port_close(&pp);
    return rc;
}
