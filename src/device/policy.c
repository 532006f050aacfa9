/*
 * policy.c - the owner's signing policy (policy.h), layer: policy. The
 * rules, the last versions and the rate counters live in dev->st.policy
 * (sealed with the state, store.c). A check answers its refusal and changes
 * nothing; thsm_policy_note_signed changes the state the caller then saves.
 *
 * Rate windows are fixed: the hour now / 3600 and the day now / 86400 of
 * the port's clock. A clock that goes back keeps counting in the window it
 * had (it never opens a fresh one).
 */
#include <stdio.h>
#include <string.h>

#include "device/policy.h"
#include "device/response.h"
#include "util/certvalues.h"
#include "util/word.h"

#define HOUR 3600
#define DAY 86400

static const char *const rules[THSM_POLICY_RULES] = {
    THSM_P_BOARDS,   THSM_P_FORMATS,  THSM_P_RISING, THSM_P_MAX_SIZE,
    THSM_P_PER_HOUR, THSM_P_PER_DAY, THSM_P_DIGEST, THSM_P_IMPORTS,
};

const char *thsm_policy_rule(unsigned i)
{
    return i < THSM_POLICY_RULES ? rules[i] : NULL;
}

static const char *format_name(uint8_t format)
{
    return format == THSM_IMG_SECUREBOOT10 ? THSM_V_SECUREBOOT10
           : format == THSM_IMG_MCUBOOT    ? THSM_V_MCUBOOT
                                           : "?";
}

/* ---- checks --------------------------------------------------------------- */

static uint32_t window(thsm_device *dev, uint32_t len)
{
    int64_t now = dev->port->now(dev->port->ctx);
    return now > 0 ? (uint32_t)(now / len) : 0;
}

/* Signatures counted in the current window (a window the clock went back
 * from still counts). */
static uint32_t in_window(uint32_t now, uint32_t at, uint32_t count)
{
    return now > at ? 0 : count;
}

static int refuse(thsm_device *dev, const char *rule, const char *text)
{
    thsm_resp_error(dev, THSM_E_POLICY, "%s %s", rule, text);
    return -1;
}

static int check_rate(thsm_device *dev)
{
    const thsm_policy *p = &dev->st.policy;
    char text[96];
    if (p->r.per_hour &&
        in_window(window(dev, HOUR), p->hour, p->hour_count) >= p->r.per_hour) {
        snprintf(text, sizeof(text), "at most %lu signatures an hour; wait "
                 "for the next hour", (unsigned long)p->r.per_hour);
        return refuse(dev, THSM_POLICY_RATE_HOUR, text);
    }
    if (p->r.per_day &&
        in_window(window(dev, DAY), p->day, p->day_count) >= p->r.per_day) {
        snprintf(text, sizeof(text), "at most %lu signatures a day; wait for "
                 "the next day (UTC)", (unsigned long)p->r.per_day);
        return refuse(dev, THSM_POLICY_RATE_DAY, text);
    }
    return 0;
}

static bool board_allowed(const thsm_policy_rules *r, const char *board)
{
    if (r->n_boards == 0)
        return true;
    for (unsigned i = 0; i < r->n_boards; i++)
        if (strcmp(r->boards[i], board) == 0)
            return true;
    return false;
}

/* The last version entry of (format, name), or NULL. */
static thsm_policy_last *last_of(thsm_policy *p, uint8_t format,
                                 const char *name)
{
    for (unsigned i = 0; i < p->n_last; i++)
        if (p->last[i].format == format && strcmp(p->last[i].name, name) == 0)
            return &p->last[i];
    return NULL;
}

static int check_version(thsm_device *dev, const thsm_image_info *img)
{
    thsm_policy *p = &dev->st.policy;
    const thsm_policy_last *l = last_of(p, img->format, img->board);
    char text[160];
    if (!p->r.rising)
        return 0;
    if (img->version_clamped) {
        snprintf(text, sizeof(text), "version %.31s: MAJOR and MINOR above "
                 "65535 cannot be ordered", img->version_text);
        return refuse(dev, THSM_POLICY_VERSION_RANGE, text);
    }
    if (!l && p->n_last == THSM_POLICY_VERSIONS) {
        snprintf(text, sizeof(text), "the device keeps the last version of "
                 "%d names, all in use; %.16s would be a new one",
                 THSM_POLICY_VERSIONS, img->board);
        return refuse(dev, THSM_POLICY_VERSIONS_FULL, text);
    }
    if (!l || img->version > l->version)
        return 0;
    snprintf(text, sizeof(text), "%s%s%.16s: version %.31s is %s the last "
             "signed, %.31s", format_name(img->format),
             img->board[0] ? " " : "", img->board,
             img->version_text, img->version == l->version ? "the same as"
                                                          : "below",
             l->text);
    return refuse(dev, img->version == l->version ? THSM_POLICY_REPLAY
                                                  : THSM_POLICY_DOWNGRADE,
                  text);
}

