/*
 * port_posix.h - the device port on a POSIX system: a state directory.
 *
 * DIR (mode 0700) holds device.key (0600, 32 random bytes standing for the
 * microcontroller's hardware unique key) and one file per stored object
 * (0600). Saves are write-to-temporary, fsync, rename, fsync(DIR).
 */
#ifndef THSM_PORT_POSIX_H
#define THSM_PORT_POSIX_H

#include "port/port.h"

typedef struct {
    char dir[4096];
    int dir_fd;  /* for fsync after renames */
    int lock_fd; /* device.key, flock'ed: one tinyhsmd per state directory */
    int log_fd;  /* audit log opened for appends, or -1 */
    uint8_t device_key[THSM_DEVICE_KEY_LEN];
} thsm_posix_port;

/* Opens (creating if needed) the state directory and its device key and
 * fills port. Refuses a directory or file that others can read, and a
 * directory that has state but no device key (it would be unreadable).
 * On failure writes a one-line reason into err and returns -1. */
int thsm_posix_port_open(thsm_posix_port *pp, const char *dir, thsm_port *port,
                         char *err, size_t err_cap);

/* Wipes the device key from memory and releases the directory. */
void thsm_posix_port_close(thsm_posix_port *pp);

#endif
