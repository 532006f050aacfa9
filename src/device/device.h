/*
 * device.h - the TinyHSM device core: AT framing, parsing and every command.
 *
 * Firmware-style: the caller owns the thsm_device structure and one
 * thsm_session per connection (no allocation); bytes go in through
 * thsm_device_input(), and each complete response goes out through the
 * session's output callback in one call. The core touches the platform only
 * through thsm_port and cryptography only through the per-primitive crypto
 * headers. It keeps no static data and takes no heap: every buffer lives in
 * the caller's thsm_device and thsm_session.
 *
 * Inside, the core is one-way layers (src/device/LAYERS): framing (this
 * API), session, handlers, state, store and audit, response, values.
 */
#ifndef THSM_DEVICE_H
#define THSM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/kdf.h"
#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "crypto/x509.h"
#include "port/port.h"
#include "proto/at.h"
#include "proto/log.h"
#include "util/pin.h"

/* The old names of the protocol's limits, still used by src/daemon. */
#define THSM_LINE_MAX THSM_PROTO_LINE_MAX
#define THSM_RESP_MAX THSM_PROTO_ANSWER_MAX
#define THSM_CERT_MAX THSM_X509_DER_MAX
#ifndef THSM_VERSION /* the build passes the VERSION file's; 0.0.0: outside it */
#define THSM_VERSION "0.0.0"
#endif
#ifndef THSM_PRODUCT /* the build names the product (AT+VERSION?) */
#define THSM_PRODUCT "tinyhsmd"
#endif
#define THSM_WRAP_LEN 60      /* nonce (12) + wrapped private key (32) + tag (16) */
#define THSM_PIN_TRIES 5
#define THSM_SO_PIN_TRIES 10  /* the security officer's PIN (PUK) */
#define THSM_LOG_BATCH 8      /* audit records read at a time at start */
#define THSM_STATE_FORMAT 7 /* the state.bin format this core writes */
#define THSM_REFUSAL_KINDS 8  /* kinds of refusal counted one by one */
#define THSM_REFUSAL_WINDOW 10 /* seconds a kind's repeats are counted before
                                  their record is written */
#define THSM_LOG_RESERVE_DIV 8 /* refusals leave the last 1/8 of a bounded log
                                  to signatures and state changes */
#define THSM_LOG_RESERVE_MIN 4 /* ... and at least this many records */
#define THSM_LOG_CHANGE_RESERVE 8 /* the last records of a bounded log are
                                     for state changes alone: signatures
                                     stop before them, so a PIN change, a
                                     login and a clear still fit */
#define THSM_PEER_LEN 24       /* "UID=<u>" of a session, or "" */
/* Largest sealed state: magic, writer's version, nonce, body (generation,
 * PIN record, two slots with certificates, log anchor, roles, log base),
 * tag. store.c checks its layout against it. */
#define THSM_STATE_FILE_MAX \
    (8 + 16 + 12 + 4 + 52 + 2 * (1 + 65 + THSM_WRAP_LEN + 2 + THSM_CERT_MAX) + 42 + \
     THSM_ROLES_LEN + THSM_LOG_V06_LEN + THSM_POLICY_V07_LEN + 16)
/* v05 tail: the user record's KEK wrap and last failure, the SO record */
#define THSM_ROLES_LEN (2 * (1 + THSM_WRAP_LEN + 8) + 52)
/* v06 tail: the log's base and the acknowledgement of its findings */
#define THSM_LOG_V06_LEN (4 + 32 + 1 + 4)
/* The signing policy's limits (policy.h). */
#define THSM_POLICY_BOARDS 8    /* board names a policy may allow */
#define THSM_POLICY_NAME_MAX 16 /* a board's (or MCUboot slot's) name */
#define THSM_POLICY_VERSIONS 16 /* last versions kept, per (format, name) */
#define THSM_POLICY_VTEXT_MAX 31 /* a version as text */
/* v07 tail: the policy (rules, rate windows, last versions), the slots'
 * imported flags */
