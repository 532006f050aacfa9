/* p11_common.c - see p11_common.h. */
#include "p11_common.h"

#include "testutil.h"

#include <dlfcn.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A failed CHECK exits: the daemon must not outlive the test. */
static p11_test_dev *running;

static void kill_running(void)
{
    if (running)
        p11_test_dev_kill(running);
}

void p11_test_dev_init(p11_test_dev *d)
{
    memset(d, 0, sizeof(*d));
    running = d;
    atexit(kill_running);
    thsm_test_tmpdir(d->dir, sizeof(d->dir));
    snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
    snprintf(d->link, sizeof(d->link), "%s/tty", d->dir);
    setenv("TINYHSM_PORT", d->link, 1);
    setenv("TINYHSM_NO_PIN_WARNING", "1", 1);
    unsetenv("TINYHSM_PKCS11_CONF");
    p11_test_dev_start(d);
}

void p11_test_dev_start(p11_test_dev *d)
{
    int fds[2];
    char c;
    CHECK(pipe(fds) == 0);
    d->pid = fork();
    CHECK(d->pid >= 0);
    if (d->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        execl(thsm_test_bin("tinyhsmd"), "tinyhsmd", "--state", d->state,
              "--link", d->link, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    CHECK(read(fds[0], &c, 1) == 1); /* the pty's path: it serves */
    close(fds[0]);
}

void p11_test_dev_kill(p11_test_dev *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    d->pid = -1;
}

void p11_test_provision(p11_test_dev *d, int pin)
{
    char out[4096];
    (void)d;
    CHECK(thsm_test_run(out, sizeof(out), "%s config --new all --yes",
                        thsm_test_bin("tinyhsm")) == 0);
    if (pin)
        CHECK(thsm_test_run(out, sizeof(out),
                            "TINYHSM_NEW_PIN=%s %s pin set </dev/null",
                            P11_TEST_PIN, thsm_test_bin("tinyhsm")) == 0);
}

void p11_test_dev_cleanup(p11_test_dev *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        waitpid(d->pid, NULL, 0);
        d->pid = -1;
    }
    thsm_test_rmtree(d->dir);
}

CK_FUNCTION_LIST *p11_test_module(void)
{
    char path[1024];
    const char *m = getenv("THSM_MODULE");
    const char *bin = getenv("THSM_BIN") ? getenv("THSM_BIN") : ".";
    if (!m || !*m) { /* the build's lib/, or beside the programs */
        snprintf(path, sizeof(path), "%s/../lib/libtinyhsm-pkcs11.so", bin);
        if (access(path, R_OK) != 0)
            snprintf(path, sizeof(path), "%s/libtinyhsm-pkcs11.so", bin);
        m = path;
    }
    void *h = dlopen(m, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fprintf(stderr, "dlopen %s: %s\n", m, dlerror());
    CHECK(h);
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList");
    CK_FUNCTION_LIST *f = NULL;
    CHECK(get && get(&f) == CKR_OK && f);
    return f;
}

CK_OBJECT_HANDLE p11_test_find(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                               CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, (void *)label, strlen(label)}};
    CK_OBJECT_HANDLE h = 0;
    CK_ULONG n = 0;
    CHECK_RV(f->C_FindObjectsInit(s, t, 2), CKR_OK);
    CHECK_RV(f->C_FindObjects(s, &h, 1, &n), CKR_OK);
    CHECK_RV(f->C_FindObjectsFinal(s), CKR_OK);
    return n ? h : 0;
}

void p11_test_signer_point(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                           unsigned char point[65])
{
    unsigned char der[67];
    CK_ATTRIBUTE a = {CKA_EC_POINT, der, sizeof(der)};
    CK_OBJECT_HANDLE h = p11_test_find(f, s, CKO_PUBLIC_KEY, "signer");
    CHECK(h);
    CHECK_RV(f->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    CHECK(a.ulValueLen == 67 && der[0] == 0x04 && der[1] == 65);
    memcpy(point, der + 2, 65);
}
