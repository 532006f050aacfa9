/*
 * port_qemu.h - thsm_port for QEMU's mps2-an505: state and audit log on an
 * emulated flash (flash.h), key and clock through semihosting stand-ins.
 */
#ifndef THSM_PORT_QEMU_H
#define THSM_PORT_QEMU_H

#include <stddef.h>

#include "port/port.h"

/* Opens flash.img in the working directory. 0, or -1 with a reason. */
int thsm_qemu_port_open(thsm_port *port, char *why, size_t cap);

#endif
