/* cmd_import.c - tinyhsm import signer: an existing key moves in. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/util.h"
#include "host/hsm.h"
#include "host/key_import.h"
#include "proto/at.h"
#include "util/keyid.h"

static const char import_help[] =
    "Usage: tinyhsm import signer KEY.pem [--cert CERT.pem]\n"
    "                             [--passphrase-file F] [--yes]\n"
    "Replaces the device's signer key with an existing ECDSA P-256 key (PEM:\n"
    "PKCS#8, encrypted PKCS#8 or EC PRIVATE KEY), so that bootloaders built\n"
    "around it keep working. The current signer key is gone for good.\n"
    "The device must have a PIN; the key is marked imported everywhere.\n\n"
    "  --cert CERT.pem        the key's certificate (PEM or DER, at most 750\n"
    "                         bytes); without it the device's CA issues one\n"
    "  --passphrase-file F    the passphrase of an encrypted KEY.pem (first\n"
    "                         line); without it, asked on the terminal\n"
    "  --yes                  do not ask for confirmation (needed without a\n"
    "                         terminal)\n\n"
    "Example:\n  tinyhsm import signer signing-key.pem --cert signer.crt\n";

typedef struct {
    const char *key, *cert, *pass_file;
    int yes;
} import_args;

/* 0, CLI_OK after --help, or CLI_USAGE (said). */
static int parse(cli_ctx *c, int argc, char **argv, import_args *a)
{
    static const struct option opts[] = {
        {"cert", required_argument, NULL, 'c'},
        {"passphrase-file", required_argument, NULL, 'p'},
        {"yes", no_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
        if (o == 'c')
            a->cert = optarg;
        else if (o == 'p')
            a->pass_file = optarg;
        else if (o == 'y')
            a->yes = 1;
        else if (o == 'h') {
            fputs(import_help, stdout);
            return -1;
        } else
            return cli_bad_option(c, "import", opts, argc, argv);
    }
    if (optind >= argc || strcmp(argv[optind], "signer") != 0)
        return cli_usage_error(c, "import", "what to import: 'signer' (the "
                               "only key that can be imported)");
    if (optind + 2 != argc)
        return cli_usage_error(c, "import", optind + 1 >= argc
                               ? "the key file is missing"
                               : "unexpected argument after the key file");
    a->key = argv[optind + 1];
    if (!a->yes && !isatty(STDIN_FILENO))
        return cli_usage_error(c, "import", "this replaces the signer key for "
                               "good; confirm with --yes");
    return 0;
}

typedef struct {
    cli_ctx *c;
    const char *file; /* --passphrase-file */
    int said;         /* the reason there is none was said */
    int no_terminal;  /* none: no file and no terminal to ask */
} pass_src;

/* The passphrase of an encrypted key file: --passphrase-file, else asked
 * without echo (thsm_pass_fn). */
static int get_pass(void *ctx, char *buf, size_t cap)
{
    pass_src *p = ctx;
    char pass[1024];
    int rc = -1;
    if (p->file)
        rc = cli_read_secret_file(p->c, p->file, "passphrase", pass,
                                  sizeof(pass));
    else if ((rc = cli_prompt_pin("Passphrase of the key file: ", pass,
                                  sizeof(pass))) != 0)
        p->no_terminal = 1;
    p->said = rc != 0 && p->file;
    size_t n = rc == 0 ? strlen(pass) : 0;
    if (rc == 0 && n > cap)
        rc = -1;
    if (rc == 0)
        memcpy(buf, pass, n);
    thsm_wipe(pass, sizeof(pass));
    return rc == 0 ? (int)n : -1;
}

/* The key of a->key, read once; its passphrase asked when it is
 * encrypted. */
static int read_key(cli_ctx *c, const import_args *a, uint8_t *priv,
                    uint8_t *pub)
{
    pass_src ps = {c, a->pass_file, 0, 0};
    thsm_err err;
    int rc = thsm_key_file_read(a->key, get_pass, &ps, priv, pub, &err);
    if (rc == THSM_OK || ps.said)
        return rc == THSM_OK ? 0 : -1;
    cli_error(c, "%s%s (nothing was changed)", err.msg,
              ps.no_terminal ? "; give it with --passphrase-file F (no "
                               "terminal to ask)" : "");
    return -1;
}

/* Asks on the terminal; true on "yes". */
static bool confirmed(const char *old_id, const char *new_id)
{
    char line[16] = "";
    fprintf(stderr, "This replaces the signer key %s with the imported key %s.\n"
            "The current signer key is erased for good. Type yes to go on: ",
            old_id, new_id);
    if (!fgets(line, sizeof(line), stdin))
        return false;
    return strcmp(line, "yes\n") == 0 || strcmp(line, "yes") == 0;
}

/* Connects, checks there is a PIN, logs in, confirms. 0 or -1 (said). */
static int ready(cli_ctx *c, const import_args *a, const uint8_t *pub)
{
    thsm_status st;
    thsm_err err;
    char old_id[THSM_KEY_ID_LEN], new_id[THSM_KEY_ID_LEN];
    if (cli_connect(c) != 0)
        return -1;
    if (thsm_hsm_status(&c->at, &st, &err) != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return -1;
    }
    if (st.answered && st.pin == THSM_PIN_NONE) {
        cli_error(c, "importing a key needs a PIN on the device: set one with "
                  "'tinyhsm pin set' first (nothing was changed)");
        return -1;
    }
    if (cli_login(c, false) != 0)
        return -1;
    snprintf(old_id, sizeof(old_id), "%s", st.signer ? st.signer_key : "(none)");
    thsm_pub_key_id(pub, new_id);
    if (!a->yes && !confirmed(old_id, new_id)) {
        cli_error(c, "not confirmed: nothing was changed");
        return -1;
    }
    return 0;
}

int cli_import(cli_ctx *c, int argc, char **argv)
{
    import_args a = {0};
    uint8_t priv[THSM_P256_PRIV_LEN], pub[THSM_P256_PUB_LEN];
    uint8_t der[THSM_X509_DER_MAX];
    size_t der_len = 0;
    char start[15], id[THSM_KEY_ID_LEN];
    thsm_err err;
    int rc = parse(c, argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (read_key(c, &a, priv, pub) != 0)
        return CLI_FAIL;
    if (a.cert && thsm_import_cert_read(a.cert, pub, der, sizeof(der), &der_len,
                                        &err) != THSM_OK) {
        thsm_wipe(priv, sizeof(priv));
        cli_error(c, "%s (nothing was changed)", err.msg);
        return CLI_FAIL;
    }
    thsm_now_start(start);
    thsm_subject signer = {"US", "Me", "My_ECDSA_Signer", start, 730};
    if (ready(c, &a, pub) != 0) {
        thsm_wipe(priv, sizeof(priv));
        return CLI_FAIL;
    }
    rc = thsm_hsm_signer_import(&c->at, priv, a.cert ? der : NULL, der_len,
                                &signer, &err);
    thsm_wipe(priv, sizeof(priv));
    if (rc != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return CLI_FAIL;
    }
    thsm_pub_key_id(pub, id);
    printf("The signer key is now the imported key %s; its certificate %s.\n",
           id, a.cert ? "is the one given" : "was issued by the device's CA");
    return CLI_OK;
}
