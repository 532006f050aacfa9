#define _GNU_SOURCE
/* Image mode of the device core (AT+IMG_*), driven as a hostile host that
 * holds the PIN and speaks raw AT commands would drive it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/p256.h"
#include "crypto/sha256.h"
#include "device/device.h"
#include "host/hsm.h"
#include "host/image.h"
#include "port/mem/port_mem.h"
#include "util/base64.h"
#include "util/hex.h"

typedef struct {
    thsm_mem_port mp;
    thsm_port port;
    thsm_device dev;
    thsm_session s, t; /* two connections */
    char out[16384];
    size_t out_len;
    int responses;
} fixture;

static void collect(void *ctx, const char *data, size_t len)
{
    fixture *f = ctx;
    assert_true(len < sizeof(f->out));
    memcpy(f->out, data, len);
    f->out[len] = '\0';
    f->out_len = len;
    f->responses++;
}

static const char *req_on(fixture *f, thsm_session *s, const char *line)
{
    int before = f->responses;
    f->mp.now += 1;
    thsm_device_input(&f->dev, s, (const uint8_t *)line, strlen(line));
    thsm_device_input(&f->dev, s, (const uint8_t *)"\r\n", 2);
    assert_int_equal(f->responses, before + 1);
    return f->out;
}

static void assert_starts(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("expected '%s...', got '%s'", prefix, s);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    thsm_mem_port_init(&f->mp, &f->port);
    f->mp.now = 1700000000;
    thsm_session_init(&f->s, collect, f);
    thsm_session_init(&f->t, collect, f);
    assert_int_equal(thsm_device_init(&f->dev, &f->port), 0);
    f->dev.pin_kdf.log2_cost = 4;
    assert_starts(req_on(f, &f->s, "AT+HSM_CA_NEW_CERT C=US O=MyHSM CN=My_CA "
                         "START=20230101000000 DAYS=365"), "OK\r\n");
    assert_starts(req_on(f, &f->s, "AT+SIGNER_NEW_KEY ALGO=SECP256R1"),
                  "OK\r\n");
    assert_starts(req_on(f, &f->s, "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US "
                         "O=Me CN=Signer START=20230101000000 DAYS=365"),
                  "OK\r\n");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    thsm_device_disconnect(&f->dev, &f->s);
    thsm_device_disconnect(&f->dev, &f->t);
    thsm_device_deinit(&f->dev);
    free(f);
    return 0;
}

/* ---- images and streaming ------------------------------------------------ */

