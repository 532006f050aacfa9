/* cmd_policy.c - tinyhsm policy show|set|lock: the device's signing policy. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "host/hsm.h"
#include "host/image.h"
#include "host/policy.h"
#include "proto/at.h"

static const char policy_help[] =
    "Usage: tinyhsm policy show [--json]\n"
    "       tinyhsm policy set [--boards B1,B2] [--formats secureboot10,mcuboot]\n"
    "           [--rising-versions on|off] [--max-size N] [--max-per-hour N]\n"
    "           [--max-per-day N] [--digest-signing on|off] [--imports on|off]\n"
    "       tinyhsm policy lock [--yes]\n"
    "The signing policy lives inside the device, which refuses what it\n"
    "forbids, whoever asks, naming the rule. With none set everything is\n"
    "signed as before. 'set' changes only the rules given; it and 'lock' need\n"
    "a PIN on the device (tinyhsm pin set) and log in with it. 'lock' freezes\n"
    "the policy until the device is decommissioned.\n\n"
    "  --json                  show: one JSON object on standard output\n"
    "  --boards B1,B2|any      SECUREBOOT10 boards and MCUboot image names\n"
    "                          (the names sign gives them) allowed (at most 8)\n"
    "  --formats F1,F2|any     image formats allowed: secureboot10, mcuboot\n"
    "  --rising-versions on|off  refuse a version not above the last one\n"
    "                          signed for its board (or slot) and format\n"
    "  --max-size N            largest image in bytes (0: no limit)\n"
    "  --max-per-hour N        signatures per hour (0: no limit)\n"
    "  --max-per-day N         signatures per day, UTC (0: no limit)\n"
    "  --digest-signing on|off sign bare digests (the original scripts,\n"
    "                          sign-digest, the digest mode of sign)\n"
    "  --imports on|off        allow importing a key\n"
    "  --yes                   lock: do not ask\n\n"
    "Example:\n  tinyhsm policy set --boards B-U585I-IOT02A --rising-versions on "
    "--digest-signing off\n  tinyhsm policy show --json\n"
    "  tinyhsm policy lock --yes\n";

enum { O_JSON = 1, O_YES, O_HELP, O_RULE }; /* O_RULE + i: rule i */

/* The options of 'set' and the rules they set, in the device's order. */
static const struct {
    const char *option, *rule;
    char kind; /* 'l' list, 'o' on|off, 'n' number */
} rules[] = {
    {"boards", THSM_P_BOARDS, 'l'},        {"formats", THSM_P_FORMATS, 'l'},
    {"rising-versions", THSM_P_RISING, 'o'}, {"max-size", THSM_P_MAX_SIZE, 'n'},
    {"max-per-hour", THSM_P_PER_HOUR, 'n'}, {"max-per-day", THSM_P_PER_DAY, 'n'},
    {"digest-signing", THSM_P_DIGEST, 'o'}, {"imports", THSM_P_IMPORTS, 'o'},
};
#define N_RULES (sizeof(rules) / sizeof(rules[0]))

typedef struct {
    bool json, yes;
    const char *value[N_RULES]; /* NULL: not given */
    const char *action;
} policy_args;

static void upper(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
    out[i] = '\0';
}

/* The comma-separated list v, each item checked by ok (which may rewrite
 * it into item); false when an item is empty or refused. */
static bool each_item(const char *v, char *out, size_t cap,
                      bool (*ok)(char *item, size_t cap))
{
    char item[64];
    out[0] = '\0';
    for (const char *p = v; ; p++) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof(item))
            return false;
        snprintf(item, sizeof(item), "%.*s", (int)n, p);
        if (!ok(item, sizeof(item)))
            return false;
        snprintf(out + strlen(out), cap - strlen(out), "%s%s",
                 out[0] ? "," : "", item);
        p += n;
        if (!*p)
            return true;
    }
}

/* A known board in the spelling its image header carries ("b-u585i-iot02a"
 * is B-U585I-IOT02A); other names (MCUboot's, unlisted boards) as given. */
static bool board_item(char *item, size_t cap)
{
    const thsm_board_info *b = thsm_board_find_nocase(item);
    if (b)
        snprintf(item, cap, "%s", b->name);
    return true;
}

static bool format_item(char *item, size_t cap)
{
    (void)cap;
    return strcmp(item, THSM_V_SECUREBOOT10) == 0 ||
           strcmp(item, THSM_V_MCUBOOT) == 0;
}

