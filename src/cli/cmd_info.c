/* cmd_info.c - tinyhsm info: the device, its status, its certificates. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "host/hsm.h"
#include "host/json.h"
#include "proto/at.h"
#include "util/escape.h"
#include "util/keyid.h"

static const char info_help[] =
    "Usage: tinyhsm info [--json]\n"
    "Shows the device version and serial number, the signer key id (the\n"
    "first 8 bytes of the SHA-256 of its public key, as in the audit log),\n"
    "the device's status (PIN set or not, tries left, the wait before the\n"
    "next try after a wrong PIN, the security officer's PIN, signatures made\n"
    "since the device started, audit log, a state rolled back; the original\n"
    "board has none), and the subject, validity and key\n"
    "fingerprint of its CA and signer certificates; a certificate that has\n"
    "expired or is not yet valid is flagged (JSON: \"validity\"); then the\n"
    "signing policy and the last version signed per board (tinyhsm policy).\n\n"
    "  --json   one JSON object on standard output, for scripts; \"ok\" is\n"
    "           false (with \"error\") when the device cannot be asked\n\n"
    "Example:\n  tinyhsm info\n  tinyhsm info --json\n";

typedef struct {
    char device[256], serial[256];
    char key_id[THSM_KEY_ID_LEN]; /* signer; "" when there is none */
    bool has_status;               /* the device answered its status */
    char pin[16], tries[16], signatures[24], log[24], log_state[32];
    char state[32]; /* STATE=: "OK", "ROLLED_BACK", or "" from older devices */
    char delay[16], so[16], so_tries[16], so_delay[16]; /* "" when absent */

    char ack[16];   /* ACK=: the acknowledging record, "NONE" or "" */
    char origin[12]; /* SIGNER_ORIGIN=: generated, imported, none or "" */
    char has_ca[4], has_signer_cert[4]; /* "1", "0" or "" */
    bool has_cert[2];              /* [1] CA, [0] signer */
    thsm_x509_info cert[2];
    thsm_err cert_err[2];
    thsm_policy_info policy; /* .answered false: none offered */
    char shown[4][THSM_ESCAPED_MAX(256)]; /* shown(): device text escaped */
    unsigned next_shown;
} info_data;

/* The value of KEY=VALUE in a status line, or "" when absent. */
static void field(const char *text, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *p = text; *p; p += strcspn(p, " "), p += strspn(p, " "))
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t n = strcspn(p + klen + 1, " ");
            snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1),
                     p + klen + 1);
            return;
        }
}

static void read_status(cli_ctx *c, info_data *d)
{
    char t[THSM_AT_RESP_MAX];
    if (!thsm_hsm_status_text(&c->at, t, sizeof(t)))
        return; /* the original board: no status */
    d->has_status = true;
    field(t, THSM_ST_PIN, d->pin, sizeof(d->pin));
    field(t, THSM_ST_TRIES, d->tries, sizeof(d->tries));
    field(t, THSM_ST_SIGNATURES, d->signatures, sizeof(d->signatures));
    field(t, THSM_ST_LOG, d->log, sizeof(d->log));
    field(t, THSM_ST_LOG_STATE, d->log_state, sizeof(d->log_state));
    field(t, THSM_ST_STATE, d->state, sizeof(d->state));
    field(t, THSM_ST_DELAY, d->delay, sizeof(d->delay));
    field(t, THSM_ST_SO, d->so, sizeof(d->so));
    field(t, THSM_ST_SO_TRIES, d->so_tries, sizeof(d->so_tries));
    field(t, THSM_ST_SO_DELAY, d->so_delay, sizeof(d->so_delay));

    field(t, THSM_ST_ACK, d->ack, sizeof(d->ack));
    field(t, THSM_ST_SIGNER_ORIGIN, d->origin, sizeof(d->origin));
    field(t, THSM_ST_CA, d->has_ca, sizeof(d->has_ca));
    field(t, THSM_ST_SIGNER_CERT, d->has_signer_cert,
          sizeof(d->has_signer_cert));
}