int thsm_policy_check_image(thsm_device *dev, const thsm_image_info *img)
{
    const thsm_policy *p = &dev->st.policy;
    char text[96];
    if (p->r.formats && !(p->r.formats & (1u << img->format))) {
        snprintf(text, sizeof(text), "%s images are not allowed",
                 format_name(img->format));
        return refuse(dev, THSM_POLICY_FORMAT, text);
    }
    /* MCUboot's names too: else a host could pick a fresh name to sign a
       lower version under */
    if (!board_allowed(&p->r, img->board)) {
        snprintf(text, sizeof(text), "%s %.16s is not allowed",
                 img->format == THSM_IMG_MCUBOOT ? "image name" : "board",
                 img->board[0] ? img->board : "(none)");
        return refuse(dev, THSM_POLICY_BOARD, text);
    }
    if (thsm_policy_check_size(dev, img->size) != 0)
        return -1;
    if (check_version(dev, img) != 0)
        return -1;
    return check_rate(dev);
}

int thsm_policy_check_size(thsm_device *dev, uint32_t size)
{
    const thsm_policy *p = &dev->st.policy;
    char text[96];
    if (!p->r.max_size || size <= p->r.max_size)
        return 0;
    snprintf(text, sizeof(text), "%lu bytes, more than the %lu allowed",
             (unsigned long)size, (unsigned long)p->r.max_size);
    return refuse(dev, THSM_POLICY_SIZE, text);
}

int thsm_policy_check_digest(thsm_device *dev)
{
    if (dev->st.policy.r.digest_off)
        return refuse(dev, THSM_POLICY_DIGEST, "the policy allows only "
                      "images the device reads itself, no bare digest");
    return check_rate(dev);
}

int thsm_policy_check_import(thsm_device *dev)
{
    if (dev->st.policy.r.imports_off)
        return refuse(dev, THSM_POLICY_IMPORT, "the policy allows no key "
                      "import");
    return 0;
}

/* ---- what was signed ------------------------------------------------------ */

static bool note_rate(thsm_device *dev)
{
    thsm_policy *p = &dev->st.policy;
    if (!p->r.per_hour && !p->r.per_day)
        return false; /* no limit: no save per signature */
    uint32_t hour = window(dev, HOUR), day = window(dev, DAY);
    p->hour_count = in_window(hour, p->hour, p->hour_count) + 1;
    p->day_count = in_window(day, p->day, p->day_count) + 1;
    if (hour > p->hour)
        p->hour = hour;
    if (day > p->day)
        p->day = day;
    return true;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

/* Keeps img's version as the last of its (format, name) while the rising
 * rule is on: only then is it needed, and each kept version costs a state
 * save (a flash write on the board) per signature. */
static bool note_version(thsm_device *dev, const thsm_image_info *img)
{
    thsm_policy *p = &dev->st.policy;
    thsm_policy_last *l = last_of(p, img->format, img->board);
    if (!p->r.rising || (!l && p->n_last == THSM_POLICY_VERSIONS))
        return false;
    if (!l) {
        l = &p->last[p->n_last++];
        l->format = img->format;
        copy_name(l->name, sizeof(l->name), img->board);
    }
    l->version = img->version;
    copy_name(l->text, sizeof(l->text), img->version_text);
    return true;
}

bool thsm_policy_note_signed(thsm_device *dev, const thsm_image_info *img)
{
    bool changed = note_rate(dev);
    if (img && note_version(dev, img))
        changed = true;
    return changed;
}

/* ---- rules as text -------------------------------------------------------- */

static const char *on_off(bool on)
{
    return on ? THSM_V_ON : THSM_V_OFF;
}

static int parse_on_off(const char *value, uint8_t *on)
{
    if (strcmp(value, THSM_V_ON) == 0 || strcmp(value, THSM_V_OFF) == 0) {
        *on = strcmp(value, THSM_V_ON) == 0;
        return 0;
    }
    return -1;
}

/* A board name: what a SECUREBOOT10 header can hold, in words that survive
 * a list and a line. */
static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n > THSM_POLICY_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static const char *parse_boards(thsm_policy_rules *r, const char *v)
{
    r->n_boards = 0;
    memset(r->boards, 0, sizeof(r->boards));
    if (strcmp(v, THSM_V_ANY) == 0)
        return NULL;
    for (const char *s = v;; s++) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (!name_ok(s, n))
            return THSM_P_BOARDS " must be " THSM_V_ANY " or board names of "
                   "1 to 16 letters, digits, _ - or . separated by commas";
        if (r->n_boards == THSM_POLICY_BOARDS)
            return THSM_P_BOARDS " takes at most 8 names";
        memcpy(r->boards[r->n_boards], s, n);
        r->boards[r->n_boards][n] = '\0';
        for (unsigned i = 0; i < r->n_boards; i++)
            if (strcmp(r->boards[i], r->boards[r->n_boards]) == 0)
                return THSM_P_BOARDS " names a board twice";
        r->n_boards++;
        if (!end)
            return NULL;
        s = end;
    }
}

