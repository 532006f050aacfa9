/*
 * flash.h - NOR-like flash kept in an image file on the host.
 *
 * Rules as on a board: a sector must be erased (all 0xFF) before it is
 * programmed; programming a byte that is not erased is refused. Writes go out
 * in FLASH_PAGE chunks, so a power cut (QEMU killed) lands between them.
 */
#ifndef THSM_FLASH_H
#define THSM_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "port/qemu/layout.h"


/* Opens the image; its size (a multiple of FLASH_SECTOR) goes to *size.
 * -1 when it cannot be opened, -2 when its size is not whole sectors. */
int flash_open(uint32_t *size);
int flash_read(uint32_t addr, void *buf, size_t len);
int flash_erase(uint32_t sector_addr);
/* Programs len bytes at addr; -1 when any of them is not erased. */
int flash_program(uint32_t addr, const void *buf, size_t len);

#endif
