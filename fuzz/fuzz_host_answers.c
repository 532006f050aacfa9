/*
 * fuzz_host_answers.c - arbitrary text into every parser of device answers
 * in src/host (status and policy, PEM and DER certificates, signatures,
 * log pages and records), the terminal escaping and the certificate value rules. The
 * first byte picks the parser; the rest is the answer.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/x509.h"
#include "host/hsm.h"
#include "host/policy.h"
#include "util/certvalues.h"
#include "util/escape.h"
#include "util/hex.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return 0;
    return 1;
}

static void status(const char *t)
{
    thsm_status st;
    if (thsm_parse_status(t, &st) != 0)
        return;
    CHECK(st.pin >= THSM_PIN_NONE && st.pin <= THSM_PIN_BLOCKED);
    CHECK(st.auth == 0 || st.auth == 1);
    CHECK(strlen(st.ca_key) < 17 && strlen(st.signer_key) < 17);
    CHECK(printable(st.log_state));
}

static void pem(char *t)
{
    char *lines[THSM_AT_LINES_MAX], out[THSM_PEM_MAX];
    size_t n = 0;
    for (char *s = strtok(t, "\n"); s && n < THSM_AT_LINES_MAX;
         s = strtok(NULL, "\n"))
        lines[n++] = s;
    if (thsm_parse_pem(lines, n, out, sizeof(out)) != 0)
        return;
    size_t len = strlen(out);
    CHECK(strncmp(out, "-----BEGIN ", 11) == 0 && out[len - 1] == '\n');
    CHECK(strstr(out, "\n-----END ") || strncmp(out, "-----END ", 9) == 0);
}

static void len_hex(const char *t)
{
    uint8_t der[THSM_X509_DER_MAX], sig[THSM_P256_SIG_RAW_LEN];
    char hex[2 * THSM_X509_DER_MAX + 1];
    size_t len = 0;
    if (thsm_parse_len_hex(t, der, sizeof(der), &len) == 0) {
        /* exactly the digits announced, nothing else */
        CHECK(len > 0 && len <= sizeof(der));
        thsm_hex(der, len, hex);
        CHECK(strcasecmp(strchr(t, ' ') + 1, hex) == 0);
    }
    if (thsm_parse_sig(t, sig) == 0)
        CHECK(len > 0 && len <= THSM_P256_SIG_DER_MAX);
}

/* AT+POLICY?'s answer: a KEY=VALUE line like the status. */
static void policy(const char *t)
{
    thsm_policy_info p;
    if (thsm_parse_policy(t, &p) != 0)
        return;
    CHECK(p.n_boards <= THSM_HOST_POLICY_BOARDS &&
          p.n_last <= THSM_HOST_POLICY_LAST);
    for (unsigned i = 0; i < p.n_boards; i++)
        CHECK(p.boards[i][0] && strlen(p.boards[i]) < THSM_HOST_POLICY_NAME);
    for (unsigned i = 0; i < p.n_last; i++)
        CHECK(strlen(p.last[i].version) < THSM_HOST_POLICY_VERSION);
}

static void log_parts(const char *t)
{
    thsm_log_page p;
    thsm_log_record r;
    uint8_t head[32] = {0};
    if (thsm_parse_log_page(t, &p) == 0)
        CHECK(p.count <= p.total && p.total <= THSM_LOG_TOTAL_MAX);
    if (thsm_parse_log_record(t, &r) == 0) {
        CHECK(strlen(t) == THSM_LOG_LINE && r.index < 100000000UL);
        CHECK(r.time >= 0 && printable(r.event) && printable(r.result));
        CHECK(strlen(r.chain) == 64);
    }
    if (thsm_log_chain_next(head, t))
        CHECK(strlen(t) == THSM_LOG_LINE);
}

static void escape(const char *t, size_t cap)
{
    char out[THSM_ESCAPED_MAX(1024)];
    if (cap == 0 || cap > sizeof(out))
        return;
    thsm_escape(t, out, cap);
    CHECK(strlen(out) < cap && printable(out));
    if (THSM_ESCAPED_MAX(strlen(t)) <= cap) /* room enough: nothing cut */
        CHECK(strlen(out) >= strlen(t) &&
              !strstr(out, "...") == !strstr(t, "..."));
}

static void cert_values(char *t)
{
    const char *v[5] = {NULL};
    int64_t from = 0, to = 0;
    char *save;
    int n = 0;
    for (char *s = strtok_r(t, " ", &save); s && n < 5; s = strtok_r(NULL, " ", &save))
        v[n++] = s;
    if (thsm_cert_values_check(v[0], v[1], v[2], v[3], v[4], &from, &to))
        return;
    CHECK(from >= 0 && to > from && to <= THSM_TIME_MAX);
    CHECK(strlen(v[0]) == 2 && strlen(v[3]) == 14);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char t[65536];
    if (size < 1 || size > sizeof(t))
        return 0;
    memcpy(t, data + 1, size - 1);
    t[size - 1] = '\0'; /* answers are C strings: a NUL ends them */
    switch (data[0] % 7) {
    case 0: status(t); policy(t); break;
    case 1: pem(t); break;
    case 2: len_hex(t); break;
    case 3: log_parts(t); break;
    case 4: escape(t, data[0]); break;
    case 5: cert_values(t); break;
    default: escape(t, THSM_ESCAPED_MAX(1024)); break;
    }
    return 0;
}
