/*
 * daemon.h - the software TinyHSM on a Unix-domain socket and a pty.
 *
 * One device, served on:
 * - link.sock, a Unix-domain stream socket: each connection is one client
 *   with its own session and login; peers of another uid are refused unless
 *   allowed (by uid, or by a group among the peer's groups). With sharing
 *   on, every connection's uid is logged on stderr (the journal). Several
 *   clients may be connected; their requests are served one at a time, in
 *   turn (round robin, one request per client per turn).
 * - a pty, pointed at by link, for the original scripts and parity with the
 *   board: everyone who has it open shares one session, which ends whenever
 *   the set of openers changes; a login is refused while more than one
 *   process has it open.
 * link.pid holds "<pid> <pty>" and is write-locked while the daemon runs:
 * it tells clients that the pty is a live TinyHSM, and keeps a second
 * daemon from taking the link over. With baud set, the pty is paced as a
 * UART would.
 */
#ifndef THSM_DAEMON_H
#define THSM_DAEMON_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "port/posix/rootkey.h"

#define THSM_DAEMON_ALLOW_MAX 8

typedef struct {
    const char *state_dir; /* the device's state directory */
    const char *link;      /* symlink pointed at the pty */
    const char *run_dir;   /* the default link's private directory, created
                              and checked; NULL for a link given by the user */
    unsigned baud;         /* 0: as fast as the pty goes; else 8N1 pacing */
    const char *socket;    /* the socket's path; NULL: link + ".sock" */
    uid_t allow_uids[THSM_DAEMON_ALLOW_MAX]; /* other uids allowed on the socket */
    size_t n_allow;
    gid_t allow_gids[THSM_DAEMON_ALLOW_MAX]; /* members of these groups too */
    size_t n_allow_gids;
    thsm_root_key_opts root_key; /* path NULL: the key beside the state */
} thsm_daemon_cfg;

/* Serves until *stop is set (SIGINT/SIGTERM/SIGHUP handlers set it). Prints
 * the pty path as the first line on stdout. Returns 0 after a clean stop, or
 * 1 with the reason on stderr (unreadable state, busy state directory, link
 * served by a live daemon, unsafe directory...). */
int thsm_daemon_run(const thsm_daemon_cfg *cfg, volatile sig_atomic_t *stop);

#endif