#define THSM_POLICY_V07_LEN                                                 \
    (1 + 1 + 3 * 4 + 1 + THSM_POLICY_BOARDS * (1 + THSM_POLICY_NAME_MAX) +  \
     4 * 4 + 1 +                                                           \
     THSM_POLICY_VERSIONS *                                                \
         (1 + 1 + THSM_POLICY_NAME_MAX + 8 + 1 + THSM_POLICY_VTEXT_MAX) +  \
     1)

/* Sends one complete response (several lines, CR LF each, an empty line last). */
typedef void (*thsm_output_fn)(void *ctx, const char *data, size_t len);

/* One key slot: the CA or the signer. The private key is stored wrapped
 * under the key-encryption key (KEK); key_loaded says whether key.priv holds
 * it in clear (only while the KEK is known: always without a PIN, after
 * AT+AUTH with one). */
typedef struct {
    int has_key;
    int has_cert;
    int key_loaded;
    uint8_t wrapped[THSM_WRAP_LEN];
    thsm_p256_key key; /* key.pub is valid whenever has_key */
    uint8_t cert[THSM_CERT_MAX];
    size_t cert_len;
    uint8_t imported;  /* the key came from outside (AT import), not made
                          here: never CKA_LOCAL / ALWAYS_SENSITIVE */
} thsm_slot;

/* What loading state.bin found about its format. */
typedef struct {
    int newer;      /* refused: a newer TinyHSM's format (the reason says which) */
    int old_format; /* read from this older format (0: the current one); the
                       next save writes the current one */
    int kept;       /* that file is kept as state.bin.v<old_format> */
} thsm_state_format;

/* The PIN record: never the PIN itself. */
typedef struct {
    int set;
    uint8_t tries;      /* attempts left; 0 = blocked */
    thsm_kdf_params kdf; /* the KDF and cost this PIN was set with */
    uint8_t salt[16];
    uint8_t check[32];  /* HMAC(role key, "check"): tells a right PIN from a
                           wrong one */
    uint8_t has_wrap;   /* wrapped holds the KEK sealed under the role key;
                           0: the role key is the KEK (user PINs before v05) */
    uint8_t wrapped[THSM_WRAP_LEN];
    int64_t last_fail;  /* port->now() of the last wrong PIN; 0: none */
} thsm_pin;

/* What was found wrong with the audit log or the state (sticky: kept in the
 * sealed state once found). */
enum {
    THSM_LOG_OK = 0,
    THSM_LOG_BROKEN = 1,    /* a record fails its chain link */
    THSM_LOG_MISSING = 2,   /* records the device wrote are gone */
    THSM_LOG_REWRITTEN = 3, /* the chain disagrees with the sealed head */
};

/* The audit log's anchor in the sealed state: how much of the log was
 * durable at the last save, and what was found wrong. */
typedef struct {
    uint32_t count;     /* records durable when the state was saved */
    uint8_t head[32];   /* chain value after record count-1 (zeros: none) */
    uint8_t damage;     /* THSM_LOG_* */
    uint32_t damage_at; /* first record concerned */
    uint8_t rolled_back; /* an older state.bin was found at some start */
    uint32_t base;      /* first record the log object holds (a clear
                           archived the ones before) */
    uint8_t base_head[32]; /* chain value before record base */
    uint8_t acked;      /* the findings above were acknowledged ... */
    uint32_t ack_at;    /* ... by this record */
} thsm_log_anchor;

/* The last version signed for one (format, board or slot name). */
typedef struct {
    uint8_t format; /* THSM_IMG_* (policy.h) */
    char name[THSM_POLICY_NAME_MAX + 1];
    uint64_t version; /* ordered as thsm_image_info's */
    char text[THSM_POLICY_VTEXT_MAX + 1];
} thsm_policy_last;

/* The owner's rules (policy.h); all zero: no rule, everything allowed as
 * before. Limits of 0 are no limit. */
