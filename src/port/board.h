/*
 * board.h - what the firmware's main loop (fw/main.c) needs from a board.
 *
 * Each board folder (src/port/qemu for QEMU's mps2-an505; a B-U585I-IOT02A
 * port would add src/port/u585) implements these functions, its startup code
 * and vector table, its link.ld and a thsm_port; `cmake -DTHSM_BOARD=<folder>`
 * picks it. The device core never includes this file.
 */
#ifndef THSM_BOARD_H
#define THSM_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "port/port.h"

#define BOARD_EXIT_FAULT 3 /* a CPU fault: the emulator exits with it */

/* Clocks and UART. */
void board_init(void);
/* The next byte from the host, or -1 when none is waiting. */
int board_uart_getc(void);
void board_uart_write(const void *data, size_t len);
/* Sleeps until the UART has a byte (returns at once when it has one). */
void board_idle(void);

/* Opens the storage and fills port. 0, or -1 with a reason in why. */
int board_port_open(thsm_port *port, char *why, size_t cap);

/* Entropy for seeding the random generator. 0, or -1. */
int board_entropy(uint8_t *buf, size_t len);

/* A free-running tick counter for measurements: board_tick_hz() ticks a
 * second; it wraps at BOARD_TICK_MASK. */
#define BOARD_TICK_MASK 0xFFFFFFu /* the Cortex-M SysTick is 24 bits wide */
uint32_t board_ticks(void);
uint32_t board_tick_hz(void);

/* Stack bytes ever used (painted at reset), and the stack's size. */
size_t board_stack_used(void);
size_t board_stack_size(void);

/* Seconds without a request after which the firmware ends a login: on a
 * raw UART nothing tells it that the client went away. BOARD_IDLE_LOGOUT_S
 * is the build's default (cmake -DTHSM_IDLE_LOGOUT=N); a board may let it be
 * set otherwise. */
#ifndef BOARD_IDLE_LOGOUT_S
#define BOARD_IDLE_LOGOUT_S 60
#endif
uint32_t board_idle_logout_s(void);

/* Records a measurement line (name=value ...) where the host can read it. */
void board_report(const char *text);

#endif
