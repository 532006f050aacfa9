/*
 * key_import.h - moving an existing P-256 signer key into the device
 * (tinyhsm import signer): the key file read on the host, then
 * AT+SIGNER_IMPORT and the signer's certificate. Reentrant; the private
 * key's bytes are wiped after use, never part of a message.
 */
#ifndef THSM_KEY_IMPORT_H
#define THSM_KEY_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/p256.h"
#include "crypto/x509_host.h"
#include "host/at_client.h"
#include "host/err.h"
#include "host/hsm.h"

#define THSM_KEY_FILE_MAX 65536

/* Reads the private key of the PEM file path once (PKCS#8, encrypted
 * PKCS#8 or SEC1 "EC PRIVATE KEY"), calling pass(pass_ctx, ...) for the
 * passphrase of an encrypted one: THSM_OK with priv and pub;
 * THSM_ERR_REFUSED when it is encrypted and pass gave none; else
 * THSM_ERR_FAIL saying why (missing file, wrong passphrase, not P-256).
 * The file's bytes are wiped; priv too on failure. */
int thsm_key_file_read(const char *path, thsm_pass_fn pass, void *pass_ctx,
                       uint8_t priv[THSM_P256_PRIV_LEN],
                       uint8_t pub[THSM_P256_PUB_LEN], thsm_err *err);

/* Reads the certificate file path (PEM or DER) into der (cap bytes) and
 * checks that it is for pub and that the device takes its size
 * (THSM_PROTO_CERT_SET_MAX); nothing is sent. */
int thsm_import_cert_read(const char *path, const uint8_t pub[THSM_P256_PUB_LEN],
                          uint8_t *der, size_t cap, size_t *len, thsm_err *err);

/* Replaces the device's signer key with priv (AT+SIGNER_IMPORT), then gives
 * it its certificate: der (from thsm_import_cert_read) with
 * AT+SIGNER_CERT_SET, or with der NULL one the device's CA issues for
 * signer (AT+SIGNER_NEW_CERT). Call logged in. */
int thsm_hsm_signer_import(thsm_at *at, const uint8_t priv[THSM_P256_PRIV_LEN],
                           const uint8_t *der, size_t der_len,
                           const thsm_subject *signer, thsm_err *err);

#endif
