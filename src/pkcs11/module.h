/*
 * module.h - the PKCS#11 module's state, shared by its files: slots (one
 * per device, each with a pool of device connections and the
 * application's login) and sessions. One mutex (p11_lock) guards all of
 * it; device I/O runs outside it, on a connection taken from the pool.
 */
#ifndef THSM_P11_MODULE_H
#define THSM_P11_MODULE_H

#include <p11-kit/pkcs11.h>
#include <pthread.h>

#include "crypto/sha256.h"
#include "pkcs11/device.h"
#include "util/pin.h"

#define P11_SLOTS_MAX 8
#define P11_POOL_MAX 8
#define P11_POOL_DEFAULT 4 /* tinyhsmd serves one request at a time */
#define P11_SESSIONS_MAX 1024
#define P11_TIMEOUT_MS 10000 /* longest wait for a device answer or a connection */
#define P11_PORT_MAX 4096
#define P11_CERT_MAX 2048

#define P11_PIN_WAIT_MAX (P11_TIMEOUT_MS / 1000) /* seconds: see DECISIONS */

#define P11_USER_TRIES 5 /* the device's tries: docs/PROTOCOL.md */
#define P11_SO_TRIES 10

/* Who an application (or a connection) is logged in as. */
enum { ROLE_NONE = 0, ROLE_USER, ROLE_SO };

/* Object handles: slot * 16 + one of these. */
enum { OBJ_SIGNER_PRIV = 1, OBJ_SIGNER_PUB, OBJ_SIGNER_CERT, OBJ_CA_PUB,
       OBJ_CA_CERT, OBJ_COUNT = OBJ_CA_CERT };

typedef struct {
    p11_dev *dev;  /* NULL: not connected */
    int busy;      /* taken by a thread */
    int authed;    /* ROLE_*: its login on the device */
    int stale;     /* close it when given back (logout, device gone) */
} p11_conn;

typedef struct {
    int present;
    unsigned char der[P11_CERT_MAX];
    unsigned long der_len;
    unsigned char point[65]; /* 04||X||Y */
    unsigned char id[8];     /* first 8 bytes of SHA-256(point): the key id */
    unsigned char subject[512], issuer[512], serial[40]; /* DER */
    unsigned long subject_len, issuer_len, serial_len;
    int imported;            /* the key came from outside the device */
} p11_cert;

typedef struct {
    char port[P11_PORT_MAX];
    pthread_cond_t freed;
    p11_conn conns[P11_POOL_MAX];
    int pool;        /* connections it may open: 1 to P11_POOL_MAX */
    int logged_in;   /* ROLE_*: this application's login (all its sessions) */
    char *pin;       /* that role's PIN, in locked memory while logged in */
    int pin_set;     /* last seen: the device has a PIN */
    unsigned epoch;  /* bumped when the device goes away */
    p11_cert cert[2]; /* [0] signer, [1] CA */
} p11_slot;

typedef struct {
    int used;
    CK_SLOT_ID slot;
    CK_FLAGS flags;
    unsigned epoch;
    int finding;
    CK_OBJECT_HANDLE found[OBJ_COUNT];
    CK_ULONG nfound, pos;
    CK_MECHANISM_TYPE sign_mech; /* 0: no signing in progress */
    int hashing;                 /* sha is live */
    thsm_sha256_ctx sha;
} p11_session;

extern pthread_mutex_t p11_lock;
extern int p11_initialized;
extern p11_slot *p11_slots[P11_SLOTS_MAX];
extern CK_ULONG p11_nslots;

/* slot.c */
CK_RV p11_slots_load(void);
void p11_slots_free(void);
/* Takes a connection (waits at most P11_TIMEOUT_MS), connected and, when
 * the application is logged in and auth is set, logged in as its role. */
CK_RV p11_conn_take(p11_slot *s, int auth, p11_conn **out);
/* Gives it back; rc is the device result of its last use. */
void p11_conn_give(p11_slot *s, p11_conn *c, int rc);
CK_RV p11_login(p11_slot *s, int role, const char *pin);
/* C_SetPIN for role (ROLE_USER or ROLE_SO) and C_InitPIN (pin.c). */
CK_RV p11_set_pin(p11_slot *s, int role, const char *old, const char *fresh);
CK_RV p11_init_pin(p11_slot *s, const char *fresh);
/* pin.c: pin[0..len) as a C string in text, or why it cannot be a PIN
 * (checked here so that it never costs a try). */
CK_RV p11_pin_text(const CK_UTF8CHAR *pin, CK_ULONG len,
                   char text[THSM_PIN_MAX + 1]);
CK_RV p11_logout(p11_slot *s);
CK_RV p11_logout_locked(p11_slot *s); /* with p11_lock held */
/* Device result to PKCS#11. */
CK_RV p11_rv(int dev_rc);
/* Reads both certificates into s->cert. */
CK_RV p11_certs_load(p11_slot *s);

/* p11.c: the session h (NULL and *rv when there is none); with p11_lock
 * held. */
p11_session *p11_session_get(CK_SESSION_HANDLE h, CK_RV *rv);

/* objects.c */
#define P11_P256_PARAMS_LEN 10
extern const CK_BYTE p11_p256_params[P11_P256_PARAMS_LEN]; /* DER OID */
CK_RV p11_attrs(p11_slot *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n);
/* The objects matching template that this session may see. */
void p11_find(p11_session *ss, CK_ATTRIBUTE *t, CK_ULONG n);
int p11_cert_parse(p11_cert *c);
/* C, O, CN and validity of the signer certificate, for a new one. */
int p11_cert_subject(const p11_cert *c, char *cc, char *o, char *cn,
                     size_t cap, unsigned *days);

#endif
