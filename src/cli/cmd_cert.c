/* cmd_cert.c - tinyhsm cert: export a certificate. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/x509_host.h"
#include "host/hsm.h"
#include "host/image.h"
#include "host/output.h"

static const char cert_help[] =
    "Usage: tinyhsm cert ca|signer [--der] [-o FILE] [--force]\n"
    "Writes the CA or signer certificate as PEM (or DER with --der) to FILE,\n"
    "or PEM to standard output. FILE follows the rules of 'tinyhsm sign':\n"
    "'-' is standard output; a FIFO or character device is written to (a\n"
    "FIFO with no reader, or another user's FIFO or device, is refused); a\n"
    "symlink is followed to its existing target only when it belongs to you\n"
    "or root; a regular file is replaced atomically, keeping its mode when\n"
    "it is yours (never set-id, sticky or o+w bits); a directory is refused.\n"
    "DER to a terminal needs --force. The certificate is written anew from\n"
    "its DER: no other text the device sent passes through.\n\n"
    "Example:\n  tinyhsm cert signer -o stsafe_signer_cert.pem\n";

static int cert_parse(cli_ctx *c, int argc, char **argv, bool *der,
                      const char **out, bool *ca)
{
    bool force = false;
    static const struct option opts[] = {
        {"der", no_argument, NULL, 'D'},
        {"force", no_argument, NULL, 'F'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (o == 'D')
            *der = true;
        else if (o == 'F')
            force = true;
        else if (o == 'o')
            *out = optarg;
        else if (o == 'h') {
            fputs(cert_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "cert", opts, argc, argv);
    }
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "ca") && strcmp(argv[optind], "signer")))
        return cli_usage_error(c, "cert", "say which certificate: ca or signer");
    if (*der && !*out)
        return cli_usage_error(c, "cert", "--der needs -o FILE");
    if (*der && strcmp(*out, "-") == 0 && isatty(STDOUT_FILENO) && !force)
        return cli_usage_error(c, "cert", "--der -o - would write binary to the "
                               "terminal; redirect it, or --force");
    *ca = strcmp(argv[optind], "ca") == 0;
    return -1;
}

/* The certificate as PEM and DER. 0, or -1 with a message. */
static int fetch(cli_ctx *c, bool ca, char pem[THSM_PEM_MAX],
                 uint8_t bin[THSM_X509_DER_MAX], size_t *bin_len)
{
    thsm_err err;
    if (thsm_hsm_cert_pem(&c->at, ca, pem, THSM_PEM_MAX, &err) != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return -1;
    }
    if (thsm_x509_to_der((uint8_t *)pem, strlen(pem), bin, THSM_X509_DER_MAX,
                         bin_len) != 0) {
        cli_error(c, "the device's certificate does not parse");
        return -1;
    }
    return 0;
}

/* Fills the prepared output and delivers it (host/output.h). */
static int deliver(cli_ctx *c, thsm_output *o, const void *data, size_t len)
{
    char err[4400];
    const thsm_output_data d = {{data}, {len}, 1};
    if (o->kind == THSM_OUT_FILE && thsm_atomic_write(&o->f, data, len) != 0) {
        cli_error(c, "cannot write %s: %s", o->name, strerror(errno));
        thsm_output_abort(o, 1);
        return -1;
    }
    if (thsm_output_deliver(o, &d, 1, err, sizeof(err)) != 0) {
        cli_error(c, "%s", err);
        return -1;
    }
    return 0;
}

int cli_cert(cli_ctx *c, int argc, char **argv)
{
    bool der = false, ca = false;
    const char *out = NULL;
    int rc = cert_parse(c, argc, argv, &der, &out, &ca);
    if (rc >= 0)
        return rc;
    char pem[THSM_PEM_MAX], err[4400];
    thsm_output o;
    uint8_t bin[THSM_X509_DER_MAX];
    size_t bin_len;
    thsm_atomic_cleanup_on_signals();
    if (out && (thsm_output_resolve(&o, out, err, sizeof(err)) != 0 ||
                thsm_output_prepare(&o, err, sizeof(err)) != 0)) {
        cli_error(c, "%s", err);
        return CLI_FAIL;
    }
    if (cli_connect(c) != 0 || fetch(c, ca, pem, bin, &bin_len) != 0) {
        thsm_output_abort(&o, out ? 1 : 0);
        return CLI_FAIL;
    }
    if (!out) {
        fputs(pem, stdout);
        return CLI_OK;
    }
    const void *data = der ? (const void *)bin : (const void *)pem;
    size_t len = der ? bin_len : strlen(pem);
    if (deliver(c, &o, data, len) != 0)
        return CLI_FAIL;
    fprintf(stderr, "Wrote %s (%s, %zu bytes)\n", out, der ? "DER" : "PEM",
            len);
    return CLI_OK;
}

