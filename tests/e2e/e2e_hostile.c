/*
 * tinyhsm against a hostile or broken device: a scripted fake on a pty
 * answers each request by a table. tinyhsm must not hang (every run has a
 * 20 s limit), must not print device bytes raw to the terminal, must not be
 * fooled by a log that lost its tail or was rewritten, and must say what a
 * failed provisioning changed.
 */
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/sha256.h"
#include "host/image.h"
#include "testutil.h"
#include "util/hex.h"

/* A request and the bytes answered; a request ending in '*' is a prefix. */
typedef struct {
    const char *request, *reply;
} rule;

typedef struct {
    int master;
    char slave[128];
    pid_t pid;
} fake;

static const char *reply_for(const rule *rules, const char *line)
{
    for (const rule *r = rules; r->request; r++) {
        size_t n = strlen(r->request);
        if (r->request[n - 1] == '*' ? strncmp(line, r->request, n - 1) == 0
                                     : strcmp(line, r->request) == 0)
            return r->reply;
    }
    if (strcmp(line, "AT+VERSION?") == 0) /* passes a probe for a TinyHSM */
        return "OK tinyhsmd 0.1.0\r\n\r\n";
    return "OK\r\n\r\n";
}

static void serve(int master, const rule *rules)
{
    char line[2048];
    size_t n = 0;
    char c;
    while (read(master, &c, 1) == 1) {
        if (c == '\r')
            continue;
        if (c != '\n') {
            if (n < sizeof(line) - 1)
                line[n++] = c;
            continue;
        }
        line[n] = '\0';
        n = 0;
        const char *r = reply_for(rules, line);
        if (write(master, r, strlen(r)) != (ssize_t)strlen(r))
            _exit(1);
    }
    _exit(0);
}

static void fake_start(fake *f, const rule *rules)
{
    int slave;
    struct termios raw;
    cfmakeraw(&raw);
    assert_int_equal(openpty(&f->master, &slave, f->slave, &raw, NULL), 0);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0)
        serve(f->master, rules); /* keeps the slave open: no hang-up */
    close(slave);
}

static void fake_stop(fake *f)
{
    kill(f->pid, SIGKILL);
    waitpid(f->pid, NULL, 0);
    close(f->master);
}

static char out[65536];

/* Runs tinyhsm -p <fake> ARGS with a time limit, and private PIN files
 * holding secret1 in $PIN_FILE, secret2 in $NEW_PIN_FILE; returns its
 * status. */
static int tinyhsm(const rule *rules, const char *args)
{
    fake f;
    char dir[512];
    thsm_test_tmpdir(dir, sizeof(dir));
    fake_start(&f, rules);
    int rc = thsm_test_run(out, sizeof(out),
                           "cd %s && umask 077 && echo secret1 >pin && "
                           "echo secret2 >pin2 && PIN_FILE=$PWD/pin && "
                           "NEW_PIN_FILE=$PWD/pin2 && "
                           "TINYHSM_NO_PIN_WARNING=1 timeout 20 %s -p %s %s "
                           "</dev/null", dir, thsm_test_bin("tinyhsm"), f.slave,
                           args);
    thsm_test_rmtree(dir);
    fake_stop(&f);
    return rc;
}

static void expect_text(const char *text)
{
    if (!strstr(out, text))
        fail_msg("output lacks '%s':\n%s", text, out);
}

/* ---- audit log ------------------------------------------------------------ */

/* n records chained as the device chains them, as AT+LOG? lines. */
static void make_records(int n, char *lines, size_t cap, uint8_t head[32])
{
    size_t o = 0;
    memset(head, 0, 32);
    for (int i = 0; i < n; i++) {
        char rec[202];
        thsm_sha256_ctx c;
        snprintf(rec, sizeof(rec), "%08d %010lld %-16.16s %-16s %-64s %-16.16s ",
                 i, 1764138923LL + i, "SIGN", "0123456789abcdef", "-", "OK");
        assert_int_equal(strlen(rec), 136);
        assert_int_equal(thsm_sha256_init(&c), 0);
        thsm_sha256_update(&c, head, 32);
        thsm_sha256_update(&c, rec, 136);
        thsm_sha256_final(&c, head);
        thsm_hex(head, 32, rec + 136);
        o += (size_t)snprintf(lines + o, cap - o, "%s\r\n", rec);
    }
}

