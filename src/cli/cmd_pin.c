/* cmd_pin.c - tinyhsm pin set|change. */
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
    "Sets the device PIN (6 to 64 printable characters, no spaces) or\n"
    "changes it. Once set, signing, key and certificate creation and\n"
    "decommissioning need it; 5 wrong PINs in a row block the device until a\n"
    "decommission erases every key. The new PIN comes from --new-pin-file,\n"
    "$TINYHSM_NEW_PIN or a prompt; the current one (for change) from the\n"
    "global --pin-file, $TINYHSM_PIN or a prompt.\n\n"
    "Example:\n  tinyhsm pin set\n  tinyhsm --pin-file old.txt pin change "
    "--new-pin-file new.txt\n";

static int new_pin(cli_ctx *c, const char *file, char *out, size_t cap)
{
    char again[128];
    if (cli_get_secret(c, file, true, "New TinyHSM PIN: ", out, cap))
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
        cli_error(c, "the PIN is blocked; only 'tinyhsm decommission --yes' "
                  "(which erases every key) recovers the device");
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
                  "now; only 'tinyhsm decommission --yes' recovers the device");
    else
        cli_error(c, "the device refused the new PIN (%s); the PIN was not "
                  "changed", thsm_escape(why->code, code, sizeof(code)));
}

static int pin_parse(cli_ctx *c, int argc, char **argv, const char **new_file,
                     bool *change)
{
    static const struct option opts[] = {
        {"new-pin-file", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'n')
            *new_file = optarg;
        else if (o == 'h') {
            fputs(pin_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "pin", opts, argc, argv);
    }
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "set") && strcmp(argv[optind], "change")))
        return cli_usage_error(c, "pin", "say set or change");
    *change = strcmp(argv[optind], "change") == 0;
    return -1;
}

int cli_pin(cli_ctx *c, int argc, char **argv)
{
    const char *new_file = NULL;
    thsm_deny why;
    bool change = false;
    int rc = pin_parse(c, argc, argv, &new_file, &change);
    if (rc >= 0)
        return rc;
    char old[128] = "", fresh[128] = "";
    if (cli_connect(c) != 0 || !state_allows(c, change) ||
        (change && cli_get_secret(c, c->pin_file, false, "Current PIN: ",
                                  old, sizeof(old))) ||
        new_pin(c, new_file, fresh, sizeof(fresh)))
        return CLI_FAIL;
    if (change && strcmp(old, fresh) == 0) {
        explicit_bzero(old, sizeof(old));
        explicit_bzero(fresh, sizeof(fresh));
        cli_error(c, "the new PIN is the current one; nothing was changed");
        return CLI_FAIL;
    }
    rc = thsm_hsm_pin_set(&c->at, change ? old : NULL, fresh, &why);
    explicit_bzero(old, sizeof(old));
    explicit_bzero(fresh, sizeof(fresh));
    if (rc != THSM_OK) {
        pin_refused(c, &why);
        return CLI_FAIL;
    }
    printf("PIN %s.\n", change ? "changed" : "set");
    return CLI_OK;
}
