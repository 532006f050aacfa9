/* cmd_pin.c - tinyhsm pin set|change. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"

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
    if (cli_get_secret(file, "TINYHSM_NEW_PIN", "New TinyHSM PIN: ", out, cap))
        return -1;
    if (file || getenv("TINYHSM_NEW_PIN"))
        return 0;
    if (cli_prompt_pin("Repeat the new PIN: ", again, sizeof(again)) != 0 ||
        strcmp(out, again) != 0) {
        cli_error("the two PINs differ");
        return -1;
    }
    explicit_bzero(again, sizeof(again));
    return 0;
}

int cli_pin(cli_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"new-pin-file", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static thsm_at_resp r;
    const char *new_file = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'n')
            new_file = optarg;
        else if (o == 'h') {
            fputs(pin_help, stdout);
            return CLI_OK;
        } else
            return cli_usage_error("pin", "bad option");
    }
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "set") && strcmp(argv[optind], "change")))
        return cli_usage_error("pin", "say set or change");
    int change = strcmp(argv[optind], "change") == 0;
    char old[128] = "", fresh[128];
    if ((change && cli_get_secret(c->pin_file, "TINYHSM_PIN", "Current PIN: ", old,
                              sizeof(old))) ||
        new_pin(new_file, fresh, sizeof(fresh)) || cli_connect(c) != 0)
        return CLI_FAIL;
    int rc = change ? thsm_at_cmdf(&c->at, &r, "AT+PIN_SET OLD=%s NEW=%s", old,
                                   fresh)
                    : thsm_at_cmdf(&c->at, &r, "AT+PIN_SET NEW=%s", fresh);
    explicit_bzero(old, sizeof(old));
    explicit_bzero(fresh, sizeof(fresh));
    if (rc != THSM_AT_OK || !r.ok) {
        cli_error("%s", rc == THSM_AT_OK && r.nlines ? r.lines[0]
                                                     : thsm_at_strerror(rc));
        return CLI_FAIL;
    }
    printf("PIN %s.\n", change ? "changed" : "set");
    return CLI_OK;
}