static void log_answer(char *buf, size_t cap, const char *status,
                       const char *records)
{
    snprintf(buf, cap, "OK %s\r\n%s\r\n", status, records);
}

static void test_log_short_answer_does_not_hang(void **state)
{
    (void)state;
    const rule rules[] = {{"AT+LOG?*", "OK 5 100\r\n\r\n"}, {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "log --verify"), 1);
    expect_text("announced 5 log records from record 0 but sent 0");
    expect_text("FAIL");
    assert_int_equal(tinyhsm(rules, "log"), 1);
}

static void test_log_cut_tail_and_rewrite(void **state)
{
    (void)state;
    static char recs[8192], page[9000], status[200], rest[200];
    uint8_t head[32];
    char head_hex[65], zeros[65];
    make_records(3, recs, sizeof(recs), head);
    thsm_hex(head, 32, head_hex);
    memset(zeros, '0', 64);
    zeros[64] = '\0';
    const rule rules[] = {{"AT+LOG? FROM=0", page}, {"AT+LOG?*", rest},
                          {NULL, NULL}};

    snprintf(status, sizeof(status), "0 3 %s", head_hex); /* log deleted */
    log_answer(page, sizeof(page), status, "");
    assert_int_equal(tinyhsm(rules, "log --verify"), 1);
    expect_text("FAIL the device has written 3 records but only 0 arrived");

    snprintf(status, sizeof(status), "3 5 %s", head_hex); /* tail cut */
    log_answer(page, sizeof(page), status, recs);
    snprintf(rest, sizeof(rest), "OK 0 5 %s\r\n\r\n", head_hex);
    assert_int_equal(tinyhsm(rules, "log --verify"), 1);
    expect_text("has written 5 records but only 3 arrived");

    snprintf(status, sizeof(status), "3 3 %s", zeros); /* rewritten */
    log_answer(page, sizeof(page), status, recs);
    assert_int_equal(tinyhsm(rules, "log --verify"), 1);
    expect_text("FAIL the log's chain head differs from the device's anchor");

    snprintf(status, sizeof(status), "3 3 %s", head_hex);
    log_answer(page, sizeof(page), status, recs);
    assert_int_equal(tinyhsm(rules, "log --verify"), 0);
    expect_text("PASS 3 records, hash chain intact, matches the device's anchor");

    log_answer(page, sizeof(page), "3 3", recs); /* an older device */
    assert_int_equal(tinyhsm(rules, "log --verify"), 0);
    expect_text("PASS 3 records");
    expect_text("this device gives no anchor");
}

static void test_log_header_and_iso_times(void **state)
{
    (void)state;
    static char recs[8192], page[9000];
    uint8_t head[32];
    make_records(2, recs, sizeof(recs), head);
    log_answer(page, sizeof(page), "2 2", recs);
    const rule rules[] = {{"AT+LOG?*", page}, {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "log"), 0);
    expect_text("RECORD    TIME (UTC)            EVENT");
    expect_text("00000000  2025-11-26T06:35:23Z  SIGN");
    expect_text("00000001  2025-11-26T06:35:24Z  SIGN");
    /* the chain hash sits under CHAIN, also after a short "-" digest */
    size_t col = (size_t)(strstr(out, "CHAIN") - out);
    const char *rec = strchr(out, '\n') + 1;
    assert_int_equal(strcspn(rec, "\n"), col + 64);
    assert_int_equal(rec[col - 1], ' ');
}

/* ---- escaping --------------------------------------------------------------- */

