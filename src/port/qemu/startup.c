/*
 * startup.c - vector table and reset handler for the Cortex-M33 on AN505.
 *
 * Copies .data, zeroes .bss, paints the stack (so that its high-water mark
 * can be read later) and calls main(). A fault ends the emulator with a
 * non-zero status, so tinyhsmd-qemu reports it instead of hanging.
 */
#include <stdint.h>
#include <string.h>

#include "port/board.h"
#include "port/qemu/semihost.h"

extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end;
extern uint32_t __stack_limit, __stack_top, __tls_block;
void _init_tls(void *tls);
void _set_tls(void *tls);
int main(void);
void thsm_reset(void) __attribute__((noreturn));
void _exit(int code) __attribute__((noreturn));

#define STACK_PAINT 0xC5A5C5A5u

static void fault(void)
{
    sh_exit(BOARD_EXIT_FAULT);
}

/* Initial stack pointer, then the 15 Cortex-M exception vectors. */
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top,
    thsm_reset, fault, fault, fault, fault, fault, fault,
    fault, fault, fault, fault, fault, fault, fault, fault,
};

void thsm_reset(void)
{
    memcpy(&__data_start, &__data_load,
           (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start, 0, (size_t)((char *)&__bss_end - (char *)&__bss_start));
    _init_tls(&__tls_block); /* picolibc's errno lives there */
    _set_tls(&__tls_block);
    /* Paint up to just below the current frame. */
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = &__stack_limit; p < sp - 16; p++)
        *p = STACK_PAINT;
    sh_exit(main());
}

/* The C library's exit() ends here: on QEMU the emulator exits. */
void _exit(int code)
{
    sh_exit(code);
}

size_t board_stack_used(void)
{
    const uint32_t *p = &__stack_limit;
    while (p < &__stack_top && *p == STACK_PAINT)
        p++;
    return (size_t)((const char *)&__stack_top - (const char *)p);
}

size_t board_stack_size(void)
{
    return (size_t)((const char *)&__stack_top - (const char *)&__stack_limit);
}
