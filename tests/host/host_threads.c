/*
 * host_threads.c - every host operation (host/hsm.h and thsm_sign_image)
 * from several threads on several connections at once, against a tinyhsmd
 * it starts on a temporary state (its socket). Each result is checked: the
 * answers agree with those read before the threads started, signatures
 * verify with OpenSSL, the audit log's chain holds, the signed images
 * verify. Built with ThreadSanitizer (`make tsan`), a data race in the host
 * library (a static buffer, a global) fails it too: TSan exits non-zero.
 *
 * Every wait is bounded: the client's own timeouts, a bounded stop of the
 * daemon, and a watchdog that kills the daemon and fails after
 * WATCHDOG_S seconds.
 *   host_threads          ($THSM_BIN: the directory holding tinyhsmd)
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "host/hsm.h"
#include "host/image.h"
#include "host/sign.h"
#include "testutil.h"

#define THREADS 3
#define CONNS 2 /* per thread, used in turn */
#define ROUNDS 3
#define WATCHDOG_S 100
/* A login runs the PIN's KDF (seconds); the daemon serves them in turn. */
#define LOGIN_TIMEOUT_MS 60000
#define PIN "tsan-4711-pin"
#define BOARD "B-U585I-IOT02A"
#define FW_LEN 3000

/* What every thread must see (read before the threads start). */
typedef struct {
    char sock[600];
    char version[256], serial[256];
    uint8_t pub[THSM_P256_PUB_LEN];
    char ca[THSM_PEM_MAX], signer[THSM_PEM_MAX];
    char signer_key[17];
} reference;

typedef struct {
    const reference *ref;
    int id;
    char dir[300];
    char failure[1024]; /* the first failure, "" when none */
    unsigned long last_log, last_sigs;
} worker;

static volatile pid_t daemon_pid; /* for the watchdog alone */

static void on_watchdog(int sig)
{
    static const char msg[] = "host_threads: no end after the watchdog's "
                              "time: a wait hung\n";
    (void)sig;
    if (daemon_pid > 0)
        kill(daemon_pid, SIGKILL);
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        _exit(1);
    _exit(1);
}

/* Keeps the first failure of w; returns ok. */
static bool check(worker *w, bool ok, const char *fmt, ...)
{
    if (ok || w->failure[0])
        return ok;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(w->failure, sizeof(w->failure), "thread %d: ", w->id);
    vsnprintf(w->failure + n, sizeof(w->failure) - (size_t)n, fmt, ap);
    va_end(ap);
    return ok;
}

/* ---- OpenSSL, independent of the host library ---------------------------- */