static const char *parse_formats(thsm_policy_rules *r, const char *v)
{
    r->formats = 0;
    if (strcmp(v, THSM_V_ANY) == 0)
        return NULL;
    for (const char *s = v;; s++) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        uint8_t f = n == strlen(THSM_V_SECUREBOOT10) &&
                            strncmp(s, THSM_V_SECUREBOOT10, n) == 0
                        ? THSM_IMG_SECUREBOOT10
                    : n == strlen(THSM_V_MCUBOOT) &&
                            strncmp(s, THSM_V_MCUBOOT, n) == 0
                        ? THSM_IMG_MCUBOOT
                        : 0;
        if (!f)
            return THSM_P_FORMATS " must be " THSM_V_ANY " or "
                   THSM_V_SECUREBOOT10 " and " THSM_V_MCUBOOT
                   " separated by commas";
        r->formats |= (uint8_t)(1u << f);
        if (!end)
            return NULL;
        s = end;
    }
}

static const char *parse_limit(uint32_t *out, const char *key, const char *v)
{
    if (thsm_parse_uint(v, 0, UINT32_MAX, out) == 0)
        return NULL;
    if (strcmp(key, THSM_P_MAX_SIZE) == 0)
        return THSM_P_MAX_SIZE " must be a number of bytes (0: no limit)";
    return strcmp(key, THSM_P_PER_HOUR) == 0
               ? THSM_P_PER_HOUR " must be a number (0: no limit)"
               : THSM_P_PER_DAY " must be a number (0: no limit)";
}

static const char *parse_switch(uint8_t *off, const char *key, const char *v)
{
    uint8_t on;
    if (parse_on_off(v, &on) != 0)
        return strcmp(key, THSM_P_RISING) == 0
                   ? THSM_P_RISING " must be " THSM_V_ON " or " THSM_V_OFF
               : strcmp(key, THSM_P_DIGEST) == 0
                   ? THSM_P_DIGEST " must be " THSM_V_ON " or " THSM_V_OFF
                   : THSM_P_IMPORTS " must be " THSM_V_ON " or " THSM_V_OFF;
    /* RISING is kept as on, the two others as off */
    *off = strcmp(key, THSM_P_RISING) == 0 ? on : !on;
    return NULL;
}

const char *thsm_policy_parse(thsm_policy_rules *r, const char *key,
                              const char *value)
{
    if (strcmp(key, THSM_P_BOARDS) == 0)
        return parse_boards(r, value);
    if (strcmp(key, THSM_P_FORMATS) == 0)
        return parse_formats(r, value);
    if (strcmp(key, THSM_P_RISING) == 0)
        return parse_switch(&r->rising, key, value);
    if (strcmp(key, THSM_P_DIGEST) == 0)
        return parse_switch(&r->digest_off, key, value);
    if (strcmp(key, THSM_P_IMPORTS) == 0)
        return parse_switch(&r->imports_off, key, value);
    if (strcmp(key, THSM_P_MAX_SIZE) == 0)
        return parse_limit(&r->max_size, key, value);
    if (strcmp(key, THSM_P_PER_HOUR) == 0)
        return parse_limit(&r->per_hour, key, value);
    if (strcmp(key, THSM_P_PER_DAY) == 0)
        return parse_limit(&r->per_day, key, value);
    return "unknown rule";
}

static void list_text(char *out, size_t cap, const char *const *items,
                      unsigned n)
{
    size_t len = 0;
    out[0] = '\0';
    if (n == 0)
        snprintf(out, cap, THSM_V_ANY);
    for (unsigned i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "",
                                items[i]);
}

