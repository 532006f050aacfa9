/*
 * activation.h - systemd's socket activation and readiness protocols,
 * without libsystemd: LISTEN_PID/LISTEN_FDS (the listening socket passed
 * as fd 3) and NOTIFY_SOCKET (READY=1 for Type=notify).
 */
#ifndef THSM_ACTIVATION_H
#define THSM_ACTIVATION_H

#define THSM_NOT_ACTIVATED (-2)

/* The listening socket systemd passed, when LISTEN_PID is this process:
 * exactly one, a listening Unix stream socket bound to path, which is a
 * socket of ours that no one else may write to (unless shared, for
 * --allow-uid or --allow-group: then root's socket too). Returns it
 * (non-blocking, close-on-exec); THSM_NOT_ACTIVATED when nothing was
 * passed; -1, with the reason on stderr, for a socket that is refused.
 * Clears the LISTEN_* variables. */
int thsm_activation_socket(const char *path, int shared);

/* Tells systemd the daemon is ready (READY=1), when NOTIFY_SOCKET is set. */
void thsm_activation_ready(void);

#endif
