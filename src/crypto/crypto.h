/*
 * crypto.h - the only door between TinyHSM code and a cryptographic library.
 *
 * One header per primitive, each implemented side by side by two backends:
 * src/crypto/openssl (OpenSSL 3 EVP, the host) and src/crypto/mbedtls (mbedTLS
 * 2.28, the microcontroller; it also builds natively). The device core
 * (src/device) and the boot verifier (src/boot) see cryptography only through
 * these headers. This umbrella includes them all.
 */
#ifndef THSM_CRYPTO_H
#define THSM_CRYPTO_H

#include "crypto/aead.h"
#include "crypto/hmac.h"
#include "crypto/kdf.h"
#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "crypto/util.h"
#include "crypto/x509.h"

/* Host-only X.509 (PEM, chains, keys from files). Included here for now so
 * that the host callers that include crypto/crypto.h need no edit; they
 * should include host/x509_host.h themselves. */
#include "host/x509_host.h"

#endif
