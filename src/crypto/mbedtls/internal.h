/* internal.h - helpers shared by the mbedTLS backend's files. */
#ifndef THSM_CRYPTO_MBEDTLS_INTERNAL_H
#define THSM_CRYPTO_MBEDTLS_INTERNAL_H

#include <mbedtls/ecp.h>
#include <mbedtls/x509_crt.h>

#include "crypto/p256.h"

#define OK THSM_CRYPTO_OK
#define FAIL THSM_CRYPTO_FAIL

/* mbedTLS's random callback over thsm_random (p_rng unused). */
int thsm_mbed_rng(void *p_rng, unsigned char *buf, size_t len);

/* Loads the P-256 group and pub (and priv unless NULL) into an initialised
 * keypair; checks that pub is on the curve. 1 on success. */
int thsm_mbed_keypair(mbedtls_ecp_keypair *kp, const uint8_t *priv,
                      const uint8_t pub[THSM_P256_PUB_LEN]);

/* One certificate, DER or (with MBEDTLS_PEM_PARSE_C) PEM, into an
 * initialised crt. 1 on success. */
int thsm_mbed_load_cert(mbedtls_x509_crt *crt, const uint8_t *data, size_t len);

#endif
