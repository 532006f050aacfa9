/* sign.c - CKM_ECDSA and CKM_ECDSA_SHA256 with the signer key, and
 * C_GenerateKeyPair, which replaces it. */
#include "pkcs11/module.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SIG_LEN 64

/* ECDSA's own rule for an input that is not 32 bytes (X9.62): its
 * leftmost 256 bits, as a number. */
static void to_digest(const CK_BYTE *data, CK_ULONG len, uint8_t digest[32])
{
    memset(digest, 0, 32);
    if (len >= 32)
        memcpy(digest, data, 32);
    else
        memcpy(digest + 32 - len, data, len);
}

static CK_RV sign_digest(CK_SLOT_ID slot, const uint8_t digest[32], CK_BYTE *sig)
{
    p11_slot *s = p11_slots[slot];
    p11_conn *c;
    uint8_t raw[SIG_LEN];
    CK_RV rv = p11_conn_take(s, 1, &c);
    if (rv != CKR_OK)
        return rv;
    int rc = p11_dev_sign(c->dev, digest, raw);
    p11_conn_give(s, c, rc);
    if (rc == DEV_OK)
        memcpy(sig, raw, SIG_LEN);
    return p11_rv(rc);
}

static void sign_end(p11_session *ss)
{
    if (ss->hashing)
        thsm_sha256_release(&ss->sha);
    ss->hashing = 0;
    ss->sign_mech = 0;
}

CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE key)
{
    CK_RV rv;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    p11_slot *s = ss ? p11_slots[ss->slot] : NULL;
    if (!ss)
        ;
    else if (!m)
        rv = CKR_ARGUMENTS_BAD;
    else if (ss->sign_mech)
        rv = CKR_OPERATION_ACTIVE;
    else if (m->mechanism != CKM_ECDSA && m->mechanism != CKM_ECDSA_SHA256)
        rv = CKR_MECHANISM_INVALID;
    else if (m->pParameter || m->ulParameterLen)
        rv = CKR_MECHANISM_PARAM_INVALID;
    else if (key / 16 != ss->slot || key % 16 < 1 || key % 16 > OBJ_COUNT ||
             !s->cert[key % 16 >= OBJ_CA_PUB].present)
        rv = CKR_KEY_HANDLE_INVALID;
    else if (key % 16 != OBJ_SIGNER_PRIV)
        rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
    else if (s->pin_set && s->logged_in != ROLE_USER)
        rv = CKR_USER_NOT_LOGGED_IN;
    else if (m->mechanism == CKM_ECDSA_SHA256 && thsm_sha256_init(&ss->sha) != 0)
        rv = CKR_HOST_MEMORY;
    if (rv == CKR_OK) {
        ss->sign_mech = m->mechanism;
        ss->hashing = m->mechanism == CKM_ECDSA_SHA256;
    }
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

/* The common start of C_Sign and C_SignFinal: the session with a signing
 * in progress, or NULL and *rv. A length query ends nothing. */
static p11_session *sign_session(CK_SESSION_HANDLE h, CK_BYTE *sig,
                                 CK_ULONG *sig_len, CK_RV *rv)
{
    p11_session *ss = p11_session_get(h, rv);
    if (!ss)
        return NULL;
    if (!ss->sign_mech) {
        *rv = CKR_OPERATION_NOT_INITIALIZED;
        return NULL;
    }
    if (!sig_len) {
        *rv = CKR_ARGUMENTS_BAD;
    } else if (!sig || *sig_len < SIG_LEN) {
        *rv = sig ? CKR_BUFFER_TOO_SMALL : CKR_OK;
        *sig_len = SIG_LEN;
        return NULL;
    }
    if (*rv != CKR_OK) {
        sign_end(ss);
        return NULL;
    }
    return ss;
}

/* Ends the operation of ss with digest signed into sig. Called with
 * p11_lock held; releases it. */
static CK_RV sign_finish(p11_session *ss, const uint8_t digest[32], CK_BYTE *sig,
                         CK_ULONG *sig_len)
{
    CK_SLOT_ID slot = ss->slot;
    sign_end(ss);
    pthread_mutex_unlock(&p11_lock);
    CK_RV rv = sign_digest(slot, digest, sig);
    if (rv == CKR_OK)
        *sig_len = SIG_LEN;
    return rv;
}

CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE *data, CK_ULONG len, CK_BYTE *sig,
             CK_ULONG *sig_len)
{
    CK_RV rv;
    uint8_t digest[32];
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = sign_session(h, sig, sig_len, &rv);
    if (ss && !data && len)
        rv = CKR_ARGUMENTS_BAD;
    else if (ss && ss->sign_mech == CKM_ECDSA && (len == 0 || len > 64))
        rv = CKR_DATA_LEN_RANGE;
    else if (ss && ss->sign_mech == CKM_ECDSA)
        to_digest(data, len, digest);
    else if (ss && (thsm_sha256_update(&ss->sha, data, len) != 0 ||
                    thsm_sha256_final(&ss->sha, digest) != 0))
        rv = CKR_FUNCTION_FAILED;
    if (ss && ss->sign_mech == CKM_ECDSA_SHA256)
        ss->hashing = 0; /* final released it, even on failure */
    if (ss && rv == CKR_OK)
        return sign_finish(ss, digest, sig, sig_len);
    if (ss)
        sign_end(ss);
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE *part, CK_ULONG len)
{
    CK_RV rv;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    if (ss && !ss->sign_mech)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (ss && (!ss->hashing || (!part && len)))
        rv = ss->hashing ? CKR_ARGUMENTS_BAD : CKR_FUNCTION_NOT_SUPPORTED;
    else if (ss && thsm_sha256_update(&ss->sha, part, len) != 0)
        rv = CKR_FUNCTION_FAILED;
    if (ss && ss->sign_mech && rv != CKR_OK)
        sign_end(ss);
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE *sig, CK_ULONG *sig_len)
{
    CK_RV rv;
    uint8_t digest[32];
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = sign_session(h, sig, sig_len, &rv);
    if (ss && !ss->hashing)
        rv = CKR_FUNCTION_NOT_SUPPORTED; /* CKM_ECDSA is single-part */
    else if (ss && thsm_sha256_final(&ss->sha, digest) != 0)
        rv = CKR_FUNCTION_FAILED;
    if (ss && ss->hashing)
        ss->hashing = 0;
    if (ss && rv == CKR_OK)
        return sign_finish(ss, digest, sig, sig_len);
    if (ss)
        sign_end(ss);
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

/* ---- key replacement ------------------------------------------------------- */

/* CKA_LABEL must be "signer" in one template at least, and nothing may
 * ask for another curve or label. */
static CK_RV template_check(const CK_ATTRIBUTE *t, CK_ULONG n, int *labelled)
{
    if (!t && n)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n; i++) {
        if (t[i].type == CKA_LABEL) {
            if (t[i].ulValueLen != 6 || !t[i].pValue ||
                memcmp(t[i].pValue, "signer", 6) != 0)
                return CKR_ATTRIBUTE_VALUE_INVALID;
            *labelled = 1;
        }
        if (t[i].type == CKA_EC_PARAMS &&
            (t[i].ulValueLen != P11_P256_PARAMS_LEN || !t[i].pValue ||
             memcmp(t[i].pValue, p11_p256_params, P11_P256_PARAMS_LEN) != 0))
            return CKR_CURVE_NOT_SUPPORTED;
    }
    return CKR_OK;
}