/* A name that is no known board but close to one is most likely a typo,
 * which a locked policy would keep for good: say so. */
static void warn_near_boards(cli_ctx *c, const char *list)
{
    char item[64];
    for (const char *p = list; *p; p += *p == ',') {
        size_t n = strcspn(p, ",");
        snprintf(item, sizeof(item), "%.*s", (int)n, p);
        p += n;
        const char *guess = thsm_board_find(item) ? NULL : cli_board_guess(item);
        if (guess)
            cli_error(c, "warning: %s is no board tinyhsm knows; did you mean "
                      "%s? (the device compares names exactly)", item, guess);
    }
}

/* Whether snprintf's w characters fitted cap; why says so when not. */
static bool fits(int w, size_t cap, const char **why)
{
    if (w >= 0 && (size_t)w < cap)
        return true;
    *why = "a shorter value";
    return false;
}

/* One rule as the device takes it ("RULE=VALUE"); NULL when the value is
 * wrong (the message in why). */
static const char *rule_word(unsigned i, const char *v, char *out, size_t cap,
                             const char **why)
{
    char u[256];
    if (strlen(v) >= 200 || strcspn(v, " \t\r\n") != strlen(v) || !*v) {
        *why = "a value: no spaces, at most 200 characters";
        return NULL;
    }
    upper(v, u, sizeof(u));
    if (rules[i].kind == 'o' && strcmp(u, THSM_V_ON) && strcmp(u, THSM_V_OFF)) {
        *why = "on or off";
        return NULL;
    }
    uint32_t n;
    char list[256];
    if (rules[i].kind == 'n') {
        if (cli_parse_number(v, 0, UINT32_MAX, &n) != 0) {
            *why = "a number (0: no limit)";
            return NULL;
        }
        return fits(snprintf(out, cap, "%s=%lu", rules[i].rule,
                             (unsigned long)n), cap, why) ? out : NULL;
    }
    if (rules[i].kind == 'l' && strcmp(u, THSM_V_ANY) != 0) {
        bool boards = strcmp(rules[i].rule, THSM_P_BOARDS) == 0;
        /* board names keep their case: the bootloader compares them
           exactly */
        if (!each_item(boards ? v : u, list, sizeof(list),
                       boards ? board_item : format_item)) {
            *why = boards ? "board or MCUboot image names separated by "
                            "commas, or any"
                          : "secureboot10, mcuboot or both, separated by a "
                            "comma, or any";
            return NULL;
        }
        return fits(snprintf(out, cap, "%s=%s", rules[i].rule, list), cap,
                    why) ? out : NULL;
    }
    return fits(snprintf(out, cap, "%s=%s", rules[i].rule, u), cap, why)
               ? out : NULL;
}

static int parse(cli_ctx *c, int argc, char **argv, policy_args *a)
{
    struct option opts[N_RULES + 4] = {
        {"json", no_argument, NULL, O_JSON},
        {"yes", no_argument, NULL, O_YES},
        {"help", no_argument, NULL, O_HELP},
    };
    for (unsigned i = 0; i < N_RULES; i++)
        opts[3 + i] = (struct option){rules[i].option, required_argument, NULL,
                                      O_RULE + (int)i};
    opts[3 + N_RULES] = (struct option){NULL, 0, NULL, 0};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == O_JSON)
            a->json = true;
        else if (o == O_YES)
            a->yes = true;
        else if (o == O_HELP || o == 'h') {
            fputs(policy_help, stdout);
            return CLI_OK;
        } else if (o >= O_RULE && o < O_RULE + (int)N_RULES)
            a->value[o - O_RULE] = optarg;
        else
            return cli_bad_option(c, "policy", opts, argc, argv);
    }
    if (optind + 1 != argc)
        return optind == argc
                   ? cli_usage_error(c, "policy", "say what to do: show, set "
                                     "or lock")
                   : cli_usage_error(c, "policy", "unexpected argument '%s'",
                                     argv[optind + 1]);
    a->action = argv[optind];
    return -1;
}