/* The signer key from the device, else from its certificate. */
static void read_key_id(cli_ctx *c, info_data *d)
{
    uint8_t pub[THSM_P256_PUB_LEN];
    static const uint8_t zero[THSM_P256_PUB_LEN];
    if (thsm_hsm_signer_pubkey(&c->at, pub))
        thsm_pub_key_id(pub, d->key_id);
    else if (d->has_cert[0] && memcmp(d->cert[0].pub, zero, sizeof(zero)))
        thsm_pub_key_id(d->cert[0].pub, d->key_id);
}

static void read_cert(cli_ctx *c, info_data *d, bool ca)
{
    char pem[THSM_PEM_MAX];
    if (thsm_hsm_cert_pem(&c->at, ca, pem, sizeof(pem), &d->cert_err[ca]) !=
        THSM_OK)
        return;
    if (thsm_x509_parse((uint8_t *)pem, strlen(pem), &d->cert[ca]) != 0)
        snprintf(d->cert_err[ca].msg, sizeof(d->cert_err[ca].msg),
                 "the device's certificate does not parse");
    else
        d->has_cert[ca] = true;
}

static int gather(cli_ctx *c, info_data *d)
{
    thsm_err err;
    if (thsm_hsm_version(&c->at, d->device, sizeof(d->device), &err) !=
        THSM_OK) {
        cli_error(c, "%s", err.msg);
        return -1;
    }
    if (thsm_hsm_serial(&c->at, d->serial, sizeof(d->serial), &err) !=
        THSM_OK)
        d->serial[0] = '\0';
    read_status(c, d);
    read_cert(c, d, true);
    read_cert(c, d, false);
    read_key_id(c, d);
    if (thsm_hsm_policy(&c->at, &d->policy, &err) != THSM_OK)
        d->policy.answered = false; /* shown as none offered */
    return 0;
}

/* Device text made safe to print; one of a few rotating buffers in d. */
static const char *shown(info_data *d, const char *text)
{
    char *b = d->shown[d->next_shown++ % 4];
    return thsm_escape(text, b, sizeof(d->shown[0]));
}

/* The security officer's PIN, on devices that have one. */
static void print_so(info_data *d)
{
    if (!d->so[0])
        return;
    if (strcmp(d->so, THSM_ST_PIN_NONE) == 0)
        printf("  SO PIN:      not set: a blocked PIN would need a "
               "decommission (tinyhsm pin set --so)\n");
    else if (strcmp(d->so, THSM_ST_PIN_SET) == 0)
        printf("  SO PIN:      set, %s %s left\n", shown(d, d->so_tries),
               strcmp(d->so_tries, "1") == 0 ? "try" : "tries");
    else
        printf("  SO PIN:      %s\n", shown(d, d->so));
    if (d->so_delay[0] && strcmp(d->so_delay, "0") != 0)
        printf("  SO PIN wait: %s s before the next try\n",
               shown(d, d->so_delay));
}

static void print_status(info_data *d)
{
    printf("Status\n");
    if (strcmp(d->pin, THSM_ST_PIN_NONE) == 0)
        printf("  PIN:         not set: anyone who can open the port can "
               "sign (tinyhsm pin set)\n");
    else if (strcmp(d->pin, THSM_ST_PIN_SET) == 0)
        printf("  PIN:         set, %s %s left\n", shown(d, d->tries),
               strcmp(d->tries, "1") == 0 ? "try" : "tries");
    else
        printf("  PIN:         %s\n", shown(d, d->pin));
    if (d->delay[0] && strcmp(d->delay, "0") != 0)
        printf("  PIN wait:    %s s before the next try (after a wrong PIN)\n",
               shown(d, d->delay));
    print_so(d);
    /* tinyhsmd counts from its start; a board from its power-up or reset */
    printf("  Signatures:  %s made since %s started\n", shown(d, d->signatures),
           strncmp(d->device, "tinyhsmd ", 9) == 0 ? "tinyhsmd" : "the device");
    if (strcmp(d->log_state, THSM_ST_LOG_OK) == 0)
        printf("  Audit log:   %s records, chain intact\n", shown(d, d->log));
    else if (strncmp(d->log_state, THSM_ST_LOG_BROKEN_AT,
                     sizeof(THSM_ST_LOG_BROKEN_AT) - 1) == 0)
        printf("  Audit log:   %s records, chain BROKEN at record %s: see "
               "'tinyhsm log --verify'\n", shown(d, d->log),
               shown(d, d->log_state + sizeof(THSM_ST_LOG_BROKEN_AT) - 1));
    else
        printf("  Audit log:   %s records, %s\n", shown(d, d->log),
               shown(d, d->log_state));
    if (strcmp(d->state, THSM_ST_STATE_ROLLED_BACK) == 0)
        printf("  State:       ROLLED BACK: the state on disk is older than "
               "the device's log;\n               PIN tries may have been "
               "restored (see README, Rollback)\n");
    if (d->ack[0] && strcmp(d->ack, THSM_ST_ACK_NONE) != 0)
        printf("  Findings:    acknowledged in audit record %s\n",
               shown(d, d->ack));
    if (strcmp(d->pin, THSM_ST_PIN_BLOCKED) == 0)
        printf("The device is BLOCKED after too many wrong PINs: it will not "
               "sign or change keys.\n%s\n",
               strcmp(d->so, THSM_ST_PIN_SET) == 0
                   ? "The security officer unblocks it, and the keys stay: "
                     "tinyhsm pin unblock"
                   : "Only 'tinyhsm decommission --yes' recovers it, and that "
                     "erases every key.");
}

