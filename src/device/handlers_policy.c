/*
 * handlers_policy.c - the signing policy's commands (our extension), layer:
 * handlers. AT+POLICY? shows it; AT+POLICY_SET changes the rules it names
 * and AT+POLICY_LOCK freezes them until a decommission. Both need a PIN on
 * the device (and the login, session.c): without one any host could loosen
 * what the owner set. Each changed rule is an audit record naming its old
 * and new value.
 */
#include <stdio.h>
#include <string.h>

#include "device/handlers.h"
#include "device/policy.h"
#include "device/response.h"
#include "device/state.h"

/* Room of a POLICY_SET record's detail (the log's digest field). */
#define DETAIL_MAX 64

void thsm_h_policy(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    thsm_policy_answer(dev);
}

/* Whether the policy may change: a PIN is set and it is not locked. */
static bool changeable(thsm_device *dev, const char *what)
{
    if (!dev->st.pin.set) {
        thsm_resp_error(dev, THSM_E_NO_PIN, "%s needs the PIN: set one first "
                        "with " THSM_CMD_PIN_SET " (without one any host "
                        "could change the policy)", what);
        return false;
    }
    if (dev->st.policy.r.locked) {
        thsm_resp_error(dev, THSM_E_POLICY, THSM_POLICY_LOCKED " the policy "
                        "is locked; only " THSM_CMD_DECOMMISSION
                        " removes it");
        return false;
    }
    return true;
}

static bool listed(const thsm_policy_rules *r, const char *board)
{
    for (unsigned i = 0; i < r->n_boards; i++)
        if (strcmp(r->boards[i], board) == 0)
            return true;
    return false;
}

/* Records of a board list too long for one record: one per board added
 * ("BOARDS+=<name>") or removed ("BOARDS-=<name>"). */
static void record_boards(thsm_device *dev, const thsm_policy_rules *old,
                          const thsm_policy_rules *now)
{
    char detail[DETAIL_MAX + 1];
    for (unsigned i = 0; i < old->n_boards; i++)
        if (!listed(now, old->boards[i])) {
            snprintf(detail, sizeof(detail), THSM_P_BOARDS "-=%s",
                     old->boards[i]);
            thsm_state_changed_text(dev, THSM_EV_POLICY_SET, NULL, detail);
        }
    for (unsigned i = 0; i < now->n_boards; i++)
        if (!listed(old, now->boards[i])) {
            snprintf(detail, sizeof(detail), THSM_P_BOARDS "+=%s",
                     now->boards[i]);
            thsm_state_changed_text(dev, THSM_EV_POLICY_SET, NULL, detail);
        }
}

/* One record per rule changed: "<RULE>=<old>><new>". */
static void record_changes(thsm_device *dev, const thsm_policy_rules *old,
                           const thsm_policy_rules *now)
{
    char a[THSM_POLICY_VALUE_MAX], b[THSM_POLICY_VALUE_MAX];
    char detail[2 * THSM_POLICY_VALUE_MAX + 16];
    for (unsigned i = 0; i < THSM_POLICY_RULES; i++) {
        const char *rule = thsm_policy_rule(i);
        thsm_policy_value(old, rule, a);
        thsm_policy_value(now, rule, b);
        if (strcmp(a, b) == 0)
            continue;
        snprintf(detail, sizeof(detail), "%s=%s>%s", rule, a, b);
        if (strlen(detail) > DETAIL_MAX)
            record_boards(dev, old, now); /* only a board list is so long */
        else
            thsm_state_changed_text(dev, THSM_EV_POLICY_SET, NULL, detail);
    }
}

void thsm_h_policy_set(thsm_device *dev, const thsm_params *ps)
{
    thsm_policy_rules old = dev->st.policy.r, now = old;
    for (size_t i = 0; i < ps->n; i++) {
        const char *why = thsm_policy_parse(&now, ps->p[i].key,
                                            ps->p[i].value);
        if (why) {
            thsm_resp_error(dev, THSM_E_BAD_PARAM, "%s", why);
            return;
        }
    }
    if (ps->n == 0) {
        thsm_resp_error(dev, THSM_E_BAD_PARAM, "name at least one rule, e.g. "
                        THSM_P_DIGEST "=" THSM_V_OFF);
        return;
    }
    if (!changeable(dev, THSM_CMD_POLICY_SET))
        return;
    dev->st.policy.r = now;
    if (thsm_save_or_restore(dev) != 0)
        return;
    record_changes(dev, &old, &now);
    thsm_resp_line(dev, THSM_ANS_OK);
}

void thsm_h_policy_lock(thsm_device *dev, const thsm_params *ps)
{
    (void)ps;
    if (!changeable(dev, THSM_CMD_POLICY_LOCK))
        return;
    dev->st.policy.r.locked = 1;
    if (thsm_save_or_restore(dev) != 0)
        return;
    thsm_state_changed_text(dev, THSM_EV_POLICY_LOCK, NULL, NULL);
    thsm_resp_line(dev, THSM_ANS_OK);
}