typedef struct {
    uint8_t locked;      /* AT+POLICY_LOCK: no change until decommission */
    uint8_t rising;      /* versions strictly rising per (format, name) */
    uint8_t digest_off;  /* bare digests (AT+SIGNER_SIGN) refused */
    uint8_t imports_off; /* key imports refused */
    uint8_t formats;     /* bit 1 << THSM_IMG_*; 0: every format */
    uint8_t n_boards;    /* 0: every board */
    char boards[THSM_POLICY_BOARDS][THSM_POLICY_NAME_MAX + 1];
    uint32_t max_size, per_hour, per_day;
} thsm_policy_rules;

/* The signing policy in the sealed state: the rules, the rate windows,
 * the last versions signed. */
typedef struct {
    thsm_policy_rules r;
    /* fixed rate windows: the hour (now / 3600) and day (now / 86400) the
     * counts belong to */
    uint32_t hour, hour_count, day, day_count;
    uint8_t n_last;
    thsm_policy_last last[THSM_POLICY_VERSIONS];
} thsm_policy;

/* Persistent state: what survives a reset. */
typedef struct {
    uint32_t generation; /* bumped by every save */
    thsm_pin pin;
    thsm_pin so;         /* the security officer's PIN (PUK) */
    thsm_slot ca;
    thsm_slot signer;
    thsm_log_anchor log;
    thsm_policy policy; /* v07 */
} thsm_state;

/* An image being streamed (AT+IMG_BEGIN .. AT+IMG_END): the device hashes
 * every byte and keeps the first ones, which hold the header. */
#define THSM_IMG_HEAD_LEN 512 /* the SECUREBOOT10 header; MCUboot's is 32 */
typedef struct {
    uint8_t active;       /* a stream is open */
    uint8_t format;       /* THSM_IMG_* (device/policy.h) */
    uint8_t header_read;  /* the header was parsed and checked */
    uint32_t size;        /* SIZE= of AT+IMG_BEGIN */
    uint32_t got;         /* bytes hashed so far */
    uint32_t seq;         /* SEQ= the next AT+IMG_DATA must carry */
    uint32_t login;       /* the session's login_serial it was begun at */
    char name[THSM_PROTO_IMG_NAME_MAX + 1];
    char version_text[32];
    uint64_t version;     /* from the header, ordered (policy.h) */
    uint8_t version_clamped; /* SECUREBOOT10 MAJOR or MINOR over 16 bits */
    uint8_t head[THSM_IMG_HEAD_LEN];
    thsm_sha256_ctx sha;  /* live while active */
} thsm_img_stream;

/* One client's connection: its partial request line, its login, where its
 * answers go. The transport owns it; the device keeps no list of sessions. */
typedef struct thsm_session {
    thsm_output_fn out;   /* receives each complete response */
    void *out_ctx;
    char line[THSM_PROTO_LINE_MAX + 1];
    size_t line_len;
    int line_overflow, line_bad_byte, last_was_cr;
    int authed;           /* this connection logged in (AT+AUTH or AT+PIN_SET) */
    uint32_t auth_epoch;  /* login valid only while equal to the device's epoch */
    int so;               /* the login is the security officer's (AT+AUTH SO=) */
    int login_blocked;    /* set by the transport: while non-zero, AT+AUTH and
                             AT+PIN_SET answer ERROR AUTH_REFUSED <why> and
                             spend no try (the pty is open by more than one
                             process) */
    char peer[THSM_PEER_LEN]; /* set by the transport: "UID=<u>" of the
                                 client when known, for the audit log */
    uint32_t login_serial; /* bumped when a login starts or ends */
    thsm_img_stream img;  /* this connection's image stream, if any */
} thsm_session;

/* Refusals of one kind (error code, command, client) counted since the
 * first of them was recorded, until their record is written. */
typedef struct {
    const char *code;     /* error code; NULL: a free entry */
    const char *cmd;      /* the command, without AT+ */
    char peer[THSM_PEER_LEN];
    int64_t opened;       /* when the kind's first refusal was recorded */
    int64_t first, last;  /* times of the refusals counted */
    uint32_t count;       /* refusals counted, not yet recorded */
} thsm_refusals;

/* Large buffers a request needs at one time only, out of the stack (an MCU
 * thread has 4 KiB for the core). Each user is a leaf: none holds one
 * member while calling code that uses another. */
