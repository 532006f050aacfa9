/*
 * hsm.h - TinyHSM operations over an AT connection, shared by the CLI, the
 * tests and the benchmarks. They use only commands of the original board,
 * so they work with tinyhsmd and with the B-U585I-IOT02A alike.
 *
 * Every function returns 0 on success or -1 with a one-line message in err
 * that tells the user what to do next.
 */
#ifndef THSM_HSM_H
#define THSM_HSM_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "host/at_client.h"

#define THSM_PEM_MAX 4096

typedef struct {
    const char *country, *org, *cn;
    const char *start; /* YYYYMMDDhhmmss */
    unsigned days;
} thsm_subject;

/* Runs request; fails with a readable message unless the status is OK. */
int thsm_hsm_expect_ok(thsm_at *at, const char *request, thsm_at_resp *resp,
                       char *err, size_t cap);

/* PEM text of the CA (ca=1) or signer certificate, CR LF removed. */
int thsm_hsm_cert_pem(thsm_at *at, int ca, char *pem, size_t pem_cap,
                      char *err, size_t cap);

/* Signs a SHA-256 digest; returns the raw r||s signature. */
int thsm_hsm_sign_digest(thsm_at *at, const uint8_t digest[THSM_SHA256_LEN],
                         uint8_t sig[THSM_P256_SIG_RAW_LEN], char *err,
                         size_t cap);

/* Creates the CA (after erasing everything) and a CA-signed signer
 * (all=1), or only a new signer under the existing CA (all=0). */
int thsm_hsm_provision(thsm_at *at, int all, const thsm_subject *ca,
                       const thsm_subject *signer, char *err, size_t cap);

/* Whether the device holds a CA certificate (1), none (0), or failed (-1). */
int thsm_hsm_has_ca(thsm_at *at, char *err, size_t cap);

/* Current time as YYYYMMDDhhmmss (UTC). */
void thsm_now_start(char out[15]);

#endif
