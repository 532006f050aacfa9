/* pin.c - C_InitPIN and C_SetPIN: the security officer's unblock and
 * either role's PIN change (the login itself is in p11.c). */
#include "pkcs11/module.h"

#include <string.h>

CK_RV p11_pin_text(const CK_UTF8CHAR *pin, CK_ULONG len,
                   char text[THSM_PIN_MAX + 1])
{
    text[0] = '\0';
    if (!pin)
        return CKR_ARGUMENTS_BAD; /* no protected authentication path */
    if (len < THSM_PIN_MIN || len > THSM_PIN_MAX)
        return CKR_PIN_LEN_RANGE;
    memcpy(text, pin, len);
    text[len] = '\0';
    return thsm_pin_format_ok(text) ? CKR_OK : CKR_PIN_INVALID;
}

/* A new PIN as text; the device would refuse a weak one, so it is refused
 * here with the code PKCS#11 has for it. */
static CK_RV new_pin_text(const CK_UTF8CHAR *pin, CK_ULONG len,
                          char text[THSM_PIN_MAX + 1])
{
    CK_RV rv = p11_pin_text(pin, len, text);
    return rv == CKR_OK && thsm_pin_weak(text) ? CKR_PIN_TOO_WEAK : rv;
}

/* The slot of session h, which must be read/write, and the application's
 * role there. NULL and *rv when there is none. */
static p11_slot *rw_session_slot(CK_SESSION_HANDLE h, int *role, CK_RV *rv)
{
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, rv);
    p11_slot *s = ss ? p11_slots[ss->slot] : NULL;
    if (ss && !(ss->flags & CKF_RW_SESSION)) {
        *rv = CKR_SESSION_READ_ONLY;
        s = NULL;
    }
    *role = s ? s->logged_in : ROLE_NONE;
    pthread_mutex_unlock(&p11_lock);
    return s;
}

/* In an SO session: a new user PIN, blocked or not; the keys stay. */
CK_RV C_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR *pin, CK_ULONG len)
{
    CK_RV rv;
    int role;
    char text[THSM_PIN_MAX + 1];
    p11_slot *s = rw_session_slot(h, &role, &rv);
    if (!s)
        return rv;
    if (role != ROLE_SO)
        return CKR_USER_NOT_LOGGED_IN;
    rv = new_pin_text(pin, len, text);
    if (rv == CKR_OK)
        rv = p11_init_pin(s, text);
    explicit_bzero(text, sizeof(text));
    return rv;
}

/* The SO's PIN in an SO session, otherwise the user's. */
CK_RV C_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR *old, CK_ULONG old_len,
               CK_UTF8CHAR *pin, CK_ULONG len)
{
    CK_RV rv;
    int role;
    char was[THSM_PIN_MAX + 1], text[THSM_PIN_MAX + 1];
    p11_slot *s = rw_session_slot(h, &role, &rv);
    if (!s)
        return rv;
    rv = p11_pin_text(old, old_len, was);
    if (rv == CKR_OK)
        rv = new_pin_text(pin, len, text);
    if (rv == CKR_OK)
        rv = p11_set_pin(s, role == ROLE_SO ? ROLE_SO : ROLE_USER, was, text);
    explicit_bzero(was, sizeof(was));
    explicit_bzero(text, sizeof(text));
    return rv;
}
