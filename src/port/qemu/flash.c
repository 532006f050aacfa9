/* flash.c - erase-before-write flash over a semihosted image (flash.h). */
#include "port/qemu/flash.h"

#include <string.h>

#include "port/qemu/semihost.h"

static int fd = -1;
static uint32_t flash_size;

int flash_open(uint32_t *size)
{
    if (fd < 0)
        fd = sh_open(FLASH_FILE, SH_MODE_RPB);
    if (fd < 0)
        return -1;
    long n = sh_flen(fd);
    if (n < (long)FLASH_SECTOR || n % FLASH_SECTOR)
        return -2;
    flash_size = (uint32_t)n;
    *size = flash_size;
    return 0;
}

static int in_range(uint32_t addr, size_t len)
{
    return fd >= 0 && addr <= flash_size && len <= flash_size - addr;
}

int flash_read(uint32_t addr, void *buf, size_t len)
{
    if (!in_range(addr, len))
        return -1;
    return len == 0 ? 0 : (sh_seek(fd, addr) == 0 && sh_read(fd, buf, len) == 0 ? 0 : -1);
}

int flash_erase(uint32_t sector_addr)
{
    uint8_t ff[FLASH_PAGE];
    if (sector_addr % FLASH_SECTOR || !in_range(sector_addr, FLASH_SECTOR))
        return -1;
    memset(ff, 0xff, sizeof(ff));
    for (uint32_t off = 0; off < FLASH_SECTOR; off += FLASH_PAGE)
        if (sh_seek(fd, sector_addr + off) != 0 || sh_write(fd, ff, FLASH_PAGE) != 0)
            return -1;
    return 0;
}

static int erased(uint32_t addr, size_t len)
{
    uint8_t now[FLASH_PAGE];
    if (flash_read(addr, now, len) != 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (now[i] != 0xff)
            return 0;
    return 1;
}

int flash_program(uint32_t addr, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    if (!in_range(addr, len))
        return -1;
    while (len > 0) {
        size_t n = FLASH_PAGE - addr % FLASH_PAGE; /* stay inside a page */
        if (n > len)
            n = len;
        if (!erased(addr, n) || sh_seek(fd, addr) != 0 || sh_write(fd, p, n) != 0)
            return -1;
        addr += (uint32_t)n;
        p += n;
        len -= n;
    }
    return 0;
}
