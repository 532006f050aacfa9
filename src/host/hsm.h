/*
 * hsm.h - TinyHSM operations over an AT connection, shared by the CLI, the
 * tests and the benchmarks. They use only commands of the original board,
 * so they work with tinyhsmd and with the B-U585I-IOT02A alike, plus our
 * extensions where a device answers them.
 *
 * Every operation returns THSM_OK or a negative THSM_ERR_* code with a
 * one-line message in err that tells the user what to do next (err.h).
 * Device text in a message is escaped (util/escape.h); a PIN is never part
 * of one. The device's last answer stays in at->resp until the next call.
 *
 * The thsm_parse_* functions read one device answer each; they trust nothing
 * in it and are fuzzed (fuzz/fuzz_host_*.c).
 */
#ifndef THSM_HSM_H
#define THSM_HSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "host/at_client.h"
#include "host/err.h"
#include "proto/log.h"

#define THSM_PEM_MAX 4096

typedef struct {
    const char *country, *org, *cn;
    const char *start; /* YYYYMMDDhhmmss */
    unsigned days;
} thsm_subject;

/* ---- parsers of device answers ------------------------------------------ */

enum { THSM_PIN_NONE = 0, THSM_PIN_SET = 1, THSM_PIN_BLOCKED = 2 };

/* The payload of "OK ..." to AT+HSM_STATUS? (our extension). */
typedef struct {
    bool answered;         /* false: the device has no status (original board) */
    int pin;               /* THSM_PIN_* */
    bool auth;             /* this connection is logged in */
    unsigned long tries;   /* PIN tries left */
    bool ca, signer, signer_cert;
    unsigned long signatures, log;
    char ca_key[17], signer_key[17]; /* key ids, "-" when none */
    char log_state[32];
    char state[32]; /* STATE=: "OK", "ROLLED_BACK", or "" when absent */
    unsigned long delay;    /* seconds before the PIN accepts a try */
    bool has_so;            /* the device has the SO role (SO= present) */
    int so;                 /* the SO PIN: THSM_PIN_* */
    bool so_auth;           /* this connection is logged in as the SO */
    unsigned long so_tries; /* SO PIN tries left */
    unsigned long so_delay; /* seconds before the SO PIN accepts a try */

    char ack[16];   /* ACK=: the record that acknowledged the findings
                       shown, "NONE", or "" when absent */
    unsigned long log_base; /* LOG_BASE=: first record the device holds */
    char signer_origin[12]; /* SIGNER_ORIGIN=: "generated", "imported",
                               "none", or "" when absent */
} thsm_status;

/* The parsers return 0, or -1 when the text is malformed. */

/* 0, or -1 when PIN= or AUTH= is missing or a value is malformed. Unknown
 * words are skipped, so a newer device still parses. */
int thsm_parse_status(const char *text, thsm_status *st);

/* PEM certificate from the lines of an answer (BEGIN to END, each line
 * followed by LF). 0, or -1 when there is no complete one or it does not
 * fit. */
int thsm_parse_pem(char *const *lines, size_t nlines, char *pem, size_t cap);

/* "<len> <HEX>" (a DER certificate or signature) into out and *len; -1
 * unless the hex has exactly 2*len digits and 0 < len <= cap. */
int thsm_parse_len_hex(const char *text, uint8_t *out, size_t cap,
                       size_t *len);

/* "<len> <HEX>" of a DER ECDSA signature into raw r||s. 0 or -1. */
int thsm_parse_sig(const char *text, uint8_t sig[THSM_P256_SIG_RAW_LEN]);

/* ---- audit log (our extension) -------------------------------------------- */

/* Record layout and limits: proto/log.h. */

/* Status of an AT+LOG? answer: "<count> <total>" or, from devices that
 * anchor their log, "<count> <total> <head>", and after a clear
 * "<count> <total> <head> <base> <base head>". */
typedef struct {
    unsigned long count; /* records in this answer */
    unsigned long total; /* records the device has written */
    bool has_head;       /* the device gave its chain head */
    uint8_t head[32];    /* chain value after record total-1 */
    unsigned long base;  /* first record the device holds (after a clear) */
    uint8_t base_head[32]; /* chain value before record base */
} thsm_log_page;

int thsm_parse_log_page(const char *text, thsm_log_page *p);

