/*
 * at_client.c - one AT request, one response, over a socket or a serial line
 * (at_port.c; at_port_win32.c on Windows). See at_client.h for the
 * completion rules.
 */
#include "host/at_client.h"
#include "host/at_port.h"
#include "proto/at.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int thsm_at_open(thsm_at *at, const char *port, char *err, size_t err_cap)
{
    memset(at, 0, sizeof(*at));
    at->fd = -1;
    at->timeout_ms = THSM_AT_TIMEOUT_MS;
    at->idle_ms = THSM_AT_IDLE_MS;
    int rc = thsm_at_port_open(at, port, err, err_cap);
    if (rc != THSM_AT_OK && at->fd >= 0)
        thsm_at_port_drop(at);
    return rc;
}

/* A status word such as "PIN=SET" in a device's "OK ..." answer: shown. */
void thsm_at_close(thsm_at *at)
{
    thsm_at_port_close(at);
}

static bool is_state_word(const char *line, const char *v)
{
    static const char *const words[] = {THSM_ST_PIN_NONE, THSM_ST_PIN_SET,
                                        THSM_ST_PIN_BLOCKED};
    if (strncmp(line, THSM_ANS_OK " ", 3) != 0)
        return false;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i]);
        if (strncmp(v, words[i], n) == 0 && (v[n] == ' ' || !v[n]))
            return true;
    }
    return false;
}

void thsm_at_mask(const char *line, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = line; *p && o + 9 < cap;) {
        bool secret = (!strncmp(p, THSM_P_PIN "=", 4) ||
                       !strncmp(p, THSM_P_OLD "=", 4) ||
                       !strncmp(p, THSM_P_NEW "=", 4) ||
                       (!strncmp(p, THSM_P_KEY "=", 4) && p > line &&
                        p[-1] == ' ')) && /* not SIGNER_KEY= */
                      !is_state_word(line, p + 4);
        if (!secret) {
            out[o++] = *p++;
            continue;
        }
        memcpy(out + o, p, 4);
        memcpy(out + o + 4, "****", 4);
        o += 8;
        break; /* a PIN may hold spaces: hide the rest of the line */
    }
    if (cap)
        out[o] = '\0';
}

/* A line as the trace shows it: PIN values masked, either way (a device
 * may echo the request). */
static void trace_line(thsm_at *at, char dir, const char *line)
{
    char shown[THSM_AT_RESP_MAX];
    thsm_at_mask(line, shown, sizeof(shown));
    at->trace(at->trace_ctx, dir, shown);
    explicit_bzero(shown, sizeof(shown));
}

static int send_line(thsm_at *at, const char *request)
{
    char line[THSM_AT_RESP_MAX];
    int n = snprintf(line, sizeof(line), "%s\r\n", request);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = -1;
    else if (at->trace)
        trace_line(at, '<', request);
    int rc = n < 0 ? THSM_AT_ERR_TOO_BIG : thsm_at_port_write(at, line, (size_t)n);
    explicit_bzero(line, sizeof(line)); /* it may hold a PIN */
    return rc;
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
        trace_line(at, '>', line);
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
    explicit_bzero(at->pending + at->pending_len,
                   sizeof(at->pending) - at->pending_len);
    return rc;
}

static void classify(thsm_at_resp *r)
{
    const char *s = r->nlines ? r->lines[0] : "";
    r->ok = strcmp(s, THSM_ANS_OK) == 0 || strncmp(s, THSM_ANS_OK " ", 3) == 0;
    r->code = "";
    r->text = r->ok && s[2] ? s + 3 : "";
    if (strncmp(s, THSM_ANS_ERROR, 5) == 0) {
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
    int rc = thsm_at_port_drain(at);
    if (rc != THSM_AT_OK) {
        classify(r);
        return rc;
    }
    rc = send_line(at, request);
    if (rc == THSM_AT_ERR_IO && at->via_socket)
        rc = THSM_AT_OK; /* a refusing daemon closed: read why it did */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (rc == THSM_AT_OK) {
        if ((rc = take_lines(at, r, &used, &done)) != THSM_AT_OK || done)
            break;
        long left = at->timeout_ms - ms_since(&t0);
        int idle = at->idle_ms > 0 ? at->idle_ms : THSM_AT_IDLE_MS;
        int n = thsm_at_port_read(at, got_bytes ? idle : (left > 0 ? (int)left : 0));
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
    int rc = n < 0 || (size_t)n >= sizeof(line) ? THSM_AT_ERR_TOO_BIG
                                                : thsm_at_cmd(at, line, resp);
    explicit_bzero(line, sizeof(line)); /* it may hold a PIN */
    return rc;
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
    case THSM_AT_ERR_PROTO:
        return "the device sent bytes that answer no request (protocol error)";
    default: return "unknown error";
    }
}
