/*
 * place.h - where a daemon's link and its companions (link.pid, link.sock)
 * go, checked before anything is created.
 */
#ifndef THSM_DAEMON_PLACE_H
#define THSM_DAEMON_PLACE_H

/* run_dir (the default link's directory, or NULL for a link the user gave)
 * is created private (0700) and checked; otherwise the link's directory
 * must belong to us or root. A link path that exists and is not a symlink
 * is never replaced. 0, or -1 with the reason on stderr after "prog: ". */
int thsm_check_place(const char *prog, const char *link, const char *run_dir);

#endif
