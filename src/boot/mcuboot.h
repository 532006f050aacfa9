/*
 * mcuboot.h - MCUboot image verification (ECDSA P-256), as the bootloader
 * does it, and stricter where MCUboot is lenient (docs/MCUBOOT.md).
 *
 * For firmware: no allocation, no OS calls, no stdio; cryptography only
 * through crypto/sha256.h and crypto/p256.h.
 *
 * Layout: [header, hdr_size bytes][payload, img_size bytes]
 *         [protected TLV area, protect_tlv_size bytes][TLV area]
 * All integers little endian. The SHA-256 in TLV 0x10 covers everything
 * before the (unprotected) TLV area; TLV 0x22 signs that digest.
 *
 * thsm_mcuboot_verify() runs every check that can run and reports each one
 * (thsm_mcuboot_report), so a caller can show them all, not only the first
 * failure.
 */
#ifndef THSM_MCUBOOT_H
#define THSM_MCUBOOT_H

#include <stddef.h>
#include <stdint.h>

#define THSM_MCUBOOT_MAGIC 0x96f3b83dU
#define THSM_MCUBOOT_HEADER_LEN 32 /* bytes of the header that are used */
#define THSM_MCUBOOT_TLV_INFO_MAGIC 0x6907
#define THSM_MCUBOOT_TLV_PROT_INFO_MAGIC 0x6908
#define THSM_MCUBOOT_TLV_INFO_LEN 4 /* {u16 magic; u16 tot} */
#define THSM_MCUBOOT_TLV_HDR_LEN 4  /* {u16 type; u16 len} */
#define THSM_MCUBOOT_TLV_KEYHASH 0x01
#define THSM_MCUBOOT_TLV_PUBKEY 0x02
#define THSM_MCUBOOT_TLV_SHA256 0x10
#define THSM_MCUBOOT_TLV_ECDSA_SIG 0x22
#define THSM_MCUBOOT_TLV_SEC_CNT 0x50
#define THSM_MCUBOOT_F_ENCRYPTED 0x0000000CU /* AES-128 or AES-256 */
#define THSM_MCUBOOT_SPKI_LEN 91     /* DER SubjectPublicKeyInfo, P-256 */
#define THSM_MCUBOOT_SIG_DER_MAX 72
#define THSM_MCUBOOT_MAX_SECTORS 128 /* imgtool's default for the trailer */

typedef enum {
    THSM_MCUBOOT_OK = 0,
    THSM_MCUBOOT_NOT_CHECKED,   /* an earlier check failed, or not asked */
    THSM_MCUBOOT_TOO_SHORT,     /* fewer bytes than the 32-byte header */
    THSM_MCUBOOT_BAD_MAGIC,     /* ih_magic is not 0x96f3b83d */
    THSM_MCUBOOT_HDR_SIZE,      /* ih_hdr_size below 32 */
    THSM_MCUBOOT_ENCRYPTED,     /* an encrypted image: not supported */
    THSM_MCUBOOT_TRUNCATED,     /* payload or a TLV area runs past the end */
    THSM_MCUBOOT_PROT_MAGIC,    /* protected area does not start with 0x6908 */
    THSM_MCUBOOT_PROT_SIZE,     /* its it_tlv_tot differs from the header's */
    THSM_MCUBOOT_TLV_MAGIC,     /* TLV area does not start with 0x6907 */
    THSM_MCUBOOT_TLV_OVERRUN,   /* a TLV's length runs past its area */
    THSM_MCUBOOT_TLV_PLACE,     /* a TLV type outside the area it belongs to */
    THSM_MCUBOOT_SEC_CNT,       /* security counter not 4 bytes, or twice */
    THSM_MCUBOOT_TRAILING,      /* bytes after the TLV area (exact files) */
    THSM_MCUBOOT_HASH_MISSING,  /* no SHA256 TLV */
    THSM_MCUBOOT_HASH_DUP,      /* more than one SHA256 TLV */
    THSM_MCUBOOT_HASH_MISMATCH, /* SHA256 TLV differs from the image's hash */
    THSM_MCUBOOT_KEY_MISSING,   /* neither KEYHASH nor PUBKEY TLV */
    THSM_MCUBOOT_KEY_DUP,       /* more than one key TLV */
    THSM_MCUBOOT_KEY_MISMATCH,  /* the key TLV names another key */
    THSM_MCUBOOT_SIG_MISSING,   /* no ECDSA_SIG TLV */
    THSM_MCUBOOT_SIG_DUP,       /* more than one ECDSA_SIG TLV */
    THSM_MCUBOOT_SIG_FORMAT,    /* not a strict DER ECDSA signature */
    THSM_MCUBOOT_BAD_KEY,       /* the given key is not a P-256 point */
    THSM_MCUBOOT_BAD_SIGNATURE, /* the signature does not verify */
    THSM_MCUBOOT_BAD_ALIGN,     /* flash alignment not 1, 2, 4, 8, 16 or 32 */
    THSM_MCUBOOT_NO_ROOM,       /* image + trailer larger than the slot */
    THSM_MCUBOOT_CRYPTO,        /* the crypto layer failed */
    THSM_MCUBOOT_RESULT_COUNT
} thsm_mcuboot_result;