/* The new certificate keeps the old one's subject and lifetime, and
 * starts now. */
static CK_RV new_signer(p11_slot *s, const p11_cert *old)
{
    char c[128], o[128], cn[128], start[15];
    unsigned days;
    time_t now = time(NULL);
    struct tm tm;
    p11_conn *conn;
    if (p11_cert_subject(old, c, o, cn, sizeof(c), &days) != 0) {
        snprintf(c, sizeof(c), "US");
        snprintf(o, sizeof(o), "Me");
        snprintf(cn, sizeof(cn), "My_ECDSA_Signer");
        days = 365;
    }
    gmtime_r(&now, &tm);
    strftime(start, sizeof(start), "%Y%m%d%H%M%S", &tm);
    CK_RV rv = p11_conn_take(s, 1, &conn);
    if (rv != CKR_OK)
        return rv;
    int rc = p11_dev_new_signer(conn->dev, c, o, cn, start, days);
    p11_conn_give(s, conn, rc);
    return rc == DEV_OK ? p11_certs_load(s) : p11_rv(rc);
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM *m,
                        CK_ATTRIBUTE *pub_t, CK_ULONG pub_n,
                        CK_ATTRIBUTE *priv_t, CK_ULONG priv_n,
                        CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_RV rv;
    int labelled = 0;
    p11_cert old;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    p11_slot *s = ss ? p11_slots[ss->slot] : NULL;
    CK_SLOT_ID slot = ss ? ss->slot : 0;
    if (!ss)
        ;
    else if (!m || !pub || !priv)
        rv = CKR_ARGUMENTS_BAD;
    else if (m->mechanism != CKM_EC_KEY_PAIR_GEN)
        rv = CKR_MECHANISM_INVALID;
    else if (!(ss->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    else if ((rv = template_check(pub_t, pub_n, &labelled)) != CKR_OK ||
             (rv = template_check(priv_t, priv_n, &labelled)) != CKR_OK)
        ;
    else if (!labelled)
        rv = CKR_TEMPLATE_INCOMPLETE; /* replacing the key is never implied */
    else if (!s->pin_set)
        rv = CKR_USER_PIN_NOT_INITIALIZED;
    else if (s->logged_in != ROLE_USER)
        rv = CKR_USER_NOT_LOGGED_IN;
    if (rv == CKR_OK)
        old = s->cert[0];
    pthread_mutex_unlock(&p11_lock);
    if (rv != CKR_OK)
        return rv;
    rv = new_signer(s, &old);
    if (rv == CKR_OK) {
        *pub = slot * 16 + OBJ_SIGNER_PUB;
        *priv = slot * 16 + OBJ_SIGNER_PRIV;
    }
    return rv;
}
