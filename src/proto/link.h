/*
 * link.h - the bytes between the firmware's UART and the host side that
 * serves it (tinyhsmd-qemu's relay), besides AT itself. The firmware
 * (fw/main.c), the relay (src/daemon) and the tests include this one file.
 *
 *   - at start the firmware sends STX, "TINYHSM-FW READY" or
 *     "TINYHSM-FW STORAGE <reason>", LF; after STORAGE it stops;
 *   - THSM_LINK_EOT from the host ends the session (the client closed the
 *     port); the firmware answers with an EOT once every earlier answer is
 *     out;
 *   - THSM_LINK_SHARED: more than one process has the port open, so AT+AUTH
 *     and AT+PIN_SET are refused; THSM_LINK_SOLE: at most one has. The host
 *     sends one after every EOT.
 * The relay turns a client's own EOT, SO and SI into THSM_LINK_CLIENT_CTL,
 * which the core refuses like any other control byte.
 */
#ifndef THSM_PROTO_LINK_H
#define THSM_PROTO_LINK_H

#define THSM_LINK_STX 0x02
#define THSM_LINK_EOT 0x04
#define THSM_LINK_SHARED 0x0e /* SO */
#define THSM_LINK_SOLE 0x0f   /* SI */
#define THSM_LINK_CLIENT_CTL 0x7f
#define THSM_LINK_BANNER "TINYHSM-FW "
#define THSM_LINK_READY "READY"
#define THSM_LINK_STORAGE "STORAGE"

#endif
