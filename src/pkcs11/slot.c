/* slot.c - devices (slots), their connection pools and the login. */
#include "pkcs11/module.h"

#include "host/defaults.h"
#include "util/pin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* $TINYHSM_PKCS11_POOL, else P11_POOL_DEFAULT. */
static int pool_size(void)
{
    const char *v = getenv("TINYHSM_PKCS11_POOL");
    int n = v ? atoi(v) : 0;
    return n >= 1 && n <= P11_POOL_MAX ? n : P11_POOL_DEFAULT;
}

static CK_RV slot_add(const char *port)
{
    if (p11_nslots == P11_SLOTS_MAX || strlen(port) >= P11_PORT_MAX)
        return CKR_GENERAL_ERROR;
    p11_slot *s = calloc(1, sizeof(*s));
    if (!s)
        return CKR_HOST_MEMORY;
    snprintf(s->port, sizeof(s->port), "%s", port);
    s->pool = pool_size();
    pthread_cond_init(&s->freed, NULL);
    p11_slots[p11_nslots++] = s;
    return CKR_OK;
}

/* "port = PATH" lines; '#' starts a comment. */
static CK_RV conf_read(FILE *f)
{
    char line[P11_PORT_MAX + 64], path[P11_PORT_MAX];
    CK_RV rv = CKR_OK;
    while (rv == CKR_OK && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "#\r\n")] = '\0';
        if (sscanf(line, " port = %4095[^\n]", path) == 1) {
            size_t n = strlen(path);
            while (n && path[n - 1] == ' ')
                path[--n] = '\0';
            rv = slot_add(path);
        } else if (line[strspn(line, " \t")] != '\0') {
            rv = CKR_GENERAL_ERROR; /* a line we do not understand */
        }
    }
    return rv;
}

static int conf_path(char *buf, size_t cap, int *explicit)
{
    const char *env = getenv("TINYHSM_PKCS11_CONF");
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    *explicit = env && *env;
    if (*explicit)
        return snprintf(buf, cap, "%s", env) < (int)cap ? 0 : -1;
    if (getenv("TINYHSM_PORT") && *getenv("TINYHSM_PORT"))
        return -1; /* tinyhsm's own choice wins over the user's file */
    if (xdg && *xdg)
        return snprintf(buf, cap, "%s/tinyhsm/pkcs11.conf", xdg) < (int)cap ? 0 : -1;
    if (home && *home)
        return snprintf(buf, cap, "%s/.config/tinyhsm/pkcs11.conf", home) < (int)cap
                   ? 0 : -1;
    return -1;
}

CK_RV p11_slots_load(void)
{
    char path[P11_PORT_MAX];
    int explicit, is_default;
    if (conf_path(path, sizeof(path), &explicit) == 0) {
        FILE *f = fopen(path, "re");
        if (!f && explicit)
            return CKR_GENERAL_ERROR;
        if (f) {
            CK_RV rv = conf_read(f);
            fclose(f);
            if (rv != CKR_OK || p11_nslots > 0)
                return rv;
        }
    }
    if (thsm_default_port(path, sizeof(path), &is_default) != 0)
        return CKR_GENERAL_ERROR;
    return slot_add(path);
}

static void pin_free(char *pin)
{
    if (!pin)
        return;
    explicit_bzero(pin, THSM_PIN_MAX + 1);
    munlock(pin, (size_t)sysconf(_SC_PAGESIZE));
    munmap(pin, (size_t)sysconf(_SC_PAGESIZE));
}

static void pin_wipe(p11_slot *s)
{
    pin_free(s->pin);
    s->pin = NULL;
}

/* Closes every idle connection but keep; busy ones close when given
 * back. */
static void pool_drop(p11_slot *s, const p11_conn *keep)
{
    for (int i = 0; i < P11_POOL_MAX; i++) {
        p11_conn *c = &s->conns[i];
        if (c == keep)
            continue;
        if (c->busy) {
            c->stale = 1;
        } else {
            p11_dev_close(c->dev);
            c->dev = NULL;
            c->authed = 0;
        }
    }
}

void p11_slots_free(void)
{
    for (CK_ULONG i = 0; i < p11_nslots; i++) {
        p11_slot *s = p11_slots[i];
        pool_drop(s, NULL);
        pin_wipe(s);
        pthread_cond_destroy(&s->freed);
        free(s);
        p11_slots[i] = NULL;
    }
    p11_nslots = 0;
}

