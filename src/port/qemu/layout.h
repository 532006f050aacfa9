/*
 * layout.h - the QEMU board's flash geometry and layout, shared by the
 * firmware (flash.c, port_qemu.c), tinyhsmd-qemu (which creates the image)
 * and the tests that read or damage an image.
 *
 *   sector 0, 1   two state slots; the newer complete one is the state
 *   sector 2..    the audit log, append-only, bounded by the flash size
 */
#ifndef THSM_QEMU_LAYOUT_H
#define THSM_QEMU_LAYOUT_H

#define FLASH_SECTOR 8192u /* erase unit (as the STM32U5's pages) */
#define FLASH_PAGE 256u    /* program chunk */
#define FLASH_FILE "flash.img"
#define FLASH_DEFAULT_SIZE (1024u * 1024u) /* a new image's size */
#define FLASH_SLOTS 2
#define FLASH_SLOT_HDR 64 /* a slot's header, before its payload */
#define FLASH_SLOT_MARK "TinyHSM slot v1" /* commit marker, with its NUL */
#define FLASH_LOG_START (FLASH_SLOTS * FLASH_SECTOR)

#endif
