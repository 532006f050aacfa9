/*
 * hsm.h - TinyHSM operations over an AT connection, shared by the CLI, the
 * tests and the benchmarks. They use only commands of the original board,
 * so they work with tinyhsmd and with the B-U585I-IOT02A alike, plus our
 * extensions where a device answers them.
 *
 * Every function returns 0 on success or -1 with a one-line message in err
 * that tells the user what to do next. Device text in a message is escaped
 * (util/escape.h); a PIN is never part of one.
 *
 * The thsm_parse_* functions read one device answer each; they trust nothing
 * in it and are fuzzed (fuzz/fuzz_host_*.c).
 */
#ifndef THSM_HSM_H
#define THSM_HSM_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "host/at_client.h"

#define THSM_PEM_MAX 4096
#define THSM_ERR_MAX 1024 /* room for any message below, a whole request too */

typedef struct {
    const char *country, *org, *cn;
    const char *start; /* YYYYMMDDhhmmss */
    unsigned days;
} thsm_subject;

/* ---- parsers of device answers ------------------------------------------ */

enum { THSM_PIN_NONE = 0, THSM_PIN_SET = 1, THSM_PIN_BLOCKED = 2 };

/* The payload of "OK ..." to AT+HSM_STATUS? (our extension). */
typedef struct {
    int pin;               /* THSM_PIN_* */
    int auth;              /* this connection is logged in */
    unsigned long tries;   /* PIN tries left */
    int ca, signer, signer_cert;
    unsigned long signatures, log;
    char ca_key[17], signer_key[17]; /* key ids, "-" when none */
    char log_state[32];
    char state[32]; /* STATE=: "OK", "ROLLED_BACK", or "" when absent */
} thsm_status;

/* 0, or -1 when PIN= or AUTH= is missing or a value is malformed. Unknown
 * words are skipped, so a newer device still parses. */
int thsm_parse_status(const char *text, thsm_status *st);

/* PEM certificate from the lines of an answer (BEGIN to END, each line
 * followed by LF). 0, or -1 when there is no complete one or it does not
 * fit. */
int thsm_parse_pem(char *const *lines, size_t nlines, char *pem, size_t cap);

/* "<len> <HEX>" (a DER certificate or signature) into out; returns the
 * length, or -1 unless the hex has exactly 2*len digits and len <= cap. */
long thsm_parse_len_hex(const char *text, uint8_t *out, size_t cap);

/* "<len> <HEX>" of a DER ECDSA signature into raw r||s. 0 or -1. */
int thsm_parse_sig(const char *text, uint8_t sig[THSM_P256_SIG_RAW_LEN]);

/* ---- audit log (our extension) -------------------------------------------- */

#define THSM_LOG_LINE 200           /* a record without its newline */
#define THSM_LOG_CHAIN_AT 136       /* offset of the chain field */
#define THSM_LOG_TOTAL_MAX 100000000UL /* record numbers have 8 digits */

/* Status of an AT+LOG? answer: "<count> <total>" or, from devices that
 * anchor their log, "<count> <total> <head>". */
typedef struct {
    unsigned long count; /* records in this answer */
    unsigned long total; /* records the device has written */
    int has_head;        /* the device gave its chain head */
    uint8_t head[32];    /* chain value after record total-1 */
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
 * line's first 136 bytes). 0 when the line's chain field holds the new
 * head; -1 when it does not or the line has the wrong length. */
int thsm_log_chain_next(uint8_t head[32], const char *line);

/* Called for each record line in order; index counts from 0. */
typedef void (*thsm_log_fn)(void *ctx, unsigned long index, const char *line);

/* Reads every record the device's first answer announced (its total, and
 * its anchor into *anchor), page by page. Never loops on a device that
 * does not advance: returns 0 with *got records read (which may be fewer
 * than anchor->total when the device sends no more), or -1 when an answer
 * is malformed (count and records disagree, total shrinks) or missing. */
int thsm_hsm_log_read(thsm_at *at, thsm_log_fn fn, void *ctx,
                      thsm_log_page *anchor, unsigned long *got, char *err,
                      size_t cap);

/* ---- operations ----------------------------------------------------------- */

/* Runs request; fails with a readable message unless the status is OK.
 * The message repeats the request in full, PIN values masked. */
int thsm_hsm_expect_ok(thsm_at *at, const char *request, thsm_at_resp *resp,
                       char *err, size_t cap);

/* Device status: 1 with *st filled, 0 when the device has no
 * AT+HSM_STATUS? (the original board), -1 on no answer, a malformed one or
 * ERROR STORAGE (a key store the device cannot read). */
int thsm_hsm_status(thsm_at *at, thsm_status *st, char *err, size_t cap);

/* PEM text of the CA (ca=1) or signer certificate, CR LF removed. */
int thsm_hsm_cert_pem(thsm_at *at, int ca, char *pem, size_t pem_cap,
                      char *err, size_t cap);

/* Signs a SHA-256 digest; returns the raw r||s signature. */
int thsm_hsm_sign_digest(thsm_at *at, const uint8_t digest[THSM_SHA256_LEN],
                         uint8_t sig[THSM_P256_SIG_RAW_LEN], char *err,
                         size_t cap);

/* NULL when the device would accept s, else the reason (the device's own
 * rules: util/certvalues.h). */
const char *thsm_subject_check(const thsm_subject *s);

/* The commands the reference script sends before provisioning: AT+RESET
 * and the INITs. A reset ends a login, so this comes before it. */
int thsm_hsm_prepare(thsm_at *at, char *err, size_t cap);

/* What thsm_hsm_provision_steps changed, as bits of *done. */
enum {
    THSM_PROV_ERASED = 1,      /* AT+STSAFE_DECOMMISSION: CA, signer, PIN */
    THSM_PROV_PIN = 2,         /* the PIN was set again after the erase */
    THSM_PROV_CA = 4,          /* a new CA key and certificate */
    THSM_PROV_SIGNER_KEY = 8,  /* a new signer key (the old one is gone) */
    THSM_PROV_SIGNER_CERT = 16 /* its certificate */
};

/* Checks both subjects (nothing is sent when one is refused), then creates
 * the CA (after erasing everything) and a CA-signed signer (all=1), or
 * only a new signer under the existing CA (all=0). With all=1 and pin
 * (the PIN the connection logged in with), the erase's loss of the PIN is
 * undone by setting it again before anything else. Call after
 * thsm_hsm_prepare and the login. */
int thsm_hsm_provision_steps(thsm_at *at, int all, const thsm_subject *ca,
                             const thsm_subject *signer, const char *pin,
                             unsigned *done, char *err, size_t cap);

/* thsm_hsm_prepare, then thsm_hsm_provision_steps without a PIN. */
int thsm_hsm_provision(thsm_at *at, int all, const thsm_subject *ca,
                       const thsm_subject *signer, char *err, size_t cap);

/* Whether the device holds a CA certificate (1), none (0), or failed (-1). */
int thsm_hsm_has_ca(thsm_at *at, char *err, size_t cap);

/* Current time as YYYYMMDDhhmmss (UTC). */
void thsm_now_start(char out[15]);

#endif
