/*
 * at.h - the AT protocol, defined once for the device core and the host.
 *
 * Every command name, parameter name, fixed value, error code and limit that
 * crosses the serial line is named here; no other file spells one as a
 * literal (tests/core/check_proto.py greps for them). The wire format is
 * described for people in docs/PROTOCOL.md.
 *
 * Names are string literals so that they concatenate:
 *   THSM_CMD_SIGNER_SIGN " " THSM_P_HASH "=" -> "AT+SIGNER_SIGN HASH="
 * This header is freestanding: macros only, so the firmware includes it.
 */
#ifndef THSM_PROTO_AT_H
#define THSM_PROTO_AT_H

/* ---- limits --------------------------------------------------------------- */

#define THSM_PROTO_CERT_SET_MAX 750 /* AT+SIGNER_CERT_SET: DER bytes (its base64
                                       fills the longest request line) */

#define THSM_PROTO_LINE_MAX 1024 /* longest request, without CR LF */
#define THSM_PROTO_IMG_CHUNK 512 /* most raw bytes in one AT+IMG_DATA (684
                                    base64 characters) */
#define THSM_PROTO_IMG_NAME_MAX 16 /* NAME= of AT+IMG_BEGIN, characters */
#define THSM_PROTO_ANSWER_MAX 8192 /* longest answer a device sends */

/* ---- commands of the original board (docs/PROTOCOL.md) ------------------ */

#define THSM_CMD_AT "AT"
#define THSM_CMD_RESET "AT+RESET"
#define THSM_CMD_VERSION "AT+VERSION?"
#define THSM_CMD_ABOUT "AT+ABOUT?"
#define THSM_CMD_STSAFE_INIT "AT+STSAFE_INIT"
#define THSM_CMD_HSM_CA_INIT "AT+HSM_CA_INIT"
#define THSM_CMD_SIGNER_INIT "AT+SIGNER_INIT"
#define THSM_CMD_STSAFE_READY "AT+STSAFE_READY?"
#define THSM_CMD_STSAFE_HOST_KEY "AT+STSAFE_HOST_KEY?"
#define THSM_CMD_STSAFE_SERIAL "AT+STSAFE_SERIAL?"
#define THSM_CMD_DECOMMISSION "AT+STSAFE_DECOMMISSION"
#define THSM_CMD_CA_NEW_CERT "AT+HSM_CA_NEW_CERT"
#define THSM_CMD_CA_CERT "AT+HSM_CA_CERT?"
#define THSM_CMD_CA_CERT_INFO "AT+HSM_CA_CERT_INFO?"
#define THSM_CMD_SIGNER_NEW_KEY "AT+SIGNER_NEW_KEY"
#define THSM_CMD_SIGNER_NEW_CERT "AT+SIGNER_NEW_CERT"
#define THSM_CMD_SIGNER_CERT "AT+SIGNER_CERT?"
#define THSM_CMD_SIGNER_CERT_INFO "AT+SIGNER_CERT_INFO?"
#define THSM_CMD_SIGNER_SIGN "AT+SIGNER_SIGN"
#define THSM_CMD_SIGNER_PUBKEY "AT+SIGNER_PUBKEY?"
#define THSM_CMD_PREFIX "AT+" /* every command but AT starts with it */

/* ---- our extensions ------------------------------------------------------ */

#define THSM_CMD_AUTH "AT+AUTH"
#define THSM_CMD_PIN_SET "AT+PIN_SET"
#define THSM_CMD_LOGOUT "AT+LOGOUT"
#define THSM_CMD_HSM_STATUS "AT+HSM_STATUS?"
#define THSM_CMD_LOG "AT+LOG?"
#define THSM_CMD_AUTH_SO "AT+AUTH_SO"
#define THSM_CMD_PIN_UNBLOCK "AT+PIN_UNBLOCK"
#define THSM_CMD_SO_PIN_SET "AT+SO_PIN_SET"
#define THSM_CMD_CERT_RENEW "AT+CERT_RENEW" /* same key, new certificate */
#define THSM_CMD_LOG_ACK "AT+LOG_ACK"
#define THSM_CMD_LOG_CLEAR "AT+LOG_CLEAR"
#define THSM_CMD_POLICY "AT+POLICY?"          /* the signing policy */
#define THSM_CMD_POLICY_SET "AT+POLICY_SET"   /* changes the rules given */
#define THSM_CMD_POLICY_LOCK "AT+POLICY_LOCK" /* freezes it until decommission */
#define THSM_CMD_SIGNER_IMPORT "AT+SIGNER_IMPORT" /* KEY=: a secret line */
#define THSM_CMD_SIGNER_CERT_SET "AT+SIGNER_CERT_SET"
/* image mode: the host streams the image, the device hashes, parses and
 * signs it (docs/PROTOCOL.md, "Image signing") */
#define THSM_CMD_IMG_BEGIN "AT+IMG_BEGIN"
#define THSM_CMD_IMG_DATA "AT+IMG_DATA"
#define THSM_CMD_IMG_END "AT+IMG_END"
#define THSM_CMD_IMG_ABORT "AT+IMG_ABORT"