static EVP_PKEY *pkey_from_raw(const uint8_t pub[THSM_P256_PUB_LEN])
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub,
                                THSM_P256_PUB_LEN),
        OSSL_PARAM_END};
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* Whether sig (raw r||s) is pub's signature of digest. */
static bool ossl_verify(const uint8_t pub[THSM_P256_PUB_LEN],
                        const uint8_t digest[32],
                        const uint8_t sig[THSM_P256_SIG_RAW_LEN])
{
    bool ok = false;
    unsigned char *der = NULL;
    EVP_PKEY *pkey = pkey_from_raw(pub);
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
    if (pkey && s && r && ss && ECDSA_SIG_set0(s, r, ss) == 1) {
        r = ss = NULL; /* owned by s */
        int len = i2d_ECDSA_SIG(s, &der);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
        ok = len > 0 && ctx && EVP_PKEY_verify_init(ctx) == 1 &&
             EVP_PKEY_verify(ctx, der, (size_t)len, digest, 32) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
    return ok;
}

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

/* Whether signer is issued by ca and holds pub. */
static bool ossl_chain(const char *ca_pem, const char *signer_pem,
                       const uint8_t pub[THSM_P256_PUB_LEN])
{
    X509 *ca = pem_cert(ca_pem), *signer = pem_cert(signer_pem);
    EVP_PKEY *pkey = pkey_from_raw(pub);
    bool ok = ca && signer && pkey &&
              X509_verify(signer, X509_get0_pubkey(ca)) == 1 &&
              EVP_PKEY_eq(X509_get0_pubkey(signer), pkey) == 1;
    X509_free(ca);
    X509_free(signer);
    EVP_PKEY_free(pkey);
    return ok;
}

/* ---- one thread ------------------------------------------------------------ */

static bool open_conn(worker *w, thsm_at *at)
{
    char err[300];
    thsm_deny why;
    if (!check(w, thsm_at_open(at, w->ref->sock, err, sizeof(err)) ==
                      THSM_AT_OK, "open: %s", err))
        return false;
    at->timeout_ms = LOGIN_TIMEOUT_MS;
    if (!check(w, thsm_hsm_auth(at, PIN, &why) == THSM_OK,
               "login refused (kind %d, code %s, %s)", why.kind, why.code,
               thsm_at_strerror(why.at_rc))) {
        thsm_at_close(at);
        return false;
    }
    return true;
}

static void round_status(worker *w, thsm_at *at)
{
    thsm_status st;
    thsm_err e;
    char text[512];
    if (!check(w, thsm_hsm_status(at, &st, &e) == THSM_OK, "status: %s",
               e.msg))
        return;
    check(w, st.answered && st.auth && st.pin == THSM_PIN_SET && st.signer &&
              strcmp(st.signer_key, w->ref->signer_key) == 0,
          "status: auth %d pin %d signer %d key %s", st.auth, st.pin,
          st.signer, st.signer_key);
    check(w, st.signatures >= w->last_sigs, "signature count fell: %lu < %lu",
          st.signatures, w->last_sigs);
    w->last_sigs = st.signatures;
    check(w, thsm_hsm_status_text(at, text, sizeof(text)) &&
              strstr(text, "AUTH=") != NULL, "status text: %s", text);
}

static void round_identity(worker *w, thsm_at *at)
{
    char out[256], pem[THSM_PEM_MAX];
    uint8_t pub[THSM_P256_PUB_LEN];
    thsm_err e;
    check(w, thsm_hsm_version(at, out, sizeof(out), &e) == THSM_OK &&
              strcmp(out, w->ref->version) == 0, "version: %s", out);
    check(w, thsm_hsm_serial(at, out, sizeof(out), &e) == THSM_OK &&
              strcmp(out, w->ref->serial) == 0, "serial: %s", out);
    check(w, thsm_hsm_signer_pubkey(at, pub) &&
              memcmp(pub, w->ref->pub, sizeof(pub)) == 0, "signer pubkey");
    check(w, thsm_hsm_cert_pem(at, true, pem, sizeof(pem), &e) == THSM_OK &&
              strcmp(pem, w->ref->ca) == 0, "CA certificate differs");
    check(w, thsm_hsm_cert_pem(at, false, pem, sizeof(pem), &e) == THSM_OK &&
              strcmp(pem, w->ref->signer) == 0, "signer certificate differs");
}

static void round_sign(worker *w, thsm_at *at, int round)
{
    uint8_t digest[32], sig[THSM_P256_SIG_RAW_LEN];
    char msg[64];
    thsm_err e;
    int n = snprintf(msg, sizeof(msg), "thread %d round %d", w->id, round);
    SHA256((const unsigned char *)msg, (size_t)n, digest);
    if (check(w, thsm_hsm_sign_digest(at, digest, sig, &e) == THSM_OK,
              "sign: %s", e.msg))
        check(w, ossl_verify(w->ref->pub, digest, sig),
              "signature of '%s' does not verify", msg);
}

typedef struct {
    worker *w;
    uint8_t head[32];
    bool linked;
} log_walk;

static void on_record(void *ctx, unsigned long index, const char *line)
{
    log_walk *lw = ctx;
    (void)index;
    lw->linked = thsm_log_chain_next(lw->head, line) && lw->linked;
}

static void round_log(worker *w, thsm_at *at)
{
    log_walk lw = {w, {0}, true};
    thsm_log_page anchor;
    unsigned long got;
    thsm_err e;
    if (!check(w, thsm_hsm_log_read(at, on_record, &lw, &anchor, &got, &e) ==
                      THSM_OK, "log: %s", e.msg))
        return;
    check(w, lw.linked && got == anchor.total && got >= w->last_log &&
              (!anchor.has_head || memcmp(lw.head, anchor.head, 32) == 0),
          "log: %lu of %lu records, linked %d, before %lu", got, anchor.total,
          lw.linked, w->last_log);
    w->last_log = got;
}

static void write_firmware(worker *w, const char *path, int round)
{
    uint8_t fw[FW_LEN];
    for (size_t i = 0; i < sizeof(fw); i++)
        fw[i] = (uint8_t)(i * 7 + (size_t)w->id * 13 + (size_t)round);
    const uint32_t words[2] = {0x20010000, 0x08008200 + 0x101};
    for (int i = 0; i < 8; i++)
        fw[i] = (uint8_t)(words[i / 4] >> (8 * (i % 4)));
    thsm_test_write_file(path, fw, sizeof(fw));
}

/* The outputs exist with the umask's mode, and the image's signature
 * verifies with OpenSSL over its own bytes. */
static void check_outputs(worker *w, char out[][400], const thsm_sign_result *r)
{
    struct stat st;
    size_t len;
    uint8_t digest[32];
    for (int i = 0; i < THSM_SIGN_OUTPUTS; i++)
        check(w, stat(out[i], &st) == 0 && (st.st_mode & 0777) == 0644,
              "%s: missing or mode %o, not 0644 (umask 022)", out[i],
              (unsigned)(st.st_mode & 0777));
    uint8_t *img = thsm_test_read_file(out[THSM_SIGN_IMAGE], &len);
    if (!check(w, img && len == r->size + THSM_P256_SIG_RAW_LEN,
               "image of %zu bytes, not %llu", img ? len : 0,
               (unsigned long long)r->size + THSM_P256_SIG_RAW_LEN)) {
        free(img);
        return;
    }
    SHA256(img, (size_t)r->size, digest);
    check(w, memcmp(digest, r->digest, 32) == 0 &&
              memcmp(r->pub, w->ref->pub, THSM_P256_PUB_LEN) == 0 &&
              ossl_verify(w->ref->pub, digest, img + r->size),
          "the signed image does not verify");
    free(img);
}

static void round_sign_image(worker *w, thsm_at *at, int round)
{
    char fw[400], out[THSM_SIGN_OUTPUTS][400];
    static const char *const names[] = {"signed.bin", "cert.pem", "SigGen.c"};
    thsm_sign_req req = {0};
    thsm_sign_result *res = calloc(1, sizeof(*res));
    thsm_err *e = calloc(1, sizeof(*e));
    if (!check(w, res && e, "out of memory"))
        goto done;
    snprintf(fw, sizeof(fw), "%s/fw%d.bin", w->dir, round);
    write_firmware(w, fw, round);
    for (int i = 0; i < THSM_SIGN_OUTPUTS; i++) {
        snprintf(out[i], sizeof(out[i]), "%s/r%d-%s", w->dir, round, names[i]);
        req.out[i] = out[i];
    }
    req.board = BOARD;
    req.version = "1.2.3";
    req.firmware = fw;
    req.max_size = thsm_board_find(BOARD)->max_size;
    req.at = at;
    if (check(w, thsm_sign_image(&req, res, e) == THSM_OK, "sign image: %s",
              e->msg))
        check_outputs(w, out, res);
done:
    free(res);
    free(e);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    thsm_at *conns = calloc(CONNS, sizeof(thsm_at)); /* 33 KiB each */
    int opened = 0;
    if (!check(w, conns != NULL, "out of memory"))
        return NULL;
    while (opened < CONNS && open_conn(w, &conns[opened]))
        opened++;
    for (int r = 0; r < ROUNDS && opened == CONNS && !w->failure[0]; r++) {
        thsm_at *at = &conns[r % CONNS];
        round_status(w, at);
        round_identity(w, at);
        round_sign(w, at, r);
        round_log(w, at);
        round_sign_image(w, at, r);
    }
    for (int i = 0; i < opened; i++)
        thsm_at_close(&conns[i]);
    free(conns);
    return NULL;
}

/* ---- set-up ---------------------------------------------------------------- */

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "host_threads: %s: %s\n", what, why);
    return 1;
}