CK_RV p11_rv(int dev_rc)
{
    switch (dev_rc) {
    case DEV_OK: return CKR_OK;
    case DEV_GONE: return CKR_DEVICE_REMOVED;
    case DEV_AUTH_REQUIRED: return CKR_USER_NOT_LOGGED_IN;
    case DEV_PIN_INCORRECT: return CKR_PIN_INCORRECT;
    case DEV_PIN_LOCKED: return CKR_PIN_LOCKED;
    case DEV_NO_PIN: return CKR_USER_PIN_NOT_INITIALIZED;
    case DEV_NO_KEY: return CKR_KEY_HANDLE_INVALID;
    /* a wait longer than P11_PIN_WAIT_MAX: the token refuses tries for now
     * (docs/DECISIONS.md, "The SO role in the PKCS#11 module ...") */
    case DEV_PIN_DELAY: return CKR_PIN_LOCKED;
    case DEV_PIN_REFUSED: return CKR_PIN_INVALID;
    case DEV_NO_SO_PIN: return CKR_USER_TYPE_INVALID; /* no SO role yet */
    default: return CKR_DEVICE_ERROR;
    }
}

/* Called with p11_lock held. */
static p11_conn *pool_pick(p11_slot *s, int auth)
{
    p11_conn *pick = NULL;
    for (int i = 0; i < s->pool; i++) {
        p11_conn *c = &s->conns[i];
        if (c->busy)
            continue;
        /* best: connected and already in the wanted login state */
        if (c->dev && c->authed == (auth ? s->logged_in : ROLE_NONE))
            return c;
        if (!pick || (c->dev && !pick->dev))
            pick = c;
    }
    return pick;
}

CK_RV p11_conn_take(p11_slot *s, int auth, p11_conn **out)
{
    struct timespec until;
    char pin[THSM_PIN_MAX + 1] = "";
    p11_conn *c;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += P11_TIMEOUT_MS / 1000;
    pthread_mutex_lock(&p11_lock);
    while (!(c = pool_pick(s, auth)))
        if (pthread_cond_timedwait(&s->freed, &p11_lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p11_lock);
            return CKR_DEVICE_ERROR; /* every connection stuck: never hang */
        }
    c->busy = 1;
    c->stale = 0;
    int role = auth && c->authed != s->logged_in ? s->logged_in : ROLE_NONE;
    if (role)
        memcpy(pin, s->pin, sizeof(pin));
    pthread_mutex_unlock(&p11_lock);

    int rc = c->dev ? DEV_OK : p11_dev_open(s->port, P11_TIMEOUT_MS, &c->dev);
    if (rc == DEV_OK && role &&
        (rc = p11_dev_login(c->dev, role == ROLE_SO, pin, P11_PIN_WAIT_MAX)) ==
            DEV_OK)
        c->authed = role;
    explicit_bzero(pin, sizeof(pin));
    if (rc != DEV_OK) {
        p11_conn_give(s, c, rc);
        return p11_rv(rc);
    }
    *out = c;
    return CKR_OK;
}

/* The device went away: its logins are gone, and so are this
 * application's login and sessions. Called with p11_lock held. */
static void slot_gone(p11_slot *s)
{
    pool_drop(s, NULL);
    s->logged_in = 0;
    pin_wipe(s);
    s->epoch++;
}

void p11_conn_give(p11_slot *s, p11_conn *c, int rc)
{
    pthread_mutex_lock(&p11_lock);
    c->busy = 0;
    if (rc == DEV_GONE)
        slot_gone(s);
    if (rc == DEV_GONE || rc == DEV_ERROR || c->stale) {
        p11_dev_close(c->dev);
        c->dev = NULL;
        c->authed = 0;
    }
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&p11_lock);
}

static int pin_keep(p11_slot *s, const char *pin)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    if (mlock(p, page) != 0) {
        munmap(p, page);
        return -1;
    }
    s->pin = p;
    snprintf(s->pin, THSM_PIN_MAX + 1, "%s", pin);
    return 0;
}

/* Whether the device's PIN state lets role log in: DEV_OK, or why not. */
static int login_allowed(p11_dev *d, int role)
{
    p11_dev_state st;
    int rc = p11_dev_status(d, &st);
    if (rc != DEV_OK)
        return rc;
    if (role == ROLE_SO && st.pin != DEV_PIN_NONE && st.so == DEV_PIN_NONE)
        return DEV_NO_SO_PIN;
    int pin = role == ROLE_SO ? st.so : st.pin;
    return pin == DEV_PIN_NONE      ? DEV_NO_PIN
           : pin == DEV_PIN_BLOCKED ? DEV_PIN_LOCKED
                                    : DEV_OK;
}

