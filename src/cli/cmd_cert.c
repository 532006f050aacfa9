/* cmd_cert.c - tinyhsm cert: export or renew a certificate. */
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
#include "host/pubkey_export.h"
#include "util/certvalues.h"

static const char cert_help[] =
    "Usage: tinyhsm cert ca|signer [--der] [-o FILE] [--force]\n"
    "       tinyhsm cert signer --format mcuboot-c|pubkey-pem [-o FILE]\n"
    "       tinyhsm cert renew ca|signer [--days N]\n"
    "Writes the CA or signer certificate as PEM (or DER with --der) to FILE,\n"
    "or PEM to standard output. FILE follows the rules of 'tinyhsm sign':\n"
    "'-' is standard output; a FIFO or character device is written to (a\n"
    "FIFO with no reader, or another user's FIFO or device, is refused); a\n"
    "symlink is followed to its existing target only when it belongs to you\n"
    "or root; a regular file is replaced atomically, keeping its mode when\n"
    "it is yours (never set-id, sticky or o+w bits); a directory is refused.\n"
    "DER to a terminal needs --force. The certificate is written anew from\n"
    "its DER: no other text the device sent passes through.\n\n"
    "--format mcuboot-c writes the signer's public key as the C array MCUboot\n"
    "compiles in (DER SubjectPublicKeyInfo, as 'imgtool getpub'); --format\n"
    "pubkey-pem writes it as a PEM public key.\n\n"
    "'renew' issues a new certificate for the same key, valid from now for\n"
    "--days N days (CA 3650, signer 730): same subject, new serial. The key\n"
    "stays, so bootloaders built with the current SigGen.c keep working. The\n"
    "renewed CA still verifies the signer certificate it issued; a signer\n"
    "certificate is issued again as before (by the CA, or self-signed).\n"
    "Needs the PIN when the device has one; export the result as above.\n\n"
    "Example:\n  tinyhsm cert signer -o stsafe_signer_cert.pem\n"
    "  tinyhsm cert renew signer --days 730\n";

static int cert_parse(cli_ctx *c, int argc, char **argv, bool *der,
                      const char **out, bool *ca, const char **format)
{
    bool force = false;
    static const struct option opts[] = {
        {"der", no_argument, NULL, 'D'},
        {"format", required_argument, NULL, 'f'},
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
        else if (o == 'f')
            *format = optarg;
        else if (o == 'h') {
            fputs(cert_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "cert", opts, argc, argv);
    }
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "ca") && strcmp(argv[optind], "signer")))
        return cli_usage_error(c, "cert", "say which certificate: ca or signer");
    if (*format && strcmp(*format, "mcuboot-c") &&
        strcmp(*format, "pubkey-pem"))
        return cli_usage_error(c, "cert", "--format must be mcuboot-c or "
                               "pubkey-pem");
    if (*format && (*der || strcmp(argv[optind], "signer")))
        return cli_usage_error(c, "cert", "--format is for the signer's key, "
                               "without --der");
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

/* The signer's public key from its certificate pem, as format says, into
 * pem itself. 0, or -1 with a message. */
static int key_text(cli_ctx *c, const char *format, char pem[THSM_PEM_MAX])
{
    uint8_t pub[THSM_P256_PUB_LEN];
    char text[THSM_PUBKEY_TEXT_MAX];
    if (thsm_pubkey_from_pem((const uint8_t *)pem, strlen(pem), pub) != 0) {
        cli_error(c, "the signer certificate holds no P-256 key");
        return -1;
    }
    int rc = strcmp(format, "mcuboot-c") == 0
                 ? thsm_pubkey_c_array(pub, text, sizeof(text))
                 : thsm_pubkey_pem(pub, text, sizeof(text));
    if (rc != 0 || strlen(text) >= THSM_PEM_MAX) {
        cli_error(c, "cannot format the public key");
        return -1;
    }
    memcpy(pem, text, strlen(text) + 1);
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

/* tinyhsm cert renew ca|signer [--days N]: argv[0] is "renew". */
static int renew_parse(cli_ctx *c, int argc, char **argv, bool *ca,
                       unsigned *days)
{
    static const struct option opts[] = {
        {"days", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *given = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'n')
            given = optarg;
        else if (o == 'h') {
            fputs(cert_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "cert", opts, argc, argv);
    }
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "ca") && strcmp(argv[optind], "signer")))
        return cli_usage_error(c, "cert", "say which certificate to renew: "
                               "ca or signer");
    *ca = strcmp(argv[optind], "ca") == 0;
    uint32_t n = *ca ? 3650 : 730;
    if (given && thsm_parse_uint(given, 1, THSM_CERT_DAYS_MAX, &n) != 0)
        return cli_usage_error(c, "cert", "--days must be a number from 1 to "
                               "%d", THSM_CERT_DAYS_MAX);
    *days = n;
    return -1;
}

static int cert_renew(cli_ctx *c, int argc, char **argv)
{
    bool ca = false;
    unsigned days = 0;
    int rc = renew_parse(c, argc, argv, &ca, &days);
    if (rc >= 0)
        return rc;
    char start[15];
    thsm_err err;
    if (cli_connect(c) != 0 || cli_login(c, false) != 0)
        return CLI_FAIL;
    thsm_now_start(start);
    if (thsm_hsm_cert_renew(&c->at, ca, start, days, &err) != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return CLI_FAIL;
    }
    printf("Renewed the %s certificate for %u days; the key is the same.\n",
           ca ? "CA" : "signer", days);
    cli_print_device_cert(c, ca, ca ? "CA certificate" : "Signer certificate");
    printf("Export it with: tinyhsm cert %s -o %s\n", ca ? "ca" : "signer",
           ca ? "ca.pem" : "stsafe_signer_cert.pem");
    return CLI_OK;
}

int cli_cert(cli_ctx *c, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "renew") == 0)
        return cert_renew(c, argc - 1, argv + 1);
    bool der = false, ca = false;
    const char *out = NULL, *format = NULL;
    int rc = cert_parse(c, argc, argv, &der, &out, &ca, &format);
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
    if (cli_connect(c) != 0 || fetch(c, ca, pem, bin, &bin_len) != 0 ||
        (format && key_text(c, format, pem) != 0)) {
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
    fprintf(stderr, "Wrote %s (%s, %zu bytes)\n", out,
            format ? format : der ? "DER" : "PEM", len);
    return CLI_OK;
}

