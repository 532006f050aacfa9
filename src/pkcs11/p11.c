/* p11.c - the PKCS#11 entry points: module, slots, tokens, sessions,
 * login and objects. Signing and key replacement are in sign.c. */
#include "pkcs11/module.h"

#include "util/pin.h"

#include <stdio.h>
#include <string.h>

pthread_mutex_t p11_lock = PTHREAD_MUTEX_INITIALIZER;
int p11_initialized;
p11_slot *p11_slots[P11_SLOTS_MAX];
CK_ULONG p11_nslots;
static p11_session sessions[P11_SESSIONS_MAX];

static void pad(CK_UTF8CHAR *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    memset(dst, ' ', cap);
    memcpy(dst, src, n < cap ? n : cap);
}

CK_RV C_Initialize(void *init_args)
{
    CK_C_INITIALIZE_ARGS *a = init_args;
    if (a && a->pReserved)
        return CKR_ARGUMENTS_BAD;
    /* our own locks, or none of the application's */
    if (a && a->CreateMutex && !(a->flags & CKF_OS_LOCKING_OK))
        return CKR_CANT_LOCK;
    pthread_mutex_lock(&p11_lock);
    CK_RV rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
    if (!p11_initialized) {
        rv = p11_slots_load();
        if (rv == CKR_OK)
            p11_initialized = 1;
        else
            p11_slots_free();
    }
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

static void session_end(p11_session *ss)
{
    if (ss->hashing)
        thsm_sha256_release(&ss->sha);
    memset(ss, 0, sizeof(*ss));
}

CK_RV C_Finalize(void *reserved)
{
    if (reserved)
        return CKR_ARGUMENTS_BAD;
    pthread_mutex_lock(&p11_lock);
    CK_RV rv = p11_initialized ? CKR_OK : CKR_CRYPTOKI_NOT_INITIALIZED;
    if (p11_initialized) {
        for (int i = 0; i < P11_SESSIONS_MAX; i++)
            if (sessions[i].used)
                session_end(&sessions[i]);
        p11_slots_free();
        p11_initialized = 0;
    }
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

CK_RV C_GetInfo(CK_INFO *info)
{
    if (!p11_initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    memset(info, 0, sizeof(*info));
    info->cryptokiVersion.major = CRYPTOKI_VERSION_MAJOR;
    info->cryptokiVersion.minor = CRYPTOKI_VERSION_MINOR;
    pad(info->manufacturerID, sizeof(info->manufacturerID), "TinyHSM");
    pad(info->libraryDescription, sizeof(info->libraryDescription),
        "TinyHSM PKCS#11 module");
    info->libraryVersion.major = 0;
    info->libraryVersion.minor = 1;
    return CKR_OK;
}

CK_RV C_GetSlotList(CK_BBOOL present, CK_SLOT_ID *list, CK_ULONG *count)
{
    (void)present; /* a slot is listed whether or not its device answers */
    if (!p11_initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (!count)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = CKR_OK;
    if (list && *count < p11_nslots)
        rv = CKR_BUFFER_TOO_SMALL;
    else if (list)
        for (CK_ULONG i = 0; i < p11_nslots; i++)
            list[i] = i;
    *count = p11_nslots;
    return rv;
}

static p11_slot *slot_of(CK_SLOT_ID id)
{
    return p11_initialized && id < p11_nslots ? p11_slots[id] : NULL;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO *info)
{
    if (!p11_initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    p11_slot *s = slot_of(id);
    if (!s)
        return CKR_SLOT_ID_INVALID;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    memset(info, 0, sizeof(*info));
    pad(info->slotDescription, sizeof(info->slotDescription), s->port);
    pad(info->manufacturerID, sizeof(info->manufacturerID), "TinyHSM");
    info->flags = CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE | CKF_HW_SLOT;
    return CKR_OK;
}

/* The CKF_*_PIN_* flags of one role from its state and tries (of max);
 * flags[] holds its LOCKED, FINAL_TRY and COUNT_LOW flags. A running wait
 * after a wrong PIN changes none of them: it spends no try. */
static CK_FLAGS role_flags(int pin, unsigned long tries, unsigned long max,
                           const CK_FLAGS flags[3])
{
    if (pin == DEV_PIN_NONE)
        return 0;
    if (pin == DEV_PIN_BLOCKED || tries == 0)
        return flags[0];
    if (tries == 1)
        return flags[1] | flags[2];
    return tries < max ? flags[2] : 0;
}

static CK_FLAGS pin_flags(const p11_dev_state *st)
{
    static const CK_FLAGS user[3] = {CKF_USER_PIN_LOCKED, CKF_USER_PIN_FINAL_TRY,
                                     CKF_USER_PIN_COUNT_LOW};
    static const CK_FLAGS so[3] = {CKF_SO_PIN_LOCKED, CKF_SO_PIN_FINAL_TRY,
                                   CKF_SO_PIN_COUNT_LOW};
    if (st->pin == DEV_PIN_NONE)
        return 0;
    return CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
           role_flags(st->pin, st->tries, P11_USER_TRIES, user) |
           role_flags(st->so, st->so_tries, P11_SO_TRIES, so);
}

CK_RV C_GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO *info)
{
    if (!p11_initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    p11_slot *s = slot_of(id);
    p11_conn *c;
    p11_dev_state st;
    char serial[128], label[64];
    if (!s)
        return CKR_SLOT_ID_INVALID;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    if (p11_conn_take(s, 0, &c) != CKR_OK)
        return CKR_TOKEN_NOT_PRESENT;
    int rc = p11_dev_status(c->dev, &st);
    if (rc == DEV_OK)
        rc = p11_dev_serial(c->dev, serial, sizeof(serial));
    p11_conn_give(s, c, rc);
    if (rc == DEV_GONE)
        return CKR_TOKEN_NOT_PRESENT;
    if (rc != DEV_OK)
        return CKR_DEVICE_ERROR;
    size_t n = strlen(serial);
    memset(info, 0, sizeof(*info));
    snprintf(label, sizeof(label), "TinyHSM %.24s", serial); /* all of it */
    pad(info->label, sizeof(info->label), label);
    pad(info->manufacturerID, sizeof(info->manufacturerID), "TinyHSM");
    pad(info->model, sizeof(info->model), "TinyHSM");
    pad(info->serialNumber, sizeof(info->serialNumber),
        serial + (n > 16 ? n - 16 : 0));
    info->flags = CKF_TOKEN_INITIALIZED | pin_flags(&st);
    info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
    info->ulSessionCount = CK_UNAVAILABLE_INFORMATION;
    info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
    info->ulRwSessionCount = CK_UNAVAILABLE_INFORMATION;
    info->ulMaxPinLen = THSM_PIN_MAX;
    info->ulMinPinLen = THSM_PIN_MIN;
    info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->hardwareVersion.minor = 1;
    info->firmwareVersion.minor = 1;
    pthread_mutex_lock(&p11_lock);
    s->pin_set = st.pin != DEV_PIN_NONE;
    pthread_mutex_unlock(&p11_lock);
    return CKR_OK;
}

static const CK_MECHANISM_TYPE mechs[] = {CKM_ECDSA, CKM_ECDSA_SHA256,
                                          CKM_EC_KEY_PAIR_GEN};

CK_RV C_GetMechanismList(CK_SLOT_ID id, CK_MECHANISM_TYPE *list,
                         CK_ULONG *count)
{
    const CK_ULONG n = sizeof(mechs) / sizeof(mechs[0]);
    if (!p11_initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (!slot_of(id))
        return CKR_SLOT_ID_INVALID;
    if (!count)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = CKR_OK;
    if (list && *count < n)
        rv = CKR_BUFFER_TOO_SMALL;
    else if (list)
        memcpy(list, mechs, sizeof(mechs));
    *count = n;
    return rv;
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID id, CK_MECHANISM_TYPE type,
                         CK_MECHANISM_INFO *info)
{
    if (!p11_initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (!slot_of(id))
        return CKR_SLOT_ID_INVALID;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    if (type != CKM_ECDSA && type != CKM_ECDSA_SHA256 &&
        type != CKM_EC_KEY_PAIR_GEN)
        return CKR_MECHANISM_INVALID;
    info->ulMinKeySize = info->ulMaxKeySize = 256;
    info->flags = CKF_HW | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS |
                  (type == CKM_EC_KEY_PAIR_GEN ? CKF_GENERATE_KEY_PAIR : CKF_SIGN);
    return CKR_OK;
}

/* ---- sessions -------------------------------------------------------------- */

/* The session, or NULL (and *rv) when h names none; a session of a device
 * that went away has ended. Called with p11_lock held. */
p11_session *p11_session_get(CK_SESSION_HANDLE h, CK_RV *rv)
{
    *rv = p11_initialized ? CKR_SESSION_HANDLE_INVALID
                          : CKR_CRYPTOKI_NOT_INITIALIZED;
    if (!p11_initialized || h < 1 || h > P11_SESSIONS_MAX || !sessions[h - 1].used)
        return NULL;
    p11_session *ss = &sessions[h - 1];
    if (ss->epoch != p11_slots[ss->slot]->epoch) {
        session_end(ss);
        *rv = CKR_DEVICE_REMOVED;
        return NULL;
    }
    *rv = CKR_OK;
    return ss;
}

/* No session of this application uses slot id. With p11_lock held. */
static int slot_idle(CK_SLOT_ID id)
{
    for (int i = 0; i < P11_SESSIONS_MAX; i++)
        if (sessions[i].used && sessions[i].slot == id &&
            sessions[i].epoch == p11_slots[id]->epoch)
            return 0;
    return 1;
}

CK_RV C_OpenSession(CK_SLOT_ID id, CK_FLAGS flags, void *app, CK_NOTIFY notify,
                    CK_SESSION_HANDLE *out)
{
    (void)app;
    (void)notify;
    if (!p11_initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    p11_slot *s = slot_of(id);
    if (!s)
        return CKR_SLOT_ID_INVALID;
    if (!(flags & CKF_SERIAL_SESSION))
        return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    if (!out)
        return CKR_ARGUMENTS_BAD;
    /* the token's objects as they are now, read by the first session */
    pthread_mutex_lock(&p11_lock);
    int first = slot_idle(id);
    int so = s->logged_in == ROLE_SO;
    pthread_mutex_unlock(&p11_lock);
    if (so && !(flags & CKF_RW_SESSION))
        return CKR_SESSION_READ_WRITE_SO_EXISTS;
    CK_RV rv = first ? p11_certs_load(s) : CKR_OK;
    if (rv == CKR_DEVICE_REMOVED)
        return CKR_TOKEN_NOT_PRESENT;
    if (rv != CKR_OK)
        return rv;
    pthread_mutex_lock(&p11_lock);
    rv = CKR_SESSION_COUNT;
    for (int i = 0; i < P11_SESSIONS_MAX; i++) {
        if (sessions[i].used)
            continue;
        memset(&sessions[i], 0, sizeof(sessions[i]));
        sessions[i].used = 1;
        sessions[i].slot = id;
        sessions[i].flags = flags;
        sessions[i].epoch = s->epoch;
        *out = (CK_SESSION_HANDLE)i + 1;
        rv = CKR_OK;
        break;
    }
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

/* Called with p11_lock held: the application's last session of a slot
 * ends its login (PKCS#11). */
static void last_session_logout(CK_SLOT_ID id)
{
    for (int i = 0; i < P11_SESSIONS_MAX; i++)
        if (sessions[i].used && sessions[i].slot == id)
            return;
    p11_logout_locked(p11_slots[id]);
}

CK_RV C_CloseSession(CK_SESSION_HANDLE h)
{
    CK_RV rv;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    if (ss) {
        CK_SLOT_ID id = ss->slot;
        session_end(ss);
        last_session_logout(id);
    }
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

CK_RV C_CloseAllSessions(CK_SLOT_ID id)
{
    pthread_mutex_lock(&p11_lock);
    CK_RV rv = !p11_initialized ? CKR_CRYPTOKI_NOT_INITIALIZED
               : slot_of(id)    ? CKR_OK
                                : CKR_SLOT_ID_INVALID;
    if (rv == CKR_OK) {
        for (int i = 0; i < P11_SESSIONS_MAX; i++)
            if (sessions[i].used && sessions[i].slot == id)
                session_end(&sessions[i]);
        last_session_logout(id);
    }
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO *info)
{
    CK_RV rv;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    if (ss && !info)
        rv = CKR_ARGUMENTS_BAD;
    if (ss && info) {
        int rw = (ss->flags & CKF_RW_SESSION) != 0;
        int role = p11_slots[ss->slot]->logged_in;
        info->slotID = ss->slot;
        info->flags = ss->flags;
        info->ulDeviceError = 0;
        info->state = role == ROLE_SO     ? CKS_RW_SO_FUNCTIONS
                      : role == ROLE_USER ? (rw ? CKS_RW_USER_FUNCTIONS
                                                : CKS_RO_USER_FUNCTIONS)
                      : (rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION);
    }
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

/* ---- login ----------------------------------------------------------------- */

/* Whether a read-only session of slot id is open. With p11_lock held. */
static int ro_session_open(CK_SLOT_ID id)
{
    for (int i = 0; i < P11_SESSIONS_MAX; i++)
        if (sessions[i].used && sessions[i].slot == id &&
            !(sessions[i].flags & CKF_RW_SESSION))
            return 1;
    return 0;
}

CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR *pin,
              CK_ULONG len)
{
    CK_RV rv;
    char text[THSM_PIN_MAX + 1];
    int role = user == CKU_SO ? ROLE_SO : ROLE_USER;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    p11_slot *s = ss ? p11_slots[ss->slot] : NULL;
    if (ss && user != CKU_USER && user != CKU_SO)
        rv = user == CKU_CONTEXT_SPECIFIC ? CKR_OPERATION_NOT_INITIALIZED
                                          : CKR_USER_TYPE_INVALID;
    else if (ss && s->logged_in)
        rv = s->logged_in == role ? CKR_USER_ALREADY_LOGGED_IN
                                  : CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    else if (ss && role == ROLE_SO && ro_session_open(ss->slot))
        rv = CKR_SESSION_READ_ONLY_EXISTS;
    pthread_mutex_unlock(&p11_lock);
    if (rv != CKR_OK)
        return rv;
    /* a PIN that cannot be valid costs no try: checked here */
    rv = p11_pin_text(pin, len, text);
    if (rv == CKR_OK)
        rv = p11_login(s, role, text);
    explicit_bzero(text, sizeof(text));
    return rv;
}

CK_RV C_Logout(CK_SESSION_HANDLE h)
{
    CK_RV rv;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    p11_slot *s = ss ? p11_slots[ss->slot] : NULL;
    pthread_mutex_unlock(&p11_lock);
    return s ? p11_logout(s) : rv;
}

/* ---- objects --------------------------------------------------------------- */

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
                          CK_ATTRIBUTE *t, CK_ULONG n)
{
    CK_RV rv;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    if (ss && (!t && n))
        rv = CKR_ARGUMENTS_BAD;
    else if (ss && obj / 16 != ss->slot)
        rv = CKR_OBJECT_HANDLE_INVALID;
    else if (ss)
        rv = p11_attrs(p11_slots[ss->slot], obj, t, n);
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n)
{
    CK_RV rv;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    if (ss && (!t && n))
        rv = CKR_ARGUMENTS_BAD;
    else if (ss && ss->finding)
        rv = CKR_OPERATION_ACTIVE;
    else if (ss) {
        p11_find(ss, t, n);
        ss->finding = 1;
    }
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE *out, CK_ULONG max,
                    CK_ULONG *count)
{
    CK_RV rv;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    if (ss && (!out || !count))
        rv = CKR_ARGUMENTS_BAD;
    else if (ss && !ss->finding)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (ss) {
        *count = 0;
        while (*count < max && ss->pos < ss->nfound)
            out[(*count)++] = ss->found[ss->pos++];
    }
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
    CK_RV rv;
    pthread_mutex_lock(&p11_lock);
    p11_session *ss = p11_session_get(h, &rv);
    if (ss && !ss->finding)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (ss)
        ss->finding = 0;
    pthread_mutex_unlock(&p11_lock);
    return rv;
}
