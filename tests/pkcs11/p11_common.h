/*
 * p11_common.h - helpers for the PKCS#11 module's C tests: a tinyhsmd on a
 * fixed link (so it can be restarted where the module looks), provisioning
 * with tinyhsm, and the module loaded with dlopen as applications do.
 */
#ifndef THSM_P11_COMMON_H
#define THSM_P11_COMMON_H

#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>

#define P11_TEST_PIN "pkcs11-pin"

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)
#define CHECK_RV(call, want)                                                 \
    do {                                                                     \
        CK_RV rv_ = (call);                                                  \
        if (rv_ != (CK_RV)(want)) {                                          \
            fprintf(stderr, "FAIL %s:%d: %s = 0x%lx, want %s\n", __FILE__,   \
                    __LINE__, #call, rv_, #want);                            \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

typedef struct {
    char dir[512], state[600], link[600];
    pid_t pid;
} p11_test_dev;

/* A temp dir, a tinyhsmd on <dir>/tty, TINYHSM_PORT set to it. */
void p11_test_dev_init(p11_test_dev *d);
void p11_test_dev_start(p11_test_dev *d);
void p11_test_dev_kill(p11_test_dev *d);
/* CA, signer and the PIN P11_TEST_PIN (pin=0: no PIN). */
void p11_test_provision(p11_test_dev *d, int pin);
void p11_test_dev_cleanup(p11_test_dev *d);

/* The module's function list ($THSM_MODULE, else $THSM_BIN/../lib/...). */
CK_FUNCTION_LIST *p11_test_module(void);

/* The first object of class cls and label; 0 when none. */
CK_OBJECT_HANDLE p11_test_find(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                               CK_OBJECT_CLASS cls, const char *label);

/* The signer's public point 04||X||Y through CKA_EC_POINT. */
void p11_test_signer_point(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                           unsigned char point[65]);

#endif
