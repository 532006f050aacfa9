/* login.c - PIN entry and logging in to the device. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "host/hsm.h"
#include "host/plat.h"
#include "util/escape.h"
#include "util/pin.h"

/* Warns, as ssh does, about a secret file that other users may read. */
static void warn_if_readable(cli_ctx *c, FILE *f, const char *path,
                             const char *what)
{
    char why[4200];
    if (thsm_plat_file_shared(f, path, why, sizeof(why)))
        cli_error(c, "warning: the %s file %s %s", what, path,
                  why);
}

int cli_read_secret_file(cli_ctx *c, const char *path, const char *what,
                         char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error(c, "cannot read a %s from %s: %s", what, path,
                  strerror(errno));
        return -1;
    }
    warn_if_readable(c, f, path, what);
    int got = fgets(out, (int)cap, f) != NULL, bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (got)
        out[strcspn(out, "\r\n")] = '\0';
    if (bad)
        cli_error(c, "cannot read a %s from %s: %s", what, path,
                  strerror(saved));
    else if (!got || !out[0])
        cli_error(c, "the %s file %s is empty: put the %s on its first line",
                  what, path, what);
    return bad || !got || !out[0] ? -1 : 0;
}

int cli_prompt_pin(const char *prompt, char *out, size_t cap)
{
    return thsm_plat_prompt_secret(prompt, out, cap);
}

/* A secret (CLI_SECRET_*) from file, else the environment, else a prompt;
 * from says where it came from. 0, or -1 with the reason on stderr. */
static int read_secret(cli_ctx *c, const char *file, int which,
                       const char *prompt, char *out, size_t cap,
                       char from[600])
{
    static const char *const envs[] = {"TINYHSM_PIN", "TINYHSM_NEW_PIN",
                                       "TINYHSM_SO_PIN"};
    static const char *const opts[] = {"--pin-file", "--new-pin-file",
                                       "--so-pin-file"};
    static const char *const names[] = {"the PIN", "a new PIN", "the SO PIN"};
    const char *env = envs[which], *opt = opts[which];
    if (file) {
        if (cli_read_secret_file(c, file, "PIN", out, cap) != 0)
            return -1;
        snprintf(from, 600, "the PIN in %s", file);
    } else if (getenv(env) && *getenv(env)) {
        snprintf(out, cap, "%s", getenv(env));
        snprintf(from, 600, "the PIN in $%s", env);
    } else if (cli_prompt_pin(prompt, out, cap) == 0) {
        snprintf(from, 600, "the PIN you typed");
    } else {
        cli_error(c, "%s is needed and there is no terminal to ask for it: use "
                  "%s FILE or %s", names[which], opt, env);
        return -1;
    }
    return 0;
}

int cli_get_token_pin(cli_ctx *c, const char *prompt, char *out, size_t cap)
{
    char from[600];
    return read_secret(c, c->pin_file, CLI_SECRET_PIN, prompt, out, cap, from);
}

int cli_get_secret(cli_ctx *c, const char *file, int which,
                   const char *prompt, char *out, size_t cap)
{
    char from[600];
    if (read_secret(c, file, which, prompt, out, cap, from) != 0)
        return -1;
    if (thsm_pin_format_ok(out))
        return 0;
    size_t n = strlen(out);
    const char *why = strchr(out, ' ') ? "it contains a space; "
                      : n < THSM_PIN_MIN || n > THSM_PIN_MAX
                          ? "its length is wrong; " : "";
    explicit_bzero(out, cap);
    cli_error(c, "%s is not a valid PIN: %sa PIN is %d to %d printable ASCII "
              "characters without spaces (nothing was sent to the device)",
              from, why, THSM_PIN_MIN, THSM_PIN_MAX);
    return -1;
}

static bool no_pin_warning_wanted(void)
{
    const char *v = getenv("TINYHSM_NO_PIN_WARNING");
    return !v || !*v || strcmp(v, "0") == 0;
}

