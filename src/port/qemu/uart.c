/* uart.c - polled driver for the CMSDK APB UART0 of the AN505. */
#include <stdint.h>

#include "port/qemu/board.h"

#define UART0_BASE 0x50200000u /* Secure alias of UART0 */
#define UART_DATA 0x00
#define UART_STATE 0x04
#define UART_CTRL 0x08
#define UART_BAUDDIV 0x10
#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u
#define CTRL_TX_EN 1u
#define CTRL_RX_EN 2u
#define SYSCLK_HZ 25000000u
#define BAUD 115200u

static volatile uint32_t *reg(uint32_t off)
{
    return (volatile uint32_t *)(UART0_BASE + off);
}

void board_init(void)
{
    *reg(UART_BAUDDIV) = SYSCLK_HZ / BAUD;
    *reg(UART_CTRL) = CTRL_TX_EN | CTRL_RX_EN;
}

int board_uart_getc(void)
{
    if (!(*reg(UART_STATE) & STATE_RX_FULL))
        return -1;
    return (int)(*reg(UART_DATA) & 0xff);
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
