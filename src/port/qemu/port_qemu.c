/*
 * port_qemu.c - the device port on the emulated board: objects on flash.
 *
 * Flash layout: see layout.h.
 *
 * A slot is a 64-byte header and the payload. The header's commit marker is
 * programmed last, in its own 16-byte unit (a board with ECC flash programs
 * 16 bytes at once), so a slot cut off mid-save has no marker and the other
 * slot, untouched, stays the state. The header also holds a sequence number
 * (newest wins) and SHA-256 over sequence, length and payload. A newest
 * slot that fails its digest is damage, reported, not skipped.
 *
 * The log is never erased: once full, appends fail, and the core then
 * refuses to sign (ERROR STORAGE) rather than sign unrecorded. Its end is
 * the first erased byte: records are ASCII, so they contain no 0xFF.
 */
#include "port/qemu/port_qemu.h"

#include <string.h>

#include "crypto/sha256.h"
#include "crypto/util.h"
#include "port/qemu/flash.h"
#include "port/qemu/semihost.h"
#include "port/root_key.h"

#define SLOTS FLASH_SLOTS
#define HDR FLASH_SLOT_HDR
#define PAYLOAD_MAX (FLASH_SECTOR - HDR)
#define LOG_START FLASH_LOG_START
#define STATE_NAME "state.bin"
#define LOG_NAME "audit.log"
#define HUK_FILE "huk.bin"

static const uint8_t commit_mark[16] = FLASH_SLOT_MARK;

typedef struct {
    uint8_t mark[16];
    uint8_t seq[4];
    uint8_t len[4];
    uint8_t digest[32];
    uint8_t spare[8]; /* left erased */
} slot_header;

static uint32_t flash_size, log_end;

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* SHA-256 over the header's seq and len, then the payload read from flash
 * (src NULL) or from memory. */
static int slot_digest(const slot_header *h, uint32_t base, const uint8_t *src,
                       uint8_t out[32])
{
    thsm_sha256_ctx c;
    uint8_t chunk[FLASH_PAGE];
    uint32_t len = get32(h->len);
    if (thsm_sha256_init(&c) != 0)
        return -1;
    int rc = thsm_sha256_update(&c, h->seq, 8);
    for (uint32_t off = 0; rc == 0 && off < len; off += FLASH_PAGE) {
        size_t n = len - off < FLASH_PAGE ? len - off : FLASH_PAGE;
        if (src)
            rc = thsm_sha256_update(&c, src + off, n);
        else
            rc = flash_read(base + HDR + off, chunk, n) ? -1
                 : thsm_sha256_update(&c, chunk, n);
    }
    if (rc != 0) {
        thsm_sha256_release(&c);
        return -1;
    }
    return thsm_sha256_final(&c, out);
}

/* 1 when slot i was written to the end: its commit marker is in. */
static int slot_marked(int i, slot_header *h)
{
    return flash_read((uint32_t)i * FLASH_SECTOR, h, sizeof(*h)) == 0 &&
           memcmp(h->mark, commit_mark, sizeof(commit_mark)) == 0 &&
           get32(h->len) <= PAYLOAD_MAX;
}

static int slot_intact(int i, const slot_header *h)
{
    uint8_t d[32];
    return slot_digest(h, (uint32_t)i * FLASH_SECTOR, NULL, d) == 0 &&
           thsm_ct_equal(d, h->digest, sizeof(d));
}

/* The slot holding the state and its header: the newest marked one. -1
 * when there is none (a new device), -2 when it fails its digest: a marked
 * slot was written to the end, so that is damage, not a power cut, and
 * falling back to the older slot would roll the state back. */
static int current_slot(slot_header *h)
{
    slot_header cand;
    int best = -1;
    for (int i = 0; i < SLOTS; i++) {
        if (!slot_marked(i, &cand))
            continue;
        if (best < 0 || (int32_t)(get32(cand.seq) - get32(h->seq)) > 0) {
            *h = cand;
            best = i;
        }
    }
    return best >= 0 && !slot_intact(best, h) ? -2 : best;
}

static int q_load(void *ctx, const char *name, uint8_t *buf, size_t cap,
                  size_t *len)
{
    slot_header h;
    (void)ctx;
    if (strcmp(name, STATE_NAME) != 0)
        return THSM_PORT_NOT_FOUND;
    int i = current_slot(&h);
    if (i < 0)
        return i == -1 ? THSM_PORT_NOT_FOUND : THSM_PORT_IO;
    *len = get32(h.len);
    if (*len > cap)
        return THSM_PORT_TOO_BIG;
    return flash_read((uint32_t)i * FLASH_SECTOR + HDR, buf, *len) == 0
               ? THSM_PORT_OK : THSM_PORT_IO;
}

/* Writes into the slot that is not the state: erase, payload and header,
 * then the commit marker. The old slot stays valid until the marker is in. */
static int q_save(void *ctx, const char *name, const uint8_t *buf, size_t len)
{
    slot_header h, cur;
    (void)ctx;
    if (strcmp(name, STATE_NAME) != 0 || len > PAYLOAD_MAX)
        return THSM_PORT_IO;
    int now = current_slot(&cur);
    if (now == -2)
        return THSM_PORT_IO; /* never bury a damaged state under a new one */
    uint32_t base = (uint32_t)(now == 0 ? 1 : 0) * FLASH_SECTOR;
    memset(&h, 0xff, sizeof(h));
    put32(h.seq, now < 0 ? 1 : get32(cur.seq) + 1);
    put32(h.len, (uint32_t)len);
    if (slot_digest(&h, 0, buf, h.digest) != 0 || flash_erase(base) != 0 ||
        flash_program(base + HDR, buf, len) != 0 ||
        flash_program(base + 16, h.seq, HDR - 16) != 0 ||
        flash_program(base, commit_mark, sizeof(commit_mark)) != 0)
        return THSM_PORT_IO;
    return THSM_PORT_OK;
}

