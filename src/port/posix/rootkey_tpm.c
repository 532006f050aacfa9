/*
 * rootkey_tpm.c - the root key sealed to a TPM 2.0 through tpm2-tss's ESYS
 * API: CreatePrimary (a storage key from the owner seed), Create (a sealed
 * data object holding the key), Load and Unseal to get it back.
 */
#include "port/posix/rootkey_tpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                              \
    do {                                                                       \
        snprintf(err, err_cap, __VA_ARGS__);                                   \
        return -1;                                                             \
    } while (0)

#ifndef THSM_HAVE_TPM

int thsm_tpm_seal(const char *tcti, const uint8_t key[32], uint8_t *blob,
                  size_t cap, size_t *len, char *err, size_t err_cap)
{
    (void)tcti, (void)key, (void)blob, (void)cap, (void)len;
    FAIL("this tinyhsmd was built without TPM support (libtss2-dev)");
}

int thsm_tpm_unseal(const char *tcti, const uint8_t *blob, size_t len,
                    uint8_t key[32], char *err, size_t err_cap)
{
    (void)tcti, (void)blob, (void)len, (void)key;
    FAIL("the root key is sealed to a TPM, and this tinyhsmd was built "
         "without TPM support (libtss2-dev)");
}

#else

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

typedef struct {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    ESYS_TR primary;
} tpm;

static void tpm_close(tpm *t)
{
    if (t->esys && t->primary != ESYS_TR_NONE)
        Esys_FlushContext(t->esys, t->primary);
    if (t->esys)
        Esys_Finalize(&t->esys);
    if (t->tcti)
        Tss2_TctiLdr_Finalize(&t->tcti);
}

/* The storage primary key: an ECC P-256 restricted decryption key, the
 * same every time for the same owner seed. */
static TSS2_RC create_primary(tpm *t)
{
    TPM2B_PUBLIC pub = {.publicArea = {
        .type = TPM2_ALG_ECC,
        .nameAlg = TPM2_ALG_SHA256,
        .objectAttributes = TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED |
                            TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
                            TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA |
                            TPMA_OBJECT_SENSITIVEDATAORIGIN,
        .parameters.eccDetail = {
            .symmetric = {.algorithm = TPM2_ALG_AES, .keyBits.aes = 128,
                          .mode.aes = TPM2_ALG_CFB},
            .scheme.scheme = TPM2_ALG_NULL,
            .curveID = TPM2_ECC_NIST_P256,
            .kdf.scheme = TPM2_ALG_NULL}}};
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    return Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
                              ESYS_TR_NONE, ESYS_TR_NONE, &sens, &pub, &outside,
                              &pcrs, &t->primary, NULL, NULL, NULL, NULL);
}

static int tpm_open(tpm *t, const char *tcti, char *err, size_t err_cap)
{
    *t = (tpm){.primary = ESYS_TR_NONE};
    setenv("TSS2_LOG", "all+none", 0); /* our message says it; no log noise */
    TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
    if (rc == TSS2_RC_SUCCESS)
        rc = Esys_Initialize(&t->esys, t->tcti, NULL);
    if (rc == TSS2_RC_SUCCESS)
        rc = Esys_SetTimeout(t->esys, THSM_TPM_TIMEOUT_MS);
    if (rc == TSS2_RC_SUCCESS)
        rc = create_primary(t);
    if (rc != TSS2_RC_SUCCESS) {
        tpm_close(t);
        FAIL("cannot use the TPM at %s (is it there and running, and may "
             "this user open it?): %s", tcti, Tss2_RC_Decode(rc));
    }
    return 0;
}

int thsm_tpm_seal(const char *tcti, const uint8_t key[32], uint8_t *blob,
                  size_t cap, size_t *len, char *err, size_t err_cap)
{
    tpm t;
    if (tpm_open(&t, tcti, err, err_cap) != 0)
        return -1;
    TPM2B_SENSITIVE_CREATE sens = {.sensitive.data.size = 32};
    memcpy(sens.sensitive.data.buffer, key, 32);
    TPM2B_PUBLIC pub = {.publicArea = {
        .type = TPM2_ALG_KEYEDHASH,
        .nameAlg = TPM2_ALG_SHA256,
        .objectAttributes = TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_FIXEDTPM |
                            TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA,
        .parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL}};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    TPM2B_PRIVATE *out_priv = NULL;
    TPM2B_PUBLIC *out_pub = NULL;
    TSS2_RC rc = Esys_Create(t.esys, t.primary, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE, &sens, &pub, &outside, &pcrs,
                             &out_priv, &out_pub, NULL, NULL, NULL);
    explicit_bzero(&sens, sizeof(sens));
    size_t off = 0;
    if (rc == TSS2_RC_SUCCESS)
        rc = Tss2_MU_TPM2B_PUBLIC_Marshal(out_pub, blob, cap, &off);
    if (rc == TSS2_RC_SUCCESS)
        rc = Tss2_MU_TPM2B_PRIVATE_Marshal(out_priv, blob, cap, &off);
    Esys_Free(out_priv);
    Esys_Free(out_pub);
    tpm_close(&t);
    if (rc != TSS2_RC_SUCCESS)
        FAIL("the TPM at %s could not seal the root key: %s", tcti,
             Tss2_RC_Decode(rc));
    *len = off;
    return 0;
}

int thsm_tpm_unseal(const char *tcti, const uint8_t *blob, size_t len,
                    uint8_t key[32], char *err, size_t err_cap)
{
    TPM2B_PUBLIC pub = {0};
    TPM2B_PRIVATE priv = {0};
    size_t off = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob, len, &off, &pub) ||
        Tss2_MU_TPM2B_PRIVATE_Unmarshal(blob, len, &off, &priv) || off != len)
        FAIL("the sealed root key is damaged");
    tpm t;
    if (tpm_open(&t, tcti, err, err_cap) != 0)
        return -1;
    ESYS_TR obj = ESYS_TR_NONE;
    TPM2B_SENSITIVE_DATA *data = NULL;
    TSS2_RC load = Esys_Load(t.esys, t.primary, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE, &priv, &pub, &obj);
    TSS2_RC rc = load;
    if (rc == TSS2_RC_SUCCESS)
        rc = Esys_Unseal(t.esys, obj, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                         ESYS_TR_NONE, &data);
    int ok = rc == TSS2_RC_SUCCESS && data->size == 32;
    if (ok)
        memcpy(key, data->buffer, 32);
    if (data) {
        explicit_bzero(data, sizeof(*data));
        Esys_Free(data);
    }
    if (obj != ESYS_TR_NONE)
        Esys_FlushContext(t.esys, obj);
    tpm_close(&t);
    if (load != TSS2_RC_SUCCESS)
        FAIL("the root key was sealed by another TPM (or this one was "
             "cleared); the TPM at %s cannot open it: %s", tcti,
             Tss2_RC_Decode(load));
    if (!ok)
        FAIL("the TPM at %s could not unseal the root key: %s", tcti,
             Tss2_RC_Decode(rc));
    return 0;
}

#endif
