/*
 * at_client.h - talk to a TinyHSM (tinyhsmd or the original board): send
 * one AT request, read its response.
 *
 * The port is a tinyhsmd socket, a link to a tinyhsmd pty (then the socket
 * beside it, "<link>.sock", is used when it answers), or a serial line
 * (opened raw at 115200 8N1, flock'ed and TIOCEXCL'ed). Nothing is sent to a
 * port, link, link target, socket or directory that another user (not root)
 * owns, nor to a link whose pty no live tinyhsmd serves (see defaults.h);
 * except that a socket in a directory only root can write (a system
 * service's, /run/tinyhsm) is used whoever owns it or listens on it.
 *
 * A response is complete when (PROTOCOL.md) an empty line arrives after the
 * status line, or a PEM "-----END ...-----" line arrives, or the line has
 * been idle for idle_ms (THSM_AT_IDLE_MS) after some bytes arrived. Empty
 * lines before the status line are skipped (leftovers of a previous
 * response). Other
 * bytes that arrive after a response ended are dropped before the next
 * request on a tty, and are a protocol error on a socket.
 */
#ifndef THSM_AT_CLIENT_H
#define THSM_AT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "host/err.h" /* THSM_PRINTF_FMT */

#define THSM_AT_IDLE_MS 200
#define THSM_AT_TIMEOUT_MS 10000 /* first byte of a response */
#define THSM_AT_RESP_MAX 16384
#define THSM_AT_LINES_MAX 128

/* Errors from the client itself (the device's own errors are in the response). */
enum {
    THSM_AT_OK = 0,
    THSM_AT_ERR_OPEN = -1,    /* no such port, or cannot open it */
    THSM_AT_ERR_BUSY = -2,    /* another client holds the port */
    THSM_AT_ERR_IO = -3,      /* read or write failed, or the device hung up */
    THSM_AT_ERR_TIMEOUT = -4, /* no answer in time */
    THSM_AT_ERR_TOO_BIG = -5, /* response larger than THSM_AT_RESP_MAX */
    THSM_AT_ERR_PROTO = -6,   /* a socket sent bytes after a response ended */
};

/* One response, split into lines (CR LF removed, empty lines dropped). */
typedef struct {
    char buf[THSM_AT_RESP_MAX];
    char *lines[THSM_AT_LINES_MAX];
    size_t nlines;
    bool ok;           /* status line is "OK" or starts with "OK " */
    const char *code;  /* on ERROR: the code word, e.g. "NO_CA"; else "" */
    char code_buf[32];
    const char *text;  /* status payload after "OK " or after the code; or "" */
} thsm_at_resp;

/* Debug trace: dir is '<' for a line sent, '>' for a line received. The
 * line has its PIN values masked (thsm_at_mask) but is not escaped. */
typedef void (*thsm_at_trace_fn)(void *ctx, char dir, const char *line);

/* A connection and its buffers. Nothing else is shared: threads may use
 * as many connections at once as they like, each from one thread at a time. */
typedef struct {
    int fd;
    bool via_socket; /* fd is a tinyhsmd socket, not a tty */
    thsm_at_trace_fn trace;
    void *trace_ctx;
    int timeout_ms; /* wait for the first byte; THSM_AT_TIMEOUT_MS by default */
    int idle_ms;    /* quiet time that ends a response; 0: THSM_AT_IDLE_MS */
    char pending[THSM_AT_RESP_MAX]; /* bytes read past the end of a response */
    size_t pending_len;
    thsm_at_resp resp; /* the last response, for thsm_hsm_* (hsm.h) */
} thsm_at;


/* Opens port as above. On failure returns an error code and writes a
 * reason into err. */
int thsm_at_open(thsm_at *at, const char *port, char *err, size_t err_cap);

void thsm_at_close(thsm_at *at);

/* Sends request (without CR LF) and reads the response into resp. */
int thsm_at_cmd(thsm_at *at, const char *request, thsm_at_resp *resp);

/* printf-style helper around thsm_at_cmd. */
int thsm_at_cmdf(thsm_at *at, thsm_at_resp *resp, const char *fmt, ...)
    __attribute__((format(THSM_PRINTF_FMT, 3, 4)));

/* line as a trace may show it: everything after PIN=, OLD= or NEW= (a PIN
 * may hold spaces) becomes "****", in requests and in answers alike; only
 * a status word (PIN=NONE, SET or BLOCKED in an "OK ..." answer) stays. */
void thsm_at_mask(const char *line, char *out, size_t cap);

/* A short description of a client error code. */
const char *thsm_at_strerror(int err);

#endif