/* Why there is no certificate: on a device that has none yet, how to
 * create it; else the device's own words. */
static void print_no_cert(const info_data *d, bool ca, const char *title)
{
    bool no_ca = strcmp(d->has_ca, "0") == 0 ||
                 strstr(d->cert_err[1].msg,
                        THSM_ANS_ERROR " " THSM_E_NO_CA) != NULL;
    bool none = ca ? no_ca
                   : strcmp(d->has_signer_cert, "0") == 0 ||
                         strstr(d->cert_err[0].msg,
                                THSM_ANS_ERROR " " THSM_E_NO_SIGNER) != NULL;
    if (!none)
        cli_print_no_cert(title, d->cert_err[ca].msg);
    else
        printf("%s\n  none yet (create one with: tinyhsm config --new %s)\n",
               title, no_ca ? "all" : "signer");
}

static void print_text(info_data *d)
{
    printf("Device:  %s\n", shown(d, d->device));
    if (d->serial[0])
        printf("Serial:  %s\n", shown(d, d->serial));
    printf("Signer key id: %s\n", d->key_id[0] ? d->key_id : "none");
    if (strcmp(d->origin, THSM_ST_ORIGIN_IMPORTED) == 0)
        printf("Signer key origin: imported (it was made outside the device "
               "and moved in)\n");
    else if (strcmp(d->origin, THSM_ST_ORIGIN_GENERATED) == 0)
        printf("Signer key origin: generated in the device\n");
    if (d->has_status)
        print_status(d);
    static const char *const titles[2] = {"Signer certificate",
                                          "CA certificate"};
    for (int ca = 1; ca >= 0; ca--) {
        if (d->has_cert[ca])
            cli_print_cert(titles[ca], &d->cert[ca]);
        else
            print_no_cert(d, ca, titles[ca]);
    }
    if (d->policy.answered)
        cli_print_policy(&d->policy);
}

static void info_json_time(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char s[32];
    if (!gmtime_r(&tt, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ",
                                         &tm))
        snprintf(s, sizeof(s), "%lld", (long long)t);
    thsm_json_string(stdout, s);
}

/* A number from the device, or null when it is not one. */
static void json_number(const char *s)
{
    size_t n = strspn(s, "0123456789");
    fputs(n && !s[n] && n < 20 ? s : "null", stdout);
}

static void json_cert(const thsm_x509_info *info)
{
    uint8_t digest[THSM_SHA256_LEN];
    char fp[2 * THSM_SHA256_LEN + 1], id[THSM_KEY_ID_LEN];
    thsm_sha256(info->pub, sizeof(info->pub), digest);
    thsm_hex(digest, sizeof(digest), fp);
    thsm_pub_key_id(info->pub, id);
    printf("{\"subject\":");
    thsm_json_string(stdout, info->subject);
    printf(",\"issuer\":");
    thsm_json_string(stdout, info->issuer);
    printf(",\"serial\":");
    thsm_json_string(stdout, info->serial_hex);
    printf(",\"not_before\":");
    info_json_time(info->not_before);
    printf(",\"not_after\":");
    info_json_time(info->not_after);
    const char *bad = cli_cert_validity(info, (int64_t)time(NULL));
    printf(",\"key_sha256\":\"%s\",\"key_id\":\"%s\",\"validity\":\"%s\"}",
           fp, id, !bad ? "valid" : *bad == 'E' ? "expired" : "not_yet_valid");
}

