/* cmd_cert.c - tinyhsm cert: export a certificate. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"
#include "host/image.h"

static const char cert_help[] =
    "Usage: tinyhsm cert ca|signer [--der] [-o FILE]\n"
    "Writes the CA or signer certificate as PEM (or DER with --der) to FILE,\n"
    "or PEM to standard output.\n\n"
    "Example:\n  tinyhsm cert signer -o stsafe_signer_cert.pem\n";

static int cert_parse(int argc, char **argv, int *der, const char **out,
                      int *ca)
{
    static const struct option opts[] = {
        {"der", no_argument, NULL, 'D'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (o == 'D')
            *der = 1;
        else if (o == 'o')
            *out = optarg;
        else if (o == 'h') {
            fputs(cert_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option("cert", opts, argc, argv);
    }
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "ca") && strcmp(argv[optind], "signer")))
        return cli_usage_error("cert", "say which certificate: ca or signer");
    if (*der && !*out)
        return cli_usage_error("cert", "--der needs -o FILE");
    *ca = strcmp(argv[optind], "ca") == 0;
    return -1;
}

int cli_cert(cli_ctx *c, int argc, char **argv)
{
    int der = 0, ca = 0;
    const char *out = NULL;
    int rc = cert_parse(argc, argv, &der, &out, &ca);
    if (rc >= 0)
        return rc;
    char pem[THSM_PEM_MAX], err[300];
    uint8_t bin[THSM_X509_DER_MAX];
    size_t bin_len;
    if (cli_connect(c) != 0)
        return CLI_FAIL;
    if (thsm_hsm_cert_pem(&c->at, ca, pem, sizeof(pem), err, sizeof(err))) {
        cli_error("%s", err);
        return CLI_FAIL;
    }
    if (thsm_x509_to_der((uint8_t *)pem, strlen(pem), bin, sizeof(bin),
                         &bin_len) != 0) {
        cli_error("the device's certificate does not parse");
        return CLI_FAIL;
    }
    if (!out) {
        fputs(pem, stdout);
        return CLI_OK;
    }
    const void *data = der ? (const void *)bin : (const void *)pem;
    size_t len = der ? bin_len : strlen(pem);
    if (thsm_write_file_atomic(out, data, len, 0644, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        return CLI_FAIL;
    }
    fprintf(stderr, "Wrote %s (%s, %zu bytes)\n", out, der ? "DER" : "PEM",
            len);
    return CLI_OK;
}

