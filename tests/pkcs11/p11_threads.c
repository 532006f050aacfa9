/*
 * p11_threads.c - 32 threads sign through one module at once for 10 s
 * ($THSM_P11_SECONDS): every signature verifies. Meanwhile another
 * application (this program again, "nologin") tries to sign without a
 * login and must be refused every time; after C_Logout, so is every
 * thread here.
 */
#include "p11_common.h"

#include "crypto/p256.h"
#include "crypto/util.h"

#include <pthread.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 32

extern char **environ;
static CK_FUNCTION_LIST *f;
static unsigned char point[65];
static double deadline;
static int expect_login; /* 1: signatures must verify; 0: must be refused */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static CK_SESSION_HANDLE open_session(void)
{
    CK_SESSION_HANDLE s;
    CHECK_RV(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    return s;
}

/* Signs in session *arg until the deadline (once at least); returns the
 * number of signatures (or of refusals when no login is expected). */
static void *signer(void *arg)
{
    CK_SESSION_HANDLE s = *(CK_SESSION_HANDLE *)arg;
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    CK_OBJECT_HANDLE key = 1; /* slot 0's signer key, visible or not */
    unsigned long n = 0;
    do {
        unsigned char digest[32], sig[64];
        CK_ULONG len = sizeof(sig);
        CHECK(thsm_random(digest, sizeof(digest)) == THSM_CRYPTO_OK);
        CK_RV rv = f->C_SignInit(s, &m, key);
        if (rv == CKR_OK)
            rv = f->C_Sign(s, digest, 32, sig, &len);
        if (expect_login) {
            CHECK_RV(rv, CKR_OK);
            CHECK(len == 64 && thsm_p256_verify(point, digest, sig) == THSM_CRYPTO_OK);
        } else {
            CHECK_RV(rv, CKR_USER_NOT_LOGGED_IN);
            nanosleep(&(struct timespec){0, 1000000}, NULL); /* leave the CPU */
        }
        n++;
    } while (now() < deadline);
    CHECK_RV(f->C_CloseSession(s), CKR_OK);
    return (void *)n;
}

static unsigned long run_threads(double seconds)
{
    pthread_t t[THREADS];
    CK_SESSION_HANDLE s[THREADS];
    unsigned long total = 0;
    for (int i = 0; i < THREADS; i++)
        s[i] = open_session();
    deadline = now() + seconds;
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, signer, &s[i]) == 0);
    for (int i = 0; i < THREADS; i++) {
        void *n;
        CHECK(pthread_join(t[i], &n) == 0);
        total += (unsigned long)n;
    }
    return total;
}

static double seconds(void)
{
    const char *s = getenv("THSM_P11_SECONDS");
    return s && atof(s) > 0 ? atof(s) : 10;
}

static void init(void)
{
    CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
    f = p11_test_module();
    CHECK_RV(f->C_Initialize(&args), CKR_OK);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "nologin") == 0) {
        init(); /* another application: it never logged in */
        unsigned long n = run_threads(seconds());
        CHECK(n > 0);
        printf("ok - another application: %lu signing attempts, all refused\n", n);
        CHECK_RV(f->C_Finalize(NULL), CKR_OK);
        return 0;
    }
    p11_test_dev d;
    p11_test_dev_init(&d);
    p11_test_provision(&d, 1);
    init();
    CK_SESSION_HANDLE s = open_session();
    CHECK_RV(f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_OK);
    p11_test_signer_point(f, s, point);

    pid_t other;
    char *child_argv[] = {argv[0], "nologin", NULL};
    CHECK(posix_spawn(&other, "/proc/self/exe", NULL, NULL, child_argv,
                      environ) == 0);
    expect_login = 1;
    double t0 = now();
    unsigned long n = run_threads(seconds());
    printf("ok - %d threads: %lu signatures in %.1f s, all verify\n", THREADS, n,
           now() - t0);
    CHECK(n > THREADS);
    int status;
    CHECK(waitpid(other, &status, 0) == other);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    CHECK_RV(f->C_Logout(s), CKR_OK);
    expect_login = 0;
    n = run_threads(1);
    printf("ok - after C_Logout: %lu attempts, all refused\n", n);
    CHECK_RV(f->C_Finalize(NULL), CKR_OK);
    p11_test_dev_cleanup(&d);
    return 0;
}
