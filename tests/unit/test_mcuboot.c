/*
 * MCUboot images: built by host/mcuboot_image.c with a software P-256 key
 * (OpenSSL, through the signing callback), then checked twice: by an
 * independent verifier written here with libcrypto over the bytes the
 * format says are hashed, and by boot/mcuboot.c, which must also refuse
 * each kind of damage with the check that names it. The exported public key
 * must be what `openssl pkey -pubin -outform DER` reads back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "boot/mcuboot.h"
#include "host/mcuboot_image.h"
#include "host/pubkey_export.h"
#include "testutil.h"

#define APP_LEN 3000
#define HDR 0x200
#define CAP 8192

static EVP_PKEY *key, *other_key;
static uint8_t pub[65], other_pub[65];
static uint8_t app[APP_LEN];

typedef struct {
    uint8_t b[CAP];
    size_t len;
} image;

static uint32_t le16(const uint8_t *p) { return (uint32_t)(p[0] | p[1] << 8); }

static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

static void get_pub(EVP_PKEY *k, uint8_t out[65])
{
    size_t n = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(
                         k, OSSL_PKEY_PARAM_PUB_KEY, out, 65, &n), 1);
    assert_int_equal(n, 65);
}

static int setup(void **state)
{
    (void)state;
    key = EVP_EC_gen("P-256");
    other_key = EVP_EC_gen("P-256");
    if (!key || !other_key)
        return -1;
    get_pub(key, pub);
    get_pub(other_key, other_pub);
    for (size_t i = 0; i < APP_LEN; i++)
        app[i] = (uint8_t)(i * 7 + 3);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
    return 0;
}

/* The signing callback: OpenSSL signs the digest, returns raw r || s. */
static int sign_cb(void *ctx, const uint8_t digest[32], uint8_t raw[64])
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(ctx, NULL);
    uint8_t der[80];
    size_t der_len = sizeof(der);
    ECDSA_SIG *sig = NULL;
    int ok = c && EVP_PKEY_sign_init(c) == 1 &&
             EVP_PKEY_sign(c, der, &der_len, digest, 32) == 1;
    const uint8_t *p = der;
    if (ok && (sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len)))
        ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 &&
             BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32;
    else
        ok = 0;
    ECDSA_SIG_free(sig);
    EVP_PKEY_CTX_free(c);
    return ok ? 0 : -1;
}

static int failing_cb(void *ctx, const uint8_t digest[32], uint8_t raw[64])
{
    (void)ctx, (void)digest, (void)raw;
    return -1;
}

static thsm_mcuboot_opts default_opts(void)
{
    thsm_mcuboot_opts o = {.header_size = HDR, .pad_header = 1, .align = 8,
                           .has_security_counter = 1, .security_counter = 7};
    assert_int_equal(thsm_mcuboot_parse_version("1.2.3+4", &o.version), 0);
    return o;
}

static void build(image *im, const thsm_mcuboot_opts *o, EVP_PKEY *signer)
{
    thsm_mcuboot_build b;
    char err[200] = "";
    int rc = thsm_mcuboot_sign(app, APP_LEN, o, pub, sign_cb, signer, &b, err,
                               sizeof(err));
    if (rc != 0)
        fail_msg("build failed: %s", err);
    assert_true(b.len <= CAP);
    memcpy(im->b, b.data, b.len);
    im->len = b.len;
    thsm_mcuboot_build_free(&b);
}

/* ---- the independent verifier: libcrypto only, nothing of ours ---- */

static int sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    return EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

/* 0 when the image's SHA256 TLV is the SHA-256 of header + payload +
 * protected TLVs, its key TLV names k, and its signature verifies with k. */