static void test_device_text_is_escaped(void **state)
{
    (void)state;
    const rule rules[] = {
        {"AT+LOG?*", "ERROR BAD \033[2J\033]0;owned\007\r\n\r\n"},
        {"AT+HSM_STATUS?", "OK PIN=SET AUTH=0 TRIES=5\r\n\r\n"},
        {"AT+PIN_SET*", "ERROR \033[31mEVIL\033[0m NEW=secret1\r\n\r\n"},
        {"AT+AUTH*", "ERROR \033]0;x\007 PIN=secret1\r\n\r\n"},
        {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "log"), 1);
    expect_text("\\x1b[2J\\x1b]0;owned\\x07");
    assert_null(memchr(out, 0x1b, strlen(out)));
    assert_int_equal(tinyhsm(rules, "--pin-file $PIN_FILE pin change "
                                    "--new-pin-file $NEW_PIN_FILE"), 1);
    assert_null(memchr(out, 0x1b, strlen(out)));
    assert_null(strstr(out, "secret1"));
    assert_null(strstr(out, "secret2"));
    expect_text("\\x1b[31mEVIL\\x1b[0m");
    assert_int_equal(tinyhsm(rules, "--pin-file $PIN_FILE config --new all "
                                    "--yes"), 1);
    assert_null(memchr(out, 0x1b, strlen(out)));
    assert_null(strstr(out, "secret1"));
}

static void test_info_escapes_device_text(void **state)
{
    (void)state;
    const rule rules[] = {
        {"AT+VERSION?", "OK tinyhsmd \033]0;owned\007 0.1\r\n\r\n"},
        {"AT+STSAFE_SERIAL?", "OK 12\033[2J34\r\n\r\n"},
        {"AT+HSM_STATUS?", "OK PIN=\033[31mX TRIES=\0337 SIGNATURES=\033[1A "
                           "LOG=\033[K LOG_STATE=\033[H CA=1 SIGNER_CERT=1"
                           "\r\n\r\n"},
        {"AT+HSM_CA_CERT?*", "ERROR STORAGE \033[5mblink\r\n\r\n"},
        {"AT+SIGNER_CERT?*", "ERROR STORAGE \033[8mhide\r\n\r\n"},
        {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "info"), 0);
    assert_null(memchr(out, 0x1b, strlen(out)));
    assert_null(memchr(out, 0x07, strlen(out)));
    expect_text("Device:  tinyhsmd \\x1b]0;owned\\x07 0.1");
    expect_text("Serial:  12\\x1b[2J34");
    expect_text("PIN:         \\x1b[31mX");
    expect_text("\\x1b[5mblink");
    expect_text("\\x1b[8mhide");
}

/* The -d trace prints device lines escaped, and masks PIN values in both
 * directions: a device that echoes AT+AUTH must not show the PIN. */
static void test_trace_escapes_and_masks(void **state)
{
    (void)state;
    const rule rules[] = {
        {"AT+VERSION?", "OK \033]52;c;aGk=\007\033[2J\2332J\r\n\r\n"},
        {"AT+HSM_STATUS?", "OK PIN=SET AUTH=0 TRIES=5 CA=1 SIGNER=1 "
                           "SIGNER_CERT=1\r\n\r\n"},
        {"AT+AUTH*", "AT+AUTH PIN=secret1 x\r\nOK\r\n\r\n"},
        {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "-d info"), 0);
    assert_null(memchr(out, 0x1b, strlen(out)));
    assert_null(memchr(out, 0x07, strlen(out)));
    assert_null(memchr(out, 0x9b, strlen(out)));
    expect_text("TinyHSM -> OK \\x1b]52;c;aGk=\\x07\\x1b[2J\\x9b2J");
    expect_text("TinyHSM -> OK PIN=SET AUTH=0 TRIES=5"); /* a state: shown */
    tinyhsm(rules, "-d --pin-file $PIN_FILE config --new signer --yes");
    assert_null(strstr(out, "secret1"));
    expect_text("TinyHSM <- AT+AUTH PIN=****");
    expect_text("TinyHSM -> AT+AUTH PIN=****");
}

/* Bytes past the end of an answer are not the next answer: on a tty they
 * are dropped before the next request. */
static void test_stale_bytes_are_not_answers(void **state)
{
    (void)state;
    const rule rules[] = {
        {"AT+VERSION?", "OK tinyhsmd 0.1.0\r\n\r\nOK EVIL\r\n\r\n"},
        {"AT+STSAFE_SERIAL?", "OK 1234\r\n\r\n"},
        {"AT+HSM_STATUS?", "OK PIN=SET AUTH=0 TRIES=5 SIGNATURES=7 LOG=0 "
                           "LOG_STATE=OK CA=0 SIGNER_CERT=0\r\n\r\n"},
        {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "info"), 0);
    expect_text("Serial:  1234");
    expect_text("PIN:         set, 5 tries left");
    assert_null(strstr(out, "EVIL"));
}

