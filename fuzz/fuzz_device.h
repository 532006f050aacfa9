/*
 * fuzz_device.h - a fake device for the host fuzzers: a thread on the far
 * end of a socketpair that waits for each request line and answers it with
 * the next chunk of the fuzz input (chunks are split at the bytes FF 00),
 * then ends the stream. Bytes of a chunk that one answer leaves over are
 * there before the next request, as from a hostile device.
 */
#ifndef THSM_FUZZ_DEVICE_H
#define THSM_FUZZ_DEVICE_H

#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/at_client.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define FUZZ_DEVICE_ANSWERS 64

typedef struct {
    int sv[2];
    const uint8_t *data;
    size_t size;
    pthread_t thread;
} fuzz_device;

static void *fuzz_device_main(void *arg)
{
    fuzz_device *d = arg;
    const uint8_t *p = d->data, *end = d->data + d->size;
    char c;
    for (int i = 0; i < FUZZ_DEVICE_ANSWERS; i++) {
        do
            if (read(d->sv[1], &c, 1) != 1)
                return NULL; /* the client gave up */
        while (c != '\n');
        const uint8_t *sep = memmem(p, (size_t)(end - p), "\xff\x00", 2);
        const uint8_t *stop = sep ? sep : end;
        if ((stop > p && send(d->sv[1], p, (size_t)(stop - p), MSG_NOSIGNAL) < 0) || !sep)
            break;
        p = sep + 2;
    }
    shutdown(d->sv[1], SHUT_WR); /* the device says no more */
    return NULL;
}

/* Connects at to a device that answers with data, as a socket. */
static void fuzz_device_start(fuzz_device *d, thsm_at *at, const uint8_t *data,
                              size_t size)
{
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, d->sv) == 0);
    d->data = data;
    d->size = size;
    CHECK(pthread_create(&d->thread, NULL, fuzz_device_main, d) == 0);
    memset(at, 0, sizeof(*at));
    at->fd = d->sv[0];
    at->via_socket = 1;
    at->timeout_ms = 20; /* an empty chunk: the device says nothing */
    at->idle_ms = 1; /* a chunk is written at once */
}

static void fuzz_device_stop(fuzz_device *d)
{
    shutdown(d->sv[0], SHUT_RDWR); /* ends a device still waiting */
    pthread_join(d->thread, NULL);
    close(d->sv[0]);
    close(d->sv[1]);
}

#endif