/* ---- parameter names ------------------------------------------------------- */

#define THSM_P_C "C"
#define THSM_P_O "O"
#define THSM_P_CN "CN"
#define THSM_P_START "START"
#define THSM_P_DAYS "DAYS"
#define THSM_P_TYPE "TYPE"
#define THSM_P_ALGO "ALGO"
#define THSM_P_FORMAT "FORMAT"
#define THSM_P_HASH "HASH"
#define THSM_P_PIN "PIN"
#define THSM_P_NEW "NEW"
#define THSM_P_OLD "OLD"
#define THSM_P_FROM "FROM"
#define THSM_P_CERT "CERT"
#define THSM_P_COUNT "COUNT"
#define THSM_P_HEAD "HEAD"
#define THSM_P_KEY "KEY" /* AT+SIGNER_IMPORT: the private scalar (secret) */

/* AT+POLICY_SET's parameters, also AT+POLICY?'s fields */
#define THSM_P_BOARDS "BOARDS"     /* B1,B2 or ANY */
#define THSM_P_FORMATS "FORMATS"   /* SECUREBOOT10,MCUBOOT or ANY */
#define THSM_P_RISING "RISING"     /* ON or OFF */
#define THSM_P_MAX_SIZE "MAX_SIZE" /* bytes; 0: no limit */
#define THSM_P_PER_HOUR "PER_HOUR" /* signatures; 0: no limit */
#define THSM_P_PER_DAY "PER_DAY"
#define THSM_P_DIGEST "DIGEST"     /* ON or OFF: bare digests signed */
#define THSM_P_IMPORTS "IMPORTS"   /* ON or OFF: keys imported */
/* AT+POLICY?'s other fields */
#define THSM_PO_LOCKED "LOCKED"         /* 0 or 1 */
#define THSM_PO_HOUR_COUNT "HOUR_COUNT" /* signatures in this hour's window */
#define THSM_PO_DAY_COUNT "DAY_COUNT"
#define THSM_PO_LAST "LAST" /* FORMAT:NAME:VERSION,... or NONE */
#define THSM_P_SIZE "SIZE"
#define THSM_P_NAME "NAME"
#define THSM_P_SEQ "SEQ"
#define THSM_P_DATA "DATA"

/* ---- fixed parameter values ------------------------------------------------ */

#define THSM_V_ALGO_P256 "SECP256R1"
#define THSM_V_TYPE_CA_SIGNED "CA-SIGNED"
#define THSM_V_FORMAT_PEM "PEM"
#define THSM_V_FORMAT_DER "DER"
#define THSM_V_TYPE_SELF_SIGNED "SELF-SIGNED"
#define THSM_V_CERT_CA "CA"
#define THSM_V_CERT_SIGNER "SIGNER"
#define THSM_V_ON "ON"
#define THSM_V_OFF "OFF"
#define THSM_V_ANY "ANY"   /* a policy list that allows everything */
#define THSM_V_NONE "NONE" /* no last version yet */
#define THSM_V_SECUREBOOT10 "SECUREBOOT10" /* image formats */
#define THSM_V_MCUBOOT "MCUBOOT"
#define THSM_V_SECUREBOOT10 "SECUREBOOT10" /* FORMAT= of AT+IMG_BEGIN */
#define THSM_V_MCUBOOT "MCUBOOT"

/* ---- answers ------------------------------------------------------------- */

#define THSM_ANS_OK "OK"
#define THSM_ANS_ERROR "ERROR"
#define THSM_ANS_READY "READY"
#define THSM_ANS_NOT_READY "NOT_READY"
#define THSM_ANS_NOT_USED "NOT_USED"
#define THSM_ANS_RESET "Reset" /* "OK Reset" */

/* AT+HSM_STATUS? fields ("OK PIN=SET AUTH=0 TRIES=5 ..."). */
#define THSM_ST_PIN "PIN"
#define THSM_ST_AUTH "AUTH"
#define THSM_ST_TRIES "TRIES"
#define THSM_ST_CA "CA"
#define THSM_ST_SIGNER "SIGNER"
#define THSM_ST_SIGNER_CERT "SIGNER_CERT"
#define THSM_ST_SIGNATURES "SIGNATURES"
#define THSM_ST_LOG "LOG"
#define THSM_ST_CA_KEY "CA_KEY"
#define THSM_ST_SIGNER_KEY "SIGNER_KEY"
#define THSM_ST_LOG_STATE "LOG_STATE"
#define THSM_ST_STATE "STATE"
#define THSM_ST_DELAY "DELAY"
#define THSM_ST_SO "SO"
#define THSM_ST_SO_AUTH "SO_AUTH"
#define THSM_ST_SO_DELAY "SO_DELAY"
#define THSM_ST_SO_TRIES "SO_TRIES"
#define THSM_ST_ACK "ACK" /* record of the acknowledgement of the findings
                             shown, or NONE */
