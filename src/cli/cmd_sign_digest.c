/* cmd_sign_digest.c - tinyhsm sign-digest: the device signs a 32-byte
 * digest, written as imgtool's --fix-sig reads it (base64 of the DER). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "host/hsm.h"
#include "host/mcuboot_image.h"
#include "util/base64.h"

static const char sign_digest_help[] =
    "Usage: tinyhsm sign-digest --der --base64 DIGEST_FILE\n"
    "Has the device's signer sign the SHA-256 digest in DIGEST_FILE (exactly\n"
    "32 bytes, e.g. from 'imgtool sign --vector-to-sign digest') and writes\n"
    "the DER ECDSA signature, base64-encoded, to standard output: the file\n"
    "'imgtool sign --fix-sig' reads. Needs the PIN when the device has one.\n\n"
    "Example:\n  tinyhsm sign-digest --der --base64 digest.bin >sig.b64\n";

static int parse(cli_ctx *c, int argc, char **argv, const char **file)
{
    static const struct option opts[] = {
        {"der", no_argument, NULL, 'D'},
        {"base64", no_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool der = false, b64 = false;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'D')
            der = true;
        else if (o == 'B')
            b64 = true;
        else if (o == 'h') {
            fputs(sign_digest_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "sign-digest", opts, argc, argv);
    }
    if (!der || !b64)
        return cli_usage_error(c, "sign-digest", "only --der --base64 is "
                               "written (what imgtool --fix-sig reads)");
    if (optind != argc - 1)
        return cli_usage_error(c, "sign-digest", "give one DIGEST_FILE");
    *file = argv[optind];
    return -1;
}

int cli_sign_digest(cli_ctx *c, int argc, char **argv)
{
    const char *file = NULL;
    int rc = parse(c, argc, argv, &file);
    if (rc >= 0)
        return rc;
    size_t len;
    uint8_t *digest = cli_read_file(c, file, 64, &len);
    if (!digest)
        return CLI_FAIL;
    uint8_t d[32], sig[64], der[THSM_MCUBOOT_SIG_DER_MAX];
    size_t der_len;
    char text[2 * THSM_MCUBOOT_SIG_DER_MAX];
    bool ok = len == sizeof(d);
    if (ok)
        memcpy(d, digest, sizeof(d));
    free(digest);
    if (!ok) {
        cli_error(c, "%s holds %zu bytes, not a 32-byte SHA-256 digest", file,
                  len);
        return CLI_FAIL;
    }
    thsm_err err;
    if (cli_connect(c) != 0 || cli_login(c, false) != 0)
        return CLI_FAIL;
    if (thsm_hsm_sign_digest(&c->at, d, sig, &err) != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return CLI_FAIL;
    }
    if (thsm_mcuboot_sig_to_der(sig, der, &der_len) != 0) {
        cli_error(c, "the device's signature does not encode");
        return CLI_FAIL;
    }
    thsm_base64(der, der_len, text);
    printf("%s\n", text);
    return CLI_OK;
}
