/* relay.c - the firmware in QEMU behind a pty (see relay.h). */
#define _GNU_SOURCE /* O_CLOEXEC and friends */
#include "daemon/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/place.h"
#include "daemon/pty.h"
#include "daemon/qemu.h"
#include "host/defaults.h"
#include "proto/link.h"

/* The firmware gets one request at a time, as tinyhsmd serves them: the
 * next line waits in the relay until the answer to the last one ended (or
 * the firmware was silent for ANSWER_WAIT_MS), so a flood never piles up in
 * QEMU's pipes and an opener change finds at most one request in flight. */
#define PENDING 4096        /* > THSM_LINE_MAX + CR LF: a whole request */
#define ANSWER_WAIT_MS 1000

typedef struct {
    thsm_emu emu;
    int master;          /* the client's pty */
    thsm_openers pty;    /* who has it open */
    bool hup;            /* the master reports a hang-up: nobody has it open */
    bool no_eot;         /* test only: no link bytes, as on a raw UART */
    int draining;        /* EOTs sent whose EOT has not come back: drop output */
    bool in_flight;      /* a request was sent; its answer has not ended */
    bool line_text;      /* the line being sent so far has text */
    int64_t fw_seen;     /* ms: the firmware's last byte, or the last request */
    uint32_t tail;       /* the answer's last four bytes: CR LF CR LF ends it */
    size_t pending_len;
    uint8_t pending[PENDING]; /* client bytes not yet sent to the firmware */
} relay;

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd w = {fd, POLLOUT, 0};
            if (poll(&w, 1, 1000) <= 0)
                return -1; /* the reader stopped reading: drop the rest */
        } else {
            return -1;
        }
    }
    return 0;
}

/* Client bytes into pending; a client's own link bytes are refused. */
static void from_client(relay *r)
{
    uint8_t *buf = r->pending + r->pending_len;
    ssize_t n = read(r->master, buf, sizeof(r->pending) - r->pending_len);
    if (n < 0 && errno == EIO)
        r->hup = true;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == THSM_LINK_EOT || buf[i] == THSM_LINK_SHARED ||
            buf[i] == THSM_LINK_SOLE)
            buf[i] = THSM_LINK_CLIENT_CTL;
    if (n > 0)
        r->pending_len += (size_t)n;
}

/* Sends pending bytes to the firmware through the end of the next line
 * with text, unless an answer is still awaited. */
static void to_firmware(relay *r)
{
    if (r->in_flight && now_ms() - r->fw_seen < ANSWER_WAIT_MS)
        return;
    r->in_flight = false;
    size_t n = 0;
    while (n < r->pending_len && !r->in_flight) {
        uint8_t b = r->pending[n++];
        if (b != '\r' && b != '\n')
            r->line_text = true;
        else if (r->line_text)
            r->in_flight = true;
    }
    if (r->in_flight) {
        r->line_text = false;
        r->fw_seen = now_ms();
    }
    if (n > 0)
        write_all(r->emu.to_fw, r->pending, n);
    r->pending_len -= n;
    memmove(r->pending, r->pending + n, r->pending_len);
}

/* The client's share of the answer: what the pty will not take now is
 * dropped (as tinyhsmd does); an empty line ends the answer. */
static void to_client(relay *r, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        r->tail = r->tail << 8 | p[i];
    if (r->tail == 0x0d0a0d0a)
        r->in_flight = false;
    (void)!write(r->master, p, len);
}

/* Firmware bytes to the client; after an EOT, answers meant for the former
 * openers are dropped up to the firmware's EOT. 0, or -1 when QEMU ended. */
static int from_firmware(relay *r)
{
    uint8_t buf[4096];
    ssize_t n = read(r->emu.from_fw, buf, sizeof(buf));
    if (n <= 0)
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    r->fw_seen = now_ms();
    size_t start = 0;
    while (r->draining > 0 && start < (size_t)n) {
        uint8_t *eot = memchr(buf + start, THSM_LINK_EOT, (size_t)n - start);
        if (!eot)
            return 0;
        if (--r->draining == 0)
            r->in_flight = false; /* every earlier answer is out */
        start = (size_t)(eot - buf) + 1;
    }
    if (r->draining == 0 && start < (size_t)n)
        to_client(r, buf + start, (size_t)n - start);
    return 0;
}

/* Any change of openers ends the session (as in tinyhsmd) and says whether
 * a login may be granted: only to a sole opener. */