#define THSM_ST_LOG_BASE "LOG_BASE" /* first record the device still holds */
#define THSM_ST_SIGNER_ORIGIN "SIGNER_ORIGIN"
/* values of SIGNER_ORIGIN= */
#define THSM_ST_ORIGIN_NONE "none"
#define THSM_ST_ORIGIN_GENERATED "generated"
#define THSM_ST_ORIGIN_IMPORTED "imported"
#define THSM_ST_IMAGE "IMAGE" /* image formats AT+IMG_BEGIN takes, comma
                                 separated; absent: no image mode */
/* values of PIN= */
#define THSM_ST_PIN_NONE "NONE"
#define THSM_ST_PIN_SET "SET"
#define THSM_ST_PIN_BLOCKED "BLOCKED"
/* values of STATE= */
#define THSM_ST_STATE_OK "OK"
#define THSM_ST_STATE_ROLLED_BACK "ROLLED_BACK"
/* values of ACK= */
#define THSM_ST_ACK_NONE "NONE"
/* values of LOG_STATE=: "OK" or a finding followed by a record number */
#define THSM_ST_LOG_OK "OK"
#define THSM_ST_LOG_BROKEN_AT "BROKEN_AT_"
#define THSM_ST_LOG_MISSING_FROM "MISSING_FROM_"
#define THSM_ST_LOG_REWRITTEN_BEFORE "REWRITTEN_BEFORE_"

/* ---- error codes: "ERROR <code> <text>" ---------------------------------- */

#define THSM_E_UNKNOWN_COMMAND "UNKNOWN_COMMAND"
#define THSM_E_BAD_PARAM "BAD_PARAM"
#define THSM_E_LINE_TOO_LONG "LINE_TOO_LONG"
#define THSM_E_BAD_CHAR "BAD_CHAR"
#define THSM_E_NO_CA "NO_CA"
#define THSM_E_NO_SIGNER "NO_SIGNER"
#define THSM_E_NO_SIGNER_CERT "NO_SIGNER_CERT"
#define THSM_E_CA_EXISTS "CA_EXISTS"
#define THSM_E_STORAGE "STORAGE"
#define THSM_E_CRYPTO "CRYPTO"
#define THSM_E_INTERNAL "INTERNAL"
#define THSM_E_AUTH_REFUSED "AUTH_REFUSED"
#define THSM_E_AUTH_REQUIRED "AUTH_REQUIRED"
#define THSM_E_AUTH_FAILED "AUTH_FAILED"
#define THSM_E_PIN_LOCKED "PIN_LOCKED"
#define THSM_E_NO_PIN "NO_PIN"
#define THSM_E_NOT_ALLOWED "NOT_ALLOWED" /* tinyhsmd: a peer it does not serve */
#define THSM_E_PIN_DELAY "PIN_DELAY" /* "ERROR PIN_DELAY <seconds> <text>" */
#define THSM_E_NO_FINDING "NO_FINDING" /* AT+LOG_ACK: nothing to acknowledge */
#define THSM_E_NOT_ARCHIVED "NOT_ARCHIVED" /* AT+LOG_CLEAR: COUNT and HEAD are
                                              not the log's */
#define THSM_E_CERT_MISMATCH "CERT_MISMATCH" /* AT+SIGNER_CERT_SET: the
                                                certificate is for another key */
#define THSM_E_IMG_STATE "IMG_STATE" /* no image stream open */
#define THSM_E_IMG_SEQ "IMG_SEQ"     /* AT+IMG_DATA out of order */
#define THSM_E_IMG_SIZE "IMG_SIZE"   /* more or fewer bytes than SIZE */
#define THSM_E_IMG_HEADER "IMG_HEADER" /* the image's header does not parse
                                          or disagrees with SIZE */
#define THSM_E_POLICY "POLICY" /* "ERROR POLICY <rule> <text>": the owner's
                                  signing policy forbids it (policy.h) */
/* The rules of ERROR POLICY <rule> (stable: scripts may test them). */
#define THSM_POLICY_BOARD "BOARD"       /* board not allowed */
#define THSM_POLICY_FORMAT "FORMAT"     /* image format not allowed */
#define THSM_POLICY_SIZE "SIZE"         /* image larger than allowed */
#define THSM_POLICY_DOWNGRADE "DOWNGRADE" /* version below the last signed */
#define THSM_POLICY_REPLAY "REPLAY"     /* version equal to the last signed */
#define THSM_POLICY_VERSIONS_FULL "VERSIONS_FULL" /* no room for a new name */
#define THSM_POLICY_VERSION_RANGE "VERSION_RANGE" /* SECUREBOOT10 MAJOR or
                                                    MINOR too big to order */
#define THSM_POLICY_RATE_HOUR "RATE_HOUR" /* the hour's signatures are spent */
#define THSM_POLICY_RATE_DAY "RATE_DAY"
#define THSM_POLICY_DIGEST "DIGEST"     /* bare digests not allowed */
#define THSM_POLICY_IMPORT "IMPORT"     /* key imports not allowed */
#define THSM_POLICY_LOCKED "LOCKED"     /* the policy is locked */

#endif
