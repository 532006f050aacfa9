/* cmd_decommission.c - tinyhsm decommission. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"

static const char decommission_help[] =
    "Usage: tinyhsm decommission --yes\n"
    "Erases every key and certificate on the device, and its PIN. There is\n"
    "no undo. With a PIN set it needs the PIN (--pin-file, $TINYHSM_PIN or a\n"
    "prompt); a device blocked by wrong PINs is decommissioned without it.\n\n"
    "Example:\n  tinyhsm decommission --yes\n";

int cli_decommission(cli_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {{"yes", no_argument, NULL, 'y'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int o, yes = 0;
    while ((o = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
        if (o == 'y')
            yes = 1;
        else if (o == 'h') {
            fputs(decommission_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "decommission", opts, argc, argv);
    }
    if (optind < argc)
        return cli_usage_error(c, "decommission", "unexpected argument '%s'",
                               argv[optind]);
    if (!yes)
        return cli_usage_error(c, "decommission", "this erases every key; "
                                               "confirm with --yes");
    thsm_err err;
    if (cli_connect(c) != 0 || cli_login(c, true) != 0)
        return CLI_FAIL;
    if (thsm_hsm_decommission(&c->at, &err) != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return CLI_FAIL;
    }
    printf("Every key and certificate on the device was erased.\n");
    return CLI_OK;
}
