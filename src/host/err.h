/*
 * err.h - how the host library reports failure (docs/DECISIONS.md, "Return
 * conventions (host library)").
 *
 * An operation returns int: THSM_OK (0) or a negative THSM_ERR_* code, and
 * writes a one-line message for the user into the caller's thsm_err. A
 * yes/no answer is a bool. Nothing is kept between calls.
 */
#ifndef THSM_HOST_ERR_H
#define THSM_HOST_ERR_H

/* The printf archetype of format checks (win/compat.h: gnu_printf). */
#ifndef THSM_PRINTF_FMT
#define THSM_PRINTF_FMT printf
#endif

#define THSM_ERR_MAX 4608 /* room for any message: a request, a path or two */

enum {
    THSM_OK = 0,
    THSM_ERR_FAIL = -1,    /* the operation failed; the message says why */
    THSM_ERR_USAGE = -2,   /* the request itself is wrong (the caller's) */
    THSM_ERR_REFUSED = -3, /* refused for a reason that "force" overrides */
};

typedef struct {
    int code;               /* the code the operation returned */
    char msg[THSM_ERR_MAX]; /* "" when code is THSM_OK */
} thsm_err;

/* Sets err to code and the formatted message; returns code. */
int thsm_fail(thsm_err *err, int code, const char *fmt, ...)
    __attribute__((format(THSM_PRINTF_FMT, 3, 4)));

#endif
