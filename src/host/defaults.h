/*
 * defaults.h - where tinyhsmd and tinyhsm meet when nobody says otherwise,
 * so that `tinyhsmd &` followed by `tinyhsm info` just works.
 */
#ifndef THSM_DEFAULTS_H
#define THSM_DEFAULTS_H

#include <stddef.h>

/* $TINYHSM_PORT, else $XDG_RUNTIME_DIR/tinyhsm, else /tmp/tinyhsm-<uid>. */
int thsm_default_port(char *buf, size_t cap);

/* $TINYHSM_STATE, else $XDG_STATE_HOME/tinyhsm, else
 * $HOME/.local/state/tinyhsm. -1 when none of them is set. */
int thsm_default_state_dir(char *buf, size_t cap);

#endif
