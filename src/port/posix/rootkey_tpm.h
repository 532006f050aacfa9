/*
 * rootkey_tpm.h - the root key sealed to a TPM 2.0 (tpm2-tss ESYS).
 *
 * The TPM seals and unseals; nothing here is cryptography of our own. The
 * sealed object lives under a primary storage key re-created from the
 * TPM's owner seed each time, so the blob opens only on the TPM that made
 * it (and only until that TPM is cleared). No PCR policy and an empty
 * authorisation: whoever can use this TPM and read the blob can unseal it.
 */
#ifndef THSM_ROOTKEY_TPM_H
#define THSM_ROOTKEY_TPM_H

#include <stddef.h>
#include <stdint.h>

#define THSM_TPM_BLOB_MAX 1024
#define THSM_TPM_DEFAULT_TCTI "device:/dev/tpmrm0"
#define THSM_TPM_TIMEOUT_MS 10000 /* a TPM that does not answer: fail, never hang */

/* Seals the 32-byte key with the TPM reached through tcti (a tpm2-tss TCTI
 * string such as "swtpm:host=127.0.0.1,port=2321" or "device:/dev/tpmrm0").
 * Writes the blob (marshalled public and private parts) into blob. Returns 0,
 * or -1 with a one-line reason in err. */
int thsm_tpm_seal(const char *tcti, const uint8_t key[32], uint8_t *blob,
                  size_t cap, size_t *len, char *err, size_t err_cap);

/* Unseals a blob made by thsm_tpm_seal into key. Returns 0, or -1 with a
 * one-line reason in err (another TPM, a cleared one, none reachable). */
int thsm_tpm_unseal(const char *tcti, const uint8_t *blob, size_t len,
                    uint8_t key[32], char *err, size_t err_cap);

#endif
