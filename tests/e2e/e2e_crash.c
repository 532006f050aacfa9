/*
 * Crash test: SIGKILL tinyhsmd at a random moment during provisioning, PIN
 * and signing commands, restart it, and check that
 *  - it starts (the state is never left unreadable),
 *  - the state is the old one or the command's complete result,
 *  - the PIN retry counter never goes back up after a wrong PIN,
 *  - every signature the current signer makes verifies with its certificate.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/p256.h"
#include "crypto/x509_host.h"
#include "host/at_client.h"
#include "host/hsm.h"
#include "testutil.h"

#define ITERATIONS 220

typedef struct {
    char ca[2200], signer_pub[140], signer_cert[2200], pin[16];
    int tries;
} snapshot;

typedef struct {
    char dir[256], state[300];
    thsm_test_daemon d;
    thsm_at at;
    thsm_at_resp r;
    char pin[32], old_pin[32]; /* current PIN ("" when none) */
} rig;

static void start(rig *g)
{
    char err[300];
    assert_int_equal(thsm_test_daemon_start(&g->d, g->state, NULL), 0);
    assert_int_equal(thsm_at_open(&g->at, g->d.link, err, sizeof(err)),
                     THSM_AT_OK);
}

/* Status text of a request ("" when it was refused). */
static const char *ask(rig *g, const char *req)
{
    assert_int_equal(thsm_at_cmd(&g->at, req, &g->r), THSM_AT_OK);
    return g->r.ok ? g->r.text : "";
}

static void take(rig *g, snapshot *s)
{
    snprintf(s->ca, sizeof(s->ca), "%s", ask(g, "AT+HSM_CA_CERT? FORMAT=DER"));
    snprintf(s->signer_pub, sizeof(s->signer_pub), "%s",
             ask(g, "AT+SIGNER_PUBKEY?"));
    snprintf(s->signer_cert, sizeof(s->signer_cert), "%s",
             ask(g, "AT+SIGNER_CERT? FORMAT=DER"));
    const char *st = ask(g, "AT+HSM_STATUS?");
    const char *p = strstr(st, "PIN=");
    assert_non_null(p);
    sscanf(p, "PIN=%15s TRIES=%d", s->pin, &s->tries);
}

static int same(const snapshot *a, const snapshot *b)
{
    return !strcmp(a->ca, b->ca) && !strcmp(a->signer_pub, b->signer_pub) &&
           !strcmp(a->signer_cert, b->signer_cert) && !strcmp(a->pin, b->pin) &&
           a->tries == b->tries;
}

/* Whether the device accepts pin. */
static int auth(rig *g, const char *pin)
{
    char req[64];
    unsigned wait;
    snprintf(req, sizeof(req), "AT+AUTH PIN=%s", pin);
    ask(g, req);
    /* the device's wait after a wrong PIN: no try spent, try again after */
    while (!g->r.ok && g->r.nlines > 0 &&
           sscanf(g->r.lines[0], "ERROR PIN_DELAY %u", &wait) == 1) {
        sleep(wait);
        ask(g, req);
    }
    return g->r.ok;
}

static void login(rig *g)
{
    if (g->pin[0] && !auth(g, g->pin))
        fail_msg("login with PIN %s failed: %s", g->pin, g->r.lines[0]);
}

/* The signer signs, and the signature verifies with its certificate. */
static void check_signer(rig *g, const snapshot *s)
{
    if (!s->signer_cert[0])
        return;
    char pem[THSM_PEM_MAX];
    thsm_err herr;
    uint8_t pub[65], digest[32] = {7}, sig[64];
    login(g);
    assert_int_equal(thsm_hsm_cert_pem(&g->at, 0, pem, sizeof(pem), &herr), 0);
    assert_int_equal(thsm_pubkey_from_pem((uint8_t *)pem, strlen(pem), pub), 0);
    if (thsm_hsm_sign_digest(&g->at, digest, sig, &herr) != 0)
        fail_msg("%s", herr.msg);
    assert_int_equal(thsm_p256_verify(pub, digest, sig), 0);
}

typedef enum { DECOMMISSION, NEW_CA, NEW_KEY, NEW_CERT, SIGN, PIN_SET,
               PIN_CHANGE, AUTH_WRONG, OP_COUNT } op;

/* An operation that makes sense in state s, or -1. */
static int pick(const snapshot *s, int r)
{
    op o = (op)(r % OP_COUNT);
    int has_pin = !strcmp(s->pin, "SET");
    if ((o == NEW_CA && s->ca[0]) || (o == NEW_CERT && (!s->ca[0] || !s->signer_pub[0])) ||
        (o == SIGN && !s->signer_cert[0]) || (o == PIN_SET && has_pin) ||
        ((o == PIN_CHANGE || o == AUTH_WRONG) && !has_pin) ||
        (o == AUTH_WRONG && s->tries < 3))
        return -1;
    return (int)o;
}

