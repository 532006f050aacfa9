/*
 * relay.h - the TinyHSM firmware in QEMU (mps2-an505), served on a pty
 * exactly as tinyhsmd serves the software device (tinyhsmd-qemu).
 *
 * QEMU's UART0 is wired to two pipes; the relay owns the client's pty and
 * moves bytes both ways, so that it can tell the firmware when the set of
 * openers changed (THSM_LINK_EOT ends the session, src/proto/link.h) and
 * whether more than one process has the port open (SHARED or SOLE: no
 * login on a shared port), just as tinyhsmd does. The firmware keeps its
 * flash image, key and random seed in the state directory, which is QEMU's
 * working directory for semihosting.
 *
 * Test only: with THSM_RELAY_NO_EOT=1 in the environment the relay sends
 * the firmware no link bytes at all (no EOT, SHARED or SOLE), as a raw UART
 * on a board sends none; tests use it to check the firmware's own session
 * end (idle logout). Never set it for a device in use.
 */
#ifndef THSM_DAEMON_RELAY_H
#define THSM_DAEMON_RELAY_H

#include <signal.h>

#define THSM_RELAY_NO_EOT_ENV "THSM_RELAY_NO_EOT"

typedef struct {
    const char *state;    /* the device's directory: flash image, key, seed */
    const char *link;     /* symlink pointed at the pty */
    const char *firmware; /* the ELF QEMU runs */
    const char *qemu;     /* the emulator program */
    const char *run_dir;  /* the default link's private directory, or NULL */
    long flash_size;      /* of a new flash image */
    int icount;           /* one instruction per virtual nanosecond (bench) */
    unsigned idle_logout; /* the firmware ends a login after this many idle
                             seconds; 0: its built-in default */
    const char *root_key; /* huk.bin's place apart from the state, or NULL */
} thsm_relay_cfg;

/* Serves until *stop is set or QEMU ends. Prints the pty path as the first
 * line on stdout. 0 after a clean stop, 1 with the reason on stderr. */
int thsm_relay_run(const thsm_relay_cfg *cfg, volatile sig_atomic_t *stop);

#endif
