/*
 * pty.h - the pseudo-terminal a daemon (tinyhsmd, tinyhsmd-qemu) serves on,
 * the symlink that names it (see host/defaults.h for where the link goes),
 * and who has it open.
 */
#ifndef THSM_DAEMON_PTY_H
#define THSM_DAEMON_PTY_H

#include <stdbool.h>
#include <stddef.h>

/* A new pty master in raw mode, non-blocking; its slave's name in name.
 * -1 on failure. */
int thsm_open_pty(char *name, size_t cap);

/* Points link at target atomically; refuses to replace a non-link. Errors
 * go to stderr prefixed with prog. */
int thsm_make_link(const char *prog, const char *link, const char *target);

/* Removes link if it still points at target (not a later daemon's). */
void thsm_remove_link(const char *link, const char *target);

/* The pty's openers, counted from inotify's opens and closes: a close and
 * reopen leaves no hang-up for the master to see. */
typedef struct {
    int watch;   /* inotify on the pty's opens and closes, or -1 */
    int slave;   /* our own open, made before the watch so it is not
                    counted: lets us clear a TIOCEXCL left by a killed client */
    int clients; /* open file descriptions of the pty, per inotify */
    int master;  /* the pty's master (not ours to close), or -1 */
} thsm_openers;

#define THSM_OPENERS_NONE {-1, -1, 0, -1}

/* Opens our own fd of pty, then the watch (left at -1 without inotify);
 * master is the pty's master, whose unread input a change may drop. */
void thsm_openers_watch(thsm_openers *o, const char *pty, int master);

/* Counts the opens and closes since the last call; true when the set of
 * openers changed. When none is left, the next opener finds neither a
 * killed client's TIOCEXCL, nor unread answers, nor the requests the
 * former openers wrote and nobody read. */
bool thsm_openers_changed(thsm_openers *o);

void thsm_openers_close(thsm_openers *o);

#endif
