/*
 * log.h - the audit log's record format, shared by the device that writes
 * it and the host that reads and verifies it (AT+LOG?, tinyhsm log).
 *
 * A record is one line of exactly THSM_LOG_RECORD bytes, newline included:
 *   "%08lu %s %-16s %-16s %-64s %-16s " index, time, event, key id, digest,
 *   result, then at THSM_LOG_CHAIN_AT the chain value in 64 hex digits and
 *   padding up to the newline.
 * chain(i) = SHA-256(chain(i-1) || the record's first THSM_LOG_CHAIN_AT
 * bytes), chain(-1) = 32 zero bytes. docs/PROTOCOL.md says it for people.
 *
 * A record without a digest may carry details in the digest field, one
 * word (no spaces), items separated by commas: "COUNT=<n>,FROM=<t1>,TO=<t2>"
 * for refusals counted together, "UID=<u>" for the client when known,
 * "<finding>" for an acknowledgement. LOG_CLEARED's digest field is the
 * chain value before it: the head of the archived records.
 */
#ifndef THSM_PROTO_LOG_H
#define THSM_PROTO_LOG_H

#define THSM_LOG_RECORD 201    /* bytes per record, newline included */
#define THSM_LOG_LINE 200      /* a record without its newline */
#define THSM_LOG_CHAIN_AT 136  /* offset of the chain field */
#define THSM_LOG_EVENT_AT 20   /* offset of the event field */
#define THSM_LOG_EVENT_LEN 16
#define THSM_LOG_RESULT_AT 119 /* offset of the result field */
#define THSM_LOG_PER_ANSWER 32 /* records per AT+LOG? answer */
#define THSM_LOG_TOTAL_MAX 100000000UL /* record numbers have 8 digits */
#define THSM_LOG_FIELD_NONE "-"  /* key id or digest of a record without one */
#define THSM_LOG_RESULT_GEN "GEN=" /* result of a state change: "GEN=<n>" */
#define THSM_LOG_RESULT_OK "OK"    /* result of a signature */
#define THSM_LOG_DETAIL_COUNT "COUNT=" /* refusals counted together */
#define THSM_LOG_DETAIL_FROM "FROM="   /* time of the first of them */
#define THSM_LOG_DETAIL_TO "TO="       /* time of the last of them */
#define THSM_LOG_DETAIL_UID "UID="     /* the client's uid, when known */
#define THSM_LOG_RESULT_OTHERS "OTHERS" /* THSM_EV_REFUSED: every other kind */
/* THSM_EV_IMAGE's details: "B=<board or name>,V=<version>,S=<size>" */
#define THSM_LOG_DETAIL_BOARD "B="
#define THSM_LOG_DETAIL_VERSION "V="
#define THSM_LOG_DETAIL_SIZE "S="
#define THSM_LOG_DETAIL_IMAGE_MAX 65 /* the digest field, NUL included */

/* Events. */
#define THSM_EV_SIGN "SIGN"
#define THSM_EV_AUTH "AUTH"
#define THSM_EV_AUTH_FAILED "AUTH_FAILED"
#define THSM_EV_AUTH_BLOCKED "AUTH_BLOCKED"
#define THSM_EV_AUTH_REFUSED "AUTH_REFUSED"
#define THSM_EV_AUTH_REQUIRED "AUTH_REQUIRED"
#define THSM_EV_PIN_SET "PIN_SET"
#define THSM_EV_DECOMMISSION "DECOMMISSION"
#define THSM_EV_CA_CREATE "CA_CREATE"
#define THSM_EV_SIGNER_KEY "SIGNER_KEY"
#define THSM_EV_SIGNER_CERT "SIGNER_CERT"
#define THSM_EV_SIGNER_CERT_SELF "SIGNER_CERT_SELF"
#define THSM_EV_RECORDS_LOST "RECORDS_LOST"
#define THSM_EV_RECORDS_FOREIGN "RECORDS_FOREIGN"
#define THSM_EV_PIN_UNBLOCK "PIN_UNBLOCK"
#define THSM_EV_SO_AUTH "SO_AUTH"
#define THSM_EV_SO_AUTH_BLOCKED "SO_AUTH_BLOCKED"
#define THSM_EV_SO_AUTH_FAILED "SO_AUTH_FAILED"
#define THSM_EV_SO_PIN_SET "SO_PIN_SET"
#define THSM_EV_CA_RENEW "CA_RENEW"
#define THSM_EV_SIGNER_RENEW "SIGNER_RENEW"
#define THSM_EV_SIGNER_IMPORT "SIGNER_IMPORT" /* a key from outside */
#define THSM_EV_SIGNER_CERT_SET "SIGNER_CERT_SET" /* a certificate from outside */
#define THSM_EV_FINDING_ACK "FINDING_ACK" /* findings acknowledged */
#define THSM_EV_LOG_CLEARED "LOG_CLEARED" /* first record after a clear */
#define THSM_EV_POLICY_SET "POLICY_SET" /* one rule changed: its detail
                                           "<RULE>=<old>><new>" */
#define THSM_EV_POLICY_LOCK "POLICY_LOCK"
/* An image signature is two records: THSM_EV_IMAGE (details: what the
 * header says; result: the format, THSM_V_SECUREBOOT10 or THSM_V_MCUBOOT),
 * then the signature naming the format, whose digest field is the image's
 * SHA-256. */
#define THSM_EV_IMAGE "IMAGE"
#define THSM_EV_SIGN_SB10 "SIGN_SB10"
#define THSM_EV_SIGN_MCUBOOT "SIGN_MCUBOOT"
#define THSM_EV_REFUSED "REFUSED" /* refusals of kinds beyond the ones
                                     counted one by one */

#endif