typedef union {
    uint8_t sealed[THSM_STATE_FILE_MAX + 1]; /* store.c: state.bin */
    char log_batch[THSM_LOG_BATCH * THSM_LOG_RECORD]; /* audit.c, at start */
    char text[2 * THSM_CERT_MAX + 1]; /* handlers: certificate hex or base64 */
} thsm_work;

typedef struct {
    const thsm_port *port;

    /* the session whose request is being handled (NULL between requests) */
    thsm_session *sess;

    /* response being built */
    char resp[THSM_PROTO_ANSWER_MAX];
    size_t resp_len;
    int resp_overflow; /* the answer did not fit: replaced by an error */

    /* logins: device-wide KEK, per-session login */
    uint32_t auth_epoch; /* bumped to end every session's login at once */
    uint32_t logins;     /* sessions logged in at the current epoch */
    int kek_known;       /* kek holds the key-encryption key */
    uint8_t kek[32];
    thsm_kdf_params pin_kdf; /* KDF for new PINs: the crypto backend's
                                default; tests and fuzzers lower the cost */
    uint32_t signatures;   /* made since start */

    /* audit log (audit.c) */
    uint32_t log_count;     /* records the device has written */
    uint8_t log_head[32];   /* chain value of the last record */
    int log_dirty;          /* records written but not yet synced */
    uint32_t log_synced;    /* records known durable */
    uint8_t log_synced_head[32];
    thsm_log_anchor anchor; /* what the next save seals: synced count and
                               head, damage found (kept across reloads) */
    thsm_refusals refused[THSM_REFUSAL_KINDS + 1]; /* the last: all other
                                                      kinds together */
    uint32_t log_pin_fails; /* wrong PINs the log holds since the last
                               AUTH, PIN_SET or DECOMMISSION (at start) */
    const char *err_code;   /* error code of the answer being built, or NULL */
    int outcome_recorded;   /* the request's handler recorded its outcome */

    /* storage health: non-zero when the stored state could not be read */
    int storage_error;
    char storage_reason[128];
    thsm_state_format format; /* what loading state.bin found */

    thsm_state st;
    thsm_state fresh; /* state.bin being loaded, before it replaces st */
    thsm_work work;
} thsm_device;

/* Prepares a session whose answers go to out(out_ctx, ...). */
void thsm_session_init(thsm_session *s, thsm_output_fn out, void *out_ctx);

/* Prepares dev and loads the persistent state. Returns 0, or -1 when the
 * stored state is unreadable (dev is still usable: key commands then answer
 * ERROR STORAGE; thsm_device_storage_reason() says why). */
int thsm_device_init(thsm_device *dev, const thsm_port *port);

/* Feeds bytes received from session s. Answers each complete line to s;
 * requests are handled one at a time (the transport serialises calls). */
void thsm_device_input(thsm_device *dev, thsm_session *s, const uint8_t *data,
                       size_t len);

/* The connection s ended (or must lose its login): ends s's login, wipes its
 * partial line. The last login to end wipes the clear keys (with a PIN). */
void thsm_device_disconnect(thsm_device *dev, thsm_session *s);

/* Whether audit records wait to be made durable; the caller then calls
 * thsm_device_flush() soon (tinyhsmd: within 50 ms, or when idle). */
bool thsm_device_flush_pending(const thsm_device *dev);
void thsm_device_flush(thsm_device *dev);

/* What was found wrong with the audit log or the state (at this start or
 * an earlier one), as AT+HSM_STATUS? names it, e.g. "LOG_STATE=MISSING_FROM_6
 * STATE=ROLLED_BACK"; "" when nothing. out holds at least 80 bytes. */
void thsm_device_findings(const thsm_device *dev, char *out, size_t cap);

/* What the last load of state.bin found about its format. */
const thsm_state_format *thsm_device_state_format(const thsm_device *dev);

/* Why the stored state could not be read, or "" when it could. */
const char *thsm_device_storage_reason(const thsm_device *dev);

/* Wipes keys from memory. */
void thsm_device_deinit(thsm_device *dev);

#endif
