/* semihost.c - ARM semihosting through BKPT 0xAB (see semihost.h). */
#include "port/qemu/semihost.h"

#include <string.h>

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_SEEK 0x0A
#define SYS_FLEN 0x0C
#define SYS_REMOVE 0x0E
#define SYS_TIME 0x11
#define SYS_GET_CMDLINE 0x15
#define SYS_EXIT_EXTENDED 0x20 /* carries an exit code on AArch32 */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static int32_t call(uint32_t op, void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

int sh_open(const char *name, int mode)
{
    uint32_t a[3] = {(uint32_t)name, (uint32_t)mode, (uint32_t)strlen(name)};
    return call(SYS_OPEN, a);
}

int sh_close(int fd)
{
    uint32_t a[1] = {(uint32_t)fd};
    return call(SYS_CLOSE, a);
}

/* SYS_WRITE and SYS_READ answer the number of bytes NOT moved. */
int sh_write(int fd, const void *buf, size_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)buf, (uint32_t)len};
    return call(SYS_WRITE, a) == 0 ? 0 : -1;
}

int sh_read(int fd, void *buf, size_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)buf, (uint32_t)len};
    return call(SYS_READ, a) == 0 ? 0 : -1;
}

int sh_seek(int fd, uint32_t pos)
{
    uint32_t a[2] = {(uint32_t)fd, pos};
    return call(SYS_SEEK, a) == 0 ? 0 : -1;
}

int sh_remove(const char *name)
{
    uint32_t a[2] = {(uint32_t)name, (uint32_t)strlen(name)};
    return call(SYS_REMOVE, a) == 0 ? 0 : -1;
}

long sh_flen(int fd)
{
    uint32_t a[1] = {(uint32_t)fd};
    return call(SYS_FLEN, a);
}

int64_t sh_time(void)
{
    return (uint32_t)call(SYS_TIME, NULL);
}

int sh_cmdline(char *buf, size_t cap)
{
    uint32_t a[2] = {(uint32_t)buf, (uint32_t)cap};
    return call(SYS_GET_CMDLINE, a) == 0 ? 0 : -1;
}

void sh_exit(int code)
{
    uint32_t a[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    for (;;)
        call(SYS_EXIT_EXTENDED, a);
}