/* A SECUREBOOT10 image: header and firmware padded to 512, fw_len bytes. */
static uint8_t *sb10(const char *board, const char *version, size_t fw_len,
                     size_t *len)
{
    char err[200];
    *len = (size_t)thsm_image_signed_size(fw_len);
    uint8_t *img = malloc(*len);
    memset(img, 0xFF, *len);
    for (size_t i = 0; i < fw_len; i++)
        img[THSM_BOOT_HEADER_LEN + i] = (uint8_t)(i * 7);
    assert_int_equal(thsm_image_header(img, board, version, (uint32_t)*len,
                                       err, sizeof(err)), 0);
    return img;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

/* An MCUboot image's hashed part: 32-byte header, payload (no TLVs). */
static uint8_t *mcuboot(uint32_t img_size, size_t *len)
{
    *len = 32 + img_size;
    uint8_t *img = calloc(1, *len);
    put32(img, 0x96f3b83dU);
    put16(img + 8, 32);
    put32(img + 12, img_size);
    img[20] = 1;
    img[21] = 2;
    put16(img + 22, 3);
    put32(img + 24, 4);
    for (uint32_t i = 0; i < img_size; i++)
        img[32 + i] = (uint8_t)i;
    return img;
}

static const char *chunk(fixture *f, thsm_session *s, unsigned seq,
                         const uint8_t *p, size_t n)
{
    char line[1024];
    int k = snprintf(line, sizeof(line), "AT+IMG_DATA SEQ=%u DATA=", seq);
    thsm_base64(p, n, line + k);
    return req_on(f, s, line);
}

/* Streams len bytes in chunks of step; every chunk is taken. */
static void stream(fixture *f, thsm_session *s, const uint8_t *img,
                   size_t len, size_t step)
{
    unsigned seq = 0;
    for (size_t off = 0; off < len; off += step, seq++) {
        size_t n = len - off < step ? len - off : step;
        assert_string_equal(chunk(f, s, seq, img + off, n), "OK\r\n\r\n");
    }
}

static void begin(fixture *f, thsm_session *s, const char *format, size_t size)
{
    char line[128];
    snprintf(line, sizeof(line), "AT+IMG_BEGIN FORMAT=%s SIZE=%zu", format,
             size);
    assert_string_equal(req_on(f, s, line), "OK\r\n\r\n");
}

/* The answer of AT+IMG_END holds a signature of SHA-256(img) by the signer. */
static void assert_signed(fixture *f, const char *answer, const uint8_t *img,
                          size_t len)
{
    uint8_t sig[THSM_P256_SIG_RAW_LEN], digest[32], pub[65];
    char copy[512];
    assert_starts(answer, "OK ");
    snprintf(copy, sizeof(copy), "%.*s", (int)strcspn(answer + 3, "\r"),
             answer + 3);
    assert_int_equal(thsm_parse_sig(copy, sig), 0);
    assert_int_equal(thsm_sha256(img, len, digest), 0);
    const char *p = req_on(f, &f->s, "AT+SIGNER_PUBKEY?");
    char hex[131];
    snprintf(hex, sizeof(hex), "%s", p + 3);
    assert_int_equal(thsm_parse_hex(hex, pub, sizeof(pub)), 0);
    assert_int_equal(thsm_p256_verify(pub, digest, sig), 0);
}

/* The whole audit log's text (the first 32 records are enough here). */
static const char *log_text(fixture *f)
{
    return req_on(f, &f->s, "AT+LOG?");
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_status_offers_image_mode(void **state)
{
    fixture *f = *state;
    const char *st = req_on(f, &f->s, "AT+HSM_STATUS?");
    assert_non_null(strstr(st, " IMAGE=SECUREBOOT10,MCUBOOT\r\n"));
}

/* The header split over chunks of 100 bytes; the device reads board,
 * version and size from the bytes it hashed and logs them. */
static void test_sb10_signed_and_logged(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *img = sb10("NUCLEO-L452RE", "1.2.3", 700, &len);
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 100);
    assert_signed(f, req_on(f, &f->s, "AT+IMG_END"), img, len);
    uint8_t digest[32];
    char hex[65], detail[80];
    thsm_sha256(img, len, digest);
    thsm_hex(digest, 32, hex);
    const char *log = log_text(f);
    snprintf(detail, sizeof(detail), "B=NUCLEO-L452RE,V=1.2.3,S=%zu", len);
    assert_non_null(strstr(log, " IMAGE "));
    assert_non_null(strstr(log, detail));
    assert_non_null(strstr(log, " SIGN_SB10 "));
    assert_non_null(strstr(log, hex)); /* the image's SHA-256 */
    /* versions beyond 16-bit MAJOR.MINOR are signed as the digest mode
       signs them */
    free(img);
    img = sb10("NUCLEO-L452RE", "4294967295.0.7", 700, &len);
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    assert_signed(f, req_on(f, &f->s, "AT+IMG_END"), img, len);
    assert_non_null(strstr(log_text(f), "V=4294967295.0.7,"));
    /* the stream is closed: a second END has nothing to sign */
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    free(img);
}

static void test_out_of_order(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *img = sb10("B1", "1.0.0", 1000, &len);
    begin(f, &f->s, "SECUREBOOT10", len);
    assert_string_equal(chunk(f, &f->s, 0, img, 512), "OK\r\n\r\n");
    assert_starts(chunk(f, &f->s, 2, img + 1024, 512), "ERROR IMG_SEQ ");
    /* abandoned: neither the missing chunk nor END revive it */
    assert_starts(chunk(f, &f->s, 1, img + 512, 512), "ERROR IMG_STATE ");
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    /* a repeated chunk is out of order too */
    begin(f, &f->s, "SECUREBOOT10", len);
    assert_string_equal(chunk(f, &f->s, 0, img, 512), "OK\r\n\r\n");
    assert_starts(chunk(f, &f->s, 0, img, 512), "ERROR IMG_SEQ ");
    assert_int_equal(count(log_text(f), "SIGN_SB10"), 0);
    free(img);
}

static void test_size_disagrees_with_header(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *img = sb10("B1", "1.0.0", 600, &len); /* header says 1536 */
    begin(f, &f->s, "SECUREBOOT10", len + 512);
    assert_string_equal(chunk(f, &f->s, 0, img, 300), "OK\r\n\r\n");
    /* the chunk that completes the header is refused */
    assert_starts(chunk(f, &f->s, 1, img + 300, 300), "ERROR IMG_HEADER ");
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    /* smaller than the header says */
    begin(f, &f->s, "SECUREBOOT10", len - 512);
    assert_starts(chunk(f, &f->s, 0, img, 512), "ERROR IMG_HEADER ");
    /* not a header at all */
    memcpy(img, "NOTABOOT10", 10);
    begin(f, &f->s, "SECUREBOOT10", len);
    assert_starts(chunk(f, &f->s, 0, img, 512), "ERROR IMG_HEADER ");
    assert_int_equal(count(log_text(f), "SIGN_SB10"), 0);
    free(img);
}

static void test_bytes_beyond_and_short_of_size(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *img = sb10("B1", "1.0.0", 512, &len);
    uint8_t more[600];
    memcpy(more, img, 512);
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    assert_starts(chunk(f, &f->s, 2, more, 1), "ERROR IMG_SIZE ");
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    /* a chunk straddling SIZE: refused whole */
    begin(f, &f->s, "SECUREBOOT10", len);
    assert_string_equal(chunk(f, &f->s, 0, img, 300), "OK\r\n\r\n");
    assert_string_equal(chunk(f, &f->s, 1, img + 300, 512), "OK\r\n\r\n");
    memcpy(more, img + 812, len - 812);
    assert_starts(chunk(f, &f->s, 2, more, len - 812 + 1), "ERROR IMG_SIZE ");
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    /* exactly SIZE is signed */
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "OK ");
    /* END before every byte came */
    begin(f, &f->s, "SECUREBOOT10", len);
    assert_string_equal(chunk(f, &f->s, 0, img, 512), "OK\r\n\r\n");
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_SIZE ");
    assert_int_equal(count(log_text(f), "SIGN_SB10"), 1);
    free(img);
}

