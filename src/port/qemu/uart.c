/*
 * uart.c - driver for the CMSDK APB UART0 of the AN505: polled, but idle
 * in WFI rather than spinning on the status register. Its RX interrupt is
 * enabled only to wake the core; PRIMASK keeps it from being taken, so no
 * handler runs.
 */
#include <stdint.h>

#include "port/board.h"

#define UART0_BASE 0x50200000u /* Secure alias of UART0 */
#define UART_DATA 0x00
#define UART_STATE 0x04
#define UART_CTRL 0x08
#define UART_INTCLEAR 0x0C
#define UART_BAUDDIV 0x10
#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u
#define CTRL_TX_EN 1u
#define CTRL_RX_EN 2u
#define CTRL_RX_INT_EN 8u
#define INT_RX 2u
#define UART0_RX_IRQ 32 /* AN505 interrupt map */
#define NVIC_ISER(n) ((volatile uint32_t *)(0xE000E100u + 4u * (n)))
#define NVIC_ICPR(n) ((volatile uint32_t *)(0xE000E280u + 4u * (n)))
#define SYST_CSR ((volatile uint32_t *)0xE000E010u)
#define SYST_RVR ((volatile uint32_t *)0xE000E014u)
#define SYST_CVR ((volatile uint32_t *)0xE000E018u)
#define SYST_ENABLE_CPUCLK 5u
#define BAUD 115200u
#define CORE_HZ 20000000u /* AN505 core and APB clock */

static volatile uint32_t *reg(uint32_t off)
{
    return (volatile uint32_t *)(UART0_BASE + off);
}

void board_init(void)
{
    __asm__ volatile("cpsid i" ::: "memory"); /* wake on interrupts, take none */
    *reg(UART_BAUDDIV) = CORE_HZ / BAUD;
    *reg(UART_CTRL) = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN;
    *NVIC_ISER(UART0_RX_IRQ / 32) = 1u << (UART0_RX_IRQ % 32);
    /* Reading DATA tells the emulator the receiver is ready: QEMU 7.2 stops
     * polling its input while RX is disabled (at reset) and does not look
     * again when CTRL enables it. Harmless on a board: RX is empty. */
    (void)*reg(UART_DATA);
    *SYST_RVR = BOARD_TICK_MASK; /* free-running, no interrupt */
    *SYST_CVR = 0;
    *SYST_CSR = SYST_ENABLE_CPUCLK;
}

uint32_t board_ticks(void)
{
    return BOARD_TICK_MASK - *SYST_CVR; /* SysTick counts down */
}

uint32_t board_tick_hz(void)
{
    return CORE_HZ;
}

int board_uart_getc(void)
{
    if (!(*reg(UART_STATE) & STATE_RX_FULL))
        return -1;
    int c = (int)(*reg(UART_DATA) & 0xff);
    *reg(UART_INTCLEAR) = INT_RX;
    *NVIC_ICPR(UART0_RX_IRQ / 32) = 1u << (UART0_RX_IRQ % 32);
    return c;
}

void board_idle(void)
{
    if (!(*reg(UART_STATE) & STATE_RX_FULL))
        __asm__ volatile("wfi" ::: "memory"); /* until a byte arrives */
}

void board_uart_write(const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        while (*reg(UART_STATE) & STATE_TX_FULL)
            ;
        *reg(UART_DATA) = p[i];
    }
}
