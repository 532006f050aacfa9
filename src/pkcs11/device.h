/*
 * device.h - the PKCS#11 module's only door to a TinyHSM. Every call into
 * the host library (src/host) is in device.c, so a change of that API is
 * one file's work. One p11_dev is one device connection (and its own
 * device login); it is used by one thread at a time.
 */
#ifndef THSM_P11_DEVICE_H
#define THSM_P11_DEVICE_H

#include <stddef.h>
#include <stdint.h>

enum {
    DEV_OK = 0,
    DEV_GONE,          /* no connection, or it broke: device removed */
    DEV_AUTH_REQUIRED, /* the key needs a login on this connection */
    DEV_PIN_INCORRECT, /* wrong PIN (a try spent) */
    DEV_PIN_LOCKED,    /* no tries left */
    DEV_NO_PIN,        /* the device has no PIN */
    DEV_NO_KEY,        /* no such key or certificate */
    DEV_ERROR          /* any other refusal or malformed answer */
};

enum { DEV_PIN_NONE = 0, DEV_PIN_SET = 1, DEV_PIN_BLOCKED = 2 };

typedef struct {
    int pin;             /* DEV_PIN_* */
    int auth;            /* this connection is logged in */
    unsigned long tries; /* PIN tries left */
} p11_dev_state;

typedef struct p11_dev p11_dev;

/* Opens a connection to port; waits at most timeout_ms for any answer. */
int p11_dev_open(const char *port, int timeout_ms, p11_dev **out);
void p11_dev_close(p11_dev *d);

int p11_dev_status(p11_dev *d, p11_dev_state *st);
/* The device's serial number in hex (AT+STSAFE_SERIAL?). */
int p11_dev_serial(p11_dev *d, char *out, size_t cap);
int p11_dev_login(p11_dev *d, const char *pin);
int p11_dev_logout(p11_dev *d);
/* DER of the CA (ca=1) or signer certificate. */
int p11_dev_cert_der(p11_dev *d, int ca, uint8_t *der, size_t cap,
                     size_t *len);
/* Raw r||s signature of a SHA-256 digest with the signer key. */
int p11_dev_sign(p11_dev *d, const uint8_t digest[32], uint8_t sig[64]);
/* A new signer key, then its CA-signed certificate with these values
 * (C, O, CN, START as YYYYMMDDhhmmss, DAYS). */
int p11_dev_new_signer(p11_dev *d, const char *c, const char *o,
                       const char *cn, const char *start, unsigned days);

#endif