static int q_append(void *ctx, const char *name, const uint8_t *buf, size_t len)
{
    (void)ctx;
    if (strcmp(name, LOG_NAME) != 0 || memchr(buf, 0xff, len))
        return THSM_PORT_IO;
    if (len > flash_size - LOG_START - log_end)
        return THSM_PORT_FULL; /* a full log refuses: see the file comment */
    int rc = flash_program(LOG_START + log_end, buf, len);
    log_end += (uint32_t)len; /* a failed program still used the bytes */
    return rc == 0 ? THSM_PORT_OK : THSM_PORT_IO;
}

/* The log is erased only whole (an archived log cleared, AT+LOG_CLEAR). */
static int q_truncate(void *ctx, const char *name, uint64_t size)
{
    (void)ctx;
    if (strcmp(name, LOG_NAME) != 0 || size != 0)
        return THSM_PORT_IO;
    for (uint32_t at = LOG_START; at < LOG_START + log_end; at += FLASH_SECTOR)
        if (flash_erase(at) != 0)
            return THSM_PORT_IO;
    log_end = 0;
    return THSM_PORT_OK;
}

static int q_room(void *ctx, const char *name, uint64_t *bytes)
{
    (void)ctx;
    if (strcmp(name, LOG_NAME) != 0)
        return THSM_PORT_NOT_FOUND;
    *bytes = flash_size - LOG_START - log_end;
    return THSM_PORT_OK;
}

/* Programmed flash is durable at once. */
static int q_sync(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, LOG_NAME) == 0 ? THSM_PORT_OK : THSM_PORT_NOT_FOUND;
}

static int q_read(void *ctx, const char *name, uint64_t offset, uint8_t *buf,
                  size_t cap, size_t *len)
{
    (void)ctx;
    *len = 0;
    if (strcmp(name, LOG_NAME) != 0)
        return THSM_PORT_NOT_FOUND;
    if (offset >= log_end)
        return THSM_PORT_OK;
    *len = log_end - (uint32_t)offset < cap ? log_end - (uint32_t)offset : cap;
    return flash_read(LOG_START + (uint32_t)offset, buf, *len) == 0
               ? THSM_PORT_OK : THSM_PORT_IO;
}

static int q_size(void *ctx, const char *name, uint64_t *size)
{
    (void)ctx;
    if (strcmp(name, LOG_NAME) != 0)
        return THSM_PORT_NOT_FOUND;
    *size = log_end;
    return THSM_PORT_OK;
}

/* EMULATOR STAND-IN for a hardware unique key: a file in the state
 * directory, read for each derivation and wiped at once. A board derives in
 * its key hardware from a key its software cannot read. */
static int q_derive(void *ctx, const char *label, const uint8_t *context,
                    size_t context_len, uint8_t out[THSM_DERIVE_LEN])
{
    uint8_t key[THSM_DEVICE_KEY_LEN];
    (void)ctx;
    int fd = sh_open(HUK_FILE, SH_MODE_RB);
    int ok = fd >= 0 && sh_flen(fd) == THSM_DEVICE_KEY_LEN &&
             sh_read(fd, key, THSM_DEVICE_KEY_LEN) == 0 &&
             thsm_root_key_derive(key, label, context, context_len, out) ==
                 THSM_PORT_OK;
    if (fd >= 0)
        sh_close(fd);
    thsm_wipe(key, sizeof(key));
    return ok ? THSM_PORT_OK : THSM_PORT_IO;
}

/* EMULATOR STAND-IN for an RTC: the host's clock. */
static int64_t q_now(void *ctx)
{
    (void)ctx;
    return sh_time();
}

/* The log ends at its first erased byte (binary search: erased bytes only
 * follow it). */
static int find_log_end(void)
{
    uint32_t lo = 0, hi = flash_size - LOG_START;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint8_t b;
        if (flash_read(LOG_START + mid, &b, 1) != 0)
            return -1;
        if (b == 0xff)
            hi = mid;
        else
            lo = mid + 1;
    }
    log_end = lo;
    return 0;
}

int thsm_qemu_port_open(thsm_port *port, char *why, size_t cap)
{
    int rc = flash_open(&flash_size);
    const char *reason = rc == -1 ? "cannot open " FLASH_FILE
             : rc != 0 ? FLASH_FILE " is not a whole number of 8 KiB sectors"
             : flash_size <= LOG_START ? FLASH_FILE " is too small"
             : find_log_end() != 0 ? "cannot read the audit log"
             : NULL;
    if (reason) {
        strncpy(why, reason, cap - 1);
        why[cap - 1] = '\0';
        return -1;
    }
    memset(port, 0, sizeof(*port));
    port->load = q_load;
    port->save = q_save;
    port->append = q_append;
    port->sync = q_sync;
    port->read = q_read;
    port->size = q_size;
    port->derive = q_derive;
    port->now = q_now;
    port->truncate = q_truncate;
    port->room = q_room;
    return 0;
}
