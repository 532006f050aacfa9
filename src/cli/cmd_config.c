/* cmd_config.c - tinyhsm config: create the CA and signer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"
#include "util/certvalues.h"
#include "util/escape.h"

static const char config_help[] =
    "Usage: tinyhsm config --new all|signer [options]\n"
    "  --new all      erase the device, create a CA and a CA-signed signer\n"
    "  --new signer   replace the signer key and certificate under the CA\n"
    "  --ca-country C --ca-org O --ca-cn CN        (US, MyHSM, My_CA)\n"
    "  --ca-start YYYYMMDDhhmmss --ca-days N       (now, 3650)\n"
    "  --signer-country C --signer-org O --signer-cn CN (US, Me, My_ECDSA_Signer)\n"
    "  --signer-start YYYYMMDDhhmmss --signer-days N   (now, 730)\n"
    "  --yes          replace an existing CA or signer without asking\n"
    "C is two capital letters; O and CN 1 to 64 printable characters without\n"
    "spaces; START a date from 1970 (UTC); DAYS 1 to 36500, ending by\n"
    "9999-12-31. Every value is checked before the device is changed.\n"
    "config warns about a certificate that would be expired already, and\n"
    "about a signer certificate that would outlive the CA's.\n"
    "A new signer key makes every bootloader built with the old SigGen.c\n"
    "reject the images signed from then on: rebuild it with the new SigGen.c.\n"
    "With a PIN set, --new all keeps it: the erase removes it, config sets\n"
    "the same PIN again.\n\n"
    "Example:\n  tinyhsm config --new all --ca-org ACME --signer-cn fw-2026\n";

typedef struct {
    thsm_subject ca, signer;
    char ca_start[15], signer_start[15];
    bool all, yes;
} config_opts;

static int parse_days(cli_ctx *c, const char *opt, const char *s,
                      unsigned *out)
{
    uint32_t v;
    if (thsm_parse_uint(s, 1, THSM_CERT_DAYS_MAX, &v) != 0)
        return cli_usage_error(c, "config", "%s must be a number from 1 to %d",
                               opt, THSM_CERT_DAYS_MAX);
    *out = v;
    return -1;
}

static int config_options(cli_ctx *c, int argc, char **argv, config_opts *co,
                          const char **new_what)
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
    int o, rc = -1;
    while (rc < 0 && (o = getopt_long(argc, argv, "n:yh", opts, NULL)) != -1) {
        switch (o) {
        case 'n': *new_what = optarg; break;
        case 1: co->ca.country = optarg; break;
        case 2: co->ca.org = optarg; break;
        case 3: co->ca.cn = optarg; break;
        case 4: co->ca.start = optarg; break;
        case 5: rc = parse_days(c, "--ca-days", optarg, &co->ca.days); break;
        case 6: co->signer.country = optarg; break;
        case 7: co->signer.org = optarg; break;
        case 8: co->signer.cn = optarg; break;
        case 9: co->signer.start = optarg; break;
        case 10: rc = parse_days(c, "--signer-days", optarg, &co->signer.days); break;
        case 'y': co->yes = true; break;
        case 'h': fputs(config_help, stdout); return CLI_OK;
        default: return cli_bad_option(c, "config", opts, argc, argv);
        }
    }
    return rc;
}

/* A usage error naming the refused values, all of them, in full. */
static int values_refused(cli_ctx *c, const char *who, const thsm_subject *s,
                          const char *why)
{
    char shown[4][THSM_ESCAPED_MAX(512)];
    const char *v[4] = {s->country, s->org, s->cn, s->start};
    for (int i = 0; i < 4; i++)
        thsm_escape(v[i], shown[i], sizeof(shown[i]));
    return cli_usage_error(c, "config", "the %s values are refused: %s "
                           "(C=%s O=%s CN=%s START=%s DAYS=%u); nothing was "
                           "sent to the device", who, why, shown[0], shown[1],
                           shown[2], shown[3], s->days);
}

/* The validity period of values that passed thsm_subject_check. */
static void period(const thsm_subject *s, int64_t *from, int64_t *to)
{
    if (thsm_parse_start(s->start, from) != 0)
        *from = 0;
    *to = *from + (int64_t)s->days * 86400;
}

/* --new with a word other than all or signer: named, with a guess. */
static int new_refused(cli_ctx *c, const char *what)
{
    char shown[THSM_ESCAPED_MAX(64)];
    static const char *const words[] = {"all", "signer"};
    const char *guess = NULL;
    for (int i = 0; i < 2 && !guess; i++)
        if (cli_close_to(what, words[i]) || strcasecmp(what, words[i]) == 0 ||
            (what[0] && strncmp(what, words[i], strlen(what)) == 0))
            guess = words[i];
    thsm_escape(what, shown, sizeof(shown));
    if (guess)
        return cli_usage_error(c, "config", "--new takes all or signer, not "
                               "'%s'; did you mean --new %s?", shown, guess);
    return cli_usage_error(c, "config", "--new takes all or signer, not '%s'",
                           shown);
}