/* One record, split into its fields (trailing padding removed). */
typedef struct {
    unsigned long index;
    int64_t time; /* seconds since the epoch, UTC */
    char event[17], key[17], digest[65], result[17], chain[65];
} thsm_log_record;

int thsm_parse_log_record(const char *line, thsm_log_record *r);

/* Advances the chain over one record line: head = SHA-256(head || the
 * line's first THSM_LOG_CHAIN_AT bytes). Whether the line's chain field
 * holds the new head (false too when the line has the wrong length). */
bool thsm_log_chain_next(uint8_t head[32], const char *line);

/* Called for each record line in order; index counts from the first
 * record the device holds (0 until a clear). */
typedef void (*thsm_log_fn)(void *ctx, unsigned long index, const char *line);

/* Reads every record the device's first answer announced (its total, and
 * its anchor into *anchor), page by page. Never loops on a device that
 * does not advance: returns THSM_OK with *got records read (which may be
 * fewer than anchor->total when the device sends no more), or fails when
 * an answer is malformed (count and records disagree, total shrinks) or
 * missing. */
int thsm_hsm_log_read(thsm_at *at, thsm_log_fn fn, void *ctx,
                      thsm_log_page *anchor, unsigned long *got,
                      thsm_err *err);

/* ---- operations ----------------------------------------------------------- */

/* Runs request; fails with a readable message unless the status is OK.
 * The message repeats the request in full, PIN values masked. The answer
 * is in at->resp. */
int thsm_hsm_expect_ok(thsm_at *at, const char *request, thsm_err *err);

/* Device status into *st; st->answered is false when the device has no
 * AT+HSM_STATUS? (the original board). Fails on no answer, a malformed
 * one or ERROR STORAGE (a key store the device cannot read). */
int thsm_hsm_status(thsm_at *at, thsm_status *st, thsm_err *err);

/* Whether the device says its signer key was imported (SIGNER_ORIGIN=). */
bool thsm_hsm_signer_imported(thsm_at *at);

/* Whether the device answered its status with OK; then its payload (the
 * KEY=VALUE words, unparsed) is in text. */
bool thsm_hsm_status_text(thsm_at *at, char *text, size_t cap);

/* A device error in the user's words, for the codes that have a plain
 * meaning and a command that fixes them (NO_CA, NO_SIGNER, NO_SIGNER_CERT,
 * AUTH_REQUIRED); NULL for the others. */
const char *thsm_hsm_plain_error(const char *code);

/* The device's version line and its secure element's serial number. */
int thsm_hsm_version(thsm_at *at, char *out, size_t cap, thsm_err *err);
int thsm_hsm_serial(thsm_at *at, char *out, size_t cap, thsm_err *err);

/* The signer's public key (uncompressed point) from AT+SIGNER_PUBKEY?;
 * false when the device gives none (no signer, or the original board). */
bool thsm_hsm_signer_pubkey(thsm_at *at, uint8_t pub[THSM_P256_PUB_LEN]);

/* PEM text of the CA (ca=true) or signer certificate, written anew from
 * its DER (x509_host.h): none of the device's text passes through. */
int thsm_hsm_cert_pem(thsm_at *at, bool ca, char *pem, size_t pem_cap,
                      thsm_err *err);

/* Signs a SHA-256 digest; returns the raw r||s signature. */
int thsm_hsm_sign_digest(thsm_at *at, const uint8_t digest[THSM_SHA256_LEN],
                         uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err);

/* Why a PIN command (login, PIN set or change) was refused. The device's
 * text is never kept: it may quote a PIN. */
typedef enum {
    THSM_DENY_NONE = 0,  /* accepted */
    THSM_DENY_NO_ANSWER, /* at_rc says why */
    THSM_DENY_WRONG_PIN, /* has_left: left tries remain */
    THSM_DENY_LOCKED,    /* too many wrong PINs: blocked now */
    THSM_DENY_DELAY,     /* too soon after a wrong PIN: wait seconds first */
    THSM_DENY_OTHER,     /* code is the device's error code ("" if none) */
} thsm_deny_kind;

typedef struct {
    thsm_deny_kind kind;
    int at_rc;          /* THSM_AT_ERR_* for THSM_DENY_NO_ANSWER */
    bool has_left;
    unsigned long left; /* PIN tries left, when has_left */
    unsigned long wait; /* seconds to wait, for THSM_DENY_DELAY */
    char code[32];
} thsm_deny;

