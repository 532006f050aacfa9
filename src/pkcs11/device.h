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
    DEV_PIN_DELAY,     /* a wait after a wrong PIN is running: no try spent */
    DEV_PIN_REFUSED,   /* the device refused the new PIN (too easy to guess) */
    DEV_NO_SO_PIN,     /* a user PIN but no SO PIN: no SO role yet */
    DEV_ERROR          /* any other refusal or malformed answer */
};

enum { DEV_PIN_NONE = 0, DEV_PIN_SET = 1, DEV_PIN_BLOCKED = 2 };

typedef struct {
    int pin;             /* DEV_PIN_* */
    int auth;            /* this connection is logged in */
    unsigned long tries; /* PIN tries left */
    int so;              /* the SO PIN: DEV_PIN_* */
    unsigned long so_tries;
    int signer_imported; /* the signer key came from outside */
} p11_dev_state;

typedef struct p11_dev p11_dev;

/* Opens a connection to port; waits at most timeout_ms for any answer. */
int p11_dev_open(const char *port, int timeout_ms, p11_dev **out);
void p11_dev_close(p11_dev *d);

int p11_dev_status(p11_dev *d, p11_dev_state *st);
/* The device's serial number in hex (AT+STSAFE_SERIAL?). */
int p11_dev_serial(p11_dev *d, char *out, size_t cap);
/* The PIN commands of the user (so=0) or the security officer (so=1).
 * During the wait after a wrong PIN each first waits up to max_wait
 * seconds (the device says how long) and tries once more; a longer wait
 * answers DEV_PIN_DELAY at once. */
int p11_dev_login(p11_dev *d, int so, const char *pin, unsigned max_wait);
/* Changes the role's PIN from old to fresh; it logs this connection in as
 * that role, and a user PIN change ends every other login. */
int p11_dev_set_pin(p11_dev *d, int so, const char *old, const char *fresh,
                    unsigned max_wait);
/* In a connection logged in as the SO: a new user PIN, keys kept. */
int p11_dev_unblock(p11_dev *d, const char *fresh);
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
