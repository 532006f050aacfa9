/*
 * p11_module.c - the module through its C interface: objects and their
 * attributes, CKA_VALUE refused, bad arguments, login rules, signatures
 * (single and multi-part) that verify, and the device going away and
 * coming back.
 */
#define _GNU_SOURCE /* memmem */
#include "p11_common.h"
#include "testutil.h"

#include "crypto/p256.h"
#include "crypto/sha256.h"

#include <string.h>
#include <time.h>

static CK_FUNCTION_LIST *f;
static CK_SLOT_ID slot;

static CK_SESSION_HANDLE open_rw(void)
{
    CK_SESSION_HANDLE s;
    CHECK_RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
                              NULL, &s), CKR_OK);
    return s;
}

static void check_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                       CK_ATTRIBUTE_TYPE t, CK_BBOOL want)
{
    CK_BBOOL v = !want;
    CK_ATTRIBUTE a = {t, &v, sizeof(v)};
    CHECK_RV(f->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    CHECK(v == want);
}

static void get(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
                void *buf, CK_ULONG cap, CK_ULONG *len)
{
    CK_ATTRIBUTE a = {t, buf, cap};
    CHECK_RV(f->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    *len = a.ulValueLen;
}

static void test_objects(void)
{
    CK_SESSION_HANDLE s = open_rw();
    CK_ULONG len, len2;
    unsigned char id1[32], id2[32], buf[2048];
    static const unsigned char p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                         0xce, 0x3d, 0x03, 0x01, 0x07};
    /* no login: the private key is hidden */
    CHECK(p11_test_find(f, s, CKO_PRIVATE_KEY, "signer") == 0);
    CHECK_RV(f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_OK);
    CK_OBJECT_HANDLE priv = p11_test_find(f, s, CKO_PRIVATE_KEY, "signer");
    CK_OBJECT_HANDLE cert = p11_test_find(f, s, CKO_CERTIFICATE, "signer");
    CHECK(priv && cert);
    CHECK(p11_test_find(f, s, CKO_PRIVATE_KEY, "ca") == 0); /* DECISIONS */
    CHECK(p11_test_find(f, s, CKO_PUBLIC_KEY, "ca") != 0);
    CHECK(p11_test_find(f, s, CKO_CERTIFICATE, "ca") != 0);
    check_bool(s, priv, CKA_SIGN, CK_TRUE);
    check_bool(s, priv, CKA_SENSITIVE, CK_TRUE);
    check_bool(s, priv, CKA_EXTRACTABLE, CK_FALSE);
    check_bool(s, priv, CKA_ALWAYS_SENSITIVE, CK_TRUE);
    check_bool(s, priv, CKA_NEVER_EXTRACTABLE, CK_TRUE);
    check_bool(s, priv, CKA_LOCAL, CK_TRUE);
    check_bool(s, priv, CKA_PRIVATE, CK_TRUE);
    CK_KEY_TYPE kt;
    get(s, priv, CKA_KEY_TYPE, &kt, sizeof(kt), &len);
    CHECK(kt == CKK_EC);
    get(s, priv, CKA_EC_PARAMS, buf, sizeof(buf), &len);
    CHECK(len == sizeof(p256) && memcmp(buf, p256, len) == 0);
    get(s, priv, CKA_ID, id1, sizeof(id1), &len);
    get(s, cert, CKA_ID, id2, sizeof(id2), &len2);
    CHECK(len == 8 && len2 == 8 && memcmp(id1, id2, 8) == 0);
    /* the secret never leaves, whatever the template */
    CK_ATTRIBUTE v[] = {{CKA_LABEL, buf, sizeof(buf)}, {CKA_VALUE, buf, sizeof(buf)}};
    CHECK_RV(f->C_GetAttributeValue(s, priv, v, 2), CKR_ATTRIBUTE_SENSITIVE);
    CHECK(v[0].ulValueLen == 6 && v[1].ulValueLen == CK_UNAVAILABLE_INFORMATION);
    v[1].pValue = NULL;
    CHECK_RV(f->C_GetAttributeValue(s, priv, &v[1], 1), CKR_ATTRIBUTE_SENSITIVE);
    /* the certificate's attributes */
    CK_CERTIFICATE_TYPE ct;
    get(s, cert, CKA_CERTIFICATE_TYPE, &ct, sizeof(ct), &len);
    CHECK(ct == CKC_X_509);
    get(s, cert, CKA_VALUE, buf, sizeof(buf), &len);
    CHECK(len > 300 && buf[0] == 0x30);
    get(s, cert, CKA_SUBJECT, buf, sizeof(buf), &len);
    CHECK(len > 10 && memmem(buf, len, "My_ECDSA_Signer", 15));
    get(s, cert, CKA_ISSUER, buf, sizeof(buf), &len);
    CHECK(len > 10 && memmem(buf, len, "My_CA", 5));
    get(s, cert, CKA_SERIAL_NUMBER, buf, sizeof(buf), &len);
    CHECK(len > 2 && buf[0] == 0x02);
    /* a buffer too small, an unknown attribute, a wrong handle */
    CK_ATTRIBUTE small = {CKA_VALUE, buf, 10};
    CHECK_RV(f->C_GetAttributeValue(s, cert, &small, 1), CKR_BUFFER_TOO_SMALL);
    CK_ATTRIBUTE odd = {CKA_MODULUS, buf, sizeof(buf)};
    CHECK_RV(f->C_GetAttributeValue(s, cert, &odd, 1), CKR_ATTRIBUTE_TYPE_INVALID);
    CHECK_RV(f->C_GetAttributeValue(s, 9999, &odd, 1), CKR_OBJECT_HANDLE_INVALID);
    CHECK_RV(f->C_GetAttributeValue(s, cert, NULL, 1), CKR_ARGUMENTS_BAD);
    CHECK_RV(f->C_Logout(s), CKR_OK);
    CHECK_RV(f->C_CloseSession(s), CKR_OK);
    puts("ok - objects, attributes, CKA_VALUE refused");
}

static void test_bad_arguments(void)
{
    CK_SESSION_HANDLE s = open_rw();
    CK_ULONG n;
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0}, rsa = {CKM_RSA_PKCS, NULL, 0};
    unsigned char sig[64], d[32] = {1};
    CK_ULONG sig_len = sizeof(sig);
    CHECK_RV(f->C_GetSlotList(CK_FALSE, NULL, NULL), CKR_ARGUMENTS_BAD);
    CHECK_RV(f->C_GetSlotInfo(77, NULL), CKR_SLOT_ID_INVALID);
    CHECK_RV(f->C_GetTokenInfo(slot, NULL), CKR_ARGUMENTS_BAD);
    CHECK_RV(f->C_OpenSession(77, CKF_SERIAL_SESSION, NULL, NULL, &n),
             CKR_SLOT_ID_INVALID);
    CHECK_RV(f->C_OpenSession(slot, 0, NULL, NULL, &n),
             CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    CHECK_RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, NULL),
             CKR_ARGUMENTS_BAD);
    CHECK_RV(f->C_Sign(0, d, 32, sig, &sig_len), CKR_SESSION_HANDLE_INVALID);
    CHECK_RV(f->C_Sign(123456, d, 32, sig, &sig_len), CKR_SESSION_HANDLE_INVALID);
    CHECK_RV(f->C_Sign(s, d, 32, sig, &sig_len), CKR_OPERATION_NOT_INITIALIZED);
    CHECK_RV(f->C_Login(s, CKU_USER, NULL, 6), CKR_ARGUMENTS_BAD);
    CHECK_RV(f->C_Login(s, 42, (CK_UTF8CHAR *)"123456", 6),
             CKR_USER_TYPE_INVALID);
    CHECK_RV(f->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)"123456", 6),
             CKR_OPERATION_NOT_INITIALIZED);
    CHECK_RV(f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)"12345", 5), CKR_PIN_LEN_RANGE);
    CHECK_RV(f->C_FindObjects(s, NULL, 1, &n), CKR_ARGUMENTS_BAD);
    CHECK_RV(f->C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
    CHECK_RV(f->C_Encrypt(s, d, 32, sig, &sig_len), CKR_FUNCTION_NOT_SUPPORTED);
    CHECK_RV(f->C_Logout(s), CKR_USER_NOT_LOGGED_IN);

    CK_OBJECT_HANDLE ca_pub = p11_test_find(f, s, CKO_PUBLIC_KEY, "ca");
    CHECK_RV(f->C_SignInit(s, NULL, ca_pub), CKR_ARGUMENTS_BAD);
    CHECK_RV(f->C_SignInit(s, &rsa, ca_pub), CKR_MECHANISM_INVALID);
    CHECK_RV(f->C_SignInit(s, &ecdsa, 0), CKR_KEY_HANDLE_INVALID);
    CHECK_RV(f->C_SignInit(s, &ecdsa, ca_pub), CKR_KEY_FUNCTION_NOT_PERMITTED);
    CHECK_RV(f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_OK);
    CK_OBJECT_HANDLE priv = p11_test_find(f, s, CKO_PRIVATE_KEY, "signer");
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_OK);
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_OPERATION_ACTIVE);
    CHECK_RV(f->C_SignUpdate(s, d, 32), CKR_FUNCTION_NOT_SUPPORTED); /* ends it */
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_OK);
    CHECK_RV(f->C_Sign(s, d, 0, sig, &sig_len), CKR_DATA_LEN_RANGE);
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_OK);
    CHECK_RV(f->C_Sign(s, NULL, 32, sig, &sig_len), CKR_ARGUMENTS_BAD);
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_OK);
    sig_len = 10;
    CHECK_RV(f->C_Sign(s, d, 32, sig, &sig_len), CKR_BUFFER_TOO_SMALL);
    CHECK(sig_len == 64);
    CHECK_RV(f->C_Sign(s, d, 32, NULL, &sig_len), CKR_OK); /* a length query */
    CHECK_RV(f->C_Sign(s, d, 32, sig, &sig_len), CKR_OK);
    CHECK_RV(f->C_Logout(s), CKR_OK);
    CHECK_RV(f->C_CloseSession(s), CKR_OK);
    CHECK_RV(f->C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);
    puts("ok - bad arguments get PKCS#11 errors");
}

