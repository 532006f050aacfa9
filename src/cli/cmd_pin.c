/* cmd_pin.c - tinyhsm pin set|change|unblock, and pin set --so. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"
#include "util/escape.h"
#include "util/pin.h"

static const char pin_help[] =
    "Usage: tinyhsm pin set|change [--new-pin-file FILE]\n"
    "       tinyhsm pin set --so [--so-pin-file FILE] [--new-pin-file FILE]\n"
    "       tinyhsm pin unblock [--so-pin-file FILE] [--new-pin-file FILE]\n"
    "Sets the device PIN (6 to 64 printable characters, no spaces) or\n"
    "changes it. Once set, signing, key and certificate creation and\n"
    "decommissioning need it. Each wrong PIN doubles a wait (1, 2, 4, 8 s)\n"
    "before the device takes the next try; 5 wrong PINs in a row block it.\n"
    "The new PIN comes from --new-pin-file, $TINYHSM_NEW_PIN or a prompt;\n"
    "the current one (for change) from the global --pin-file, $TINYHSM_PIN\n"
    "or a prompt.\n\n"
    "  --so           set the security officer's PIN (a PUK) instead: the\n"
    "                 first one needs the user PIN (the login above), a\n"
    "                 change needs the current SO PIN; it has 10 tries\n"
    "  --so-pin-file FILE  the current SO PIN; else $TINYHSM_SO_PIN, else a\n"
    "                 prompt\n\n"
    "'pin unblock' logs in as the security officer and sets a new user PIN,\n"
    "blocked or not: the keys stay. Without an SO PIN (or once its tries are\n"
    "spent) a blocked device recovers only by a decommission, which erases\n"
    "every key.\n\n"
    "Example:\n  tinyhsm pin set\n  tinyhsm --pin-file old.txt pin change "
    "--new-pin-file new.txt\n  tinyhsm --pin-file pin.txt pin set --so\n"
    "  tinyhsm pin unblock --so-pin-file puk.txt --new-pin-file new.txt\n";

typedef enum { PIN_SET, PIN_CHANGE, PIN_UNBLOCK } pin_action;

typedef struct {
    pin_action action;
    bool so;
    const char *new_file, *so_file;
} pin_args;

static int new_pin(cli_ctx *c, const char *file, const char *prompt,
                   char *out, size_t cap)
{
    char again[128];
    if (cli_get_secret(c, file, CLI_SECRET_NEW, prompt, out, cap))
        return -1;
    if (thsm_pin_weak(out)) {
        explicit_bzero(out, cap);
        cli_error(c, "the new PIN is too easy to guess: %s (nothing was sent to "
                     "the device)", THSM_PIN_WEAK_TEXT);
        return -1;
    }
    if (file || getenv("TINYHSM_NEW_PIN"))
        return 0;
    int same = cli_prompt_pin("Repeat the new PIN: ", again, sizeof(again)) == 0 &&
               strcmp(out, again) == 0;
    explicit_bzero(again, sizeof(again));
    if (!same)
        cli_error(c, "the two PINs differ; nothing was changed");
    return same ? 0 : -1;
}

/* Whether the command fits the device's PIN state; says why not. */
static bool state_allows(cli_ctx *c, bool change)
{
    thsm_status st;
    thsm_err err;
    if (thsm_hsm_status(&c->at, &st, &err) != THSM_OK)
        cli_error(c, "%s", err.msg);
    else if (!st.answered)
        cli_error(c, "this device has no PIN (the original board has none)");
    else if (st.pin == THSM_PIN_BLOCKED)
        cli_error(c, "the PIN is blocked; %s",
                  cli_blocked_hint(st.has_so && st.so == THSM_PIN_SET));
    else if (change && st.pin == THSM_PIN_NONE)
        cli_error(c, "no PIN is set yet; set one with: tinyhsm pin set");
    else if (!change && st.pin == THSM_PIN_SET)
        cli_error(c, "a PIN is set already; change it with: tinyhsm pin change");
    else
        return true;
    return false;
}

/* The device's refusal of the new PIN in the user's words; only its code
 * is ever shown (thsm_deny). */