void thsm_policy_value(const thsm_policy_rules *r, const char *key,
                       char out[THSM_POLICY_VALUE_MAX])
{
    const char *items[THSM_POLICY_BOARDS];
    unsigned n = 0;
    if (strcmp(key, THSM_P_BOARDS) == 0) {
        for (n = 0; n < r->n_boards; n++)
            items[n] = r->boards[n];
        list_text(out, THSM_POLICY_VALUE_MAX, items, n);
    } else if (strcmp(key, THSM_P_FORMATS) == 0) {
        if (r->formats & (1u << THSM_IMG_SECUREBOOT10))
            items[n++] = THSM_V_SECUREBOOT10;
        if (r->formats & (1u << THSM_IMG_MCUBOOT))
            items[n++] = THSM_V_MCUBOOT;
        list_text(out, THSM_POLICY_VALUE_MAX, items, n);
    } else if (strcmp(key, THSM_P_RISING) == 0) {
        snprintf(out, THSM_POLICY_VALUE_MAX, "%s", on_off(r->rising));
    } else if (strcmp(key, THSM_P_DIGEST) == 0) {
        snprintf(out, THSM_POLICY_VALUE_MAX, "%s", on_off(!r->digest_off));
    } else if (strcmp(key, THSM_P_IMPORTS) == 0) {
        snprintf(out, THSM_POLICY_VALUE_MAX, "%s", on_off(!r->imports_off));
    } else {
        uint32_t v = strcmp(key, THSM_P_MAX_SIZE) == 0 ? r->max_size
                     : strcmp(key, THSM_P_PER_HOUR) == 0 ? r->per_hour
                                                          : r->per_day;
        snprintf(out, THSM_POLICY_VALUE_MAX, "%lu", (unsigned long)v);
    }
}

/* The answer's line, built in dev->work.text (room for every rule and
 * THSM_POLICY_VERSIONS last versions: see the _Static_assert). */
typedef struct {
    char *p;
    size_t len, cap;
} line;

_Static_assert(sizeof(((thsm_work *)0)->text) >
                   300 + THSM_POLICY_VALUE_MAX +
                       THSM_POLICY_VERSIONS * (14 + THSM_POLICY_NAME_MAX +
                                               THSM_POLICY_VTEXT_MAX),
               "the policy's answer fits in dev->work.text");

static void add(line *l, const char *a, const char *b, const char *c)
{
    int n = snprintf(l->p + l->len, l->cap - l->len, "%s%s%s", a, b, c);
    if (n > 0 && (size_t)n < l->cap - l->len)
        l->len += (size_t)n;
}

/* LAST=FORMAT:NAME:VERSION,... (NONE when empty). */
static void add_last(line *l, const thsm_policy *p)
{
    char name[THSM_POLICY_NAME_MAX + 1], text[THSM_POLICY_VTEXT_MAX + 1];
    add(l, " " THSM_PO_LAST "=", p->n_last ? "" : THSM_V_NONE, "");
    for (unsigned i = 0; i < p->n_last; i++) {
        thsm_word_of(p->last[i].name, name, sizeof(name));
        thsm_word_of(p->last[i].text, text, sizeof(text));
        add(l, i ? "," : "", format_name(p->last[i].format), ":");
        add(l, name[0] ? name : "-", ":", text);
    }
}

void thsm_policy_answer(thsm_device *dev)
{
    const thsm_policy *p = &dev->st.policy;
    char value[THSM_POLICY_VALUE_MAX], num[40];
    line l = {dev->work.text, 0, sizeof(dev->work.text)};
    add(&l, THSM_ANS_OK, "", "");
    for (unsigned i = 0; i < THSM_POLICY_RULES; i++) {
        thsm_policy_value(&p->r, rules[i], value);
        add(&l, " ", rules[i], "=");
        add(&l, value, "", "");
    }
    snprintf(num, sizeof(num), "%d", p->r.locked);
    add(&l, " " THSM_PO_LOCKED "=", num, "");
    snprintf(num, sizeof(num), "%lu", (unsigned long)in_window(
                 window(dev, HOUR), p->hour, p->hour_count));
    add(&l, " " THSM_PO_HOUR_COUNT "=", num, "");
    snprintf(num, sizeof(num), "%lu", (unsigned long)in_window(
                 window(dev, DAY), p->day, p->day_count));
    add(&l, " " THSM_PO_DAY_COUNT "=", num, "");
    add_last(&l, p);
    thsm_resp_line(dev, "%s", l.p);
}