/* Provisions the device, sets the PIN and reads what every thread must see. */
static int prepare(reference *ref)
{
    thsm_at *at = calloc(1, sizeof(*at));
    thsm_subject ca = {"US", "MyHSM", "My_CA", "20250101000000", 3650};
    thsm_subject signer = {"US", "Me", "Sign", "20250101000000", 730};
    thsm_status st;
    thsm_deny why;
    thsm_err e = {0};
    char err[300];
    int rc = 1;
    if (!at || thsm_at_open(at, ref->sock, err, sizeof(err)) != THSM_AT_OK) {
        free(at);
        return fail("open", at ? err : "out of memory");
    }
    if (thsm_hsm_provision(at, true, &ca, &signer, &e) != THSM_OK)
        fail("provision", e.msg);
    else if (thsm_hsm_pin_set(at, NULL, PIN, &why) != THSM_OK)
        fail("PIN set", why.code);
    else if (thsm_hsm_version(at, ref->version, sizeof(ref->version), &e) ||
             thsm_hsm_serial(at, ref->serial, sizeof(ref->serial), &e) ||
             thsm_hsm_cert_pem(at, true, ref->ca, sizeof(ref->ca), &e) ||
             thsm_hsm_cert_pem(at, false, ref->signer, sizeof(ref->signer),
                               &e) ||
             thsm_hsm_status(at, &st, &e))
        fail("read", e.msg);
    else if (!thsm_hsm_signer_pubkey(at, ref->pub) ||
             !ossl_chain(ref->ca, ref->signer, ref->pub))
        fail("signer", "no public key, or its certificate does not chain "
                       "to the CA with it (OpenSSL)");
    else {
        snprintf(ref->signer_key, sizeof(ref->signer_key), "%s",
                 st.signer_key);
        rc = 0;
    }
    thsm_at_close(at);
    free(at);
    return rc;
}