void cli_wrong_pin(cli_ctx *c, unsigned long left, const char *what)
{
    if (left == 0)
        cli_error(c, "%s: that was the last try, so the device is BLOCKED now "
                  "and will not sign or change keys; with an SO PIN, 'tinyhsm "
                  "pin unblock' sets a new PIN and keeps the keys; without "
                  "one, only 'tinyhsm decommission --yes' recovers it, and "
                  "that erases every key", what);
    else
        cli_error(c, "%s: %lu %s left before the device blocks", what, left,
                  left == 1 ? "try" : "tries");
}

const char *cli_blocked_hint(int so_set)
{
    if (so_set > 0)
        return "the security officer unblocks it and the keys stay: tinyhsm "
               "pin unblock";
    if (so_set == 0)
        return "only 'tinyhsm decommission --yes' (which erases every key) "
               "recovers the device";
    return "with an SO PIN, 'tinyhsm pin unblock' sets a new PIN and keeps "
           "the keys; without one, only 'tinyhsm decommission --yes' (which "
           "erases every key) recovers the device";
}

void cli_pin_delay(cli_ctx *c, unsigned long wait, const char *what)
{
    cli_error(c, "%s: the device waits after a wrong PIN; wait %lu s before "
              "the next try (this one spent no try)", what, wait);
}

/* The device's refusal of the login in the user's words. */
static void login_refused(cli_ctx *c, const thsm_deny *why)
{
    char code[THSM_ESCAPED_MAX(sizeof(why->code))];
    if (why->kind == THSM_DENY_NO_ANSWER)
        cli_error(c, "login failed: %s", thsm_at_strerror(why->at_rc));
    else if (why->kind == THSM_DENY_WRONG_PIN && why->has_left)
        cli_wrong_pin(c, why->left, "wrong PIN");
    else if (why->kind == THSM_DENY_WRONG_PIN)
        cli_error(c, "wrong PIN");
    else if (why->kind == THSM_DENY_DELAY)
        cli_pin_delay(c, why->wait, "login refused");
    else if (why->kind == THSM_DENY_LOCKED)
        cli_error(c, "the PIN is blocked now; %s", cli_blocked_hint(-1));
    else
        cli_error(c, "login failed: the device answered %s",
                  thsm_escape(why->code, code, sizeof(code)));
}

int cli_login_keep(cli_ctx *c, bool blocked_ok, char *pin, size_t cap)
{
    thsm_status st;
    thsm_err err;
    thsm_deny why;
    char secret[128];
    if (pin)
        pin[0] = '\0';
    if (thsm_hsm_status(&c->at, &st, &err) != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return -1;
    }
    if (!st.answered || st.auth)
        return 0; /* the original board has no PIN; or logged in already */
    if (st.pin == THSM_PIN_NONE) {
        if (no_pin_warning_wanted())
            cli_error(c, "warning: no PIN is set, so anyone who can open the "
                      "port can sign; set one with: tinyhsm pin set "
                      "(TINYHSM_NO_PIN_WARNING=1 silences this)");
        return 0;
    }
    if (st.pin == THSM_PIN_BLOCKED && blocked_ok)
        return 0;
    if (st.pin == THSM_PIN_BLOCKED) {
        cli_error(c, "the PIN is blocked; %s",
                  cli_blocked_hint(st.has_so && st.so == THSM_PIN_SET));
        return -1;
    }
    if (cli_get_secret(c, c->pin_file, false, "TinyHSM PIN: ", secret,
                       sizeof(secret)) != 0)
        return -1;
    int rc = thsm_hsm_auth(&c->at, secret, &why);
    if (rc == THSM_OK && pin)
        snprintf(pin, cap, "%s", secret);
    explicit_bzero(secret, sizeof(secret));
    if (rc != THSM_OK)
        login_refused(c, &why);
    return rc == THSM_OK ? 0 : -1;
}

int cli_login(cli_ctx *c, bool blocked_ok)
{
    return cli_login_keep(c, blocked_ok, NULL, 0);
}
