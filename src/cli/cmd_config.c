/* cmd_config.c - tinyhsm config: create the CA and signer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"

static const char config_help[] =
    "Usage: tinyhsm config --new all|signer [options]\n"
    "  --new all      erase the device, create a CA and a CA-signed signer\n"
    "  --new signer   create a new signer key and certificate under the CA\n"
    "  --ca-country C --ca-org O --ca-cn CN        (US, MyHSM, My_CA)\n"
    "  --ca-start YYYYMMDDhhmmss --ca-days N       (now, 3650)\n"
    "  --signer-country C --signer-org O --signer-cn CN (US, Me, My_ECDSA_Signer)\n"
    "  --signer-start YYYYMMDDhhmmss --signer-days N   (now, 730)\n"
    "  --yes          replace an existing CA without asking\n"
    "Values may not contain spaces. Dates are UTC.\n\n"
    "Example:\n  tinyhsm config --new all --ca-org ACME --signer-cn fw-2026\n";

typedef struct {
    thsm_subject ca, signer;
    char ca_start[15], signer_start[15];
    int all, yes;
} config_opts;

static int parse_days(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s < '1' || *s > '9' || *end || v > 36500)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int config_parse(int argc, char **argv, config_opts *co)
{
    static const struct option opts[] = {
        {"new", required_argument, NULL, 'n'},
        {"ca-country", required_argument, NULL, 1},
        {"ca-org", required_argument, NULL, 2},
        {"ca-cn", required_argument, NULL, 3},
        {"ca-start", required_argument, NULL, 4},
        {"ca-days", required_argument, NULL, 5},
        {"signer-country", required_argument, NULL, 6},
        {"signer-org", required_argument, NULL, 7},
        {"signer-cn", required_argument, NULL, 8},
        {"signer-start", required_argument, NULL, 9},
        {"signer-days", required_argument, NULL, 10},
        {"yes", no_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    const char *new_what = NULL;
    while ((o = getopt_long(argc, argv, "n:yh", opts, NULL)) != -1) {
        switch (o) {
        case 'n': new_what = optarg; break;
        case 1: co->ca.country = optarg; break;
        case 2: co->ca.org = optarg; break;
        case 3: co->ca.cn = optarg; break;
        case 4: co->ca.start = optarg; break;
        case 5:
            if (parse_days(optarg, &co->ca.days))
                return cli_usage_error("config", "--ca-days must be 1 to 36500");
            break;
        case 6: co->signer.country = optarg; break;
        case 7: co->signer.org = optarg; break;
        case 8: co->signer.cn = optarg; break;
        case 9: co->signer.start = optarg; break;
        case 10:
            if (parse_days(optarg, &co->signer.days))
                return cli_usage_error("config",
                                       "--signer-days must be 1 to 36500");
            break;
        case 'y': co->yes = 1; break;
        case 'h': fputs(config_help, stdout); return CLI_OK;
        default: return cli_usage_error("config", "bad option");
        }
    }
    if (optind < argc)
        return cli_usage_error("config", "unexpected argument '%s'",
                               argv[optind]);
    if (!new_what || (strcmp(new_what, "all") && strcmp(new_what, "signer")))
        return cli_usage_error("config", "--new all or --new signer is needed");
    co->all = strcmp(new_what, "all") == 0;
    return -1;
}

/* Values go on one AT line: a space would split a parameter. */
static int subject_ok(const thsm_subject *s, const char *who)
{
    const char *v[] = {s->country, s->org, s->cn, s->start};
    for (int i = 0; i < 4; i++) {
        if (!*v[i] || strpbrk(v[i], " \t\r\n")) {
            cli_error("%s values must be non-empty and without spaces", who);
            return -1;
        }
    }
    return 0;
}

/* Asks on the terminal; without one, refuses and says how to proceed. */
static int confirm_replace_ca(void)
{
    if (!isatty(STDIN_FILENO)) {
        cli_error("the device already has a CA; pass --yes to erase it and "
                  "every key, or use --new signer to keep it");
        return 0;
    }
    fprintf(stderr, "The device already has a CA. Erase it and every key? "
                    "[y/N] ");
    char answer[16] = "";
    if (!fgets(answer, sizeof(answer), stdin))
        return 0;
    return answer[0] == 'y' || answer[0] == 'Y';
}

int cli_config(cli_ctx *c, int argc, char **argv)
{
    config_opts co = {
        .ca = {"US", "MyHSM", "My_CA", NULL, 3650},
        .signer = {"US", "Me", "My_ECDSA_Signer", NULL, 730},
    };
    int rc = config_parse(argc, argv, &co);
    if (rc >= 0)
        return rc;
    thsm_now_start(co.ca_start);
    memcpy(co.signer_start, co.ca_start, sizeof(co.ca_start));
    if (!co.ca.start)
        co.ca.start = co.ca_start;
    if (!co.signer.start)
        co.signer.start = co.signer_start;
    if (subject_ok(&co.ca, "CA") || subject_ok(&co.signer, "signer"))
        return CLI_USAGE;
    char err[300];
    if (cli_connect(c) != 0)
        return CLI_FAIL;
    int has_ca = thsm_hsm_has_ca(&c->at, err, sizeof(err));
    if (has_ca < 0) {
        cli_error("%s", err);
        return CLI_FAIL;
    }
    if (!co.all && !has_ca) {
        cli_error("the device has no CA; create one with: tinyhsm config "
                  "--new all");
        return CLI_FAIL;
    }
    if (co.all && has_ca && !co.yes && !confirm_replace_ca())
        return CLI_FAIL;
    if (cli_login(c, 0) != 0)
        return CLI_FAIL;
    if (thsm_hsm_provision(&c->at, co.all, &co.ca, &co.signer, err,
                           sizeof(err)) != 0) {
        cli_error("%s", err);
        return CLI_FAIL;
    }
    printf("Provisioned %s.\n", co.all ? "a new CA and signer" : "a new signer");
    if (co.all)
        cli_print_device_cert(c, 1, "CA certificate");
    cli_print_device_cert(c, 0, "Signer certificate");
    return CLI_OK;
}