static void sign_verify(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, int parts)
{
    CK_MECHANISM mech = {m, NULL, 0};
    unsigned char data[1000], digest[32], sig[64], point[65];
    CK_ULONG sig_len = sizeof(sig);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 7 + (unsigned)time(NULL));
    CHECK(thsm_sha256(data, sizeof(data), digest) == 0);
    p11_test_signer_point(f, s, point);
    CK_OBJECT_HANDLE priv = p11_test_find(f, s, CKO_PRIVATE_KEY, "signer");
    CHECK_RV(f->C_SignInit(s, &mech, priv), CKR_OK);
    if (m == CKM_ECDSA) {
        CHECK_RV(f->C_Sign(s, digest, 32, sig, &sig_len), CKR_OK);
    } else if (!parts) {
        CHECK_RV(f->C_Sign(s, data, sizeof(data), sig, &sig_len), CKR_OK);
    } else {
        for (size_t at = 0; at < sizeof(data); at += 300)
            CHECK_RV(f->C_SignUpdate(s, data + at, sizeof(data) - at < 300
                                                       ? sizeof(data) - at : 300),
                     CKR_OK);
        CK_ULONG q = 0;
        CHECK_RV(f->C_SignFinal(s, NULL, &q), CKR_OK);
        CHECK(q == 64);
        CHECK_RV(f->C_SignFinal(s, sig, &sig_len), CKR_OK);
    }
    CHECK(sig_len == 64);
    CHECK(thsm_p256_verify(point, digest, sig) == THSM_CRYPTO_OK);
}

