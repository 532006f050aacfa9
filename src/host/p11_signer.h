/*
 * p11_signer.h - a P-256 key on any PKCS#11 token as the signer of
 * thsm_sign_image (sign.h), named by an RFC 7512 URI
 * ("pkcs11:token=...;object=..."). p11-kit parses the URI and loads the
 * module: the one given, else the URI's module-path=, else the modules
 * p11-kit has registered (narrowed by module-name=).
 *
 * The URI must match one token and, on it, one private key (EC P-256,
 * CKA_SIGN). Its public key is the public key object with the same CKA_ID
 * (else the key's own CKA_EC_POINT, else its certificate's); its
 * certificate, if any, the X.509 certificate object with that CKA_ID.
 * Signing is CKM_ECDSA over the digest sign.c computes.
 *
 * The PIN, when the token needs a login: the URI's pin-value=, else its
 * pin-source= (a file, or a file: URI, first line), else the callback.
 *
 * Reentrant: all state is in the thsm_p11_signer.
 */
#ifndef THSM_P11_SIGNER_H
#define THSM_P11_SIGNER_H

#include <stddef.h>

#include "host/err.h"
#include "host/sign.h"

#define THSM_P11_PIN_MAX 256

/* Fills pin (NUL-terminated) for the token labelled token. THSM_OK, or a
 * THSM_ERR_* code (a message reported elsewhere may leave err->msg empty). */
typedef int (*thsm_p11_pin_fn)(void *ctx, const char *token, char *pin,
                               size_t cap, thsm_err *err);

typedef struct {
    const char *uri;
    const char *module; /* NULL: module-path= in the URI, else p11-kit's */
    thsm_p11_pin_fn pin;
    void *ctx;
} thsm_p11_cfg;

typedef struct thsm_p11_signer thsm_p11_signer;

/* Parses cfg->uri (THSM_ERR_USAGE when it is not a pkcs11: URI or names
 * something other than a private key). Loads nothing yet: the token is
 * opened when the pipeline first needs the key. cfg must outlive *out. */
int thsm_p11_signer_new(const thsm_p11_cfg *cfg, thsm_p11_signer **out,
                        thsm_err *err);

/* The signer to put in thsm_sign_req.signer. */
const thsm_signer *thsm_p11_signer_get(const thsm_p11_signer *s);

/* Logs out, closes the session, unloads the module, wipes the PIN. */
void thsm_p11_signer_free(thsm_p11_signer *s);

#endif
