/*
 * port_mem.h - an in-memory device port for unit tests and fuzzers.
 * Objects live in fixed slots; writes can be made to fail on demand.
 */
#ifndef THSM_PORT_MEM_H
#define THSM_PORT_MEM_H

#include "port/port.h"

#define THSM_MEM_OBJECTS 4
#define THSM_MEM_OBJECT_MAX (4 << 20) /* room for a long audit log */

typedef struct {
    char name[32];
    size_t len;
    int used;
    uint8_t data[THSM_MEM_OBJECT_MAX];
} thsm_mem_object;

typedef struct {
    thsm_mem_object obj[THSM_MEM_OBJECTS];
    uint8_t device_key[THSM_DEVICE_KEY_LEN];
    int64_t now;     /* returned by now(); tests may move it */
    int fail_writes; /* when non-zero, save and append fail with IO */
    size_t append_max; /* when non-zero, appends past it answer FULL, as a
                          bounded log on flash does */
    size_t short_append; /* when non-zero, the next append writes this many
                            bytes and fails with IO (a disk that filled) */
    int saves_ok;    /* when non-zero, this many more saves succeed, then
                        every write fails (a power cut after a save) */
    int syncs;       /* number of sync calls, for tests */
} thsm_mem_port;

/* Zeroes everything, sets a fixed device key and a fixed clock. */
void thsm_mem_port_init(thsm_mem_port *mp, thsm_port *port);

#endif