static void openers_now(relay *r)
{
    uint8_t ctl[2] = {THSM_LINK_EOT,
                      r->pty.clients > 1 ? THSM_LINK_SHARED : THSM_LINK_SOLE};
    r->hup = false;
    r->pending_len = 0; /* a former opener's requests, not yet sent */
    r->line_text = false;
    r->tail = 0;
    if (!r->no_eot && write_all(r->emu.to_fw, ctl, sizeof(ctl)) == 0)
        r->draining++;
}

/* Relays until a signal or QEMU's end. 0 after a signal, 1 otherwise. */
static int serve(relay *r, volatile sig_atomic_t *stop)
{
    while (!*stop) {
        if (thsm_openers_changed(&r->pty))
            openers_now(r);
        to_firmware(r);
        struct pollfd p[3] = {{r->emu.from_fw, POLLIN, 0},
                              {r->pty.watch, POLLIN, 0}, {r->master, POLLIN, 0}};
        bool watch_master = !r->hup && r->pending_len < sizeof(r->pending);
        int wait = r->pty.watch < 0 ? 20 : r->in_flight ? 100 : 1000;
        int rc = poll(p, watch_master ? 3 : 2, wait);
        if (rc < 0 && errno != EINTR)
            return 1;
        if (r->pty.watch < 0)
            r->hup = false; /* without inotify, look at the master again soon */
        if (rc <= 0)
            continue;
        if ((p[0].revents & (POLLIN | POLLHUP)) && from_firmware(r) != 0) {
            fprintf(stderr, "tinyhsmd-qemu: the emulator stopped\n");
            return 1;
        }
        if (p[1].revents & POLLIN)
            continue; /* count opens and closes before reading more */
        if (watch_master && (p[2].revents & POLLIN))
            from_client(r);
        else if (watch_master && (p[2].revents & (POLLHUP | POLLERR)))
            r->hup = true;
    }
    return 0;
}

/* The firmware behind the pty until a signal or QEMU's end; 0 after a
 * signal, 1 otherwise. */
static int serve_firmware(const thsm_relay_cfg *o, relay *r, int dir,
                          const char *pty, volatile sig_atomic_t *stop)
{
    int rc = 1;
    if (thsm_emu_start(o, &r->emu) != 0 ||
        fcntl(r->emu.to_fw, F_SETFL, O_NONBLOCK) != 0) {
        fprintf(stderr, "tinyhsmd-qemu: cannot start %s: %s\n", o->qemu,
                strerror(errno));
    } else if ((rc = thsm_emu_wait_ready(&r->emu, o->state, stop)) != 0) {
        if (rc == -2)
            thsm_emu_show_log(dir);
        rc = 1;
    } else if ((rc = thsm_make_link("tinyhsmd-qemu", o->link, pty)) == 0) {
        thsm_openers_watch(&r->pty, pty, r->master);
        printf("%s\n", pty);
        fflush(stdout);
        fprintf(stderr, "tinyhsmd-qemu: serving on %s (link %s), state in %s\n",
                pty, o->link, o->state);
        rc = serve(r, stop);
        if (rc != 0)
            thsm_emu_show_log(dir);
        thsm_remove_link(o->link, pty);
    }
    return rc != 0;
}

/* Everything that can refuse (the link's place, its pid file, the state
 * directory) is checked before QEMU starts. */
int thsm_relay_run(const thsm_relay_cfg *o, volatile sig_atomic_t *stop)
{
    const char *no_eot = getenv(THSM_RELAY_NO_EOT_ENV);
    relay r = {.emu = THSM_EMU_NONE, .master = -1, .pty = THSM_OPENERS_NONE,
               .no_eot = no_eot && strcmp(no_eot, "1") == 0};
    char pty[256], err[4400];
    int rc = 1, dir = -1, pid_fd = -1;
    if (thsm_check_place("tinyhsmd-qemu", o->link, o->run_dir) != 0)
        return 1;
    if ((r.master = thsm_open_pty(pty, sizeof(pty))) < 0)
        fprintf(stderr, "tinyhsmd-qemu: cannot open a pseudo-terminal : %s\n",
                strerror(errno));
    else if ((pid_fd = thsm_pid_file_take(o->link, pty, err, sizeof(err))) < 0)
        fprintf(stderr, "tinyhsmd-qemu: %s\n", err); /* tinyhsm needs it */
    else if ((dir = thsm_emu_prepare_state(o)) >= 0)
        rc = serve_firmware(o, &r, dir, pty, stop);
    thsm_pid_file_drop(o->link, pid_fd);
    thsm_emu_stop(&r.emu);
    thsm_openers_close(&r.pty);
    if (r.master >= 0)
        close(r.master);
    if (dir >= 0)
        close(dir);
    return rc;
}