static int config_parse(cli_ctx *c, int argc, char **argv, config_opts *co)
{
    const char *new_what = NULL, *why;
    int rc = config_options(c, argc, argv, co, &new_what);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error(c, "config", "unexpected argument '%s'",
                               argv[optind]);
    if (!new_what)
        return cli_usage_error(c, "config",
                               "--new all or --new signer is needed");
    if (strcmp(new_what, "all") && strcmp(new_what, "signer"))
        return new_refused(c, new_what);
    co->all = strcmp(new_what, "all") == 0;
    thsm_now_start(co->ca_start);
    memcpy(co->signer_start, co->ca_start, sizeof(co->ca_start));
    if (!co->ca.start)
        co->ca.start = co->ca_start;
    if (!co->signer.start)
        co->signer.start = co->signer_start;
    if (co->all && (why = thsm_subject_check(&co->ca)) != NULL)
        return values_refused(c, "CA", &co->ca, why);
    if ((why = thsm_subject_check(&co->signer)) != NULL)
        return values_refused(c, "signer", &co->signer, why);
    return -1;
}

/* Asks on the terminal; without one, refuses and says how to proceed. */
static bool confirm(cli_ctx *c, const config_opts *co, bool has_ca)
{
    const char *what = co->all && has_ca ? "the CA, the signer and every key"
                                         : "the signer key";
    fprintf(stderr, "This replaces %s on the device. Every bootloader built "
                    "with the current SigGen.c will reject the images signed "
                    "from then on, until it is rebuilt with the new SigGen.c "
                    "that 'tinyhsm sign' writes.\n", what);
    if (!isatty(STDIN_FILENO)) {
        cli_error(c, "not confirmed: stdin is not a terminal; pass --yes to "
                  "confirm%s; nothing changed",
                  co->all ? ", or use --new signer to keep the CA" : "");
        return false;
    }
    fprintf(stderr, "Replace %s? [y/N] ", what);
    char answer[16] = "";
    if (fgets(answer, sizeof(answer), stdin) &&
        (answer[0] == 'y' || answer[0] == 'Y'))
        return true;
    cli_error(c, "not confirmed; nothing changed");
    return false;
}

/* After a failure midway: what the device holds now. */
static void report_changes(cli_ctx *c, bool all, unsigned done, bool had_pin)
{
    if (!done) {
        cli_error(c, "nothing on the device was changed");
        return;
    }
    fprintf(stderr, "What changed on the device:\n");
    if (done & THSM_PROV_ERASED)
        fprintf(stderr, "  - the old CA and signer keys and certificates %s "
                        "erased\n", had_pin ? "and the PIN were" : "were");
    if (done & THSM_PROV_PIN)
        fprintf(stderr, "  - the same PIN was set again\n");
    if (done & THSM_PROV_CA)
        fprintf(stderr, "  - a new CA key and certificate were created\n");
    if (done & THSM_PROV_SIGNER_KEY)
        fprintf(stderr, "  - a new signer key was created%s\n",
                all ? "" : "; the old one is gone");
    fprintf(stderr, "What was not done:\n");
    if (had_pin && !(done & THSM_PROV_PIN))
        fprintf(stderr, "  - the PIN was not set again: the device has no "
                        "PIN now (tinyhsm pin set)\n");
    if (all && !(done & THSM_PROV_CA))
        fprintf(stderr, "  - no new CA: the device has no CA now\n");
    if (!(done & THSM_PROV_SIGNER_KEY))
        fprintf(stderr, "  - no new signer key: the device has none now\n");
    fprintf(stderr, "  - no signer certificate: the device cannot sign until "
                    "'tinyhsm config --new %s' succeeds\n",
            all && !(done & THSM_PROV_CA) ? "all" : "signer");
}

/* Whether the device has a CA and a signer key, from its status when it
 * gives one; had_pin tells whether a PIN is set. 0 or -1. */
