/*
 * main.c - the TinyHSM firmware: the device core behind a UART.
 *
 * The link bytes besides AT (start line, session end, shared port) are
 * src/proto/link.h's. A raw UART sends none of them, so a login also ends
 * after the board's idle time without a request (board_idle_logout_s).
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/memory_buffer_alloc.h>

#include "crypto/util.h"
#include "device/device.h"
#include "port/board.h"
#include "proto/link.h"

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
    static const char head[] = "\x02" THSM_LINK_BANNER;
    board_uart_write(head, sizeof(head) - 1);
    board_uart_write(what, strlen(what));
    if (reason && *reason) {
        board_uart_write(" ", 1);
        board_uart_write(reason, strlen(reason));
    }
    board_uart_write("\n", 1);
}

/* Ends the login when the host was quiet for the board's idle time (from
 * the end of the last request to the next byte): nothing else tells the
 * firmware that a raw UART's client went away. */
static void end_idle_login(const thsm_port *port, int64_t quiet_since)
{
    if (sess.authed && port->now(port->ctx) - quiet_since >=
                           (int64_t)board_idle_logout_s())
        thsm_device_disconnect(&dev, &sess);
}

/* Longest single request of this session, and all its requests together,
 * in ticks (see board.h). */
static uint32_t busy_max;
static uint32_t busy_total;

static void input_byte(uint8_t b)
{
    uint32_t t0 = board_ticks();
    thsm_device_input(&dev, &sess, &b, 1);
    uint32_t dt = (board_ticks() - t0) & BOARD_TICK_MASK;
    if (dt > busy_max)
        busy_max = dt;
    busy_total += dt;
}

/* Measurements for the host (docs/PERFORMANCE.md), after each session: stack
 * high-water mark, mbedTLS pool peak, the session's longest request. */
static void report(void)
{
    size_t heap_max = 0, blocks = 0;
    char text[240];
    mbedtls_memory_buffer_alloc_max_get(&heap_max, &blocks);
    snprintf(text, sizeof(text),
             "stack_used=%lu stack_size=%lu pool_max=%lu pool_size=%lu "
             "busy_max_ticks=%lu busy_total_ticks=%lu tick_hz=%lu\n",
             (unsigned long)board_stack_used(), (unsigned long)board_stack_size(),
             (unsigned long)heap_max, (unsigned long)POOL_SIZE,
             (unsigned long)busy_max, (unsigned long)busy_total,
             (unsigned long)board_tick_hz());
    board_report(text);
    busy_max = 0;
    busy_total = 0;
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
        announce(THSM_LINK_STORAGE, why);
        return 1;
    }
    thsm_session_init(&sess, uart_out, NULL);
    if (thsm_device_init(&dev, &port) != 0) {
        announce(THSM_LINK_STORAGE, thsm_device_storage_reason(&dev));
        return 1;
    }
    announce(THSM_LINK_READY, NULL);
    int64_t quiet_since = -1; /* when the host went quiet; -1: it is not */
    for (;;) {
        int c = board_uart_getc();
        if (c >= 0 && quiet_since >= 0) {
            end_idle_login(&port, quiet_since);
            quiet_since = -1;
        }
        if (c == THSM_LINK_EOT) {
            static const char eot[] = {THSM_LINK_EOT};
            thsm_device_disconnect(&dev, &sess);
            board_uart_write(eot, 1);
            report();
        } else if (c == THSM_LINK_SHARED || c == THSM_LINK_SOLE) {
            sess.login_blocked = c == THSM_LINK_SHARED;
        } else if (c >= 0) {
            input_byte((uint8_t)c);
        } else if (thsm_device_flush_pending(&dev)) {
            thsm_device_flush(&dev);
        } else {
            if (quiet_since < 0)
                quiet_since = port.now(port.ctx);
            board_idle();
        }
    }
}