/* Logs this connection in with pin. THSM_OK, or THSM_ERR_FAIL with *why. */
int thsm_hsm_auth(thsm_at *at, const char *pin, thsm_deny *why);

/* Sets the PIN (old NULL) or changes it from old to fresh (which also logs
 * in). THSM_OK, or THSM_ERR_FAIL with *why. */
int thsm_hsm_pin_set(thsm_at *at, const char *old, const char *fresh,
                     thsm_deny *why);

/* Logs this connection in as the security officer with puk. THSM_OK, or
 * THSM_ERR_FAIL with *why. */
int thsm_hsm_auth_so(thsm_at *at, const char *puk, thsm_deny *why);

/* Sets the first SO PIN (old NULL: needs this connection's user login) or
 * changes it from old to fresh (which logs in as the SO). THSM_OK, or
 * THSM_ERR_FAIL with *why. */
int thsm_hsm_so_pin_set(thsm_at *at, const char *old, const char *fresh,
                        thsm_deny *why);

/* The SO (logged in on this connection) sets a new user PIN, blocked or
 * not; the keys stay. THSM_OK, or THSM_ERR_FAIL with *why. */
int thsm_hsm_pin_unblock(thsm_at *at, const char *fresh, thsm_deny *why);

/* Erases every key and certificate, and the PIN. */
int thsm_hsm_decommission(thsm_at *at, thsm_err *err);
/* Acknowledges the device's findings (logged in); *record: the number of
 * the record that says so. */
int thsm_hsm_log_ack(thsm_at *at, unsigned long *record, thsm_err *err);
/* Clears the device's log (logged in) if it holds count records ending
 * in chain value head, i.e. exactly what the host archived. */
int thsm_hsm_log_clear(thsm_at *at, unsigned long count,
                       const uint8_t head[32], thsm_err *err);

/* NULL when the device would accept s, else the reason (the device's own
 * rules: util/certvalues.h). */
const char *thsm_subject_check(const thsm_subject *s);

/* The commands the reference script sends before provisioning: AT+RESET
 * and the INITs. A reset ends a login, so this comes before it. */
int thsm_hsm_prepare(thsm_at *at, thsm_err *err);

/* What thsm_hsm_provision_steps changed, as bits of *done. */
enum {
    THSM_PROV_ERASED = 1,      /* AT+STSAFE_DECOMMISSION: CA, signer, PIN */
    THSM_PROV_PIN = 2,         /* the PIN was set again after the erase */
    THSM_PROV_CA = 4,          /* a new CA key and certificate */
    THSM_PROV_SIGNER_KEY = 8,  /* a new signer key (the old one is gone) */
    THSM_PROV_SIGNER_CERT = 16 /* its certificate */
};

/* Checks both subjects (nothing is sent when one is refused), then creates
 * the CA (after erasing everything) and a CA-signed signer (all), or only
 * a new signer under the existing CA (!all). With all and pin
 * (the PIN the connection logged in with), the erase's loss of the PIN is
 * undone by setting it again before anything else. Call after
 * thsm_hsm_prepare and the login. */
int thsm_hsm_provision_steps(thsm_at *at, bool all, const thsm_subject *ca,
                             const thsm_subject *signer, const char *pin,
                             unsigned *done, thsm_err *err);

/* A certificate the device's CA issues for the signer key, for signer. */
int thsm_hsm_signer_ca_cert(thsm_at *at, const thsm_subject *signer,
                            thsm_err *err);

/* thsm_hsm_prepare, then thsm_hsm_provision_steps without a PIN. */
int thsm_hsm_provision(thsm_at *at, bool all, const thsm_subject *ca,
                       const thsm_subject *signer, thsm_err *err);

/* A new certificate for the same key (ca: the CA's, else the signer's),
 * valid from start (YYYYMMDDhhmmss, UTC) for days days: AT+CERT_RENEW. */
int thsm_hsm_cert_renew(thsm_at *at, bool ca, const char *start,
                        unsigned days, thsm_err *err);

/* Whether the device holds a CA certificate, into *has. */
int thsm_hsm_has_ca(thsm_at *at, bool *has, thsm_err *err);

/* Current time as YYYYMMDDhhmmss (UTC). */
void thsm_now_start(char out[15]);

#endif
