/*
 * main.c - the TinyHSM firmware: the device core behind a UART.
 *
 * Link protocol with the host side (tinyhsmd-qemu), besides AT itself:
 *   - at start the firmware sends STX, "TINYHSM-FW READY" or
 *     "TINYHSM-FW STORAGE <reason>", LF; after STORAGE it stops;
 *   - an EOT byte (0x04) from the host ends the session (the client closed
 *     the port), as a pty close does for tinyhsmd; the firmware answers
 *     with an EOT once every earlier answer is out;
 *   - SO (0x0e) from the host: more than one process has the port open, so
 *     AT+AUTH and AT+PIN_SET are refused (session.login_blocked); SI (0x0f):
 *     at most one has. The host sends one after every EOT.
 * The host turns a client's own EOT, SO and SI into another byte the core
 * refuses alike.
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/memory_buffer_alloc.h>

#include "crypto/util.h"
#include "device/device.h"
#include "port/board.h"

#define STX "\x02"
#define EOT 0x04
#define SHARED 0x0e /* SO */
#define SOLE 0x0f   /* SI */
#define POOL_SIZE (8 * 1024) /* mbedTLS heap: 4 KiB is too small (docs/PERFORMANCE.md) */

static thsm_device dev;
static thsm_session sess;

static void uart_out(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    board_uart_write(data, len);
}

static int entropy(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return board_entropy(buf, len);
}

static void announce(const char *what, const char *reason)
{
    board_uart_write(STX "TINYHSM-FW ", 12);
    board_uart_write(what, strlen(what));
    if (reason && *reason) {
        board_uart_write(" ", 1);
        board_uart_write(reason, strlen(reason));
    }
    board_uart_write("\n", 1);
}

/* Longest single request of this session, in ticks (see board.h). */
static uint32_t busy_max;

static void input_byte(uint8_t b)
{
    uint32_t t0 = board_ticks();
    thsm_device_input(&dev, &sess, &b, 1);
    uint32_t dt = (board_ticks() - t0) & BOARD_TICK_MASK;
    if (dt > busy_max)
        busy_max = dt;
}

/* Measurements for the host (docs/PERFORMANCE.md), after each session: stack
 * high-water mark, mbedTLS pool peak, the session's longest request. */
static void report(void)
{
    size_t heap_max = 0, blocks = 0;
    char text[200];
    mbedtls_memory_buffer_alloc_max_get(&heap_max, &blocks);
    snprintf(text, sizeof(text),
             "stack_used=%lu stack_size=%lu pool_max=%lu pool_size=%lu "
             "busy_max_ticks=%lu tick_hz=%lu\n",
             (unsigned long)board_stack_used(), (unsigned long)board_stack_size(),
             (unsigned long)heap_max, (unsigned long)POOL_SIZE,
             (unsigned long)busy_max, (unsigned long)board_tick_hz());
    board_report(text);
    busy_max = 0;
}

int main(void)
{
    static thsm_port port;
    static unsigned char pool[POOL_SIZE];
    char why[128];
    board_init();
    mbedtls_memory_buffer_alloc_init(pool, sizeof(pool));
    thsm_crypto_set_entropy(entropy, NULL);
    if (board_port_open(&port, why, sizeof(why)) != 0) {
        announce("STORAGE", why);
        return 1;
    }
    thsm_session_init(&sess, uart_out, NULL);
    if (thsm_device_init(&dev, &port) != 0) {
        announce("STORAGE", thsm_device_storage_reason(&dev));
        return 1;
    }
    announce("READY", NULL);
    for (;;) {
        int c = board_uart_getc();
        if (c == EOT) {
            thsm_device_disconnect(&dev, &sess);
            board_uart_write("\x04", 1);
            report();
        } else if (c == SHARED || c == SOLE) {
            sess.login_blocked = c == SHARED;
        } else if (c >= 0) {
            input_byte((uint8_t)c);
        } else if (thsm_device_flush_pending(&dev)) {
            thsm_device_flush(&dev);
        } else {
            board_idle();
        }
    }
}
