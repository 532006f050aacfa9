/* cmd_pin.c - PIN entry and login, tinyhsm pin, tinyhsm log. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"

static const char pin_help[] =
    "Usage: tinyhsm pin set|change [--new-pin-file FILE]\n"
    "Sets the device PIN (6 to 64 printable characters, no spaces) or\n"
    "changes it. Once set, signing, key and certificate creation and\n"
    "decommissioning need it; 5 wrong PINs in a row block the device until a\n"
    "decommission erases every key. The new PIN comes from --new-pin-file,\n"
    "$TINYHSM_NEW_PIN or a prompt; the current one (for change) from the\n"
    "global --pin-file, $TINYHSM_PIN or a prompt.\n\n"
    "Example:\n  tinyhsm pin set\n  tinyhsm --pin-file old.txt pin change "
    "--new-pin-file new.txt\n";

static const char log_help[] =
    "Usage: tinyhsm log [--verify]\n"
    "Prints the device's audit log: index, time, event, key id, digest,\n"
    "result and chain hash. --verify recomputes the hash chain and reports\n"
    "the first record that was altered, removed or reordered.\n\n"
    "Example:\n  tinyhsm log --verify\n";

/* First line of a file, without its newline. */
static int read_pin_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    int ok = f && fgets(out, (int)cap, f) != NULL;
    if (f)
        fclose(f);
    if (!ok) {
        cli_error("cannot read a PIN from %s", path);
        return -1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* Asks on the terminal without echo. */
static int prompt_pin(const char *prompt, char *out, size_t cap)
{
    FILE *tty = fopen("/dev/tty", "r+");
    struct termios old, quiet;
    if (!tty || !isatty(STDIN_FILENO) || tcgetattr(fileno(tty), &old) != 0) {
        if (tty)
            fclose(tty);
        cli_error("a PIN is needed: use --pin-file FILE, TINYHSM_PIN or a "
                  "terminal");
        return -1;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fputs(prompt, tty);
    fflush(tty);
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    int ok = fgets(out, (int)cap, tty) != NULL;
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    out[ok ? strcspn(out, "\r\n") : 0] = '\0';
    return ok ? 0 : -1;
}

static int get_secret(const char *file, const char *env, const char *prompt,
                      char *out, size_t cap)
{
    if (file)
        return read_pin_file(file, out, cap);
    if (getenv(env) && *getenv(env)) {
        snprintf(out, cap, "%s", getenv(env));
        return 0;
    }
    return prompt_pin(prompt, out, cap);
}

int cli_login(cli_ctx *c, int blocked_ok)
{
    static thsm_at_resp r;
    char pin[128];
    if (thsm_at_cmd(&c->at, "AT+HSM_STATUS?", &r) != THSM_AT_OK) {
        cli_error("no answer from the device");
        return -1;
    }
    if (!r.ok || strstr(r.text, "AUTH=1"))
        return 0; /* the original board has no PIN; or logged in already */
    if (strstr(r.text, "PIN=NONE")) {
        cli_error("warning: no PIN is set, so anyone who can open the port "
                  "can sign; set one with: tinyhsm pin set");
        return 0;
    }
    if (strstr(r.text, "PIN=BLOCKED") && blocked_ok)
        return 0;
    if (strstr(r.text, "PIN=BLOCKED")) {
        cli_error("the PIN is blocked; only 'tinyhsm decommission --yes' "
                  "(which erases every key) recovers the device");
        return -1;
    }
    if (get_secret(c->pin_file, "TINYHSM_PIN", "TinyHSM PIN: ", pin,
                   sizeof(pin)) != 0)
        return -1;
    int rc = thsm_at_cmdf(&c->at, &r, "AT+AUTH PIN=%s", pin);
    explicit_bzero(pin, sizeof(pin));
    if (rc != THSM_AT_OK || !r.ok) {
        cli_error("login failed: %s", rc == THSM_AT_OK && r.nlines
                                          ? r.lines[0] : thsm_at_strerror(rc));
        return -1;
    }
    return 0;
}

static int new_pin(const char *file, char *out, size_t cap)
{
    char again[128];
    if (get_secret(file, "TINYHSM_NEW_PIN", "New TinyHSM PIN: ", out, cap))
        return -1;
    if (file || getenv("TINYHSM_NEW_PIN"))
        return 0;
    if (prompt_pin("Repeat the new PIN: ", again, sizeof(again)) != 0 ||
        strcmp(out, again) != 0) {
        cli_error("the two PINs differ");
        return -1;
    }
    explicit_bzero(again, sizeof(again));
    return 0;
}

int cli_pin(cli_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"new-pin-file", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static thsm_at_resp r;
    const char *new_file = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'n')
            new_file = optarg;
        else if (o == 'h') {
            fputs(pin_help, stdout);
            return CLI_OK;
        } else
            return cli_usage_error("pin", "bad option");
    }
    if (optind != argc - 1 ||
        (strcmp(argv[optind], "set") && strcmp(argv[optind], "change")))
        return cli_usage_error("pin", "say set or change");
    int change = strcmp(argv[optind], "change") == 0;
    char old[128] = "", fresh[128];
    if ((change && get_secret(c->pin_file, "TINYHSM_PIN", "Current PIN: ", old,
                              sizeof(old))) ||
        new_pin(new_file, fresh, sizeof(fresh)) || cli_connect(c) != 0)
        return CLI_FAIL;
    int rc = change ? thsm_at_cmdf(&c->at, &r, "AT+PIN_SET OLD=%s NEW=%s", old,
                                   fresh)
                    : thsm_at_cmdf(&c->at, &r, "AT+PIN_SET NEW=%s", fresh);
    explicit_bzero(old, sizeof(old));
    explicit_bzero(fresh, sizeof(fresh));
    if (rc != THSM_AT_OK || !r.ok) {
        cli_error("%s", rc == THSM_AT_OK && r.nlines ? r.lines[0]
                                                     : thsm_at_strerror(rc));
        return CLI_FAIL;
    }
    printf("PIN %s.\n", change ? "changed" : "set");
    return CLI_OK;
}