static int openssl_verify(const uint8_t *img, size_t len, EVP_PKEY *k)
{
    const uint8_t *hash = NULL, *keytlv = NULL, *sig = NULL;
    size_t key_len = 0, sig_len = 0;
    uint32_t key_type = 0;
    if (len < 32 || le32(img) != 0x96f3b83d)
        return -1;
    size_t hashed = (size_t)le16(img + 8) + le32(img + 12) + le16(img + 10);
    if (hashed + 4 > len || le16(img + hashed) != 0x6907)
        return -1;
    size_t end = hashed + le16(img + hashed + 2);
    if (end != len)
        return -1;
    for (size_t off = hashed + 4; off < end;) {
        uint32_t type = le16(img + off), n = le16(img + off + 2);
        const uint8_t *v = img + off + 4;
        if (off + 4 + n > end)
            return -1;
        if (type == 0x10 && n == 32 && !hash)
            hash = v;
        else if ((type == 0x01 || type == 0x02) && !keytlv)
            keytlv = v, key_len = n, key_type = type;
        else if (type == 0x22 && !sig)
            sig = v, sig_len = n;
        else
            return -1;
        off += 4 + n;
    }
    uint8_t digest[32], key_hash[32], *spki = NULL;
    int spki_len = i2d_PUBKEY(k, &spki), ok = 0;
    if (hash && keytlv && sig && spki_len > 0 &&
        sha256(img, hashed, digest) == 0 && !memcmp(digest, hash, 32) &&
        sha256(spki, (size_t)spki_len, key_hash) == 0) {
        ok = key_type == 0x01 ? key_len == 32 && !memcmp(keytlv, key_hash, 32)
                              : key_len == (size_t)spki_len &&
                                    !memcmp(keytlv, spki, key_len);
    }
    OPENSSL_free(spki);
    EVP_PKEY_CTX *c = ok ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    ok = c && EVP_PKEY_verify_init(c) == 1 &&
         EVP_PKEY_verify(c, sig, sig_len, digest, 32) == 1;
    EVP_PKEY_CTX_free(c);
    return ok ? 0 : -1;
}

/* ---- images built here ---- */

static int our_verify(const image *im, const uint8_t *k, uint32_t slot,
                      thsm_mcuboot_report *r)
{
    thsm_mcuboot_expect e = {.pub = k, .slot_size = slot, .align = 8,
                             .exact = 1};
    return thsm_mcuboot_verify(im->b, im->len, &e, r);
}

static void test_built_image_verifies(void **state)
{
    (void)state;
    static image im;
    thsm_mcuboot_opts o = default_opts();
    thsm_mcuboot_report r;
    build(&im, &o, key);
    assert_int_equal(openssl_verify(im.b, im.len, key), 0);
    assert_int_not_equal(openssl_verify(im.b, im.len, other_key), 0);
    assert_int_equal(our_verify(&im, pub, 0, &r), THSM_MCUBOOT_OK);
    for (int i = 0; i < THSM_MCUBOOT_CHECK_SLOT; i++)
        assert_int_equal(r.result[i], THSM_MCUBOOT_OK);
    assert_int_equal(r.result[THSM_MCUBOOT_CHECK_SLOT], THSM_MCUBOOT_NOT_CHECKED);
    /* the header as the format lays it out */
    assert_int_equal(le32(im.b), 0x96f3b83d);
    assert_int_equal(le32(im.b + 4), 0);
    assert_int_equal(le16(im.b + 8), HDR);
    assert_int_equal(le16(im.b + 10), 12); /* info + security counter */
    assert_int_equal(le32(im.b + 12), APP_LEN);
    assert_int_equal(le32(im.b + 16), 0);
    const uint8_t version[8] = {1, 2, 3, 0, 4, 0, 0, 0};
    assert_memory_equal(im.b + 20, version, 8);
    assert_int_equal(le32(im.b + 28), 0);
    for (size_t i = 32; i < HDR; i++) /* --pad-header: erased flash */
        assert_int_equal(im.b[i], 0xFF);
    assert_memory_equal(im.b + HDR, app, APP_LEN);
    const uint8_t prot[12] = {0x08, 0x69, 12, 0, 0x50, 0, 4, 0, 7, 0, 0, 0};
    assert_memory_equal(im.b + HDR + APP_LEN, prot, 12);
    assert_int_equal(r.image.security_counter, 7);
    assert_int_equal(r.image.image_len, im.len);
    /* TLV order: SHA256, KEYHASH, ECDSA_SIG */
    size_t t = HDR + APP_LEN + 12 + 4;
    assert_int_equal(le16(im.b + t), 0x10);
    assert_int_equal(le16(im.b + t + 36), 0x01);
    assert_int_equal(le16(im.b + t + 72), 0x22);
}