static void request_for(rig *g, op o, int n, char *req, size_t cap)
{
    switch (o) {
    case DECOMMISSION: snprintf(req, cap, "AT+STSAFE_DECOMMISSION"); break;
    case NEW_CA:
        snprintf(req, cap, "AT+HSM_CA_NEW_CERT C=US O=Crash CN=CA%d "
                           "START=20250101000000 DAYS=3650", n);
        break;
    case NEW_KEY: snprintf(req, cap, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"); break;
    case NEW_CERT:
        snprintf(req, cap, "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=Crash "
                           "CN=S%d START=20250101000000 DAYS=730", n);
        break;
    case SIGN:
        snprintf(req, cap, "AT+SIGNER_SIGN HASH=%064d", n);
        break;
    case PIN_SET: snprintf(req, cap, "AT+PIN_SET NEW=pin-%06d", n); break;
    case PIN_CHANGE:
        snprintf(req, cap, "AT+PIN_SET OLD=%s NEW=pin-%06d", g->pin, n);
        break;
    default: snprintf(req, cap, "AT+AUTH PIN=wrong-pin"); break;
    }
}

/* After a kill, the state must be the old one or the command's result. */
static void check_outcome(rig *g, op o, const snapshot *a, const snapshot *b,
                          const char *new_pin)
{
    int unchanged = !strcmp(a->ca, b->ca) && !strcmp(a->signer_pub, b->signer_pub) &&
                    !strcmp(a->signer_cert, b->signer_cert);
    if (o == AUTH_WRONG) {
        assert_true(b->tries == a->tries || b->tries == a->tries - 1);
        assert_true(unchanged);
    } else if (same(a, b) || o == SIGN) {
        assert_true(same(a, b));
    } else if (o == DECOMMISSION) {
        assert_true(!b->ca[0] && !b->signer_pub[0] && !strcmp(b->pin, "NONE"));
        g->pin[0] = '\0';
    } else if (o == NEW_CA) {
        assert_true(b->ca[0] && !strcmp(a->signer_pub, b->signer_pub));
    } else if (o == NEW_KEY) {
        assert_true(!strcmp(a->ca, b->ca) && strcmp(a->signer_pub, b->signer_pub) &&
                    !b->signer_cert[0]);
    } else if (o == NEW_CERT) {
        assert_true(!strcmp(a->signer_pub, b->signer_pub) && b->signer_cert[0] &&
                    strcmp(a->signer_cert, b->signer_cert));
    } else if (o == PIN_SET) {
        assert_true(unchanged && !strcmp(b->pin, "SET") && b->tries == 5);
        snprintf(g->pin, sizeof(g->pin), "%s", new_pin);
    } else { /* PIN_CHANGE: the old PIN counted down, or a new PIN */
        assert_true(unchanged && !strcmp(b->pin, "SET"));
        assert_true(b->tries == a->tries - 1 || b->tries == 5);
    }
}

/* For a PIN change the visible state is the same either way: find out. */
static void settle_pin_change(rig *g, const char *new_pin)
{
    if (auth(g, new_pin))
        snprintf(g->pin, sizeof(g->pin), "%s", new_pin);
    else
        login(g); /* the old PIN must still work */
    ask(g, "AT+LOGOUT");
}

static void one_crash(rig *g, int n, int *kept_old)
{
    snapshot a, b;
    char req[160], new_pin[32];
    int o;
    take(g, &a);
    while ((o = pick(&a, rand())) < 0)
        ;
    if (o != PIN_SET && o != AUTH_WRONG) {
        login(g); /* resets the retry counter: snapshot again */
        take(g, &a);
    }
    request_for(g, (op)o, n, req, sizeof(req));
    if (getenv("THSM_CRASH_TRACE"))
        fprintf(stderr, "# %d: %s (state: pin %s, tries %d)\n", n, req, a.pin,
                a.tries);
    snprintf(new_pin, sizeof(new_pin), "pin-%06d", n);
    strcat(req, "\r\n");
    assert_int_equal(write(g->at.fd, req, strlen(req)), (ssize_t)strlen(req));
    /* PIN commands run scrypt (tens of ms); the others take about 1 ms */
    int window = o >= PIN_SET ? 150000 : 3000;
    usleep((useconds_t)(rand() % window));
    thsm_at_close(&g->at);
    thsm_test_daemon_kill(&g->d);
    start(g);
    take(g, &b);
    *kept_old += same(&a, &b);
    check_outcome(g, (op)o, &a, &b, new_pin);
    if (o == PIN_CHANGE)
        settle_pin_change(g, new_pin);
    check_signer(g, &b);
}

static rig g;

static int teardown(void **state)
{
    (void)state;
    thsm_at_close(&g.at);
    thsm_test_daemon_kill(&g.d);
    thsm_test_rmtree(g.dir);
    return 0;
}

static void test_kill_at_random_moments(void **state)
{
    (void)state;
    int kept_old = 0;
    srand((unsigned)getpid());
    thsm_test_tmpdir(g.dir, sizeof(g.dir));
    snprintf(g.state, sizeof(g.state), "%s/state", g.dir);
    start(&g);
    for (int n = 0; n < ITERATIONS; n++)
        one_crash(&g, n, &kept_old);
    printf("# %d kills: %d kept the old state, %d had the new one; all checks "
           "passed\n", ITERATIONS, kept_old, ITERATIONS - kept_old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kill_at_random_moments, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
