/*
 * port_posix.h - the device port on a POSIX system: a state directory.
 *
 * DIR (mode 0700) holds one file per stored object (0600). The root key
 * (32 random bytes standing for the microcontroller's hardware unique key)
 * is a file elsewhere (rootkey.h), or, as before, DIR/device.key. Saves are
 * write-to-temporary, fsync, rename, fsync(DIR).
 */
#ifndef THSM_PORT_POSIX_H
#define THSM_PORT_POSIX_H

#include "port/port.h"
#include "port/posix/rootkey.h"

typedef struct {
    char dir[4096];
    int dir_fd;  /* flock'ed (one tinyhsmd per state directory); fsync */
    int log_fd;  /* audit log opened for appends, or -1 */
    uint8_t device_key[THSM_DEVICE_KEY_LEN];
} thsm_posix_port;

/* Opens (creating if needed) the state directory and its device key and
 * fills port. Refuses a directory or file that others can read, and a
 * directory that has state but no device key (it would be unreadable).
 * On failure writes a one-line reason into err and returns -1. */
int thsm_posix_port_open(thsm_posix_port *pp, const char *dir, thsm_port *port,
                         char *err, size_t err_cap);

/* The same with the root key where rk says. A DIR/device.key found while
 * rk->path is elsewhere is moved there (written, synced, then removed);
 * a plain key is sealed when rk->tpm is set. What it did goes to stderr,
 * each line starting with who. */
int thsm_posix_port_open_rk(thsm_posix_port *pp, const char *dir,
                            const thsm_root_key_opts *rk, const char *who,
                            thsm_port *port, char *err, size_t err_cap);

/* Wipes the device key from memory and releases the directory. */
void thsm_posix_port_close(thsm_posix_port *pp);

#endif
