/*
 * qemu.h - the emulator behind the relay (relay.h): its state directory,
 * its process and the firmware's start line.
 */
#ifndef THSM_DAEMON_QEMU_H
#define THSM_DAEMON_QEMU_H

#include <signal.h>
#include <sys/types.h>

#include "daemon/relay.h"

typedef struct {
    pid_t pid;
    int to_fw, from_fw; /* pipes to and from the firmware's UART */
} thsm_emu;

#define THSM_EMU_NONE {0, -1, -1}

/* Opens and locks the state directory (one emulator per device), prepares
 * its files and a fresh random seed. Its descriptor, or -1 (said why). */
int thsm_emu_prepare_state(const thsm_relay_cfg *cfg);

/* Starts QEMU on the firmware, its UART on two pipes. 0, or -1. */
int thsm_emu_start(const thsm_relay_cfg *cfg, thsm_emu *e);

/* Reads the firmware's start line. 0 when READY; -1 when it refused the
 * state (and says why); -2 when it did not start. */
int thsm_emu_wait_ready(thsm_emu *e, const char *state,
                        volatile sig_atomic_t *stop);

/* Ends QEMU (SIGTERM, then SIGKILL after two seconds), closes the pipes. */
void thsm_emu_stop(thsm_emu *e);

/* Copies QEMU's own messages (dir/qemu.log) to stderr. */
void thsm_emu_show_log(int dir);

#endif
