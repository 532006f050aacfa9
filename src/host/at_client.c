/*
 * at_client.c - one AT request, one response, over a serial line.
 * See at_client.h for the completion rules.
 */
#include "host/at_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <time.h>
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

int thsm_at_open(thsm_at *at, const char *port, char *err, size_t err_cap)
{
    memset(at, 0, sizeof(*at));
    at->timeout_ms = THSM_AT_TIMEOUT_MS;
    at->fd = open(port, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (at->fd < 0) {
        SAY("cannot open port %s: %s", port, strerror(errno));
        return THSM_AT_ERR_OPEN;
    }
    int rc = THSM_AT_OK;
    if (flock(at->fd, LOCK_EX | LOCK_NB) != 0) {
        SAY("port %s is busy: another TinyHSM client is using it", port);
        rc = THSM_AT_ERR_BUSY;
    } else if (set_raw(at->fd) != 0) {
        SAY(errno == ENOTTY ? "%s is not a serial port"
                            : "cannot configure port %s", port);
        rc = THSM_AT_ERR_OPEN;
    } else {
        tcflush(at->fd, TCIOFLUSH); /* drop what an earlier client left */
    }
    if (rc != THSM_AT_OK) {
        close(at->fd);
        at->fd = -1;
    }
    return rc;
}

void thsm_at_close(thsm_at *at)
{
    if (at->fd >= 0)
        close(at->fd);
    at->fd = -1;
}

/* The request as the trace shows it: PIN values masked. */
static void trace_sent(thsm_at *at, const char *request)
{
    char shown[THSM_AT_RESP_MAX];
    size_t o = 0;
    for (const char *p = request; *p && o < sizeof(shown) - 5;) {
        int secret = (p == request || p[-1] == ' ') &&
                     (!strncmp(p, "PIN=", 4) || !strncmp(p, "OLD=", 4) ||
                      !strncmp(p, "NEW=", 4));
        if (!secret) {
            shown[o++] = *p++;
            continue;
        }
        memcpy(shown + o, p, 4);
        memcpy(shown + o + 4, "****", 4);
        o += 8;
        p += 4;
        while (*p && *p != ' ')
            p++;
    }
    shown[o] = '\0';
    at->trace(at->trace_ctx, '<', shown);
}

static int send_line(thsm_at *at, const char *request)
{
    char line[THSM_AT_RESP_MAX];
    int n = snprintf(line, sizeof(line), "%s\r\n", request);
    if (n < 0 || (size_t)n >= sizeof(line))
        return THSM_AT_ERR_TOO_BIG;
    if (at->trace)
        trace_sent(at, request);
    for (size_t off = 0; off < (size_t)n;) {
        ssize_t w = write(at->fd, line + off, (size_t)n - off);
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
static int read_more(thsm_at *at, int ms)
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
        return read_more(at, ms);
    return THSM_AT_ERR_IO; /* EOF or EIO: the device hung up */
}

static int add_line(thsm_at *at, thsm_at_resp *r, const char *s, size_t len,
                    size_t *used)
{
    if (r->nlines == THSM_AT_LINES_MAX || *used + len + 1 > sizeof(r->buf))
        return THSM_AT_ERR_TOO_BIG;
    char *line = r->buf + *used;
    memcpy(line, s, len);
    line[len] = '\0';
    *used += len + 1;
    r->lines[r->nlines++] = line;
    if (at->trace)
        at->trace(at->trace_ctx, '>', line);
    return THSM_AT_OK;
}

/* Takes complete lines out of pending. Sets *done at the response's end. */
static int take_lines(thsm_at *at, thsm_at_resp *r, size_t *used, int *done)
{
    char *start = at->pending, *end = at->pending + at->pending_len, *nl;
    int rc = THSM_AT_OK;
    while (!*done && rc == THSM_AT_OK &&
           (nl = memchr(start, '\n', (size_t)(end - start))) != NULL) {
        size_t len = (size_t)(nl - start);
        if (len && start[len - 1] == '\r')
            len--;
        if (len == 0)
            *done = r->nlines > 0; /* empty: the end, or a leftover before it */
        else if ((rc = add_line(at, r, start, len, used)) == THSM_AT_OK)
            *done = strncmp(start, "-----END ", 9) == 0;
        start = nl + 1;
    }
    at->pending_len = (size_t)(end - start);
    memmove(at->pending, start, at->pending_len);
    return rc;
}

static void classify(thsm_at_resp *r)
{
    const char *s = r->nlines ? r->lines[0] : "";
    r->ok = strcmp(s, "OK") == 0 || strncmp(s, "OK ", 3) == 0;
    r->code = "";
    r->text = r->ok && s[2] ? s + 3 : "";
    if (strncmp(s, "ERROR", 5) == 0) {
        const char *c = s + 5 + (s[5] == ' ');
        size_t n = strcspn(c, " ");
        if (n >= sizeof(r->code_buf))
            n = sizeof(r->code_buf) - 1;
        memcpy(r->code_buf, c, n);
        r->code_buf[n] = '\0';
        r->code = r->code_buf;
        r->text = c[n] ? c + n + 1 : "";
    }
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int thsm_at_cmd(thsm_at *at, const char *request, thsm_at_resp *r)
{
    size_t used = 0;
    int done = 0, got_bytes = 0; /* leftovers do not start the idle clock */
    struct timespec t0;
    r->nlines = 0;
    int rc = send_line(at, request);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (rc == THSM_AT_OK) {
        if ((rc = take_lines(at, r, &used, &done)) != THSM_AT_OK || done)
            break;
        long left = at->timeout_ms - ms_since(&t0);
        int n = read_more(at, got_bytes ? THSM_AT_IDLE_MS : (left > 0 ? (int)left : 0));
        if (n > 0) {
            got_bytes = 1;
        } else if (n == 0 && got_bytes) { /* quiet line: the response is over */
            if (at->pending_len > 0)
                rc = add_line(at, r, at->pending, at->pending_len, &used);
            at->pending_len = 0;
            break;
        } else {
            rc = n == 0 ? THSM_AT_ERR_TIMEOUT : n;
        }
    }
    classify(r);
    if (rc == THSM_AT_OK && r->nlines == 0)
        rc = THSM_AT_ERR_TIMEOUT;
    return rc;
}

int thsm_at_cmdf(thsm_at *at, thsm_at_resp *resp, const char *fmt, ...)
{
    char line[THSM_AT_RESP_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line))
        return THSM_AT_ERR_TOO_BIG;
    return thsm_at_cmd(at, line, resp);
}

const char *thsm_at_strerror(int err)
{
    switch (err) {
    case THSM_AT_OK: return "no error";
    case THSM_AT_ERR_OPEN: return "cannot open the port";
    case THSM_AT_ERR_BUSY: return "the port is busy: another client is using it";
    case THSM_AT_ERR_IO: return "the device hung up or the line failed";
    case THSM_AT_ERR_TIMEOUT: return "no answer in time: is the device there?";
    case THSM_AT_ERR_TOO_BIG: return "the answer is too large";
    default: return "unknown error";
    }
}
