/*
 * store.c - the persistent state, sealed under the device key.
 *
 * state.bin = "THSMST06" | writer (16) | nonce (12) | AES-256-GCM(body)
 * | tag (16), with the header (magic and writer) as associated data and a
 * key the port derives from the device's root key (label
 * "tinyhsm/state/v1"). The writer is the version of the TinyHSM that wrote
 * the file, NUL-padded ASCII; every later format keeps this 24-byte header,
 * so an older TinyHSM can name the release a newer file needs. The
 * tag makes truncation, corruption and a file from another device all fail
 * loudly instead of loading garbage.
 *
 * Inside the body each private key is wrapped again (nonce | ct | tag) under
 * a key-encryption key (KEK), with the slot name and public key as associated
 * data, so a key cannot be moved to the other slot or paired with another
 * public key. Without a PIN the KEK is the port's derivation for
 * "tinyhsm/kek/v1"; with a PIN it is the port's derivation for
 * "tinyhsm/kek-pin/v1" with KDF(PIN) as context, the KDF and its cost being
 * the ones the PIN record names. So the state directory alone, device key
 * included, does not give the keys away, and a board's hardware unique key
 * never has to leave its key hardware.
 *
 * Body (integers little-endian):
 *   u32 generation
 *   PIN: u8 set | u8 tries | u8 kdf id | u8 kdf log2 cost | salt (16)
 *     | check (32)
 *   slot CA, slot signer, each:
 *     u8 flags (1 has_key, 2 has_cert) | pub (65) | wrapped priv (60)
 *     | u16 cert_len | cert
 *   log anchor: u32 count | head (32) | u8 damage | u32 damage_at
 *     | u8 rolled_back
 *   roles (v05): user extra | SO PIN record (as above) | SO extra, where
 *     extra = u8 has_wrap | wrapped KEK (60) | i64 last failure
 *   log (v06): u32 base | base head (32) | u8 acked | u32 ack record
 *   policy (v07): u8 flags (1 locked, 2 rising, 4 digest off, 8 imports
 *     off) | u8 formats | u32 max size | u32 per hour | u32 per day
 *     | u8 n boards | n x name | u32 hour | u32 hour count | u32 day
 *     | u32 day count | u8 n last | n x (u8 format | name | u64 version
 *     | text) | u8 imported (1 CA, 2 signer), where name and text are
 *     u8 length | bytes
 *
 * Older files still load and the next save writes version 07; the file
 * as it was is kept first as state.bin.vNN (NN its format), for a
 * downgrade:
 *   "THSMST06" has no policy (none: everything allowed) and no imported
 *     key;
 *   "THSMST05" has no writer, no log base (the log starts at record 0) and
 *     nothing acknowledged;
 *   "THSMST04" has no roles: no SO PIN, no delay, the user's role key is
 *     the KEK;
 *   "THSMST03" has no KDF id in the PIN record (u8 set | u8 tries | u8
 *     scrypt log2 N): the PIN was set with scrypt;
 *   "THSMST02" also has no log anchor: it loads with an empty one.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/hmac.h"
#include "crypto/util.h"
#include "device/store.h"

#define MAGIC "THSMST07" /* THSM_STATE_FORMAT */
#define MAGIC_PREFIX "THSMST" /* and two digits, the format */
#define MAGIC_LEN 8
#define WRITER_LEN 16 /* from format 06 on */
#define HEADER_LEN (MAGIC_LEN + WRITER_LEN)
#define ANCHOR_LEN (4 + 32 + 1 + 4 + 1)
#define PIN_LEN (4 + 16 + 32)
#define SLOT_MAX (1 + THSM_P256_PUB_LEN + THSM_WRAP_LEN + 2 + THSM_CERT_MAX)
#define BODY_MAX (4 + PIN_LEN + 2 * SLOT_MAX + ANCHOR_LEN + THSM_ROLES_LEN + \
                  THSM_LOG_V06_LEN + THSM_POLICY_V07_LEN)