static void test_login_and_sign(void)
{
    CK_SESSION_HANDLE s = open_rw(), ro;
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0}, gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_TOKEN_INFO ti;
    CK_OBJECT_HANDLE pub, priv;
    CK_ATTRIBUTE label = {CKA_LABEL, "signer", 6};
    CHECK_RV(f->C_GetTokenInfo(slot, &ti), CKR_OK);
    CHECK(ti.flags & CKF_LOGIN_REQUIRED);
    CHECK(!(ti.flags & (CKF_USER_PIN_LOCKED | CKF_USER_PIN_COUNT_LOW)));
    /* not logged in: no signature, no new key */
    CHECK_RV(f->C_SignInit(s, &ecdsa, 1), CKR_USER_NOT_LOGGED_IN);
    CHECK_RV(f->C_GenerateKeyPair(s, &gen, &label, 1, &label, 1, &pub, &priv),
             CKR_USER_NOT_LOGGED_IN);
    CHECK_RV(f->C_Login(s, CKU_SO, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_USER_TYPE_INVALID);
    CHECK_RV(f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_OK);
    /* the login belongs to the application: a second session shares it */
    CHECK_RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    CHECK_RV(f->C_Login(ro, CKU_USER, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_USER_ALREADY_LOGGED_IN);
    CK_SESSION_INFO si;
    CHECK_RV(f->C_GetSessionInfo(ro, &si), CKR_OK);
    CHECK(si.state == CKS_RO_USER_FUNCTIONS);
    sign_verify(ro, CKM_ECDSA, 0);
    sign_verify(s, CKM_ECDSA_SHA256, 0);
    sign_verify(s, CKM_ECDSA_SHA256, 1);
    /* a new key: not from a read-only session, not for another label */
    CK_ATTRIBUTE ca_label = {CKA_LABEL, "ca", 2};
    CHECK_RV(f->C_GenerateKeyPair(ro, &gen, &label, 1, &label, 1, &pub, &priv),
             CKR_SESSION_READ_ONLY);
    CHECK_RV(f->C_GenerateKeyPair(s, &gen, &ca_label, 1, NULL, 0, &pub, &priv),
             CKR_ATTRIBUTE_VALUE_INVALID);
    CHECK_RV(f->C_GenerateKeyPair(s, &gen, NULL, 0, NULL, 0, &pub, &priv),
             CKR_TEMPLATE_INCOMPLETE);
    unsigned char before[65], after[65];
    p11_test_signer_point(f, s, before);
    CHECK_RV(f->C_GenerateKeyPair(s, &gen, &label, 1, &label, 1, &pub, &priv),
             CKR_OK);
    p11_test_signer_point(f, s, after);
    CHECK(memcmp(before, after, 65) != 0);
    sign_verify(s, CKM_ECDSA, 0);
    CHECK_RV(f->C_Logout(s), CKR_OK);
    CHECK_RV(f->C_SignInit(ro, &ecdsa, priv), CKR_USER_NOT_LOGGED_IN);
    CHECK_RV(f->C_CloseAllSessions(slot), CKR_OK);
    CHECK_RV(f->C_CloseSession(ro), CKR_SESSION_HANDLE_INVALID);
    puts("ok - login per application, signatures verify, key replacement");
}

#define PIN_ARG(p) (CK_UTF8CHAR *)(p), strlen(p)
#define SO_PIN "officer-puk"

/* The security officer: its session state, what it may not do, C_InitPIN
 * and C_SetPIN for both roles. */
static void test_so(void)
{
    char out[4096];
    CK_SESSION_HANDLE s = open_rw(), ro;
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    CK_SESSION_INFO si;
    CHECK(thsm_test_run(out, sizeof(out), "TINYHSM_PIN=%s TINYHSM_NEW_PIN=%s "
                        "%s pin set --so </dev/null", P11_TEST_PIN, SO_PIN,
                        thsm_test_bin("tinyhsm")) == 0);
    CHECK_RV(f->C_Login(s, CKU_USER, PIN_ARG(P11_TEST_PIN)), CKR_OK);
    CK_OBJECT_HANDLE priv = p11_test_find(f, s, CKO_PRIVATE_KEY, "signer");
    CHECK(priv != 0);
    CHECK_RV(f->C_Login(s, CKU_SO, PIN_ARG(SO_PIN)),
             CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    CHECK_RV(f->C_InitPIN(s, PIN_ARG("new-user-pin")), CKR_USER_NOT_LOGGED_IN);
    CHECK_RV(f->C_Logout(s), CKR_OK);

    CHECK_RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    CHECK_RV(f->C_Login(s, CKU_SO, PIN_ARG(SO_PIN)), CKR_SESSION_READ_ONLY_EXISTS);
    CHECK_RV(f->C_SetPIN(ro, PIN_ARG(P11_TEST_PIN), PIN_ARG("new-user-pin")),
             CKR_SESSION_READ_ONLY);
    CHECK_RV(f->C_CloseSession(ro), CKR_OK);
    CHECK_RV(f->C_Login(s, CKU_SO, PIN_ARG(SO_PIN)), CKR_OK);
    CHECK_RV(f->C_Login(s, CKU_SO, PIN_ARG(SO_PIN)), CKR_USER_ALREADY_LOGGED_IN);
    CHECK_RV(f->C_Login(s, CKU_USER, PIN_ARG(P11_TEST_PIN)),
             CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    CHECK_RV(f->C_GetSessionInfo(s, &si), CKR_OK);
    CHECK(si.state == CKS_RW_SO_FUNCTIONS);
    CHECK_RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro),
             CKR_SESSION_READ_WRITE_SO_EXISTS);
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_USER_NOT_LOGGED_IN);
    CHECK(p11_test_find(f, s, CKO_PRIVATE_KEY, "signer") == 0);
    CHECK_RV(f->C_InitPIN(s, NULL, 8), CKR_ARGUMENTS_BAD);
    CHECK_RV(f->C_InitPIN(s, PIN_ARG("12345")), CKR_PIN_LEN_RANGE);
    CHECK_RV(f->C_InitPIN(s, PIN_ARG("new-user-pin")), CKR_OK);
    CHECK_RV(f->C_Logout(s), CKR_OK);

    CHECK_RV(f->C_Login(s, CKU_USER, PIN_ARG(P11_TEST_PIN)), CKR_PIN_INCORRECT);
    CHECK_RV(f->C_Login(s, CKU_USER, PIN_ARG("new-user-pin")), CKR_OK); /* waits 1 s */
    sign_verify(s, CKM_ECDSA, 0);
    CHECK_RV(f->C_SetPIN(s, PIN_ARG("new-user-pin"), PIN_ARG(P11_TEST_PIN)), CKR_OK);
    sign_verify(s, CKM_ECDSA, 0); /* the login goes on with the new PIN */
    CHECK_RV(f->C_Logout(s), CKR_OK);
    CHECK_RV(f->C_Login(s, CKU_USER, PIN_ARG(P11_TEST_PIN)), CKR_OK);
    CHECK_RV(f->C_CloseAllSessions(slot), CKR_OK);
    puts("ok - the SO: session states, no signing, C_InitPIN, C_SetPIN");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_gone_and_back(p11_test_dev *d)
{
    CK_SESSION_HANDLE s = open_rw(), s2;
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    unsigned char dig[32] = {2}, sig[64];
    CK_ULONG sig_len = sizeof(sig);
    CK_TOKEN_INFO ti;
    CHECK_RV(f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_OK);
    CK_OBJECT_HANDLE priv = p11_test_find(f, s, CKO_PRIVATE_KEY, "signer");
    p11_test_dev_kill(d);
    double t0 = now();
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_OK);
    CHECK_RV(f->C_Sign(s, dig, 32, sig, &sig_len), CKR_DEVICE_REMOVED);
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_DEVICE_REMOVED); /* session ended */
    CHECK_RV(f->C_GetTokenInfo(slot, &ti), CKR_TOKEN_NOT_PRESENT);
    CHECK_RV(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s2),
             CKR_TOKEN_NOT_PRESENT);
    CHECK(now() - t0 < 5); /* never a hang */
    puts("ok - device gone: CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, at once");

    p11_test_dev_start(d);
    s = open_rw();
    CHECK_RV(f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_OK);
    sign_verify(s, CKM_ECDSA, 0);
    /* restarted under an idle, logged-in session: the next call fails
     * cleanly, then a new session and login work */
    p11_test_dev_kill(d);
    p11_test_dev_start(d);
    priv = p11_test_find(f, s, CKO_PRIVATE_KEY, "signer");
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_OK);
    CHECK_RV(f->C_Sign(s, dig, 32, sig, &sig_len), CKR_DEVICE_REMOVED);
    s = open_rw();
    CHECK_RV(f->C_SignInit(s, &ecdsa, priv), CKR_USER_NOT_LOGGED_IN);
    CHECK_RV(f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_OK);
    sign_verify(s, CKM_ECDSA_SHA256, 1);
    CHECK_RV(f->C_CloseAllSessions(slot), CKR_OK);
    puts("ok - device restarted: the next call fails cleanly, a new login works");
}

