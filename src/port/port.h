/*
 * port.h - what the device core needs from the platform, and nothing more.
 *
 * On a microcontroller this is flash storage, a key derivation from the
 * hardware unique key and an RTC; on POSIX (port/posix) it is a state
 * directory, a key file and the system clock; in tests and fuzzers
 * (port/mem) it is RAM.
 *
 * The core calls through a table of function pointers so that one build of
 * the core can be tested against several ports (e.g. one that fails writes).
 */
#ifndef THSM_PORT_H
#define THSM_PORT_H

#include <stddef.h>
#include <stdint.h>

#define THSM_PORT_OK 0
#define THSM_PORT_NOT_FOUND (-1) /* no such object: a fresh device */
#define THSM_PORT_IO (-2)        /* the medium failed */
#define THSM_PORT_TOO_BIG (-3)   /* object larger than the buffer */
#define THSM_PORT_FULL (-4)      /* append: the medium has no room left */

#define THSM_DEVICE_KEY_LEN 32 /* the root key of the software ports */
#define THSM_DERIVE_LEN 32      /* bytes derive() writes */
#define THSM_DERIVE_CONTEXT_MAX 32

typedef struct thsm_port {
    void *ctx;
    /* Reads object name into buf. */
    int (*load)(void *ctx, const char *name, uint8_t *buf, size_t cap,
                size_t *len);
    /* Replaces object name atomically and durably: after a crash at any
     * instant a later load returns either the old or the new content. */
    int (*save)(void *ctx, const char *name, const uint8_t *buf, size_t len);
    /* Appends to object name (creating it). Survives a crash of the caller
     * at once; survives a power cut only after sync. FULL when the medium
     * has no room (a bounded log on flash): the core then withholds
     * signatures. */
    int (*append)(void *ctx, const char *name, const uint8_t *buf, size_t len);
    /* Makes the appends to name so far durable. */
    int (*sync)(void *ctx, const char *name);
    /* Reads up to cap bytes of name from offset; *len is 0 at its end. */
    int (*read)(void *ctx, const char *name, uint64_t offset, uint8_t *buf,
                size_t cap, size_t *len);
    /* Size of name in bytes; NOT_FOUND when it does not exist. */
    int (*size)(void *ctx, const char *name, uint64_t *size);
    /* Derives a key for label (a constant naming its use) and context
     * (0..THSM_DERIVE_CONTEXT_MAX bytes, may be NULL when 0) from the
     * device's root key, which never leaves the port: a board derives it
     * from a hardware unique key that software cannot read (as TF-M's
     * tfm_plat_get_huk_derived_key does). The software ports compute
     * HKDF-SHA-256(ikm = root key || context, no salt, info = label); see
     * port/root_key.h. The same inputs always give the same key. */
    int (*derive)(void *ctx, const char *label, const uint8_t *context,
                  size_t context_len, uint8_t out[THSM_DERIVE_LEN]);
    /* Seconds since 1970-01-01 UTC. */
    int64_t (*now)(void *ctx);
    /* Cuts the appended object name back to size bytes (at most its size),
     * durably: a short append is taken back, an archived log cleared. A
     * port that can only erase (flash) accepts size 0 alone and answers IO
     * otherwise. */
    int (*truncate)(void *ctx, const char *name, uint64_t size);
    /* Bytes name can still grow by; UINT64_MAX when the port has no bound
     * of its own (a disk: it fails with IO when full). */
    int (*room)(void *ctx, const char *name, uint64_t *bytes);
} thsm_port;

#endif