/* The checks, in the order they run and are shown. */
typedef enum {
    THSM_MCUBOOT_CHECK_HEADER = 0, /* magic, header size, flags */
    THSM_MCUBOOT_CHECK_TLV_AREAS,  /* both TLV areas inside the image, walkable */
    THSM_MCUBOOT_CHECK_HASH,       /* one SHA256 TLV, equal to the hash */
    THSM_MCUBOOT_CHECK_KEY,        /* one KEYHASH or PUBKEY TLV, our key */
    THSM_MCUBOOT_CHECK_SIGNATURE,  /* one ECDSA_SIG TLV, verifies */
    THSM_MCUBOOT_CHECK_SLOT,       /* image + trailer fit the slot */
    THSM_MCUBOOT_CHECK_COUNT
} thsm_mcuboot_check;

typedef struct {
    uint8_t major, minor;
    uint16_t revision;
    uint32_t build;
} thsm_mcuboot_version;

typedef struct {
    uint32_t load_addr;
    uint16_t hdr_size;
    uint16_t protect_tlv_size;
    uint32_t img_size;
    uint32_t flags;
    thsm_mcuboot_version version;
} thsm_mcuboot_header;

/* Where a TLV's value is, and how many TLVs of its kind the image holds. */
typedef struct {
    size_t off;
    uint16_t len;
    uint16_t type;
    uint32_t count;
} thsm_mcuboot_tlv;

/* What the checks found in an image. */
typedef struct {
    thsm_mcuboot_header hdr;
    size_t hashed_len; /* header + payload + protected area */
    size_t image_len;  /* hashed_len + the TLV area */
    thsm_mcuboot_tlv sha256, key, sig; /* key: KEYHASH or PUBKEY */
    uint32_t sec_cnt_count;
    uint32_t security_counter; /* valid when sec_cnt_count is 1 */
} thsm_mcuboot_image;

/* What the bootloader knows: its key, and the slot. */
typedef struct {
    const uint8_t *pub; /* 0x04 || X || Y, 65 bytes */
    uint32_t slot_size; /* 0: the slot check is not run */
    uint32_t align;     /* flash write size for the trailer; 0 means 1 */
    int exact;          /* a file: nothing may follow the TLV area */
} thsm_mcuboot_expect;

typedef struct {
    int result[THSM_MCUBOOT_CHECK_COUNT]; /* a thsm_mcuboot_result each */
    thsm_mcuboot_image image;
    uint8_t digest[32]; /* the image's SHA-256, once the hash check ran */
} thsm_mcuboot_report;

/* A short English description of a result, and a check's name. */
const char *thsm_mcuboot_strerror(int result);
const char *thsm_mcuboot_check_name(int check);

/* "MAJOR[.MINOR[.REVISION[+BUILD]]]" as imgtool reads it: decimal without
 * leading zeros; major and minor up to 255, revision 65535, build 2^32-1. */
int thsm_mcuboot_parse_version(const char *text, thsm_mcuboot_version *v);

/* -1, 0 or 1 as a is older than, equal to or newer than b (build counts). */
int thsm_mcuboot_version_cmp(const thsm_mcuboot_version *a,
                             const thsm_mcuboot_version *b);

/* Reads and checks the header (magic, header size, not encrypted). */
int thsm_mcuboot_parse_header(const uint8_t *img, size_t len,
                              thsm_mcuboot_header *h);

/* The DER SubjectPublicKeyInfo of a P-256 point: the key MCUboot compiles
 * in, and what the KEYHASH TLV hashes. */
void thsm_mcuboot_spki(const uint8_t pub[65],
                       uint8_t der[THSM_MCUBOOT_SPKI_LEN]);

/* SHA-256 of that DER: the KEYHASH TLV's value. */
int thsm_mcuboot_key_hash(const uint8_t pub[65], uint8_t hash[32]);

/* Bytes the swap trailer needs at the end of the slot for a flash write
 * size align (imgtool's rule, 128 sectors); 0 when align is not allowed. */
uint32_t thsm_mcuboot_trailer_size(uint32_t align);

/* Every check, in order; fills r and returns the first failure (a
 * thsm_mcuboot_result), or THSM_MCUBOOT_OK. A check that cannot run because
 * an earlier one failed reports THSM_MCUBOOT_NOT_CHECKED; so does the slot
 * check when e->slot_size is 0. */
int thsm_mcuboot_verify(const uint8_t *img, size_t len,
                        const thsm_mcuboot_expect *e, thsm_mcuboot_report *r);

#endif
