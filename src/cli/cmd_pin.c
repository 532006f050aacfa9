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

static int new_pin(const char *file, char *out, size_t cap)
{
    char again[128];
    if (cli_get_secret(file, 1, "New TinyHSM PIN: ", out, cap))
        return -1;
    if (thsm_pin_weak(out)) {
        explicit_bzero(out, cap);
        cli_error("the new PIN is too easy to guess: %s (nothing was sent to "
                  "the device)", THSM_PIN_WEAK_TEXT);
        return -1;
    }
    if (file || getenv("TINYHSM_NEW_PIN"))
        return 0;
    int same = cli_prompt_pin("Repeat the new PIN: ", again, sizeof(again)) == 0 &&
               strcmp(out, again) == 0;
    explicit_bzero(again, sizeof(again));
    if (!same)
        cli_error("the two PINs differ; nothing was changed");
    return same ? 0 : -1;
}

/* Whether the command fits the device's PIN state; says why not. */
static int state_allows(cli_ctx *c, int change)
{
    thsm_status st;
    char err[THSM_ERR_MAX];
    int has = thsm_hsm_status(&c->at, &st, err, sizeof(err));
    if (has < 0)
        cli_error("%s", err);
    else if (has == 0)
        cli_error("this device has no PIN (the original board has none)");
    else if (st.pin == THSM_PIN_BLOCKED)
        cli_error("the PIN is blocked; only 'tinyhsm decommission --yes' "
                  "(which erases every key) recovers the device");
    else if (change && st.pin == THSM_PIN_NONE)
        cli_error("no PIN is set yet; set one with: tinyhsm pin set");
    else if (!change && st.pin == THSM_PIN_SET)
        cli_error("a PIN is set already; change it with: tinyhsm pin change");
    else
        return 1;
    return 0;
}

/* The device's refusal of AT+PIN_SET in the user's words; its text may
 * quote a parameter, so only the code is ever shown. */
static void pin_refused(const thsm_at_resp *r)
{
    unsigned long left;
    char code[THSM_ESCAPED_MAX(sizeof(r->code_buf))];
    if (strcmp(r->code, "AUTH_FAILED") == 0 &&
        sscanf(r->text, "%lu tries left", &left) == 1)
        cli_wrong_pin(left, "the current PIN is wrong and the PIN was not "
                            "changed");
    else if (strcmp(r->code, "PIN_LOCKED") == 0)
        cli_error("the current PIN was wrong too often: the PIN is blocked "
                  "now; only 'tinyhsm decommission --yes' recovers the device");
    else
        cli_error("the device refused the new PIN (%s); the PIN was not "
                  "changed", thsm_escape(r->nlines ? r->code : "no answer",
                                         code, sizeof(code)));
}

static int pin_parse(int argc, char **argv, const char **new_file, int *change)
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
            return cli_bad_option("pin", opts, argc, argv);
    }
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "set") && strcmp(argv[optind], "change")))
        return cli_usage_error("pin", "say set or change");
    *change = strcmp(argv[optind], "change") == 0;
    return -1;
}

int cli_pin(cli_ctx *c, int argc, char **argv)
{
    static thsm_at_resp r;
    const char *new_file = NULL;
    int change = 0, rc = pin_parse(argc, argv, &new_file, &change);
    if (rc >= 0)
        return rc;
    char old[128] = "", fresh[128] = "";
    if (cli_connect(c) != 0 || !state_allows(c, change) ||
        (change && cli_get_secret(c->pin_file, 0, "Current PIN: ", old,
                                  sizeof(old))) ||
        new_pin(new_file, fresh, sizeof(fresh)))
        return CLI_FAIL;
    if (change && strcmp(old, fresh) == 0) {
        explicit_bzero(old, sizeof(old));
        explicit_bzero(fresh, sizeof(fresh));
        cli_error("the new PIN is the current one; nothing was changed");
        return CLI_FAIL;
    }
    rc = change ? thsm_at_cmdf(&c->at, &r, "AT+PIN_SET OLD=%s NEW=%s", old,
                               fresh)
                : thsm_at_cmdf(&c->at, &r, "AT+PIN_SET NEW=%s", fresh);
    explicit_bzero(old, sizeof(old));
    explicit_bzero(fresh, sizeof(fresh));
    if (rc != THSM_AT_OK) {
        cli_error("no answer from the device: %s", thsm_at_strerror(rc));
        return CLI_FAIL;
    }
    if (!r.ok) {
        pin_refused(&r);
        return CLI_FAIL;
    }
    printf("PIN %s.\n", change ? "changed" : "set");
    return CLI_OK;
}
