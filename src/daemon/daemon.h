/*
 * daemon.h - the software TinyHSM on a pseudo-terminal.
 *
 * One device, one pty: clients open and close the pty's slave side one after
 * another; each close logs the connection out. Output is written whole per
 * response; with baud set, output and input are paced as a UART would.
 */
#ifndef THSM_DAEMON_H
#define THSM_DAEMON_H

#include <signal.h>

typedef struct {
    const char *state_dir; /* the device's state directory */
    const char *link;      /* symlink pointed at the pty; NULL for none */
    unsigned baud;         /* 0: as fast as the pty goes; else 8N1 pacing */
} thsm_daemon_cfg;

/* Serves until *stop is set (SIGINT/SIGTERM handlers set it). Prints the
 * pty path as the first line on stdout. Returns 0 after a clean stop, or 1
 * with the reason on stderr (unreadable state, busy state directory...). */
int thsm_daemon_run(const thsm_daemon_cfg *cfg, volatile sig_atomic_t *stop);

#endif
