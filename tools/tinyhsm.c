/* tinyhsm - the TinyHSM host tool: provision, sign, export, verify. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    cli_command_fn fn;
    const char *summary;
} commands[] = {
    {"info", cli_info, "show the device, its CA and its signer"},
    {"config", cli_config, "create the CA and signer, or a new signer"},
    {"sign", cli_sign, "sign a firmware into a SECUREBOOT10 image"},
    {"cert", cli_cert, "export the CA or signer certificate"},
    {"verify", cli_verify, "check a signed image as the bootloader would"},
    {"decommission", cli_decommission, "erase every key and certificate"},
    {"pin", cli_pin, "set or change the device PIN"},
    {"log", cli_log, "print or verify the device's audit log"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: tinyhsm [-p|--port DEV] [-d|--debug] [--pin-file FILE] "
            "COMMAND [ARGS...]\n\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\nThe port is --port, else $TINYHSM_PORT, else the link that "
            "tinyhsmd creates\nby default. -d prints every line exchanged "
            "with the device on stderr (PINs masked).\nA PIN, when the device "
            "has one, comes from --pin-file, $TINYHSM_PIN or a prompt.\n"
            "TINYHSM_NO_PIN_WARNING=1 silences the warning about a device "
            "without a PIN.\n"
            "'tinyhsm COMMAND --help' explains a command.\n\nExample:\n  tinyhsmd &\n  tinyhsm config --new all\n"
            "  tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 fw.bin\n");
}

int main(int argc, char **argv)
{
    static cli_ctx ctx; /* holds the AT buffers: too big for the stack */
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"debug", no_argument, NULL, 'd'},
        {"pin-file", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "+p:dh", opts, NULL)) != -1) {
        if (o == 'p')
            ctx.port = optarg;
        else if (o == 'd')
            ctx.debug = 1;
        else if (o == 'P')
            ctx.pin_file = optarg;
        else if (o == 'h') {
            usage(stdout);
            return CLI_OK;
        } else {
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[optind], commands[i].name) == 0) {
            char **sub = argv + optind;
            int n = argc - optind;
            optind = 0; /* reset getopt for the subcommand */
            int rc = commands[i].fn(&ctx, n, sub);
            cli_disconnect(&ctx);
            return rc;
        }
    }
    fprintf(stderr, "tinyhsm: unknown command '%s'\n", argv[optind]);
    usage(stderr);
    return CLI_USAGE;
}