static void json_status(const info_data *d)
{
    printf("{\"pin\":");
    thsm_json_string(stdout, strcmp(d->pin, THSM_ST_PIN_NONE) == 0  ? "none"
                             : strcmp(d->pin, THSM_ST_PIN_SET) == 0 ? "set"
                             : strcmp(d->pin, THSM_ST_PIN_BLOCKED) == 0 ? "blocked"
                                                              : d->pin);
    printf(",\"blocked\":%s,\"tries_left\":",
           strcmp(d->pin, THSM_ST_PIN_BLOCKED) == 0 ? "true" : "false");
    json_number(strcmp(d->pin, THSM_ST_PIN_NONE) == 0 ? "" : d->tries);
    printf(",\"signatures_since_start\":");
    json_number(d->signatures);
    printf(",\"log_records\":");
    json_number(d->log);
    printf(",\"log_intact\":%s,\"log_state\":",
           strcmp(d->log_state, THSM_ST_LOG_OK) == 0 ? "true" : "false");
    thsm_json_string(stdout, d->log_state);
    printf(",\"rolled_back\":%s,\"pin_delay_s\":",
           strcmp(d->state, THSM_ST_STATE_ROLLED_BACK) == 0 ? "true" : "false");
    json_number(d->delay);
    printf(",\"so_pin\":");
    thsm_json_string(stdout, !d->so[0] ? NULL
                             : strcmp(d->so, THSM_ST_PIN_NONE) == 0 ? "none"
                             : strcmp(d->so, THSM_ST_PIN_SET) == 0  ? "set"
                             : strcmp(d->so, THSM_ST_PIN_BLOCKED) == 0
                                 ? "blocked" : d->so);
    printf(",\"so_tries_left\":");
    json_number(strcmp(d->so, THSM_ST_PIN_SET) == 0 ? d->so_tries : "");
    printf(",\"so_delay_s\":");
    json_number(d->so_delay);
    printf("}");
}

static void print_json(const info_data *d)
{
    printf("{\"ok\":true,\"device\":");
    thsm_json_string(stdout, d->device);
    printf(",\"serial\":");
    thsm_json_string(stdout, d->serial[0] ? d->serial : NULL);
    printf(",\"signer_key_id\":");
    thsm_json_string(stdout, d->key_id[0] ? d->key_id : NULL);
    printf(",\"signer_key_origin\":");
    thsm_json_string(stdout, strcmp(d->origin, THSM_ST_ORIGIN_IMPORTED) == 0 ||
                             strcmp(d->origin, THSM_ST_ORIGIN_GENERATED) == 0
                                 ? d->origin : NULL);
    printf(",\"status\":");
    if (d->has_status)
        json_status(d);
    else
        printf("null");
    static const char *const names[2] = {"signer", "ca"};
    for (int ca = 1; ca >= 0; ca--) {
        printf(",\"%s\":", names[ca]);
        if (d->has_cert[ca])
            json_cert(&d->cert[ca]);
        else
            printf("null");
    }
    printf(",\"policy\":");
    cli_json_policy(&d->policy);
    printf("}\n");
}

static int info_parse(cli_ctx *c, int argc, char **argv, bool *json)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'j')
            *json = true;
        else if (o == 'h') {
            fputs(info_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option(c, "info", opts, argc, argv);
    }
    if (optind < argc)
        return cli_usage_error(c, "info", "unexpected argument '%s'",
                               argv[optind]);
    return -1;
}

int cli_info(cli_ctx *c, int argc, char **argv)
{
    bool json = false;
    int rc = info_parse(c, argc, argv, &json);
    if (rc >= 0)
        return rc;
    info_data *d = calloc(1, sizeof(*d)); /* certificates: off the stack */
    if (!d || cli_connect(c) != 0 || gather(c, d) != 0) {
        if (!d)
            cli_error(c, "out of memory");
        if (json)
            json_failure(c);
        free(d);
        return CLI_FAIL;
    }
    if (json)
        print_json(d);
    else
        print_text(d);
    free(d);
    return CLI_OK;
}
