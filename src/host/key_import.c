/* key_import.c - tinyhsm import signer on the host: key_import.h. */
#include "host/key_import.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/util.h"
#include "crypto/x509_host.h"
#include "host/readfile.h"
#include "proto/at.h"
#include "util/base64.h"
#include "util/escape.h"
#include "util/hex.h"

/* The file's bytes (malloc'ed, NUL after them) or NULL with err set. */
static uint8_t *read_small(const char *path, size_t max, size_t *len,
                           thsm_err *err)
{
    char shown[THSM_ESCAPED_MAX(512)];
    bool too_large = false;
    thsm_escape(path, shown, sizeof(shown));
    FILE *f = fopen(path, "rb");
    uint8_t *data = f ? thsm_read_all(f, max, len, &too_large) : NULL;
    if (!data)
        thsm_fail(err, THSM_ERR_FAIL, "%s: %s", shown,
                  too_large ? "too large for a key or certificate file"
                            : strerror(errno));
    return data;
}

int thsm_key_file_read(const char *path, thsm_pass_fn pass, void *pass_ctx,
                       uint8_t priv[THSM_P256_PRIV_LEN],
                       uint8_t pub[THSM_P256_PUB_LEN], thsm_err *err)
{
    char shown[THSM_ESCAPED_MAX(512)], kind[64] = "";
    size_t len = 0;
    uint8_t *data = read_small(path, THSM_KEY_FILE_MAX, &len, err);
    if (!data)
        return THSM_ERR_FAIL;
    int rc = thsm_p256_priv_from_pem(data, len, pass, pass_ctx, priv, pub,
                                     kind, sizeof(kind));
    thsm_wipe(data, len);
    free(data);
    thsm_escape(path, shown, sizeof(shown));
    switch (rc) {
    case THSM_KEYFILE_OK:
        return THSM_OK;
    case THSM_KEYFILE_NEEDS_PASS:
        return thsm_fail(err, THSM_ERR_REFUSED, "%s is encrypted: it needs "
                         "its passphrase", shown);
    case THSM_KEYFILE_WRONG_PASS:
        return thsm_fail(err, THSM_ERR_FAIL, "%s: wrong passphrase (or the "
                         "file is damaged)", shown);
    case THSM_KEYFILE_NOT_P256:
        return thsm_fail(err, THSM_ERR_FAIL, "%s holds a key of type %s; the device "
                         "takes ECDSA P-256 (prime256v1) keys only", shown,
                         kind);
    default:
        return thsm_fail(err, THSM_ERR_FAIL, "%s holds no private key in PEM "
                         "(PKCS#8 or EC PRIVATE KEY)", shown);
    }
}

int thsm_import_cert_read(const char *path, const uint8_t pub[THSM_P256_PUB_LEN],
                          uint8_t *der, size_t cap, size_t *len, thsm_err *err)
{
    char shown[THSM_ESCAPED_MAX(512)];
    size_t n = 0;
    thsm_x509_info info;
    uint8_t *data = read_small(path, THSM_KEY_FILE_MAX, &n, err);
    if (!data)
        return THSM_ERR_FAIL;
    thsm_escape(path, shown, sizeof(shown));
    int ok = thsm_x509_to_der(data, n, der, cap, len) == 0;
    free(data);
    if (!ok)
        return thsm_fail(err, THSM_ERR_FAIL, "%s is not a certificate (PEM or "
                         "DER) of at most %zu bytes", shown, cap);
    if (*len > THSM_PROTO_CERT_SET_MAX)
        return thsm_fail(err, THSM_ERR_FAIL, "%s has %zu bytes of DER; the "
                         "device takes certificates of at most %d", shown,
                         *len, THSM_PROTO_CERT_SET_MAX);
    if (thsm_x509_parse(der, *len, &info) != 0 ||
        memcmp(info.pub, pub, THSM_P256_PUB_LEN) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "%s is not the certificate of "
                         "this key (its public key differs)", shown);
    return THSM_OK;
}

/* AT+SIGNER_IMPORT KEY=<hex>; the line is wiped after sending. */
static int send_key(thsm_at *at, const uint8_t priv[THSM_P256_PRIV_LEN],
                    thsm_err *err)
{
    char req[sizeof(THSM_CMD_SIGNER_IMPORT " " THSM_P_KEY "=") +
             2 * THSM_P256_PRIV_LEN];
    size_t n = sizeof(THSM_CMD_SIGNER_IMPORT " " THSM_P_KEY "=") - 1;
    memcpy(req, THSM_CMD_SIGNER_IMPORT " " THSM_P_KEY "=", n);
    thsm_hex(priv, THSM_P256_PRIV_LEN, req + n);
    int rc = thsm_hsm_expect_ok(at, req, err);
    thsm_wipe(req, sizeof(req));
    return rc;
}

/* The key is in, its certificate not: say so. */
static int cert_failed(thsm_err *err)
{
    char why[THSM_ERR_MAX];
    snprintf(why, sizeof(why), "%s", err->msg);
    return thsm_fail(err, THSM_ERR_FAIL, "the key was imported, but its "
                     "certificate was not set: %.4000s", why);
}

int thsm_hsm_signer_import(thsm_at *at, const uint8_t priv[THSM_P256_PRIV_LEN],
                           const uint8_t *der, size_t der_len,
                           const thsm_subject *signer, thsm_err *err)
{
    char req[THSM_PROTO_LINE_MAX + 1];
    if (der && der_len > THSM_PROTO_CERT_SET_MAX)
        return thsm_fail(err, THSM_ERR_USAGE, "the certificate has %zu bytes; "
                         "the device takes at most %d", der_len,
                         THSM_PROTO_CERT_SET_MAX);
    if (!der && thsm_subject_check(signer))
        return thsm_fail(err, THSM_ERR_USAGE, "signer certificate: %s",
                         thsm_subject_check(signer));
    bool has_ca = true;
    if (!der && thsm_hsm_has_ca(at, &has_ca, err) != THSM_OK)
        return err->code;
    if (!has_ca)
        return thsm_fail(err, THSM_ERR_FAIL, "the device has no CA to issue "
                         "the key's certificate: give it with --cert, or "
                         "create a CA first (nothing was changed)");
    if (send_key(at, priv, err) != THSM_OK)
        return err->code;
    if (!der && thsm_hsm_signer_ca_cert(at, signer, err) != THSM_OK)
        return cert_failed(err);
    if (!der)
        return THSM_OK;
    size_t n = sizeof(THSM_CMD_SIGNER_CERT_SET " " THSM_P_CERT "=") - 1;
    memcpy(req, THSM_CMD_SIGNER_CERT_SET " " THSM_P_CERT "=", n);
    thsm_base64(der, der_len, req + n);
    return thsm_hsm_expect_ok(at, req, err) == THSM_OK ? THSM_OK
                                                       : cert_failed(err);
}