/* Two connections stream two images at once, chunks interleaved: each
 * signature covers its own image, each record names its own board. */
static void test_two_sessions_interleaved(void **state)
{
    fixture *f = *state;
    size_t la, lb;
    uint8_t *a = sb10("BOARD-A", "1.0.0", 1500, &la);
    uint8_t *b = sb10("BOARD-B", "2.0.0", 900, &lb);
    begin(f, &f->s, "SECUREBOOT10", la);
    begin(f, &f->t, "SECUREBOOT10", lb);
    unsigned sa = 0, sb = 0;
    size_t oa = 0, ob = 0;
    while (oa < la || ob < lb) {
        if (oa < la) {
            assert_string_equal(chunk(f, &f->s, sa++, a + oa, 256),
                                "OK\r\n\r\n");
            oa += 256;
        }
        if (ob < lb) {
            assert_string_equal(chunk(f, &f->t, sb++, b + ob, 256),
                                "OK\r\n\r\n");
            ob += 256;
        }
    }
    char ans[1024];
    snprintf(ans, sizeof(ans), "%s", req_on(f, &f->t, "AT+IMG_END"));
    assert_signed(f, ans, b, lb);
    snprintf(ans, sizeof(ans), "%s", req_on(f, &f->s, "AT+IMG_END"));
    assert_signed(f, ans, a, la);
    const char *log = log_text(f);
    assert_non_null(strstr(log, "B=BOARD-A,V=1.0.0"));
    assert_non_null(strstr(log, "B=BOARD-B,V=2.0.0"));
    free(a);
    free(b);
}

/* A stream abandoned by a logout, a new login or the end of the connection
 * cannot be finished, and a digest request does not finish it either. */
static void test_abandoned_stream(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *img = sb10("B1", "1.0.0", 512, &len);
    assert_string_equal(req_on(f, &f->s, "AT+PIN_SET NEW=Kp4-w9rT"),
                        "OK\r\n\r\n");
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    assert_string_equal(req_on(f, &f->s, "AT+LOGOUT"), "OK\r\n\r\n");
    assert_string_equal(req_on(f, &f->s, "AT+AUTH PIN=Kp4-w9rT"),
                        "OK\r\n\r\n");
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    /* a digest request signs that digest only, with a SIGN record */
    assert_starts(req_on(f, &f->s, "AT+SIGNER_SIGN HASH=" "00112233445566778899"
                         "aabbccddeeff00112233445566778899aabbccddeeff"),
                  "OK ");
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    /* the end of the connection */
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    thsm_device_disconnect(&f->dev, &f->s);
    assert_string_equal(req_on(f, &f->s, "AT+AUTH PIN=Kp4-w9rT"),
                        "OK\r\n\r\n");
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    /* a new BEGIN, and an explicit abort */
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    begin(f, &f->s, "SECUREBOOT10", len);
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_SIZE ");
    begin(f, &f->s, "SECUREBOOT10", len);
    assert_string_equal(req_on(f, &f->s, "AT+IMG_ABORT"), "OK\r\n\r\n");
    assert_starts(req_on(f, &f->s, "AT+IMG_ABORT"), "ERROR IMG_STATE ");
    /* without the login nothing streams */
    assert_string_equal(req_on(f, &f->t, "AT+LOGOUT"), "OK\r\n\r\n");
    assert_starts(req_on(f, &f->t, "AT+IMG_BEGIN FORMAT=SECUREBOOT10 "
                         "SIZE=1024"), "ERROR AUTH_REQUIRED ");
    assert_int_equal(count(log_text(f), "SIGN_SB10"), 0);
    free(img);
}