/* A device that found its state rolled back: info says so (text and
 * JSON), log --verify fails. Signatures are counted since the start. */
static void test_rollback_is_shown(void **state)
{
    (void)state;
    const rule rules[] = {
        {"AT+HSM_STATUS?", "OK PIN=SET AUTH=0 TRIES=5 SIGNATURES=3 LOG=0 "
                           "LOG_STATE=OK STATE=ROLLED_BACK CA=0 "
                           "SIGNER_CERT=0\r\n\r\n"},
        {"AT+LOG?*", "OK 0 0\r\n\r\n"},
        {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "info"), 0);
    expect_text("State:       ROLLED BACK: the state on disk is older than "
                "the device's log;");
    expect_text("PIN tries may have been restored (see README, Rollback)");
    expect_text("Signatures:  3 made since tinyhsmd started");
    assert_int_equal(tinyhsm(rules, "info --json"), 0);
    expect_text("{\"ok\":true,\"device\":");
    expect_text("\"signatures_since_start\":3");
    expect_text("\"rolled_back\":true");
    assert_int_equal(tinyhsm(rules, "log --verify"), 1);
    expect_text("FAIL the device reports: its state was ROLLED BACK");
}

/* info --json prints one object also when the device cannot be asked. */
static void test_info_json_failure(void **state)
{
    (void)state;
    const rule rules[] = {{"AT+VERSION?", "ERROR BROKEN\r\n\r\n"},
                          {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "info --json"), 1);
    expect_text("{\"ok\":false,\"error\":\"");
    assert_int_equal(tinyhsm(rules, "-p /nonexistent/tinyhsm info --json"), 1);
    expect_text("{\"ok\":false,\"error\":\"cannot open port "
                "/nonexistent/tinyhsm");
}

/* tinyhsm may hold a PIN: while it waits for the device it has no core
 * file limit and is not dumpable (its /proc files belong to root). */
static void test_client_not_dumpable(void **state)
{
    (void)state;
    const rule rules[] = {{"AT+STSAFE_SERIAL?", ""}, {NULL, NULL}};
    fake f;
    fake_start(&f, rules);
    int rc = thsm_test_run(out, sizeof(out),
                           "ulimit -c unlimited 2>/dev/null || ulimit -c 1024; "
                           "%s -p %s info </dev/null >/dev/null 2>&1 & "
                           "sleep 1; grep 'Max core file size' /proc/$!/limits;"
                           " echo owner=$(stat -c %%u /proc/$!/environ) "
                           "me=$(id -u); kill $!",
                           thsm_test_bin("tinyhsm"), f.slave);
    fake_stop(&f);
    assert_int_equal(rc, 0);
    expect_text("Max core file size        0                    0");
    expect_text("owner=0 ");
}

/* A certificate whose subject carries an escape sequence, as an answer. */
static void evil_cert_answer(char *buf, size_t cap)
{
    static char pem[4096];
    assert_int_equal(thsm_test_run(pem, sizeof(pem),
                                   "openssl req -x509 -newkey ec -pkeyopt "
                                   "ec_paramgen_curve:P-256 -nodes -days 3 "
                                   "-subj \"/C=US/O=Ev$(printf '\\033')[2Jil"
                                   "/CN=x\" -keyout /dev/null -out - "
                                   "2>/dev/null"), 0);
    size_t n = (size_t)snprintf(buf, cap, "OK\r\n");
    for (const char *p = pem; *p && n + 4 < cap; p++) {
        if (*p == '\n')
            buf[n++] = '\r';
        buf[n++] = *p;
    }
    snprintf(buf + n, cap - n, "\r\n");
}

static void test_info_escapes_certificate_names(void **state)
{
    (void)state;
    static char answer[8192];
    evil_cert_answer(answer, sizeof(answer));
    const rule rules[] = {{"AT+HSM_CA_CERT?*", answer},
                          {"AT+SIGNER_CERT?*", answer},
                          {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "info"), 0);
    assert_null(memchr(out, 0x1b, strlen(out)));
    expect_text("Subject:     C=US, O=Ev\\x1b[2Jil, CN=x");
    expect_text("Issuer:      C=US, O=Ev\\x1b[2Jil, CN=x");
}

