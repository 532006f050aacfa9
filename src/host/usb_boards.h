/*
 * usb_boards.h - finding an attached B-U585I-IOT02A: its serial port is the
 * virtual COM port of its ST-LINK, USB vendor 0483, product 374x, read from
 * sysfs as the original scripts do.
 */
#ifndef THSM_USB_BOARDS_H
#define THSM_USB_BOARDS_H

#define THSM_PORT_NAME_MAX 64

/* The /dev paths of the ttys whose USB device is an ST-LINK, under
 * sysfs_root (normally "/sys"), in name order (ttyACM2 before ttyACM10).
 * Stores at most max of them and returns how many were found in all
 * (which may exceed max); 0 when there is none or no sysfs. */
int thsm_find_stlink_ports(const char *sysfs_root,
                           char ports[][THSM_PORT_NAME_MAX], int max);

#endif