/* Whether the options fit the action; a usage error when not. */
static int check(cli_ctx *c, const policy_args *a)
{
    bool set = strcmp(a->action, "set") == 0, any = false;
    for (unsigned i = 0; i < N_RULES; i++)
        any = any || a->value[i];
    if (!set && strcmp(a->action, "show") && strcmp(a->action, "lock"))
        return cli_usage_error(c, "policy", "unknown action '%s': show, set "
                               "or lock", a->action);
    if (any && !set)
        return cli_usage_error(c, "policy", "the rules are options of "
                               "'policy set'");
    if (set && !any)
        return cli_usage_error(c, "policy", "name at least one rule to set, "
                               "e.g. --digest-signing off");
    if (a->json && strcmp(a->action, "show"))
        return cli_usage_error(c, "policy", "--json is an option of 'policy "
                               "show'");
    if (a->yes && strcmp(a->action, "lock"))
        return cli_usage_error(c, "policy", "--yes is an option of 'policy "
                               "lock'");
    return -1;
}

static int show(cli_ctx *c, bool json)
{
    thsm_policy_info p;
    thsm_err err;
    if ((!c->connected && cli_connect(c) != 0) ||
        thsm_hsm_policy(&c->at, &p, &err) != THSM_OK) {
        if (c->connected)
            cli_error(c, "%s", err.msg);
        if (json)
            json_failure(c);
        return CLI_FAIL;
    }
    if (json) {
        printf("{\"ok\":true,\"policy\":");
        cli_json_policy(&p);
        printf("}\n");
    } else {
        cli_print_policy(&p);
    }
    return CLI_OK;
}

/* A refusal of set or lock, in the CLI's words where it has some. */
static int refused(cli_ctx *c, const thsm_err *err)
{
    if (strcmp(c->at.resp.code, THSM_E_NO_PIN) == 0)
        cli_error(c, "the device has no PIN: a signing policy needs one (else "
                     "any host could change it); set one with: tinyhsm pin "
                     "set; nothing changed");
    else if (strcmp(c->at.resp.code, THSM_E_POLICY) == 0)
        cli_error(c, "the policy is locked: only a decommission removes it; "
                     "nothing changed");
    else
        cli_error(c, "%s", err->msg);
    return CLI_FAIL;
}

static int set(cli_ctx *c, const policy_args *a)
{
    char words[N_RULES * 220] = "", word[220];
    const char *why;
    for (unsigned i = 0; i < N_RULES; i++) {
        if (!a->value[i])
            continue;
        if (!rule_word(i, a->value[i], word, sizeof(word), &why))
            return cli_usage_error(c, "policy", "--%s takes %s",
                                   rules[i].option, why);
        if (strcmp(rules[i].rule, THSM_P_BOARDS) == 0)
            warn_near_boards(c, word + strlen(THSM_P_BOARDS) + 1);
        snprintf(words + strlen(words), sizeof(words) - strlen(words), "%s%s",
                 words[0] ? " " : "", word);
    }
    thsm_err err;
    if (cli_connect(c) != 0 || cli_login(c, false) != 0)
        return CLI_FAIL;
    if (thsm_hsm_policy_set(&c->at, words, &err) != THSM_OK)
        return refused(c, &err);
    printf("The signing policy was changed.\n");
    return show(c, false);
}

static bool confirm(cli_ctx *c)
{
    fprintf(stderr, "Locking freezes the signing policy: no command can change "
                    "it until the device is decommissioned (which erases every "
                    "key).\n");
    if (!isatty(STDIN_FILENO)) {
        cli_error(c, "not confirmed: stdin is not a terminal; pass --yes to "
                     "confirm; nothing changed");
        return false;
    }
    fprintf(stderr, "Lock the policy? [y/N] ");
    char answer[16] = "";
    if (fgets(answer, sizeof(answer), stdin) &&
        (answer[0] == 'y' || answer[0] == 'Y'))
        return true;
    cli_error(c, "not confirmed; nothing changed");
    return false;
}

static int lock(cli_ctx *c, bool yes)
{
    thsm_err err;
    if (!yes && !confirm(c))
        return CLI_FAIL;
    if (cli_connect(c) != 0 || cli_login(c, false) != 0)
        return CLI_FAIL;
    if (thsm_hsm_policy_lock(&c->at, &err) != THSM_OK)
        return refused(c, &err);
    printf("The signing policy is locked until the device is "
           "decommissioned.\n");
    return CLI_OK;
}

int cli_policy(cli_ctx *c, int argc, char **argv)
{
    policy_args a = {0};
    int rc = parse(c, argc, argv, &a);
    if (rc < 0)
        rc = check(c, &a);
    if (rc >= 0)
        return rc;
    if (strcmp(a.action, "show") == 0)
        return show(c, a.json);
    if (strcmp(a.action, "set") == 0)
        return set(c, &a);
    return lock(c, a.yes);
}