static void test_bad_chunks(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *img = sb10("B1", "1.0.0", 512, &len);
    static const char *const bad[] = {
        "AT+IMG_DATA SEQ=0 DATA=!!!!",      /* not base64 */
        "AT+IMG_DATA SEQ=0 DATA=QQ=",       /* length not a multiple of 4 */
        "AT+IMG_DATA SEQ=0 DATA=QR==",      /* non-canonical padding bits */
        "AT+IMG_DATA SEQ=0 DATA=QQ==QQ==",  /* padding inside */
        "AT+IMG_DATA SEQ=-1 DATA=QQ==",     /* bad SEQ */
        "AT+IMG_DATA SEQ=00 DATA=QQ==",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        begin(f, &f->s, "SECUREBOOT10", len);
        assert_starts(req_on(f, &f->s, bad[i]), "ERROR BAD_PARAM ");
        assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    }
    /* a request that does not parse never reaches the stream */
    begin(f, &f->s, "SECUREBOOT10", len);
    assert_starts(req_on(f, &f->s, "AT+IMG_DATA SEQ=0 DATA="),
                  "ERROR BAD_PARAM ");
    stream(f, &f->s, img, len, 512);
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "OK ");
    /* a chunk over 512 bytes */
    uint8_t big[513] = {0};
    begin(f, &f->s, "SECUREBOOT10", len);
    assert_starts(chunk(f, &f->s, 0, big, 513), "ERROR BAD_PARAM ");
    /* bad BEGINs */
    assert_starts(req_on(f, &f->s, "AT+IMG_BEGIN FORMAT=ELF SIZE=1024"),
                  "ERROR BAD_PARAM ");
    assert_starts(req_on(f, &f->s, "AT+IMG_BEGIN FORMAT=SECUREBOOT10 SIZE=0"),
                  "ERROR BAD_PARAM ");
    assert_starts(req_on(f, &f->s, "AT+IMG_BEGIN FORMAT=SECUREBOOT10 "
                         "SIZE=100"), "ERROR IMG_SIZE ");
    assert_starts(req_on(f, &f->s, "AT+IMG_BEGIN FORMAT=SECUREBOOT10 "
                         "SIZE=1024 NAME=x"), "ERROR BAD_PARAM ");
    assert_starts(req_on(f, &f->s, "AT+IMG_BEGIN FORMAT=MCUBOOT SIZE=1024 "
                         "NAME=a,b"), "ERROR BAD_PARAM ");
    assert_starts(req_on(f, &f->s, "AT+IMG_BEGIN FORMAT=MCUBOOT SIZE=1024 "
                         "NAME=12345678901234567"), "ERROR BAD_PARAM ");
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR IMG_STATE ");
    free(img);
}

static void test_mcuboot(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *img = mcuboot(1000, &len);
    assert_string_equal(req_on(f, &f->s, "AT+IMG_BEGIN FORMAT=MCUBOOT "
                               "SIZE=1032 NAME=app-slot0"), "OK\r\n\r\n");
    stream(f, &f->s, img, len, 20); /* the header split in two */
    assert_signed(f, req_on(f, &f->s, "AT+IMG_END"), img, len);
    const char *log = log_text(f);
    assert_non_null(strstr(log, "B=app-slot0,V=1.2.3+4,S=1032"));
    assert_non_null(strstr(log, " SIGN_MCUBOOT "));
    /* sizes that disagree with the header */
    begin(f, &f->s, "MCUBOOT", len + 4);
    assert_starts(chunk(f, &f->s, 0, img, 64), "ERROR IMG_HEADER ");
    /* an encrypted image */
    img[16] = 0x04;
    begin(f, &f->s, "MCUBOOT", len);
    assert_starts(chunk(f, &f->s, 0, img, 64), "ERROR IMG_HEADER ");
    free(img);
}

