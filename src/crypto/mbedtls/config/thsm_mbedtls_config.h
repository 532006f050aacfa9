/*
 * thsm_mbedtls_config.h - mbedTLS 2.28 built with only what TinyHSM uses,
 * so the firmware stays small. Selected with
 * -DMBEDTLS_CONFIG_FILE='"thsm_mbedtls_config.h"' (cmake/mbedtls.cmake).
 *
 * Optional switches, set by the build:
 *   THSM_MBEDTLS_PEM   read PEM certificates too (the host build; the device
 *                      only reads the DER it stores)
 *   THSM_MBEDTLS_POOL  no heap: mbedTLS allocates from a static pool the
 *                      firmware hands to mbedtls_memory_buffer_alloc_init()
 */
#ifndef THSM_MBEDTLS_CONFIG_H
#define THSM_MBEDTLS_CONFIG_H

/* Hashes, MAC, KDFs */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA1_C /* X.509 key identifiers, as OpenSSL computes them */
#define MBEDTLS_HKDF_C
#define MBEDTLS_PKCS5_C /* PBKDF2 for the PIN */

/* AES-256-GCM and the DRBG */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_CIPHER_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CTR_DRBG_C

/* ECDSA P-256; deterministic nonces (RFC 6979) so a weak TRNG cannot leak
 * the key through a repeated nonce */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_MAX_BITS 256
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_MPI_MAX_SIZE 64
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_HMAC_DRBG_C

/* X.509: write the CA and signer certificates, read one back */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C

#if defined(THSM_MBEDTLS_PEM)
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C /* crypto/x509_host.h on Windows */
#define MBEDTLS_BASE64_C
#endif

#if defined(THSM_MBEDTLS_POOL)
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#endif

/* tinyhsm.exe (win/): mbedTLS insists on its platform layer on Windows. */
#if defined(_WIN32) && !defined(MBEDTLS_PLATFORM_C)
#define MBEDTLS_PLATFORM_C
#endif

#include "mbedtls/check_config.h"

#endif
