/*
 * mcuboot_image.h - building a signed MCUboot image (ECDSA P-256) on the
 * host, as `imgtool sign` lays it out (docs/MCUBOOT.md). The signature comes
 * from a callback, so the key can live anywhere (a device, a test key).
 * Functions return 0, or -1 with a one-line message in err. Reentrant.
 *
 * Two ways to use it:
 * - thsm_mcuboot_sign(): all at once, the callback signs the digest;
 * - thsm_mcuboot_prepare(), thsm_mcuboot_digest(), sign elsewhere (e.g. a
 *   device that hashes the signed bytes itself), thsm_mcuboot_finish().
 */
#ifndef THSM_MCUBOOT_IMAGE_H
#define THSM_MCUBOOT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/mcuboot.h"

typedef enum {
    THSM_MCUBOOT_KEY_HASH = 0, /* TLV 0x01: SHA-256 of the DER key (default) */
    THSM_MCUBOOT_KEY_FULL = 1  /* TLV 0x02: the DER key itself */
} thsm_mcuboot_key_format;

typedef struct {
    uint32_t header_size; /* --header-size: 32 to 65535 */
    int pad_header;       /* --pad-header: prepend header_size bytes of 0xFF */
    uint32_t slot_size;   /* --slot-size; 0: not checked */
    uint32_t align;       /* --align: 1, 2, 4, 8, 16 or 32; 0 means 1 */
    thsm_mcuboot_version version; /* --version (thsm_mcuboot_parse_version) */
    int has_security_counter;     /* --security-counter given */
    uint32_t security_counter;    /* protected TLV 0x50 */
    thsm_mcuboot_key_format key_format; /* --public-key-format */
} thsm_mcuboot_opts;

/* Signs a SHA-256 digest with the signer key: raw r || s, 32 bytes each.
 * Returns 0, or non-zero when it could not sign. */
typedef int (*thsm_mcuboot_sign_fn)(void *ctx, const uint8_t digest[32],
                                    uint8_t sig_raw[64]);

/* An image being built. data is malloc'ed; free it with
 * thsm_mcuboot_build_free. */
typedef struct {
    uint8_t *data;
    size_t len;        /* bytes written so far */
    size_t cap;
    size_t hashed_len; /* header + payload + protected TLVs: what is signed */
} thsm_mcuboot_build;

/* Header, payload and protected TLVs from the application binary app. With
 * pad_header, app is the payload; without, app must start with header_size
 * zero bytes, which the header replaces (imgtool's rule). Checks the
 * options and, with slot_size, that the image will fit (counting the
 * longest signature) before anything is signed. */
int thsm_mcuboot_prepare(const uint8_t *app, size_t app_len,
                         const thsm_mcuboot_opts *o, thsm_mcuboot_build *b,
                         char *err, size_t cap);

/* SHA-256 of the prepared bytes: the digest to sign. */
int thsm_mcuboot_digest(const thsm_mcuboot_build *b, uint8_t digest[32]);

/* Appends the TLV area: SHA256, KEYHASH or PUBKEY, ECDSA_SIG (DER). Checks
 * first that sig_raw verifies over digest with pub, and that digest is the
 * prepared bytes' hash; then the slot size. */
int thsm_mcuboot_finish(thsm_mcuboot_build *b, const thsm_mcuboot_opts *o,
                        const uint8_t pub[65], const uint8_t digest[32],
                        const uint8_t sig_raw[64], char *err, size_t cap);

/* prepare, digest, sign with the callback, finish. On failure b holds
 * nothing to free. */
int thsm_mcuboot_sign(const uint8_t *app, size_t app_len,
                      const thsm_mcuboot_opts *o, const uint8_t pub[65],
                      thsm_mcuboot_sign_fn sign, void *sign_ctx,
                      thsm_mcuboot_build *b, char *err, size_t cap);

void thsm_mcuboot_build_free(thsm_mcuboot_build *b);

/* Raw r || s as the DER ECDSA signature the ECDSA_SIG TLV holds (and what
 * `imgtool sign --fix-sig` reads, base64-encoded). 0, or -1. */
int thsm_mcuboot_sig_to_der(const uint8_t raw[64],
                            uint8_t der[THSM_MCUBOOT_SIG_DER_MAX], size_t *len);

/* One line about a check of a verify report (thsm_mcuboot_verify with e),
 * for a PASS/FAIL line: what was found, or why it failed or did not run. */
void thsm_mcuboot_check_detail(const thsm_mcuboot_report *r,
                               const thsm_mcuboot_expect *e, int check,
                               char *buf, size_t cap);

/* "MAJOR.MINOR.REVISION+BUILD"; 0, or -1 when cap is too small. */
int thsm_mcuboot_format_version(const thsm_mcuboot_version *v, char *buf,
                                size_t cap);

#endif