/* Checks one record against the chain so far; NULL when it holds. */
static const char *check_record(const char *rec, unsigned long want_index,
                                uint8_t head[32])
{
    uint8_t link[32];
    char hex[65], idx[16];
    thsm_sha256_ctx ctx;
    snprintf(idx, sizeof(idx), "%08lu ", want_index);
    if (strlen(rec) != 200 || strncmp(rec, idx, 9) != 0)
        return "out of place: a record was removed, added or reordered";
    if (thsm_sha256_init(&ctx) != 0)
        return "hashing failed";
    thsm_sha256_update(&ctx, head, 32);
    thsm_sha256_update(&ctx, rec, 136);
    thsm_sha256_final(&ctx, link);
    thsm_hex(link, 32, hex);
    memcpy(head, link, 32);
    return strncasecmp(rec + 136, hex, 64) == 0
               ? NULL : "altered: its chain hash does not match";
}

int cli_log(cli_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {{"verify", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static thsm_at_resp r;
    int o, verify = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'v')
            verify = 1;
        else if (o == 'h') {
            fputs(log_help, stdout);
            return CLI_OK;
        } else
            return cli_usage_error("log", "bad option");
    }
    if (optind < argc)
        return cli_usage_error("log", "unexpected argument '%s'", argv[optind]);
    if (cli_connect(c) != 0)
        return CLI_FAIL;
    uint8_t head[32] = {0};
    unsigned long next = 0, total = 0, count;
    const char *bad = NULL;
    do {
        if (thsm_at_cmdf(&c->at, &r, "AT+LOG? FROM=%lu", next) != THSM_AT_OK ||
            !r.ok || sscanf(r.text, "%lu %lu", &count, &total) != 2) {
            cli_error("the device does not give its audit log");
            return CLI_FAIL;
        }
        for (size_t i = 1; i < r.nlines; i++, next++) {
            if (!verify)
                printf("%s\n", r.lines[i]);
            else if (!bad && (bad = check_record(r.lines[i], next, head)))
                printf("FAIL record %lu is %s\n", next, bad);
        }
    } while (count > 0 && next < total);
    if (!verify)
        return CLI_OK;
    if (!bad)
        printf("PASS %lu records, hash chain intact\n", total);
    return bad ? CLI_FAIL : CLI_OK;
}