static int device_holds(cli_ctx *c, bool *has_ca, bool *has_signer,
                        bool *had_pin)
{
    thsm_status st;
    thsm_err err;
    char pem[THSM_PEM_MAX];
    if (thsm_hsm_status(&c->at, &st, &err) != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return -1;
    }
    *had_pin = st.answered && st.pin == THSM_PIN_SET;
    if (st.answered) {
        *has_ca = st.ca;
        *has_signer = st.signer;
        return 0;
    }
    if (thsm_hsm_has_ca(&c->at, has_ca, &err) != THSM_OK) {
        cli_error(c, "%s", err.msg);
        return -1;
    }
    *has_signer = thsm_hsm_cert_pem(&c->at, false, pem, sizeof(pem), &err) ==
                  THSM_OK;
    return 0;
}

/* Warns about a certificate that would be expired when made (allowed:
 * it tests how verifiers treat one). */
static void warn_expired(cli_ctx *c, const char *who, const thsm_subject *s)
{
    int64_t from, to;
    char end[32];
    period(s, &from, &to);
    if (to >= (int64_t)time(NULL))
        return;
    cli_format_time(to, end);
    cli_error(c, "warning: the %s certificate will be expired when it is made "
              "(valid until %s): images signed under it carry an expired "
              "certificate", who, end);
}

/* Warns when the new signer certificate would end more than a day after
 * the CA's (the new CA's, or the device's with --new signer): a verifier
 * that checks the chain rejects it from the CA's end on. */
static void warn_outlives_ca(cli_ctx *c, const config_opts *co, bool has_ca)
{
    char pem[THSM_PEM_MAX], end[32], ca_end[32];
    thsm_err err;
    thsm_x509_info ca;
    int64_t from, to, ca_from, ca_to;
    period(&co->signer, &from, &to);
    if (co->all)
        period(&co->ca, &ca_from, &ca_to);
    else if (has_ca &&
             thsm_hsm_cert_pem(&c->at, true, pem, sizeof(pem), &err) ==
                 THSM_OK &&
             thsm_x509_parse((uint8_t *)pem, strlen(pem), &ca) == 0)
        ca_to = ca.not_after;
    else
        return;
    if (to <= ca_to + 86400) /* not for the seconds between two commands */
        return;
    cli_format_time(to, end);
    cli_format_time(ca_to, ca_end);
    cli_error(c, "warning: the signer certificate would be valid until %s, "
              "after the CA certificate ends (%s); a verifier that checks "
              "the chain rejects it from then on (shorten --signer-days)",
              end, ca_end);
}

static int provision(cli_ctx *c, const config_opts *co, bool had_pin)
{
    char pin[128];
    thsm_err err;
    unsigned done = 0;
    /* the reset ends a login, so it comes first */
    if (thsm_hsm_prepare(&c->at, &err) != THSM_OK) {
        cli_error(c, "%s; nothing on the device was changed", err.msg);
        return CLI_FAIL;
    }
    if (cli_login_keep(c, false, pin, sizeof(pin)) != 0) {
        cli_error(c, "nothing on the device was changed");
        return CLI_FAIL;
    }
    int rc = thsm_hsm_provision_steps(&c->at, co->all, &co->ca, &co->signer,
                                      pin, &done, &err);
    explicit_bzero(pin, sizeof(pin));
    if (rc != THSM_OK) {
        cli_error(c, "%s", err.msg);
        report_changes(c, co->all, done, had_pin);
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_config(cli_ctx *c, int argc, char **argv)
{
    config_opts co = {
        .ca = {"US", "MyHSM", "My_CA", NULL, 3650},
        .signer = {"US", "Me", "My_ECDSA_Signer", NULL, 730},
    };
    bool has_ca, has_signer, had_pin;
    int rc = config_parse(c, argc, argv, &co);
    if (rc >= 0)
        return rc;
    if (cli_connect(c) != 0 ||
        device_holds(c, &has_ca, &has_signer, &had_pin) != 0)
        return CLI_FAIL;
    if (!co.all && !has_ca) {
        cli_error(c, "the device has no CA; create one with: tinyhsm config "
                  "--new all");
        return CLI_FAIL;
    }
    if (co.all)
        warn_expired(c, "CA", &co.ca);
    warn_expired(c, "signer", &co.signer);
    warn_outlives_ca(c, &co, has_ca);
    if ((has_ca || has_signer) && !co.yes && !confirm(c, &co, has_ca))
        return CLI_FAIL;
    if ((rc = provision(c, &co, had_pin)) != CLI_OK)
        return rc;
    printf("Provisioned %s.\n", co.all ? "a new CA and signer" : "a new signer");
    if (has_signer)
        printf("Bootloaders built with the old SigGen.c reject the images "
               "signed from now on:\nrebuild them with the SigGen.c that "
               "'tinyhsm sign' writes.\n");
    if (co.all)
        cli_print_device_cert(c, true, "CA certificate");
    cli_print_device_cert(c, false, "Signer certificate");
    return CLI_OK;
}
