/*
 * defaults.h - where tinyhsmd and tinyhsm meet when nobody says otherwise,
 * so that `tinyhsmd &` followed by `tinyhsm info` just works, and the checks
 * that keep another local user from putting a fake device there.
 *
 * A daemon serving on link L (a symlink to its pty) also owns L.sock (its
 * Unix-domain socket) and L.pid (its pid and pty, write-locked while it runs).
 */
#ifndef THSM_DEFAULTS_H
#define THSM_DEFAULTS_H

#include <stddef.h>
#include <sys/types.h>

/* The private directory of the default port: $XDG_RUNTIME_DIR/tinyhsm,
 * else ${TMPDIR:-/tmp}/tinyhsm-<uid>. */
int thsm_default_run_dir(char *buf, size_t cap);

/* The other place a default daemon of this user may serve, as started
 * from another kind of session: with $XDG_RUNTIME_DIR set (a login shell),
 * ${TMPDIR:-/tmp}/tinyhsm-<uid> (cron, CI, sudo -u); without it,
 * /run/user/<uid>/tinyhsm. */
int thsm_other_run_dir(char *buf, size_t cap);

/* $TINYHSM_PORT, else <run dir>/tty. *is_default says which. */
int thsm_default_port(char *buf, size_t cap, int *is_default);

/* The system service's socket, tried after the user's default port:
 * $TINYHSM_SYSTEM_PORT (for tests), else THSM_SYSTEM_PORT. */
#define THSM_SYSTEM_PORT "/run/tinyhsm/tty.sock"
int thsm_system_port(char *buf, size_t cap);

/* Whether dir and every directory above it are real directories (not
 * links) owned by root that neither group nor others may write: whatever
 * is in dir was put there by root (e.g. /run/tinyhsm). */
int thsm_root_only_dir(const char *dir);

/* $TINYHSM_STATE, else $XDG_STATE_HOME/tinyhsm, else
 * $HOME/.local/state/tinyhsm. -1 when none of them is set. */
int thsm_default_state_dir(char *buf, size_t cap);

/* 0 when dir is a real directory (not a link) owned by uid with no access
 * for group or others; else -1 and the reason in err. */
int thsm_check_private_dir(const char *dir, uid_t uid, char *err, size_t cap);

/* 0 when path (the link itself, not its target) is owned by uid or root;
 * else -1 and the reason in err. what names it in the message. */
int thsm_check_owner(const char *what, const char *path, uid_t uid, char *err,
                     size_t cap);

/* The directory part of path ("." when none) into buf. */
void thsm_dir_of(const char *path, char *buf, size_t cap);

/* L + suffix (".sock", ".pid") into buf; -1 when it does not fit. */
int thsm_companion(const char *link, const char *suffix, char *buf, size_t cap);

/* The pid of the live process holding the lock on pid_file, 0 when none
 * does (or the file is missing). */
pid_t thsm_lock_holder(const char *pid_file);

/* Takes link.pid for this process serving pty: creates it (0600, ours),
 * write-locks it and writes "<pid> <pty>". Returns its descriptor, or -1
 * with the reason in err (when a live process holds it, its pid). */
int thsm_pid_file_take(const char *link, const char *pty, char *err, size_t cap);

/* Why port could not be opened (errnum): when port.pid is left by a
 * tinyhsmd that no longer runs, says so ("stale link: ..."); else the
 * system's reason. */
void thsm_open_failure(const char *port, int errnum, char *err, size_t cap);

/* Removes link.pid and closes fd, which releases the lock. */
void thsm_pid_file_drop(const char *link, int fd);

#endif