/* A key moved in with tinyhsm import signer: not CKA_LOCAL, never
 * CKA_ALWAYS_SENSITIVE nor CKA_NEVER_EXTRACTABLE; it signs. */
static void test_imported(p11_test_dev *d)
{
    char out[4096], key[700];
    CK_MECHANISM_TYPE mech = 0;
    CK_ULONG len;
    snprintf(key, sizeof(key), "%s/imported.pem", d->dir);
    CHECK(thsm_test_run(out, sizeof(out), "openssl genpkey -algorithm EC "
                        "-pkeyopt ec_paramgen_curve:P-256 -out %s", key) == 0);
    CHECK(thsm_test_run(out, sizeof(out), "TINYHSM_PIN=%s %s import signer %s "
                        "--yes </dev/null", P11_TEST_PIN,
                        thsm_test_bin("tinyhsm"), key) == 0);
    CK_SESSION_HANDLE s = open_rw();
    CHECK_RV(f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)P11_TEST_PIN,
                        strlen(P11_TEST_PIN)), CKR_OK);
    CK_OBJECT_HANDLE priv = p11_test_find(f, s, CKO_PRIVATE_KEY, "signer");
    CK_OBJECT_HANDLE pub = p11_test_find(f, s, CKO_PUBLIC_KEY, "signer");
    CHECK(priv && pub);
    check_bool(s, priv, CKA_LOCAL, CK_FALSE);
    check_bool(s, pub, CKA_LOCAL, CK_FALSE);
    check_bool(s, priv, CKA_ALWAYS_SENSITIVE, CK_FALSE);
    check_bool(s, priv, CKA_NEVER_EXTRACTABLE, CK_FALSE);
    check_bool(s, priv, CKA_SENSITIVE, CK_TRUE);
    check_bool(s, priv, CKA_EXTRACTABLE, CK_FALSE);
    get(s, priv, CKA_KEY_GEN_MECHANISM, &mech, sizeof(mech), &len);
    CHECK(mech == CK_UNAVAILABLE_INFORMATION);
    sign_verify(s, CKM_ECDSA, 0);
    CHECK_RV(f->C_CloseAllSessions(slot), CKR_OK);
    puts("ok - an imported key: CKA_LOCAL, ALWAYS_SENSITIVE, NEVER_EXTRACTABLE false; it signs");
}

int main(void)
{
    p11_test_dev d;
    CK_ULONG n = 1;
    CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
    p11_test_dev_init(&d);
    p11_test_provision(&d, 1);
    f = p11_test_module();
    CHECK_RV(f->C_GetSlotList(CK_TRUE, &slot, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(f->C_Initialize(&args), CKR_OK);
    CHECK_RV(f->C_Initialize(&args), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    CHECK_RV(f->C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
    CHECK(n == 1);
    test_objects();
    test_bad_arguments();
    test_login_and_sign();
    test_so();
    test_gone_and_back(&d);
    test_imported(&d);
    CHECK_RV(f->C_Finalize(NULL), CKR_OK);
    CHECK_RV(f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    p11_test_dev_cleanup(&d);
    puts("all passed");
    return 0;
}
