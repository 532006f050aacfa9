/* cmd_info.c - tinyhsm info. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"

static const char info_help[] =
    "Usage: tinyhsm info\n"
    "Shows the device version and serial number, and the subject, validity\n"
    "and key fingerprint of its CA and signer certificates.\n\n"
    "Example:\n  tinyhsm info\n";

int cli_info(cli_ctx *c, int argc, char **argv)
{
    static thsm_at_resp resp;
    int rc = cli_only_help("info", info_help, argc, argv);
    if (rc >= 0)
        return rc;
    char err[300];
    if (cli_connect(c) != 0)
        return CLI_FAIL;
    if (thsm_hsm_expect_ok(&c->at, "AT+VERSION?", &resp, err, sizeof(err))) {
        cli_error("%s", err);
        return CLI_FAIL;
    }
    printf("Device:  %s\n", resp.text);
    if (thsm_hsm_expect_ok(&c->at, "AT+STSAFE_SERIAL?", &resp, err,
                           sizeof(err)) == 0)
        printf("Serial:  %s\n", resp.text);
    cli_print_device_cert(c, 1, "CA certificate");
    cli_print_device_cert(c, 0, "Signer certificate");
    return CLI_OK;
}

