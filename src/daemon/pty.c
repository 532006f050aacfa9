/* pty.c - a daemon's pty and its link (see pty.h). */
#define _GNU_SOURCE /* posix_openpt flags, ptsname_r */
#include "daemon/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

int thsm_open_pty(char *name, size_t cap)
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

int thsm_make_link(const char *prog, const char *link, const char *target)
{
    struct stat st;
    char tmp[4200];
    if (lstat(link, &st) == 0 && !S_ISLNK(st.st_mode)) {
        fprintf(stderr, "%s: %s exists and is not a symlink; "
                        "not replacing it\n", prog, link);
        return -1;
    }
    int made = -1;
    for (int i = 0; i < 8 && made != 0; i++) { /* a random name nobody has */
        uint64_t r = 0;
        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
            break;
        snprintf(tmp, sizeof(tmp), "%s.%016llx.tmp", link, (unsigned long long)r);
        made = symlink(target, tmp); /* fails if tmp exists: never reused */
    }
    if (made != 0 || rename(tmp, link) != 0) {
        fprintf(stderr, "%s: cannot create link %s: %s\n", prog, link,
                strerror(errno));
        if (made == 0)
            unlink(tmp);
        return -1;
    }
    return 0;
}

void thsm_remove_link(const char *link, const char *target)
{
    char now[4096];
    ssize_t n = readlink(link, now, sizeof(now) - 1);
    if (n > 0) {
        now[n] = '\0';
        if (strcmp(now, target) == 0)
            unlink(link);
    }
}

void thsm_openers_watch(thsm_openers *o, const char *pty, int master)
{
    o->master = master;
    o->slave = open(pty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    o->watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (o->watch >= 0 && inotify_add_watch(o->watch, pty, IN_OPEN | IN_CLOSE) < 0) {
        close(o->watch);
        o->watch = -1;
    }
}

/* Counts the opens and closes queued on the watch; true when there were. */
static bool count_events(thsm_openers *o)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    bool changed = false;
    while (o->watch >= 0 && (n = read(o->watch, buf, sizeof(buf))) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            if (e->mask & IN_OPEN)
                o->clients++;
            if ((e->mask & IN_CLOSE) && o->clients > 0)
                o->clients--;
            changed = true;
            p += sizeof(*e) + e->len;
        }
    }
    return changed;
}

/* Drops the requests former openers left unread in the master, and only
 * those: an open is queued on the watch before open() returns, so before
 * the opener's first byte. Bytes counted while nobody had the pty open,
 * with no open on the watch after the count, are all a former opener's;
 * once an open shows up, the rest stays for the new opener. */
static void drop_unread(thsm_openers *o)
{
    char junk[4096];
    int queued;
    while (o->master >= 0 && !o->clients) {
        struct pollfd p = {o->master, POLLIN, 0};
        poll(&p, 1, 0); /* moves bytes still in flight into the count */
        if (ioctl(o->master, FIONREAD, &queued) != 0 || queued <= 0)
            break;
        count_events(o);
        if (o->clients)
            break;
        ssize_t n = read(o->master, junk,
                         (size_t)queued < sizeof(junk) ? (size_t)queued
                                                       : sizeof(junk));
        if (n <= 0)
            break;
    }
    explicit_bzero(junk, sizeof(junk));
}

bool thsm_openers_changed(thsm_openers *o)
{
    bool changed = count_events(o);
    if (changed && !o->clients && o->slave >= 0) {
        ioctl(o->slave, TIOCNXCL);
        tcflush(o->slave, TCIFLUSH);
    }
    if (changed && !o->clients)
        drop_unread(o);
    return changed;
}

void thsm_openers_close(thsm_openers *o)
{
    if (o->watch >= 0)
        close(o->watch);
    if (o->slave >= 0)
        close(o->slave);
    *o = (thsm_openers)THSM_OPENERS_NONE;
}