CK_RV p11_login(p11_slot *s, int role, const char *pin)
{
    p11_conn *c;
    CK_RV rv = p11_conn_take(s, 0, &c);
    if (rv != CKR_OK)
        return rv;
    int rc = login_allowed(c->dev, role);
    if (rc == DEV_OK)
        rc = p11_dev_login(c->dev, role == ROLE_SO, pin, P11_PIN_WAIT_MAX);
    pthread_mutex_lock(&p11_lock);
    if (rc == DEV_OK && s->logged_in) {
        rv = CKR_USER_ALREADY_LOGGED_IN; /* another thread was quicker */
    } else if (rc == DEV_OK && pin_keep(s, pin) != 0) {
        rv = CKR_HOST_MEMORY;
    } else if (rc == DEV_OK) {
        s->logged_in = role;
        c->authed = role;
    }
    if (rv != CKR_OK)
        c->stale = 1; /* logged in for nobody: close it */
    pthread_mutex_unlock(&p11_lock);
    p11_conn_give(s, c, rc);
    return rc == DEV_OK ? rv : p11_rv(rc);
}

/* Role's PIN is fresh now, and c is logged in as role on the device. With
 * p11_lock held. */
static void pin_changed(p11_slot *s, p11_conn *c, int role, const char *fresh)
{
    if (role == ROLE_USER)
        pool_drop(s, c); /* the device ended every other login */
    if (s->logged_in != role) {
        c->stale = 1; /* logged in for nobody: close it */
        return;
    }
    c->authed = role;
    char *was = s->pin;
    if (pin_keep(s, fresh) == 0)
        pin_free(was);
    else
        p11_logout_locked(s); /* the new PIN cannot be kept to log in again */
}

CK_RV p11_set_pin(p11_slot *s, int role, const char *old, const char *fresh)
{
    p11_conn *c;
    CK_RV rv = p11_conn_take(s, 0, &c);
    if (rv != CKR_OK)
        return rv;
    int rc = login_allowed(c->dev, role);
    if (rc == DEV_OK)
        rc = p11_dev_set_pin(c->dev, role == ROLE_SO, old, fresh,
                             P11_PIN_WAIT_MAX);
    pthread_mutex_lock(&p11_lock);
    if (rc == DEV_OK)
        pin_changed(s, c, role, fresh);
    pthread_mutex_unlock(&p11_lock);
    p11_conn_give(s, c, rc);
    return p11_rv(rc);
}

CK_RV p11_init_pin(p11_slot *s, const char *fresh)
{
    p11_conn *c;
    CK_RV rv = p11_conn_take(s, 1, &c);
    if (rv != CKR_OK)
        return rv;
    int rc = p11_dev_unblock(c->dev, fresh);
    if (rc == DEV_OK) {
        pthread_mutex_lock(&p11_lock);
        pool_drop(s, c); /* the device ended every other login */
        pthread_mutex_unlock(&p11_lock);
    }
    p11_conn_give(s, c, rc);
    return p11_rv(rc);
}

CK_RV p11_logout_locked(p11_slot *s)
{
    CK_RV rv = s->logged_in ? CKR_OK : CKR_USER_NOT_LOGGED_IN;
    s->logged_in = 0;
    pin_wipe(s);
    pool_drop(s, NULL); /* closing a connection ends its device login */
    return rv;
}

CK_RV p11_logout(p11_slot *s)
{
    pthread_mutex_lock(&p11_lock);
    CK_RV rv = p11_logout_locked(s);
    pthread_mutex_unlock(&p11_lock);
    return rv;
}

CK_RV p11_certs_load(p11_slot *s)
{
    p11_conn *c;
    p11_cert tmp[2];
    CK_RV rv = p11_conn_take(s, 0, &c);
    if (rv != CKR_OK)
        return rv;
    int rc = DEV_OK;
    for (int ca = 0; ca < 2 && (rc == DEV_OK || rc == DEV_NO_KEY); ca++) {
        size_t len = 0;
        memset(&tmp[ca], 0, sizeof(tmp[ca]));
        rc = p11_dev_cert_der(c->dev, ca, tmp[ca].der, sizeof(tmp[ca].der), &len);
        tmp[ca].der_len = len;
        tmp[ca].present = rc == DEV_OK && p11_cert_parse(&tmp[ca]) == 0;
    }
    p11_dev_state st;
    if (rc == DEV_OK || rc == DEV_NO_KEY)
        rc = p11_dev_status(c->dev, &st);
    p11_conn_give(s, c, rc);
    if (rc != DEV_OK)
        return p11_rv(rc);
    pthread_mutex_lock(&p11_lock);
    tmp[0].imported = st.signer_imported;
    memcpy(s->cert, tmp, sizeof(tmp));
    s->pin_set = st.pin != DEV_PIN_NONE;
    pthread_mutex_unlock(&p11_lock);
    return CKR_OK;
}