/* SIGTERM, then at most 10 s before SIGKILL; the daemon's exit status
 * (TSan makes it non-zero on a race in the daemon), or -1. */
static int stop_daemon(thsm_test_daemon *d)
{
    int status;
    kill(d->pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(d->pid, &status, WNOHANG) == d->pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(50000);
    }
    thsm_test_daemon_kill(d);
    return -1;
}

static int run_workers(const reference *ref, const char *dir)
{
    worker w[THREADS];
    pthread_t tid[THREADS];
    int started = 0, failed = 0;
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.ref = ref, .id = i};
        snprintf(w[i].dir, sizeof(w[i].dir), "%s/t%d", dir, i);
        if (mkdir(w[i].dir, 0700) != 0)
            return fail("mkdir", w[i].dir);
    }
    for (; started < THREADS; started++)
        if (pthread_create(&tid[started], NULL, run_worker, &w[started]) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    if (started < THREADS)
        failed = fail("pthread_create", "failed");
    for (int i = 0; i < started; i++)
        if (w[i].failure[0])
            failed = fail("check", w[i].failure);
    return failed;
}

int main(void)
{
    static reference ref;
    thsm_test_daemon d;
    char dir[256], state[300];
    signal(SIGALRM, on_watchdog);
    alarm(WATCHDOG_S);
    umask(022);
    thsm_test_tmpdir(dir, sizeof(dir));
    snprintf(state, sizeof(state), "%s/state", dir);
    if (thsm_test_daemon_start(&d, state, NULL) != 0)
        return fail("tinyhsmd", "did not start");
    daemon_pid = d.pid;
    snprintf(ref.sock, sizeof(ref.sock), "%s.sock", d.link);
    time_t t0 = time(NULL);
    int failed = prepare(&ref) || run_workers(&ref, dir);
    int status = stop_daemon(&d);
    if (status != 0)
        failed = fail("tinyhsmd", "did not stop cleanly (a race in it?)");
    if (!failed)
        printf("host_threads: %d threads x %d connections x %d rounds: "
               "every result checked (%ld s)\n", THREADS, CONNS, ROUNDS,
               (long)(time(NULL) - t0));
    thsm_test_rmtree(dir);
    *strrchr(d.link, '/') = '\0'; /* the link's own directory */
    thsm_test_rmtree(d.link);
    return failed;
}