#define FILE_MAX (HEADER_LEN + THSM_AEAD_NONCE_LEN + BODY_MAX + THSM_AEAD_TAG_LEN)
_Static_assert(FILE_MAX == THSM_STATE_FILE_MAX, "device.h's state size");

enum { V2 = 2, V3 = 3, V4 = 4, V5 = 5, V6 = 6, V7 = 7 }; /* file versions */
#define V_NOW V7
_Static_assert(V_NOW == THSM_STATE_FORMAT, "device.h's state format");

enum { HAS_KEY = 1, HAS_CERT = 2 };

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int err;
} buf;

static void put(buf *b, const void *data, size_t n)
{
    if (b->err || n > b->cap - b->len) {
        b->err = 1;
        return;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void get(buf *b, void *data, size_t n)
{
    if (b->err || n > b->cap - b->len) {
        b->err = 1;
        memset(data, 0, n);
        return;
    }
    memcpy(data, b->p + b->len, n);
    b->len += n;
}

static int derive(const thsm_port *port, const char *label, uint8_t key[32])
{
    return port->derive(port->ctx, label, NULL, 0, key) == THSM_PORT_OK ? 0
                                                                        : -1;
}

int thsm_kek_from_device(const thsm_port *port, uint8_t kek[32])
{
    return derive(port, "tinyhsm/kek/v1", kek);
}

int thsm_kek_from_pin(const thsm_port *port, const char *pin,
                      const thsm_pin *rec, uint8_t kek[32])
{
    uint8_t stretched[32];
    int rc = -1;
    if (thsm_pin_kdf(&rec->kdf, pin, strlen(pin), rec->salt, sizeof(rec->salt),
                     stretched, sizeof(stretched)) == 0 &&
        port->derive(port->ctx, "tinyhsm/kek-pin/v1", stretched,
                     sizeof(stretched), kek) == THSM_PORT_OK)
        rc = 0;
    thsm_wipe(stretched, sizeof(stretched));
    return rc;
}

int thsm_pin_check_value(const uint8_t kek[32], uint8_t out[32])
{
    return thsm_hmac_sha256(kek, 32, "tinyhsm/pin-check", 17, out);
}

/* Associated data of a wrapped KEK: the role, so a wrap cannot move. */
static void kek_aad(const char *role, uint8_t aad[8])
{
    memset(aad, 0, 8);
    memcpy(aad, role, strlen(role) < 8 ? strlen(role) : 8);
}

int thsm_pin_wrap_kek(thsm_pin *rec, const char *role,
                      const uint8_t role_key[32], const uint8_t kek[32])
{
    uint8_t aad[8], *w = rec->wrapped;
    kek_aad(role, aad);
    rec->has_wrap = 1;
    return thsm_random(w, THSM_AEAD_NONCE_LEN) == 0 &&
                   thsm_aead_seal(role_key, w, aad, sizeof(aad), kek, 32,
                                  w + THSM_AEAD_NONCE_LEN,
                                  w + THSM_AEAD_NONCE_LEN + 32) == 0
               ? 0 : -1;
}

int thsm_pin_unwrap_kek(const thsm_pin *rec, const char *role,
                        const uint8_t role_key[32], uint8_t kek[32])
{
    uint8_t aad[8];
    const uint8_t *w = rec->wrapped;
    if (!rec->has_wrap) {
        memcpy(kek, role_key, 32);
        return 0;
    }
    kek_aad(role, aad);
    return thsm_aead_open(role_key, w, aad, sizeof(aad),
                          w + THSM_AEAD_NONCE_LEN, 32,
                          w + THSM_AEAD_NONCE_LEN + 32, kek) == 0 ? 0 : -1;
}

/* Associated data binding a wrapped key to its slot and public key. */
static void wrap_aad(const char *slot, const uint8_t *pub, uint8_t aad[72])
{
    memset(aad, 0, 72);
    memcpy(aad, slot, strlen(slot));
    memcpy(aad + 7, pub, THSM_P256_PUB_LEN);
}

int thsm_slot_wrap(thsm_slot *s, const char *name, const uint8_t kek[32])
{
    uint8_t aad[72], *w = s->wrapped;
    wrap_aad(name, s->key.pub, aad);
    return thsm_random(w, THSM_AEAD_NONCE_LEN) == 0 &&
                   thsm_aead_seal(kek, w, aad, sizeof(aad), s->key.priv,
                                  THSM_P256_PRIV_LEN, w + THSM_AEAD_NONCE_LEN,
                                  w + THSM_AEAD_NONCE_LEN + THSM_P256_PRIV_LEN) == 0
               ? 0 : -1;
}

int thsm_slot_unwrap(thsm_slot *s, const char *name, const uint8_t kek[32])
{
    uint8_t aad[72], priv[THSM_P256_PRIV_LEN], pub[THSM_P256_PUB_LEN];
    const uint8_t *w = s->wrapped;
    if (!s->has_key || s->key_loaded)
        return 0;
    wrap_aad(name, s->key.pub, aad);
    memcpy(pub, s->key.pub, sizeof(pub));
    int rc = thsm_aead_open(kek, w, aad, sizeof(aad), w + THSM_AEAD_NONCE_LEN,
                            THSM_P256_PRIV_LEN,
                            w + THSM_AEAD_NONCE_LEN + THSM_P256_PRIV_LEN, priv);
    if (rc == 0)
        rc = thsm_p256_load(&s->key, priv, pub);
    thsm_wipe(priv, sizeof(priv));
    s->key_loaded = rc == 0;
    return rc == 0 ? 0 : -1;
}

void thsm_slot_forget_key(thsm_slot *s)
{
    thsm_p256_key_clear(&s->key);
    s->key_loaded = 0;
}

static void put_slot(buf *b, const thsm_slot *s)
{
    uint8_t flags = (uint8_t)((s->has_key ? HAS_KEY : 0) |
                              (s->has_cert ? HAS_CERT : 0));
    uint16_t cert_len = s->has_cert ? (uint16_t)s->cert_len : 0;
    uint8_t le[2] = {(uint8_t)cert_len, (uint8_t)(cert_len >> 8)};
    put(b, &flags, 1);
    put(b, s->key.pub, sizeof(s->key.pub));
    put(b, s->wrapped, sizeof(s->wrapped));
    put(b, le, 2);
    put(b, s->cert, cert_len);
}

static int get_slot(buf *b, thsm_slot *s, const char **why)
{
    uint8_t flags, le[2];
    get(b, &flags, 1);
    get(b, s->key.pub, sizeof(s->key.pub));
    get(b, s->wrapped, sizeof(s->wrapped));
    get(b, le, 2);
    size_t cert_len = (size_t)le[0] | (size_t)le[1] << 8;
    if (b->err || flags > (HAS_KEY | HAS_CERT) || flags == HAS_CERT ||
        cert_len > THSM_CERT_MAX ||
        (cert_len > 0) != ((flags & HAS_CERT) != 0)) {
        *why = "malformed key slot";
        return -1;
    }
    get(b, s->cert, cert_len);
    s->cert_len = cert_len;
    s->has_cert = (flags & HAS_CERT) != 0;
    s->has_key = (flags & HAS_KEY) != 0;
    return b->err ? -1 : 0;
}

static void put_u32(buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                     (uint8_t)(v >> 24)};
    put(b, le, 4);
}

static uint32_t get_u32(buf *b)
{
    uint8_t le[4];
    get(b, le, 4);
    return (uint32_t)le[0] | (uint32_t)le[1] << 8 | (uint32_t)le[2] << 16 |
           (uint32_t)le[3] << 24;
}

static void put_pin(buf *b, const thsm_pin *p)
{
    uint8_t rec[4] = {(uint8_t)p->set, p->tries, p->kdf.id, p->kdf.log2_cost};
    put(b, rec, 4);
    put(b, p->salt, sizeof(p->salt));
    put(b, p->check, sizeof(p->check));
}

/* A role's extra (v05): its KEK wrap and the time of its last wrong PIN. */
static void put_extra(buf *b, const thsm_pin *p)
{
    put(b, &p->has_wrap, 1);
    put(b, p->wrapped, sizeof(p->wrapped));
    put_u32(b, (uint32_t)(uint64_t)p->last_fail);
    put_u32(b, (uint32_t)((uint64_t)p->last_fail >> 32));
}

static int get_extra(buf *b, thsm_pin *p, const char **why)
{
    get(b, &p->has_wrap, 1);
    get(b, p->wrapped, sizeof(p->wrapped));
    uint64_t lo = get_u32(b);
    p->last_fail = (int64_t)(lo | (uint64_t)get_u32(b) << 32);
    if (b->err || p->has_wrap > 1) {
        *why = "malformed PIN record";
        return -1;
    }
    return 0;
}

/* A name or text: u8 length | bytes (at most max). */
static void put_text(buf *b, const char *s)
{
    uint8_t n = (uint8_t)strlen(s);
    put(b, &n, 1);
    put(b, s, n);
}

static int get_text(buf *b, char *s, size_t max)
{
    uint8_t n = 0;
    get(b, &n, 1);
    if (b->err || n > max)
        return -1;
    get(b, s, n);
    s[n] = '\0';
    return b->err || strlen(s) != n ? -1 : 0;
}

static void put_u64(buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static uint64_t get_u64(buf *b)
{
    uint64_t lo = get_u32(b);
    return lo | (uint64_t)get_u32(b) << 32;
}

enum { P_LOCKED = 1, P_RISING = 2, P_DIGEST_OFF = 4, P_IMPORTS_OFF = 8 };

static void put_policy(buf *b, const thsm_policy *p)
{
    uint8_t head[2] = {(uint8_t)((p->r.locked ? P_LOCKED : 0) |
                                 (p->r.rising ? P_RISING : 0) |
                                 (p->r.digest_off ? P_DIGEST_OFF : 0) |
                                 (p->r.imports_off ? P_IMPORTS_OFF : 0)),
                       p->r.formats};
    put(b, head, 2);
    put_u32(b, p->r.max_size);
    put_u32(b, p->r.per_hour);
    put_u32(b, p->r.per_day);
    put(b, &p->r.n_boards, 1);
    for (unsigned i = 0; i < p->r.n_boards; i++)
        put_text(b, p->r.boards[i]);
    put_u32(b, p->hour);
    put_u32(b, p->hour_count);
    put_u32(b, p->day);
    put_u32(b, p->day_count);
    put(b, &p->n_last, 1);
    for (unsigned i = 0; i < p->n_last; i++) {
        put(b, &p->last[i].format, 1);
        put_text(b, p->last[i].name);
        put_u64(b, p->last[i].version);
        put_text(b, p->last[i].text);
    }
}

static int get_last(buf *b, thsm_policy_last *l)
{
    get(b, &l->format, 1);
    if (get_text(b, l->name, THSM_POLICY_NAME_MAX) != 0)
        return -1;
    l->version = get_u64(b);
    return get_text(b, l->text, THSM_POLICY_VTEXT_MAX);
}

/* The policy and the imported flags (v07). */
static int decode_policy(buf *b, thsm_state *st, const char **why)
{
    thsm_policy *p = &st->policy;
    uint8_t head[2], imported = 0;
    int bad = 0;
    get(b, head, 2);
    p->r.locked = (head[0] & P_LOCKED) != 0;
    p->r.rising = (head[0] & P_RISING) != 0;
    p->r.digest_off = (head[0] & P_DIGEST_OFF) != 0;
    p->r.imports_off = (head[0] & P_IMPORTS_OFF) != 0;
    p->r.formats = head[1];
    p->r.max_size = get_u32(b);
    p->r.per_hour = get_u32(b);
    p->r.per_day = get_u32(b);
    get(b, &p->r.n_boards, 1);
    bad = head[0] > 15 || p->r.n_boards > THSM_POLICY_BOARDS;
    for (unsigned i = 0; !bad && i < p->r.n_boards; i++)
        bad = get_text(b, p->r.boards[i], THSM_POLICY_NAME_MAX) != 0;
    p->hour = get_u32(b);
    p->hour_count = get_u32(b);
    p->day = get_u32(b);
    p->day_count = get_u32(b);
    get(b, &p->n_last, 1);
    bad = bad || p->n_last > THSM_POLICY_VERSIONS;
    for (unsigned i = 0; !bad && i < p->n_last; i++)
        bad = get_last(b, &p->last[i]) != 0;
    get(b, &imported, 1);
    st->ca.imported = (imported & 1) != 0;
    st->signer.imported = (imported & 2) != 0;
    if (bad || b->err || imported > 3) {
        *why = "malformed signing policy";
        return -1;
    }
    return 0;
}

static int encode_body(const thsm_state *st, buf *b)
{
    put_u32(b, st->generation);
    put_pin(b, &st->pin);
    put_slot(b, &st->ca);
    put_slot(b, &st->signer);
    put_u32(b, st->log.count);
    put(b, st->log.head, sizeof(st->log.head));
    put(b, &st->log.damage, 1);
    put_u32(b, st->log.damage_at);
    put(b, &st->log.rolled_back, 1);
    put_extra(b, &st->pin); /* v05: the roles */
    put_pin(b, &st->so);
    put_extra(b, &st->so);
    put_u32(b, st->log.base); /* v06: the log's base, the acknowledgement */
    put(b, st->log.base_head, sizeof(st->log.base_head));
    put(b, &st->log.acked, 1);
    put_u32(b, st->log.ack_at);
    put_policy(b, &st->policy); /* v07 */
    uint8_t imported = (uint8_t)((st->ca.imported ? 1 : 0) |
                                 (st->signer.imported ? 2 : 0));
    put(b, &imported, 1);
    return b->err ? -1 : 0;
}

/* The log's base and acknowledgement (v06). */
static int decode_log_v06(buf *b, thsm_log_anchor *a, const char **why)
{
    a->base = get_u32(b);
    get(b, a->base_head, sizeof(a->base_head));
    get(b, &a->acked, 1);
    a->ack_at = get_u32(b);
    if (b->err || a->acked > 1 || a->base > a->count) {
        *why = "malformed audit log anchor";
        return -1;
    }
    return 0;
}

static int decode_anchor(buf *b, thsm_log_anchor *a, const char **why)
{
    a->count = get_u32(b);
    get(b, a->head, sizeof(a->head));
    get(b, &a->damage, 1);
    a->damage_at = get_u32(b);
    get(b, &a->rolled_back, 1);
    if (b->err || a->damage > THSM_LOG_REWRITTEN || a->rolled_back > 1) {
        *why = "malformed audit log anchor";
        return -1;
    }
    return 0;
}

/* The PIN record; before version 4 it has no KDF id and the KDF was scrypt.
 * A KDF this backend cannot compute is found when a PIN is checked. */
static int decode_pin(buf *b, thsm_pin *p, int version, uint8_t max,
                      const char **why)
{
    uint8_t rec[4] = {0, 0, THSM_KDF_SCRYPT, 0};
    if (version >= V4) {
        get(b, rec, 4);
    } else {
        get(b, rec, 2);
        get(b, rec + 3, 1); /* the scrypt cost */
    }
    get(b, p->salt, sizeof(p->salt));
    get(b, p->check, sizeof(p->check));
    p->set = rec[0];
    p->tries = rec[1];
    p->kdf.id = p->set ? rec[2] : 0;
    p->kdf.log2_cost = rec[3];
    if (b->err || rec[0] > 1 || rec[1] > max) {
        *why = "malformed PIN record";
        return -1;
    }
    return 0;
}

static int decode_body(buf *b, thsm_state *st, int version, const char **why)
{
    st->generation = get_u32(b);
    if (decode_pin(b, &st->pin, version, THSM_PIN_TRIES, why) != 0)
        return -1;
    if (get_slot(b, &st->ca, why) != 0 || get_slot(b, &st->signer, why) != 0 ||
        (version >= V3 && decode_anchor(b, &st->log, why) != 0))
        return -1;
    if (version >= V5 && (get_extra(b, &st->pin, why) != 0 ||
                          decode_pin(b, &st->so, V5, THSM_SO_PIN_TRIES, why) ||
                          get_extra(b, &st->so, why) != 0))
        return -1;
    if (version >= V6 && decode_log_v06(b, &st->log, why) != 0)
        return -1;
    if (version >= V7 && decode_policy(b, st, why) != 0)
        return -1;
    if (b->len != b->cap) {
        *why = "unexpected bytes after the state";
        return -1;
    }
    return 0;
}

int thsm_store_save(const thsm_port *port, thsm_state *st, thsm_work *work)
{
    uint8_t *file = work->sealed, key[32];
    uint8_t *nonce = file + HEADER_LEN, *body = nonce + THSM_AEAD_NONCE_LEN;
    buf b = {body, 0, BODY_MAX, 0};
    int rc = -1;
    st->generation++;
    memcpy(file, MAGIC, MAGIC_LEN);
    memset(file + MAGIC_LEN, 0, WRITER_LEN);
    memcpy(file + MAGIC_LEN, THSM_VERSION,
           strlen(THSM_VERSION) < WRITER_LEN ? strlen(THSM_VERSION) : WRITER_LEN);
    if (encode_body(st, &b) == 0 && derive(port, "tinyhsm/state/v1", key) == 0 &&
        thsm_random(nonce, THSM_AEAD_NONCE_LEN) == 0 &&
        thsm_aead_seal(key, nonce, file, HEADER_LEN, body, b.len, body,
                       body + b.len) == 0) {
        size_t total = HEADER_LEN + THSM_AEAD_NONCE_LEN + b.len + THSM_AEAD_TAG_LEN;
        rc = port->save(port->ctx, THSM_STATE_OBJECT, file, total) ==
                     THSM_PORT_OK ? 0 : -1;
    }
    if (rc != 0)
        st->generation--;
    thsm_wipe(key, sizeof(key));
    thsm_wipe(file, FILE_MAX);
    return rc;
}

/* The format a file's magic names (2 .. V_NOW, more: a newer TinyHSM's),
 * or -1 when it is no state file. */
static int format_of(const uint8_t *file)
{
    const uint8_t *d = file + sizeof(MAGIC_PREFIX) - 1;
    if (memcmp(file, MAGIC_PREFIX, sizeof(MAGIC_PREFIX) - 1) != 0 ||
        d[0] < '0' || d[0] > '9' || d[1] < '0' || d[1] > '9')
        return -1;
    int v = (d[0] - '0') * 10 + (d[1] - '0');
    return v >= V2 ? v : -1;
}

static size_t header_len(int format)
{
    return format >= V6 ? HEADER_LEN : MAGIC_LEN;
}

/* The reason for a file of a newer format: the release it needs, read
 * from its (not yet authenticated) writer field, printable only. */
static void newer_reason(const uint8_t *file, size_t len, int format,
                         char *why, size_t cap)
{
    char writer[WRITER_LEN + 1];
    size_t n = 0;
    while (len >= HEADER_LEN && n < WRITER_LEN &&
           ((file[MAGIC_LEN + n] >= '0' && file[MAGIC_LEN + n] <= '9') ||
            (file[MAGIC_LEN + n] >= 'a' && file[MAGIC_LEN + n] <= 'z') ||
            file[MAGIC_LEN + n] == '.' || file[MAGIC_LEN + n] == '-'))
        n++;
    memcpy(writer, file + MAGIC_LEN, n);
    writer[n] = '\0';
    if (n > 0 && (n == WRITER_LEN || file[MAGIC_LEN + n] == 0))
        snprintf(why, cap, "state.bin was made by TinyHSM %s (state format "
                 "%02d); install %s or newer", writer, format, writer);
    else
        snprintf(why, cap, "state.bin has state format %02d, newer than "
                 "this TinyHSM " THSM_VERSION " reads; install the TinyHSM "
                 "that made it, or a newer one", format);
}

/* Opens the sealed file in place; returns the body length or -1. */
static long unseal(const thsm_port *port, uint8_t *file, size_t len,
                   int format, const char **why)
{
    uint8_t key[32];
    size_t head = header_len(format);
    size_t overhead = head + THSM_AEAD_NONCE_LEN + THSM_AEAD_TAG_LEN;
    if (len < overhead) {
        *why = "state.bin is truncated";
        return -1;
    }
    size_t body_len = len - overhead;
    uint8_t *nonce = file + head, *body = nonce + THSM_AEAD_NONCE_LEN;
    if (derive(port, "tinyhsm/state/v1", key) != 0) {
        *why = "device key unavailable";
        return -1;
    }
    int rc = thsm_aead_open(key, nonce, file, head, body, body_len,
                            body + body_len, body);
    thsm_wipe(key, sizeof(key));
    if (rc != 0) {
        *why = "state.bin failed authentication: truncated, corrupted, or "
               "sealed by another device key";
        return -1;
    }
    return (long)body_len;
}

/* Keeps the file of an older format as state.bin.vNN (NN its format)
 * before a save replaces it: the newest such file, for a downgrade. */
static int keep_old(const thsm_port *port, const uint8_t *file, size_t len,
                    int format)
{
    char name[sizeof(THSM_STATE_OBJECT) + 8];
    snprintf(name, sizeof(name), THSM_STATE_OBJECT ".v%02d", format);
    return port->save(port->ctx, name, file, len) == THSM_PORT_OK ? 0 : -1;
}

int thsm_store_load(const thsm_port *port, thsm_state *st, thsm_work *work,
                    thsm_state_format *info, char *why, size_t cap)
{
    uint8_t *file = work->sealed;
    const char *reason = "storage read failed";
    size_t len = 0;
    thsm_state_clear(st);
    memset(info, 0, sizeof(*info));
    int rc = port->load(port->ctx, THSM_STATE_OBJECT, file, FILE_MAX + 1, &len);
    if (rc == THSM_PORT_NOT_FOUND)
        return 0;
    if (rc == THSM_PORT_TOO_BIG || (rc == THSM_PORT_OK && len > FILE_MAX))
        reason = "state.bin is larger than any valid state";
    int format = rc == THSM_PORT_OK && len >= MAGIC_LEN ? format_of(file) : -1;
    if (format > V_NOW) {
        newer_reason(file, len, format, why, cap);
        info->newer = 1;
        thsm_wipe(file, FILE_MAX + 1);
        thsm_state_clear(st);
        return -1;
    }
    if (rc == THSM_PORT_OK && len <= FILE_MAX && format < 0)
        reason = len < MAGIC_LEN ? "state.bin is truncated"
                                 : "state.bin is not a TinyHSM state file "
                                   "(bad magic)";
    long body_len = -1;
    if (rc == THSM_PORT_OK && len <= FILE_MAX && format > 0)
        body_len = unseal(port, file, len, format, &reason);
    rc = -1;
    if (body_len >= 0) {
        size_t head = header_len(format) + THSM_AEAD_NONCE_LEN;
        buf b = {file + head, 0, (size_t)body_len, 0};
        if (decode_body(&b, st, format, &reason) == 0)
            rc = 0;
    }
    thsm_wipe(file, FILE_MAX + 1);
    if (rc == 0 && format < V_NOW) { /* the sealed file again, as it was */
        info->old_format = format;
        info->kept = port->load(port->ctx, THSM_STATE_OBJECT, file,
                                FILE_MAX + 1, &len) == THSM_PORT_OK &&
                     keep_old(port, file, len, format) == 0;
        thsm_wipe(file, FILE_MAX + 1);
    }
    if (rc != 0) {
        thsm_state_clear(st);
        snprintf(why, cap, "%s", reason);
    }
    return rc;
}

static void slot_clear(thsm_slot *s)
{
    thsm_p256_key_clear(&s->key);
    memset(s, 0, sizeof(*s));
}

void thsm_state_clear(thsm_state *st)
{
    slot_clear(&st->ca);
    slot_clear(&st->signer);
    memset(&st->pin, 0, sizeof(st->pin));
    memset(&st->so, 0, sizeof(st->so));
    memset(&st->log, 0, sizeof(st->log));
    memset(&st->policy, 0, sizeof(st->policy));
    st->generation = 0;
}