/* ---- certificates rebuilt from their DER (issue 16, finding 5) ------------- */

/* A PEM file as an answer, after a line that OpenSSL skips: it starts as a
 * BEGIN line, carries escape sequences and a bell, and lacks the dashes. */
static void evil_line_answer(const char *pem_file, char *buf, size_t cap)
{
    size_t len;
    unsigned char *pem = thsm_test_read_file(pem_file, &len);
    assert_non_null(pem);
    size_t n = (size_t)snprintf(buf, cap, "OK\r\n-----BEGIN \033]0;owned\007"
                                          "\033[2J\033[31m\r\n");
    for (size_t i = 0; i < len && n + 4 < cap; i++) {
        if (pem[i] == '\n')
            buf[n++] = '\r';
        buf[n++] = (char)pem[i];
    }
    snprintf(buf + n, cap - n, "\r\n");
    free(pem);
}

/* A CA, a signer under it, a 512-byte firmware and the signature the
 * device would give for it (board TEST, version 1.0.0), in dir. */
static void make_pki(const char *dir, char *sig_answer, size_t cap)
{
    static const char key[] = "openssl ecparam -name prime256v1 -genkey "
                              "-noout 2>/dev/null | openssl pkcs8 -topk8 "
                              "-nocrypt";
    uint8_t img[THSM_BOOT_HEADER_LEN + 512];
    char err[200], path[600], sig[300];
    assert_int_equal(thsm_test_run(out, sizeof(out),
        "cd %s && %s >ca.key && %s >s.key && openssl req -x509 -key ca.key "
        "-subj /CN=ca -days 3 -out ca.pem 2>&1 && openssl req -new -key s.key "
        "-subj /CN=s 2>&1 | openssl x509 -req -CA ca.pem -CAkey ca.key "
        "-days 3 -set_serial 1 -out s.pem 2>&1", dir, key, key), 0);
    memset(img + THSM_BOOT_HEADER_LEN, 0x5a, 512);
    assert_int_equal(thsm_image_header(img, "TEST", "1.0.0", sizeof(img), err,
                                       sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/fw.bin", dir);
    thsm_test_write_file(path, img + THSM_BOOT_HEADER_LEN, 512);
    snprintf(path, sizeof(path), "%s/img.bin", dir);
    thsm_test_write_file(path, img, sizeof(img));
    assert_int_equal(thsm_test_run(sig, sizeof(sig),
        "cd %s && openssl dgst -sha256 -sign s.key img.bin >sig.der && "
        "printf '%%s ' $(stat -c %%s sig.der) && od -An -v -tx1 sig.der | "
        "tr -d ' \\n' | tr a-f A-F", dir), 0);
    snprintf(sig_answer, cap, "OK %s\r\n\r\n", sig);
}

static void expect_clean_pem(void)
{
    assert_null(memchr(out, 0x1b, strlen(out)));
    assert_null(memchr(out, 0x07, strlen(out)));
    assert_null(strstr(out, "owned"));
    expect_text("-----BEGIN CERTIFICATE-----\n");
}

static void test_cert_text_is_rebuilt(void **state)
{
    (void)state;
    static char ca[8192], signer[8192], sig[400], dir[256], args[1200];
    thsm_test_tmpdir(dir, sizeof(dir));
    make_pki(dir, sig, sizeof(sig));
    snprintf(args, sizeof(args), "%s/ca.pem", dir);
    evil_line_answer(args, ca, sizeof(ca));
    snprintf(args, sizeof(args), "%s/s.pem", dir);
    evil_line_answer(args, signer, sizeof(signer));
    const rule rules[] = {{"AT+HSM_CA_CERT?*", ca},
                          {"AT+SIGNER_CERT?*", signer},
                          {"AT+SIGNER_SIGN*", sig},
                          {"AT+HSM_STATUS?", "OK PIN=NONE AUTH=0 CA=1 SIGNER=1 "
                                             "SIGNER_CERT=1\r\n\r\n"},
                          {NULL, NULL}};
    assert_int_equal(tinyhsm(rules, "cert signer"), 0);
    expect_clean_pem();
    assert_int_equal(tinyhsm(rules, "cert ca"), 0);
    expect_clean_pem();
    assert_int_equal(tinyhsm(rules, "cert signer -o c.pem >/dev/null 2>&1 && "
                                    "cat c.pem"), 0);
    expect_clean_pem();
    snprintf(args, sizeof(args), "sign --board TEST --max-size 65536 "
             "--version 1.0.0 %s/fw.bin >/dev/null && cat "
             "stsafe_signer_cert.pem", dir);
    if (tinyhsm(rules, args) != 0)
        fail_msg("sign with the fake device: %s", out);
    expect_clean_pem();
    snprintf(args, sizeof(args), "sign --board TEST --max-size 65536 "
             "--version 1.0.0 --cert-out - %s/fw.bin 2>/dev/null", dir);
    assert_int_equal(tinyhsm(rules, args), 0);
    expect_clean_pem();
    thsm_test_rmtree(dir);
}

/* ---- provisioning that fails midway ----------------------------------------- */

static void test_config_says_what_changed(void **state)
{
    (void)state;
    char cn[65], args[200], want[200];
    memset(cn, 'C', 64);
    cn[64] = '\0';
    const rule signer_refused[] = {
        {"AT+HSM_STATUS?", "OK CA=1 SIGNER=1 SIGNER_CERT=1 PIN=NONE AUTH=0\r\n\r\n"},
        {"AT+SIGNER_NEW_CERT*", "ERROR CRYPTO no\r\n\r\n"},
        {NULL, NULL}};
    snprintf(args, sizeof(args), "config --new signer --yes --signer-cn %s "
                                 "--signer-start 20250101000000", cn);
    assert_int_equal(tinyhsm(signer_refused, args), 1);
    snprintf(want, sizeof(want), "the device refused AT+SIGNER_NEW_CERT "
             "TYPE=CA-SIGNED C=US O=Me CN=%s START=20250101000000 DAYS=730: "
             "ERROR CRYPTO no", cn);
    expect_text(want);
    expect_text("a new signer key was created; the old one is gone");
    expect_text("no signer certificate: the device cannot sign until "
                "'tinyhsm config --new signer' succeeds");

    const rule ca_refused[] = {
        {"AT+HSM_STATUS?", "OK CA=1 SIGNER=1 SIGNER_CERT=1 PIN=NONE AUTH=0\r\n\r\n"},
        {"AT+HSM_CA_NEW_CERT*", "ERROR CRYPTO no\r\n\r\n"},
        {NULL, NULL}};
    assert_int_equal(tinyhsm(ca_refused, "config --new all --yes"), 1);
    expect_text("the old CA and signer keys and certificates were erased");
    expect_text("no new CA: the device has no CA now");
    expect_text("'tinyhsm config --new all' succeeds");

    const rule reset_refused[] = {
        {"AT+HSM_STATUS?", "OK CA=1 SIGNER=1 SIGNER_CERT=1 PIN=NONE AUTH=0\r\n\r\n"},
        {"AT+RESET", "ERROR STORAGE no\r\n\r\n"},
        {NULL, NULL}};
    assert_int_equal(tinyhsm(reset_refused, "config --new all --yes"), 1);
    expect_text("nothing on the device was changed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_short_answer_does_not_hang),
        cmocka_unit_test(test_log_cut_tail_and_rewrite),
        cmocka_unit_test(test_log_header_and_iso_times),
        cmocka_unit_test(test_device_text_is_escaped),
        cmocka_unit_test(test_info_escapes_device_text),
        cmocka_unit_test(test_info_escapes_certificate_names),
        cmocka_unit_test(test_trace_escapes_and_masks),
        cmocka_unit_test(test_stale_bytes_are_not_answers),
        cmocka_unit_test(test_rollback_is_shown),
        cmocka_unit_test(test_info_json_failure),
        cmocka_unit_test(test_client_not_dumpable),
        cmocka_unit_test(test_config_says_what_changed),
        cmocka_unit_test(test_cert_text_is_rebuilt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