static void pin_refused(cli_ctx *c, const thsm_deny *why)
{
    char code[THSM_ESCAPED_MAX(sizeof(why->code))];
    if (why->kind == THSM_DENY_NO_ANSWER)
        cli_error(c, "no answer from the device: %s",
                  thsm_at_strerror(why->at_rc));
    else if (why->kind == THSM_DENY_WRONG_PIN && why->has_left)
        cli_wrong_pin(c, why->left, "the current PIN is wrong and the PIN "
                                    "was not changed");
    else if (why->kind == THSM_DENY_LOCKED)
        cli_error(c, "the current PIN was wrong too often: the PIN is blocked "
                  "now; %s", cli_blocked_hint(-1));
    else if (why->kind == THSM_DENY_DELAY)
        cli_pin_delay(c, why->wait, "the PIN was not changed");
    else
        cli_error(c, "the device refused the new PIN (%s); the PIN was not "
                  "changed", thsm_escape(why->code, code, sizeof(code)));
}

static int pin_parse(cli_ctx *c, int argc, char **argv, pin_args *a)
{
    static const struct option opts[] = {
        {"new-pin-file", required_argument, NULL, 'n'},
        {"so", no_argument, NULL, 's'},
        {"so-pin-file", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const names[] = {"set", "change", "unblock"};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'n')
            a->new_file = optarg;
        else if (o == 's')
            a->so = true;
        else if (o == 'S')
            a->so_file = optarg;
        else if (o == 'h') {
            fputs(pin_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "pin", opts, argc, argv);
    }
    if (optind != argc - 1)
        return cli_usage_error(c, "pin", "say set, change or unblock");
    for (a->action = PIN_SET; a->action <= PIN_UNBLOCK; a->action++)
        if (strcmp(argv[optind], names[a->action]) == 0)
            break;
    if (a->action > PIN_UNBLOCK)
        return cli_usage_error(c, "pin", "say set, change or unblock");
    if (a->so && a->action != PIN_SET)
        return cli_usage_error(c, "pin", "--so goes with 'pin set' (which also "
                               "changes the SO PIN)");
    if (a->so_file && !a->so && a->action != PIN_UNBLOCK)
        return cli_usage_error(c, "pin", "--so-pin-file goes with 'pin set "
                               "--so' and 'pin unblock'");
    return -1;
}

/* Sets or changes the user PIN. */
static int user_pin(cli_ctx *c, bool change, const char *new_file)
{
    char old[128] = "", fresh[128] = "";
    thsm_deny why;
    if (!state_allows(c, change) ||
        (change && cli_get_secret(c, c->pin_file, CLI_SECRET_PIN,
                                  "Current PIN: ", old, sizeof(old))) ||
        new_pin(c, new_file, "New TinyHSM PIN: ", fresh, sizeof(fresh)))
        return CLI_FAIL;
    if (change && strcmp(old, fresh) == 0) {
        explicit_bzero(old, sizeof(old));
        explicit_bzero(fresh, sizeof(fresh));
        cli_error(c, "the new PIN is the current one; nothing was changed");
        return CLI_FAIL;
    }
    int rc = thsm_hsm_pin_set(&c->at, change ? old : NULL, fresh, &why);
    explicit_bzero(old, sizeof(old));
    explicit_bzero(fresh, sizeof(fresh));
    if (rc != THSM_OK) {
        pin_refused(c, &why);
        return CLI_FAIL;
    }
    printf("PIN %s.\n", change ? "changed" : "set");
    return CLI_OK;
}

/* The device's status, and whether it has the SO role; says why not. */
static bool so_status(cli_ctx *c, thsm_status *st)
{
    thsm_err err;
    if (thsm_hsm_status(&c->at, st, &err) != THSM_OK)
        cli_error(c, "%s", err.msg);
    else if (!st->answered || !st->has_so)
        cli_error(c, "this device has no security officer PIN (its firmware "
                  "predates it)");
    else if (st->pin == THSM_PIN_NONE)
        cli_error(c, "no PIN is set yet; set the user PIN first: tinyhsm pin "
                  "set");
    else if (st->so == THSM_PIN_BLOCKED)
        cli_error(c, "the SO PIN is blocked after too many wrong tries; "
                  "nothing unblocks it, and a blocked user PIN then recovers "
                  "only by 'tinyhsm decommission --yes' (which erases every "
                  "key)");
    else
        return true;
    return false;
}

/* An SO PIN command's refusal in the user's words. */
static void so_refused(cli_ctx *c, const thsm_deny *why, const char *what)
{
    char code[THSM_ESCAPED_MAX(sizeof(why->code))];
    if (why->kind == THSM_DENY_NO_ANSWER)
        cli_error(c, "no answer from the device: %s",
                  thsm_at_strerror(why->at_rc));
    else if (why->kind == THSM_DENY_WRONG_PIN && why->has_left)
        cli_error(c, "wrong SO PIN; %s: %lu SO %s left%s", what, why->left,
                  why->left == 1 ? "try" : "tries",
                  why->left ? "" : ", so the SO PIN is BLOCKED now");
    else if (why->kind == THSM_DENY_LOCKED)
        cli_error(c, "the SO PIN is blocked; %s", what);
    else if (why->kind == THSM_DENY_DELAY)
        cli_pin_delay(c, why->wait, what);
    else
        cli_error(c, "the device refused it (%s); %s",
                  thsm_escape(why->code, code, sizeof(code)), what);
}

/* pin set --so: the first SO PIN (with the user's login) or a new one
 * (with the current SO PIN). */
static int so_pin(cli_ctx *c, const char *so_file, const char *new_file)
{
    thsm_status st;
    thsm_deny why;
    char old[128] = "", fresh[128] = "";
    if (!so_status(c, &st))
        return CLI_FAIL;
    bool change = st.so == THSM_PIN_SET;
    /* the new PIN first: a weak one costs no login */
    if (new_pin(c, new_file, "New SO PIN: ", fresh, sizeof(fresh)) ||
        (change ? cli_get_secret(c, so_file, CLI_SECRET_SO, "Current SO PIN: ",
                                 old, sizeof(old))
                : cli_login(c, false)) != 0) {
        explicit_bzero(fresh, sizeof(fresh));
        return CLI_FAIL;
    }
    int rc = thsm_hsm_so_pin_set(&c->at, change ? old : NULL, fresh, &why);
    explicit_bzero(old, sizeof(old));
    explicit_bzero(fresh, sizeof(fresh));
    if (rc != THSM_OK) {
        so_refused(c, &why, "the SO PIN was not changed");
        return CLI_FAIL;
    }
    printf("SO PIN %s.\n", change ? "changed" : "set");
    return CLI_OK;
}

/* pin unblock: the SO's login, then a new user PIN; the keys stay. */
static int unblock(cli_ctx *c, const char *so_file, const char *new_file)
{
    thsm_status st;
    thsm_deny why;
    char puk[128] = "", fresh[128] = "";
    if (!so_status(c, &st))
        return CLI_FAIL;
    if (st.so == THSM_PIN_NONE) {
        cli_error(c, "no SO PIN is set, so nothing can unblock the PIN; %s",
                  cli_blocked_hint(0));
        return CLI_FAIL;
    }
    if (cli_get_secret(c, so_file, CLI_SECRET_SO, "SO PIN: ", puk, sizeof(puk)) ||
        new_pin(c, new_file, "New TinyHSM PIN: ", fresh, sizeof(fresh))) {
        explicit_bzero(puk, sizeof(puk));
        return CLI_FAIL;
    }
    int rc = thsm_hsm_auth_so(&c->at, puk, &why);
    explicit_bzero(puk, sizeof(puk));
    if (rc == THSM_OK)
        rc = thsm_hsm_pin_unblock(&c->at, fresh, &why);
    explicit_bzero(fresh, sizeof(fresh));
    if (rc != THSM_OK) {
        so_refused(c, &why, "the PIN was not unblocked");
        return CLI_FAIL;
    }
    printf("PIN unblocked: the new PIN is set and the keys are kept.\n");
    return CLI_OK;
}

int cli_pin(cli_ctx *c, int argc, char **argv)
{
    pin_args a = {0};
    int rc = pin_parse(c, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (cli_connect(c) != 0)
        return CLI_FAIL;
    if (a.action == PIN_UNBLOCK)
        return unblock(c, a.so_file, a.new_file);
    if (a.so)
        return so_pin(c, a.so_file, a.new_file);
    return user_pin(c, a.action == PIN_CHANGE, a.new_file);
}
