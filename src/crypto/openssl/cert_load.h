/*
 * cert_load.h - one certificate from PEM or DER, for the OpenSSL backend's
 * x509.c and for the host-only x509_file.c. Inline: x509_file.c is OpenSSL
 * whichever backend the core uses, so it cannot link x509.c.
 */
#ifndef THSM_CRYPTO_OPENSSL_CERT_LOAD_H
#define THSM_CRYPTO_OPENSSL_CERT_LOAD_H

#include <stdint.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

/* PEM or DER (detected by the leading SEQUENCE tag); DER must have no
 * trailing bytes. NULL when it does not parse. */
static inline X509 *thsm_ossl_load_cert(const uint8_t *data, size_t len)
{
    if (len > INT32_MAX)
        return NULL;
    if (len > 0 && data[0] == 0x30) {
        const unsigned char *p = data;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (x && p != data + len) {
            X509_free(x);
            return NULL;
        }
        return x;
    }
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return x;
}

#endif
