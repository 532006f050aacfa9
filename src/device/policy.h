/*
 * policy.h - the owner's signing policy, enforced inside the device
 * (layer: policy, below the handlers, above the state).
 *
 * The handlers ask before they sign or import and tell after they signed;
 * the policy itself, its last signed versions and its rate counters live in
 * the sealed state (dev->st). With no policy set every check allows, so
 * the original scripts work as before.
 */
#ifndef THSM_DEVICE_POLICY_H
#define THSM_DEVICE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "device/device.h"

enum { THSM_IMG_SECUREBOOT10 = 1, THSM_IMG_MCUBOOT = 2 };

/* What the device read from an image whose every byte it hashed itself. */
typedef struct {
    uint8_t format;     /* THSM_IMG_* */
    char board[17];     /* SECUREBOOT10: the header's board name; MCUboot:
                           the slot or image name the host gave ("" none) */
    uint64_t version;   /* ordered: SECUREBOOT10 major<<48 | minor<<32 |
                           build; MCUboot major<<56 | minor<<48 |
                           revision<<32 | build */
    uint8_t version_clamped; /* SECUREBOOT10 MAJOR or MINOR over 16 bits:
                                version is not ordered (rising refuses) */
    char version_text[32]; /* as a person writes it: "1.2.3", "1.2.3+4" */
    uint32_t size;      /* bytes hashed */
    uint8_t sha256[32]; /* their SHA-256 (what MCUboot's hash TLV holds) */
} thsm_image_info;

/* 0 when the policy lets the device sign img now. Otherwise answers
 * ERROR POLICY <rule> <text> (response.h) and returns -1; changes nothing. */
int thsm_policy_check_image(thsm_device *dev, const thsm_image_info *img);

/* The size rule alone, as soon as the host announces the size (AT+IMG_BEGIN:
 * the device hashes nothing it would refuse at the end). */
int thsm_policy_check_size(thsm_device *dev, uint32_t size);

/* The same for a bare digest (AT+SIGNER_SIGN HASH=). */
int thsm_policy_check_digest(thsm_device *dev);

/* The same for importing a key from outside. */
int thsm_policy_check_import(thsm_device *dev);

/* Notes a signature just made (img NULL: a bare digest) in dev->st: the
 * last version per board and format, the rate counters. Returns true when
 * the state changed and must be saved before the signature is answered
 * (a power cut then leaves the old or the new last version, never a
 * signature the state does not know). */
bool thsm_policy_note_signed(thsm_device *dev, const thsm_image_info *img);

/* ---- for the AT+POLICY commands (handlers_policy.c) --------------------- */

/* The rules AT+POLICY_SET takes, in the order AT+POLICY? shows them. */
#define THSM_POLICY_RULES 8
const char *thsm_policy_rule(unsigned i);

/* Sets rule key of r from value (AT+POLICY_SET's syntax). NULL when done,
 * else why (the parameter is bad; r may be half changed: use a copy). */
const char *thsm_policy_parse(thsm_policy_rules *r, const char *key,
                              const char *value);

/* Rule key of r as AT+POLICY? shows it (and AT+POLICY_SET takes it). */
#define THSM_POLICY_VALUE_MAX \
    (THSM_POLICY_BOARDS * (THSM_POLICY_NAME_MAX + 1) + 1)
void thsm_policy_value(const thsm_policy_rules *r, const char *key,
                       char out[THSM_POLICY_VALUE_MAX]);

/* Answers AT+POLICY?: "OK <rule>=<value> ... LOCKED= HOUR_COUNT=
 * DAY_COUNT= LAST=FORMAT:NAME:VERSION,..." on one line. */
void thsm_policy_answer(thsm_device *dev);

#endif
