/*
 * sign.h - the signing pipeline as one call: read the firmware once,
 * refuse what the bootloader cannot boot, fetch and check the signer's
 * key and certificate (chain to the device's CA, --trust, outputs holding
 * another key), hash the image and have the signer sign the digest, check
 * the signature, then write the image, the certificate and SigGen.c, all
 * three or none (output.h). The signer is the device, or any key behind
 * a thsm_signer (a PKCS#11 key: p11_signer.h). With req.mcuboot, the same
 * pipeline builds an MCUboot image instead (mcuboot_image.h) and writes it
 * alone; the device signs it in image mode when it offers that
 * (img_stream.h), else its digest.
 *
 * Reentrant: everything lives in the request, the result and the call's
 * own heap buffers. The process-wide part, removing temporaries on
 * SIGINT/SIGTERM/SIGHUP, is the program's choice
 * (thsm_atomic_cleanup_on_signals, image.h).
 */
#ifndef THSM_SIGN_H
#define THSM_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "crypto/x509_host.h"
#include "host/at_client.h"
#include "host/err.h"
#include "host/mcuboot_image.h"
#include "util/keyid.h"

enum { THSM_SIGN_IMAGE, THSM_SIGN_CERT, THSM_SIGN_SIGGEN, THSM_SIGN_OUTPUTS };

#define THSM_SIGN_WARNINGS_MAX 8

/* Called once, when the device is first needed (after every check that
 * needs none): *at becomes an open, logged-in connection. On failure it
 * returns a THSM_ERR_* code; a message it reported itself may leave
 * err->msg empty. */
typedef int (*thsm_sign_connect_fn)(void *ctx, thsm_at **at, thsm_err *err);

/* Called for each message that does not stop the work, as it arises: a
 * warning (also kept in the result), or an error on the way (an existing
 * output that cannot be read to compare its key). */
typedef enum { THSM_NOTE_WARNING, THSM_NOTE_ERROR } thsm_note_kind;
typedef void (*thsm_sign_note_fn)(void *ctx, thsm_note_kind kind,
                                  const char *msg);

/* A key that signs in place of the device. Each call returns THSM_OK or a
 * THSM_ERR_* code with err set (a message reported elsewhere may leave
 * err->msg empty). */
typedef struct {
    const char *name; /* for messages: "the PKCS#11 key" */
    /* Called once, when the key is first needed (after every check that
     * needs none): finds the key, logs in. */
    int (*open)(void *ctx, thsm_err *err);
    /* Its public key; its certificate as PEM, or "" when it has none. */
    int (*key)(void *ctx, uint8_t pub[THSM_P256_PUB_LEN], char *pem,
               size_t cap, thsm_err *err);
    /* ECDSA P-256 over the digest: raw r || s. */
    int (*sign)(void *ctx, const uint8_t digest[THSM_SHA256_LEN],
                uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err);
    void *ctx;
} thsm_signer;

typedef struct {
    const char *board;   /* a name thsm_board_name_check accepts */
    const char *version; /* "X.Y.Z", checked */
    const char *firmware;
    const char *version_file; /* NULL, or the file version came from */
    const char *trust;        /* NULL, or a SigGen.c/cert/public key file */
    const char *out[THSM_SIGN_OUTPUTS]; /* where each output goes; "-" */
    uint64_t max_size;   /* largest signed size the board boots */
    bool force;          /* refusals (THSM_ERR_REFUSED) become warnings */
    bool json;           /* standard output is taken: no output may be it */
    thsm_at *at;         /* an open connection, or NULL: connect is called */
    thsm_sign_connect_fn connect;
    const thsm_signer *signer; /* NULL: the device (at, connect) */
    bool cert_optional;  /* a signer without a certificate writes none
                            (else that is refused before signing) */
    thsm_sign_note_fn note; /* may be NULL */
    void *ctx;           /* for connect and note */
    /* NULL: a SECUREBOOT10 image (board, version, max_size). Else an
     * MCUboot image built with these options: out[THSM_SIGN_IMAGE] is the
     * only output (board, version, version_file, max_size unused). */
    const thsm_mcuboot_opts *mcuboot;
    const char *name; /* MCUboot: the slot name the device's policy keeps
                         rising versions under (image mode); NULL: none */
} thsm_sign_req;

typedef struct {
    size_t fw_len;
    uint64_t size; /* signed size: header + firmware + padding */
    uint8_t digest[THSM_SHA256_LEN];
    uint8_t sig[THSM_P256_SIG_RAW_LEN];
    uint8_t pub[THSM_P256_PUB_LEN];
    char key_id[THSM_KEY_ID_LEN];
    int64_t not_before, not_after; /* the signer certificate's validity */
    bool to_stdout; /* an output is standard output (by any name) */
    bool no_cert;   /* the signer has no certificate: none was written */
    bool image_mode; /* the device hashed the signed bytes itself */
    size_t image_len; /* MCUboot: the whole image written (size: the bytes
                         hashed, header to the protected TLVs) */
    char warnings[THSM_SIGN_WARNINGS_MAX][1024];
    int n_warnings;
} thsm_sign_result;

/* Runs the pipeline. THSM_OK with *res filled and the three outputs
 * written; else nothing was written (a FIFO or standard output excepted,
 * output.h) and err says why: THSM_ERR_USAGE for outputs that clash (the
 * same file twice, an input, standard output with json), THSM_ERR_REFUSED
 * for what force allows, THSM_ERR_FAIL for the rest. */
int thsm_sign_image(const thsm_sign_req *req, thsm_sign_result *res,
                    thsm_err *err);

#endif