static size_t log_len(fixture *f)
{
    for (int i = 0; i < THSM_MEM_OBJECTS; i++)
        if (f->mp.obj[i].used && strcmp(f->mp.obj[i].name, "audit.log") == 0)
            return f->mp.obj[i].len;
    fail_msg("no audit.log");
    return 0;
}

/* An image signature needs both its records before the reserve of a
 * bounded log: with room for one, it is withheld and nothing is written. */
static void test_log_reserve(void **state)
{
    fixture *f = *state;
    size_t len, before = log_len(f);
    uint8_t *img = sb10("B1", "1.0.0", 512, &len);
    f->mp.append_max = before + (1 + THSM_LOG_CHANGE_RESERVE) * THSM_LOG_RECORD;
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR STORAGE audit log "
                  "full: no room for the record of another signature; "
                  "signature withheld");
    assert_int_equal(log_len(f), before);
    f->mp.append_max = before + (2 + THSM_LOG_CHANGE_RESERVE) * THSM_LOG_RECORD;
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "OK ");
    assert_int_equal(log_len(f), before + 2 * THSM_LOG_RECORD);
    free(img);
}

/* The policy on streamed images, as a host with the PIN meets it: the size
 * is refused at AT+IMG_BEGIN (nothing hashed), a SECUREBOOT10 version too
 * big to order is refused under rising versions, and MCUboot's NAME= must
 * be in the list of boards (else a fresh name starts a fresh sequence). */
static void test_policy_on_streams(void **state)
{
    fixture *f = *state;
    size_t len;
    assert_string_equal(req_on(f, &f->s, "AT+PIN_SET NEW=Kp4-w9rT"),
                        "OK\r\n\r\n");
    assert_string_equal(req_on(f, &f->s, "AT+AUTH PIN=Kp4-w9rT"),
                        "OK\r\n\r\n");
    assert_string_equal(req_on(f, &f->s, "AT+POLICY_SET RISING=ON "
                               "MAX_SIZE=4096 BOARDS=B1,app"), "OK\r\n\r\n");
    assert_starts(req_on(f, &f->s, "AT+IMG_BEGIN FORMAT=SECUREBOOT10 "
                         "SIZE=4097"), "ERROR POLICY SIZE ");
    assert_starts(req_on(f, &f->s, "AT+IMG_DATA SEQ=0 DATA=AAAA"),
                  "ERROR IMG_STATE ");
    uint8_t *img = sb10("B1", "70000.0.0", 512, &len);
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    assert_starts(req_on(f, &f->s, "AT+IMG_END"),
                  "ERROR POLICY VERSION_RANGE ");
    free(img);
    img = mcuboot(100, &len);
    char line[128];
    const char *names[] = {"other", NULL};
    for (int i = 0; i < 2; i++) {
        if (names[i])
            snprintf(line, sizeof(line), "AT+IMG_BEGIN FORMAT=MCUBOOT "
                     "SIZE=%zu NAME=%s", len, names[i]);
        else
            snprintf(line, sizeof(line), "AT+IMG_BEGIN FORMAT=MCUBOOT "
                     "SIZE=%zu", len);
        assert_string_equal(req_on(f, &f->s, line), "OK\r\n\r\n");
        stream(f, &f->s, img, len, 512);
        assert_starts(req_on(f, &f->s, "AT+IMG_END"), "ERROR POLICY BOARD ");
    }
    snprintf(line, sizeof(line), "AT+IMG_BEGIN FORMAT=MCUBOOT SIZE=%zu "
             "NAME=app", len);
    assert_string_equal(req_on(f, &f->s, line), "OK\r\n\r\n");
    stream(f, &f->s, img, len, 512);
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "OK ");
    free(img);
}

/* A board name with a space or a comma (the header allows any printable
 * text) stays one word in the IMAGE record, so the log still parses. */
static void test_board_with_separators(void **state)
{
    fixture *f = *state;
    size_t len;
    uint8_t *img = sb10("AXBYC", "1.0.0", 100, &len);
    uint8_t *at = memmem(img, THSM_BOOT_HEADER_LEN, "AXBYC", 5);
    assert_non_null(at);
    memcpy(at, "A B,C", 5);
    begin(f, &f->s, "SECUREBOOT10", len);
    stream(f, &f->s, img, len, 512);
    assert_starts(req_on(f, &f->s, "AT+IMG_END"), "OK ");
    assert_non_null(strstr(log_text(f), "B=A?B?C,V=1.0.0,"));
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status_offers_image_mode, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sb10_signed_and_logged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_disagrees_with_header, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bytes_beyond_and_short_of_size,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_sessions_interleaved, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mcuboot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_reserve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_on_streams, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_board_with_separators, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
