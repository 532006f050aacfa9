/*
 * pty.h - the pseudo-terminal a daemon (tinyhsmd, tinyhsmd-qemu) serves on,
 * and the symlink that names it (see defaults.h for where the link goes).
 */
#ifndef THSM_PTY_H
#define THSM_PTY_H

#include <stddef.h>

/* A new pty master in raw mode, non-blocking; its slave's name in name.
 * -1 on failure. */
int thsm_open_pty(char *name, size_t cap);

/* Points link at target atomically; refuses to replace a non-link. Errors
 * go to stderr prefixed with prog. */
int thsm_make_link(const char *prog, const char *link, const char *target);

/* Removes link if it still points at target (not a later daemon's). */
void thsm_remove_link(const char *link, const char *target);

#endif