static void test_full_key_and_no_counter(void **state)
{
    (void)state;
    static image im;
    thsm_mcuboot_opts o = default_opts();
    thsm_mcuboot_report r;
    uint8_t *spki = NULL;
    o.key_format = THSM_MCUBOOT_KEY_FULL;
    o.has_security_counter = 0;
    build(&im, &o, key);
    assert_int_equal(openssl_verify(im.b, im.len, key), 0);
    assert_int_equal(our_verify(&im, pub, 0, &r), THSM_MCUBOOT_OK);
    assert_int_equal(le16(im.b + 10), 0);
    size_t t = HDR + APP_LEN + 4 + 36;
    assert_int_equal(le16(im.b + t), 0x02);
    assert_int_equal(le16(im.b + t + 2), 91);
    assert_int_equal(i2d_PUBKEY(key, &spki), 91);
    assert_memory_equal(im.b + t + 4, spki, 91);
    OPENSSL_free(spki);
}

/* Without --pad-header the application brings the header's room, zeros. */
static void test_room_in_application(void **state)
{
    (void)state;
    static uint8_t linked[HDR + 100];
    thsm_mcuboot_opts o = default_opts();
    thsm_mcuboot_build b;
    char err[200] = "";
    o.pad_header = 0;
    memset(linked, 0, sizeof(linked));
    memset(linked + HDR, 0x5A, 100);
    assert_int_equal(thsm_mcuboot_sign(linked, sizeof(linked), &o, pub, sign_cb,
                                       key, &b, err, sizeof(err)), 0);
    assert_int_equal(le32(b.data + 12), 100);
    for (size_t i = 32; i < HDR; i++)
        assert_int_equal(b.data[i], 0);
    assert_int_equal(openssl_verify(b.data, b.len, key), 0);
    thsm_mcuboot_build_free(&b);
    linked[HDR - 1] = 1; /* code where the header goes */
    assert_int_equal(thsm_mcuboot_sign(linked, sizeof(linked), &o, pub, sign_cb,
                                       key, &b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--pad-header"));
    assert_null(b.data);
}

static void test_builder_refusals(void **state)
{
    (void)state;
    thsm_mcuboot_opts o = default_opts();
    thsm_mcuboot_build b;
    char err[200] = "";
    /* the slot: the longest signature (72 bytes) counts before signing */
    size_t most = HDR + APP_LEN + 12 + 4 + 36 + 36 + 4 + 72;
    o.slot_size = (uint32_t)(most + thsm_mcuboot_trailer_size(8));
    assert_int_equal(thsm_mcuboot_sign(app, APP_LEN, &o, pub, sign_cb, key, &b,
                                       err, sizeof(err)), 0);
    thsm_mcuboot_build_free(&b);
    o.slot_size--;
    assert_int_equal(thsm_mcuboot_sign(app, APP_LEN, &o, pub, sign_cb, key, &b,
                                       err, sizeof(err)), -1);
    assert_non_null(strstr(err, "do not fit the slot"));
    o = default_opts();
    o.align = 3;
    assert_int_equal(thsm_mcuboot_prepare(app, APP_LEN, &o, &b, err,
                                          sizeof(err)), -1);
    o = default_opts();
    o.header_size = 31;
    assert_int_equal(thsm_mcuboot_prepare(app, APP_LEN, &o, &b, err,
                                          sizeof(err)), -1);
    o = default_opts();
    assert_int_equal(thsm_mcuboot_sign(app, APP_LEN, &o, pub, failing_cb, key,
                                       &b, err, sizeof(err)), -1);
    /* a signer that holds another key than the one named in the image */
    assert_int_equal(thsm_mcuboot_sign(app, APP_LEN, &o, pub, sign_cb,
                                       other_key, &b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "does not verify"));
    assert_null(b.data);
}

/* prepare / digest / finish, as a device that signs the bytes would. */
static void test_two_step(void **state)
{
    (void)state;
    thsm_mcuboot_opts o = default_opts();
    thsm_mcuboot_build b;
    uint8_t digest[32], sig[64];
    char err[200];
    assert_int_equal(thsm_mcuboot_prepare(app, APP_LEN, &o, &b, err,
                                          sizeof(err)), 0);
    assert_int_equal(thsm_mcuboot_digest(&b, digest), 0);
    assert_int_equal(sign_cb(key, digest, sig), 0);
    digest[0] ^= 1; /* a digest of other bytes */
    assert_int_equal(thsm_mcuboot_finish(&b, &o, pub, digest, sig, err,
                                         sizeof(err)), -1);
    digest[0] ^= 1;
    assert_int_equal(thsm_mcuboot_finish(&b, &o, pub, digest, sig, err,
                                         sizeof(err)), 0);
    assert_int_equal(openssl_verify(b.data, b.len, key), 0);
    assert_int_equal(thsm_mcuboot_finish(&b, &o, pub, digest, sig, err,
                                         sizeof(err)), -1);
    /* the DER form alone, as imgtool --fix-sig takes it */
    uint8_t der[THSM_MCUBOOT_SIG_DER_MAX];
    size_t der_len;
    assert_int_equal(thsm_mcuboot_sig_to_der(sig, der, &der_len), 0);
    assert_memory_equal(b.data + b.len - der_len, der, der_len);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
    assert_int_equal(EVP_PKEY_verify_init(c), 1);
    assert_int_equal(EVP_PKEY_verify(c, der, der_len, digest, 32), 1);
    EVP_PKEY_CTX_free(c);
    thsm_mcuboot_build_free(&b);
}

/* ---- damage: each refused by the check that names it ---- */

/* The unprotected TLV area rewritten from letters: h SHA256, k KEYHASH,
 * s ECDSA_SIG (copied from the good image), x an unknown type. */
static void with_tlvs(image *im, const char *spec)
{
    size_t area = HDR + APP_LEN + 12, at = area + 4;
    image src = *im;
    size_t off[3] = {area + 4, area + 40, area + 76};
    for (const char *c = spec; *c; c++) {
        const uint8_t *t = *c == 'h' ? src.b + off[0] : *c == 'k' ? src.b + off[1]
                         : *c == 's' ? src.b + off[2] : (const uint8_t *)"\x99\0\2\0ab";
        size_t n = 4 + le16(t + 2);
        memcpy(im->b + at, t, n);
        at += n;
    }
    im->b[area + 2] = (uint8_t)(at - area);
    im->b[area + 3] = (uint8_t)((at - area) >> 8);
    im->len = at;
}

typedef void (*mutation)(image *im);
static void m_none(image *im) { (void)im; }
static void m_magic(image *im) { im->b[0] ^= 0x01; }
static void m_hdr_size(image *im) { im->b[8] = 16, im->b[9] = 0; }
static void m_encrypted(image *im) { im->b[16] |= 0x04; }
static void m_too_short(image *im) { im->len = 31; }
static void m_truncated(image *im) { im->len -= 1; }
static void m_truncated_body(image *im) { im->len = HDR + 100; }
static void m_trailing(image *im) { im->b[im->len++] = 0xFF; }
static void m_img_size_big(image *im) { im->b[15] = 0x10; }
static void m_tlv_len_overrun(image *im) /* the last TLV claims a byte more */
{
    im->b[HDR + APP_LEN + 12 + 76 + 2]++;
}
static void m_tlv_tot_overrun(image *im) /* area claims one byte more */
{
    im->b[HDR + APP_LEN + 12 + 2]++;
}
static void m_tlv_tot_short(image *im) /* area ends inside the signature */
{
    im->b[HDR + APP_LEN + 12 + 2] -= 2;
    im->len -= 2;
}
static void m_tlv_magic(image *im) { im->b[HDR + APP_LEN + 12] = 0x08; }
static void m_prot_magic(image *im) { im->b[HDR + APP_LEN] = 0x07; }
static void m_prot_size(image *im) { im->b[10] = 16; }
static void m_sec_cnt_len(image *im) { im->b[HDR + APP_LEN + 6] = 3; }
static void m_no_hash(image *im) { with_tlvs(im, "ks"); }
static void m_dup_hash(image *im) { with_tlvs(im, "hhks"); }
static void m_no_key(image *im) { with_tlvs(im, "hs"); }
static void m_dup_key(image *im) { with_tlvs(im, "hkks"); }
static void m_no_sig(image *im) { with_tlvs(im, "hk"); }
static void m_dup_sig(image *im) { with_tlvs(im, "hkss"); }
static void m_unknown_tlv(image *im) { with_tlvs(im, "hksx"); }
static void m_wrong_key_hash(image *im) { im->b[HDR + APP_LEN + 12 + 44] ^= 1; }
static void m_wrong_hash(image *im) { im->b[HDR + APP_LEN + 12 + 8] ^= 1; }
static void m_body(image *im) { im->b[HDR + 10] ^= 1; }
static void m_bad_sig(image *im) { im->b[im->len - 1] ^= 1; }
static void m_sig_der(image *im) { im->b[HDR + APP_LEN + 12 + 80] = 0x31; }

typedef struct {
    const char *name;
    mutation m;
    int check, result; /* the check that fails, and how */
} damage;

#define H THSM_MCUBOOT_CHECK_HEADER
#define A THSM_MCUBOOT_CHECK_TLV_AREAS
#define HS THSM_MCUBOOT_CHECK_HASH
#define K THSM_MCUBOOT_CHECK_KEY
#define S THSM_MCUBOOT_CHECK_SIGNATURE

static const damage damages[] = {
    {"intact", m_none, H, THSM_MCUBOOT_OK},
    {"header magic", m_magic, H, THSM_MCUBOOT_BAD_MAGIC},
    {"header size", m_hdr_size, H, THSM_MCUBOOT_HDR_SIZE},
    {"encrypted", m_encrypted, H, THSM_MCUBOOT_ENCRYPTED},
    {"31 bytes", m_too_short, H, THSM_MCUBOOT_TOO_SHORT},
    {"one byte short", m_truncated, A, THSM_MCUBOOT_TRUNCATED},
    {"cut in the payload", m_truncated_body, A, THSM_MCUBOOT_TRUNCATED},
    {"payload size too big", m_img_size_big, A, THSM_MCUBOOT_TRUNCATED},
    {"trailing byte", m_trailing, A, THSM_MCUBOOT_TRAILING},
    {"TLV length overrun", m_tlv_len_overrun, A, THSM_MCUBOOT_TLV_OVERRUN},
    {"TLV area overrun", m_tlv_tot_overrun, A, THSM_MCUBOOT_TRUNCATED},
    {"TLV area ends inside a TLV", m_tlv_tot_short, A, THSM_MCUBOOT_TLV_OVERRUN},
    {"TLV area magic", m_tlv_magic, A, THSM_MCUBOOT_TLV_MAGIC},
    {"protected area magic", m_prot_magic, A, THSM_MCUBOOT_PROT_MAGIC},
    {"protected area size", m_prot_size, A, THSM_MCUBOOT_PROT_SIZE},
    {"security counter length", m_sec_cnt_len, A, THSM_MCUBOOT_SEC_CNT},
    {"unknown unprotected TLV", m_unknown_tlv, A, THSM_MCUBOOT_TLV_PLACE},
    {"no hash TLV", m_no_hash, HS, THSM_MCUBOOT_HASH_MISSING},
    {"two hash TLVs", m_dup_hash, HS, THSM_MCUBOOT_HASH_DUP},
    {"wrong hash", m_wrong_hash, HS, THSM_MCUBOOT_HASH_MISMATCH},
    {"payload changed", m_body, HS, THSM_MCUBOOT_HASH_MISMATCH},
    {"no key TLV", m_no_key, K, THSM_MCUBOOT_KEY_MISSING},
    {"two key TLVs", m_dup_key, K, THSM_MCUBOOT_KEY_DUP},
    {"wrong key hash", m_wrong_key_hash, K, THSM_MCUBOOT_KEY_MISMATCH},
    {"no signature TLV", m_no_sig, S, THSM_MCUBOOT_SIG_MISSING},
    {"two signature TLVs", m_dup_sig, S, THSM_MCUBOOT_SIG_DUP},
    {"bad signature", m_bad_sig, S, THSM_MCUBOOT_BAD_SIGNATURE},
    {"signature not DER", m_sig_der, S, THSM_MCUBOOT_SIG_FORMAT},
};

static void test_damage(void **state)
{
    (void)state;
    static image good, im;
    thsm_mcuboot_opts o = default_opts();
    thsm_mcuboot_report r;
    build(&good, &o, key);
    for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
        const damage *d = &damages[i];
        im = good;
        d->m(&im);
        int rc = our_verify(&im, pub, 0, &r);
        print_message("%-28s -> %s: %s\n", d->name,
                      thsm_mcuboot_check_name(d->check),
                      thsm_mcuboot_strerror(r.result[d->check]));
        assert_int_equal(r.result[d->check], d->result);
        assert_int_equal(rc, d->result);
        /* the independent verifier agrees: only the intact image passes */
        assert_int_equal(openssl_verify(im.b, im.len, key) == 0,
                         d->result == THSM_MCUBOOT_OK);
        for (int c = 0; c < d->check; c++) /* earlier checks passed */
            assert_int_equal(r.result[c], THSM_MCUBOOT_OK);
    }
}

/* Every check is reported, not only the first failure. */
static void test_every_check_reported(void **state)
{
    (void)state;
    static image im;
    thsm_mcuboot_opts o = default_opts();
    thsm_mcuboot_report r;
    build(&im, &o, key);
    m_body(&im); /* the hash and the signature fail; the key is ours */
    uint32_t slot = (uint32_t)im.len + thsm_mcuboot_trailer_size(8);
    assert_int_equal(our_verify(&im, pub, slot, &r), THSM_MCUBOOT_HASH_MISMATCH);
    assert_int_equal(r.result[H], THSM_MCUBOOT_OK);
    assert_int_equal(r.result[A], THSM_MCUBOOT_OK);
    assert_int_equal(r.result[HS], THSM_MCUBOOT_HASH_MISMATCH);
    assert_int_equal(r.result[K], THSM_MCUBOOT_OK);
    assert_int_equal(r.result[S], THSM_MCUBOOT_BAD_SIGNATURE);
    assert_int_equal(r.result[THSM_MCUBOOT_CHECK_SLOT], THSM_MCUBOOT_OK);
    /* another key: key and signature fail, the rest pass */
    m_body(&im);
    assert_int_equal(our_verify(&im, other_pub, slot, &r),
                     THSM_MCUBOOT_KEY_MISMATCH);
    assert_int_equal(r.result[HS], THSM_MCUBOOT_OK);
    assert_int_equal(r.result[K], THSM_MCUBOOT_KEY_MISMATCH);
    assert_int_equal(r.result[S], THSM_MCUBOOT_BAD_SIGNATURE);
    /* a broken header stops the rest */
    m_magic(&im);
    our_verify(&im, pub, slot, &r);
    for (int c = A; c < THSM_MCUBOOT_CHECK_COUNT; c++)
        assert_int_equal(r.result[c], THSM_MCUBOOT_NOT_CHECKED);
}

/* The lines a PASS/FAIL report shows. */
static void test_check_details(void **state)
{
    (void)state;
    static image im;
    thsm_mcuboot_opts o = default_opts();
    thsm_mcuboot_report r;
    thsm_mcuboot_expect e = {.pub = pub, .align = 8, .exact = 1};
    char d[THSM_MCUBOOT_CHECK_COUNT][300];
    build(&im, &o, key);
    m_body(&im);
    e.slot_size = (uint32_t)im.len + 3119;
    thsm_mcuboot_verify(im.b, im.len, &e, &r);
    for (int c = 0; c < THSM_MCUBOOT_CHECK_COUNT; c++) {
        thsm_mcuboot_check_detail(&r, &e, c, d[c], sizeof(d[c]));
        print_message("%-10s %s\n", thsm_mcuboot_check_name(c), d[c]);
    }
    assert_non_null(strstr(d[H], "version 1.2.3+4, header 512 bytes, "
                                 "payload 3000 bytes"));
    assert_non_null(strstr(d[A], "security counter 7"));
    assert_string_equal(d[HS], "SHA256 TLV does not match the image");
    assert_string_equal(d[K], "KEYHASH names the given key");
    assert_string_equal(d[S], "signature does not verify");
    assert_non_null(strstr(d[THSM_MCUBOOT_CHECK_SLOT], "no room for the trailer"));
    assert_non_null(strstr(d[THSM_MCUBOOT_CHECK_SLOT], "trailer 3120"));
    e.slot_size = 0;
    thsm_mcuboot_verify(im.b, im.len, &e, &r);
    thsm_mcuboot_check_detail(&r, &e, THSM_MCUBOOT_CHECK_SLOT, d[0], sizeof(d[0]));
    assert_string_equal(d[0], "not checked: no slot size given");
    m_magic(&im);
    thsm_mcuboot_verify(im.b, im.len, &e, &r);
    thsm_mcuboot_check_detail(&r, &e, S, d[0], sizeof(d[0]));
    assert_string_equal(d[0], "not checked: an earlier check failed");
}

static void test_slot_room(void **state)
{
    (void)state;
    static image im;
    thsm_mcuboot_opts o = default_opts();
    thsm_mcuboot_report r;
    thsm_mcuboot_expect e = {.pub = pub, .align = 8, .exact = 1};
    build(&im, &o, key);
    uint32_t need = (uint32_t)im.len + thsm_mcuboot_trailer_size(8);
    assert_int_equal(our_verify(&im, pub, need, &r), THSM_MCUBOOT_OK);
    assert_int_equal(r.result[THSM_MCUBOOT_CHECK_SLOT], THSM_MCUBOOT_OK);
    assert_int_equal(our_verify(&im, pub, need - 1, &r), THSM_MCUBOOT_NO_ROOM);
    for (int c = 0; c < THSM_MCUBOOT_CHECK_SLOT; c++)
        assert_int_equal(r.result[c], THSM_MCUBOOT_OK);
    e.slot_size = need;
    e.align = 5;
    assert_int_equal(thsm_mcuboot_verify(im.b, im.len, &e, &r),
                     THSM_MCUBOOT_BAD_ALIGN);
}

/* imgtool's swap trailer: 128 sectors * 3 * align, four flags and the
 * magic, each padded to max(8, align). */
static void test_trailer_size(void **state)
{
    (void)state;
    assert_int_equal(thsm_mcuboot_trailer_size(1), 384 + 32 + 16);
    assert_int_equal(thsm_mcuboot_trailer_size(8), 3072 + 32 + 16);
    assert_int_equal(thsm_mcuboot_trailer_size(16), 6144 + 64 + 16);
    assert_int_equal(thsm_mcuboot_trailer_size(32), 12288 + 128 + 32);
    assert_int_equal(thsm_mcuboot_trailer_size(0), 0);
    assert_int_equal(thsm_mcuboot_trailer_size(3), 0);
    assert_int_equal(thsm_mcuboot_trailer_size(64), 0);
}

static void test_versions(void **state)
{
    (void)state;
    static const char *const good[] = {"0", "1.2", "1.2.3", "1.2.3+4",
                                       "255.255.65535+4294967295", "0.0.0+0"};
    static const char *const bad[] = {"", "a", "01", "1.", "1.2.3+", "1.2+3",
                                      "256", "1.256", "1.2.65536",
                                      "1.2.3+4294967296", "1.2.3.4", "1..2",
                                      "-1", "1.2.3 ", "1.2.3+04"};
    thsm_mcuboot_version v, w;
    char text[40];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(thsm_mcuboot_parse_version(good[i], &v), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (thsm_mcuboot_parse_version(bad[i], &v) == 0)
            fail_msg("version '%s' accepted", bad[i]);
    assert_int_equal(thsm_mcuboot_parse_version("1.2", &v), 0);
    assert_int_equal(v.major, 1);
    assert_int_equal(v.minor, 2);
    assert_int_equal(v.revision, 0);
    assert_int_equal(v.build, 0);
    assert_int_equal(thsm_mcuboot_parse_version("9.8.700+65536", &v), 0);
    assert_int_equal(thsm_mcuboot_format_version(&v, text, sizeof(text)), 0);
    assert_string_equal(text, "9.8.700+65536");
    assert_int_equal(thsm_mcuboot_parse_version("9.8.700+65537", &w), 0);
    assert_int_equal(thsm_mcuboot_version_cmp(&v, &w), -1);
    assert_int_equal(thsm_mcuboot_version_cmp(&w, &v), 1);
    assert_int_equal(thsm_mcuboot_parse_version("10", &w), 0);
    assert_int_equal(thsm_mcuboot_version_cmp(&w, &v), 1);
    assert_int_equal(thsm_mcuboot_version_cmp(&v, &v), 0);
}

/* The C array's bytes, read back from its text. */
static size_t array_bytes(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    const char *p = strchr(text, '{');
    assert_non_null(p);
    while ((p = strstr(p, "0x")) && n < cap && p < strchr(text, '}'))
        out[n++] = (uint8_t)strtoul(p, (char **)&p, 16);
    return n;
}

static void test_pubkey_export(void **state)
{
    (void)state;
    char c_text[THSM_PUBKEY_TEXT_MAX], pem[THSM_PUBKEY_TEXT_MAX];
    char dir[512], path[600], out[4096];
    uint8_t bytes[200], *spki = NULL;
    size_t der_len;
    assert_int_equal(thsm_pubkey_c_array(pub, c_text, sizeof(c_text)), 0);
    assert_int_equal(thsm_pubkey_pem(pub, pem, sizeof(pem)), 0);
    assert_non_null(strstr(c_text, "const unsigned char ecdsa_pub_key[] = {"));
    assert_non_null(strstr(c_text, "const unsigned int ecdsa_pub_key_len = 91;"));
    size_t n = array_bytes(c_text, bytes, sizeof(bytes));
    assert_int_equal(n, 91);
    assert_int_equal(i2d_PUBKEY(key, &spki), 91);
    assert_memory_equal(bytes, spki, 91);
    OPENSSL_free(spki);
    /* the PEM, read by the openssl command, gives the array's bytes */
    thsm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/pub.pem", dir);
    thsm_test_write_file(path, pem, strlen(pem));
    assert_int_equal(thsm_test_run(out, sizeof(out), "openssl pkey -pubin -in "
                                   "'%s/pub.pem' -outform DER -out '%s/pub.der'",
                                   dir, dir), 0);
    snprintf(path, sizeof(path), "%s/pub.der", dir);
    uint8_t *der = thsm_test_read_file(path, &der_len);
    assert_non_null(der);
    assert_int_equal(der_len, 91);
    assert_memory_equal(der, bytes, 91);
    free(der);
    thsm_test_rmtree(dir);
    /* too small a buffer is refused, not cut */
    assert_int_equal(thsm_pubkey_c_array(pub, c_text, 100), -1);
    assert_int_equal(thsm_pubkey_pem(pub, pem, 100), -1);
}

/* Images made by the openssl command alone (fuzz/make_mcuboot_seeds.sh,
 * with fuzz/boot_test_key.pem) pass; the cut and the padded one do not. */
static void test_images_made_by_openssl(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int result;
    } seeds[] = {
        {"valid_keyhash", THSM_MCUBOOT_OK},
        {"valid_pubkey", THSM_MCUBOOT_OK},
        {"valid_no_counter", THSM_MCUBOOT_OK},
        {"truncated", THSM_MCUBOOT_TRUNCATED},
        {"trailing", THSM_MCUBOOT_TRAILING},
    };
    char path[600], out[1024];
    uint8_t seed_pub[65];
    size_t len;
    assert_int_equal(thsm_test_run(out, sizeof(out), "openssl pkey -in "
                                   "'%s/../../boot_test_key.pem' -pubout "
                                   "-outform DER | tail -c 65 | od -An -v -tx1",
                                   THSM_MCUBOOT_SEEDS), 0);
    const char *p = out;
    for (int i = 0; i < 65; i++)
        seed_pub[i] = (uint8_t)strtoul(p, (char **)&p, 16);
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        thsm_mcuboot_expect e = {.pub = seed_pub, .exact = 1};
        thsm_mcuboot_report r;
        snprintf(path, sizeof(path), "%s/%s", THSM_MCUBOOT_SEEDS, seeds[i].name);
        uint8_t *img = thsm_test_read_file(path, &len);
        assert_non_null(img);
        if (thsm_mcuboot_verify(img, len, &e, &r) != seeds[i].result)
            fail_msg("%s: %s", seeds[i].name,
                     thsm_mcuboot_strerror(thsm_mcuboot_verify(img, len, &e, &r)));
        free(img);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built_image_verifies),
        cmocka_unit_test(test_full_key_and_no_counter),
        cmocka_unit_test(test_room_in_application),
        cmocka_unit_test(test_builder_refusals),
        cmocka_unit_test(test_two_step),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_every_check_reported),
        cmocka_unit_test(test_check_details),
        cmocka_unit_test(test_slot_room),
        cmocka_unit_test(test_trailer_size),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_pubkey_export),
        cmocka_unit_test(test_images_made_by_openssl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
