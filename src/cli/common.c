/* common.c - helpers shared by the tinyhsm subcommands. */
#include <getopt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/plat.h"
#include "host/readfile.h"
#include "host/hsm.h"
#include "host/defaults.h"
#include "util/certvalues.h"
#include "util/escape.h"

/* Prints "tinyhsm: MESSAGE" and keeps MESSAGE for cli_errors(), or for
 * cli_warning() when it starts with "warning: ". */
static void print_error(cli_ctx *c, const char *fmt, va_list ap)
{
    char msg[8192]; /* never cut a message short */
    size_t used = strlen(c->errors);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    fprintf(stderr, "tinyhsm: %s\n", msg);
    if (strncmp(msg, "warning: ", 9) == 0) {
        if (c->n_warned < CLI_WARNINGS_MAX &&
            strlen(msg + 9) < sizeof(c->warned[0]))
            strcpy(c->warned[c->n_warned++], msg + 9);
        return;
    }
    size_t sep = used ? 2 : 0, len = strlen(msg);
    if (used + sep + len >= sizeof(c->errors))
        return; /* keep whole messages only: --json never shows half of one */
    memcpy(c->errors + used, "; ", sep);
    memcpy(c->errors + used + sep, msg, len + 1);
}

void cli_error(cli_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(c, fmt, ap);
    va_end(ap);
}

int cli_usage_error(cli_ctx *c, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(c, fmt, ap);
    if (cmd)
        fprintf(stderr, "Try 'tinyhsm %s --help'.\n", cmd);
    else
        fprintf(stderr, "Try 'tinyhsm help'.\n");
    va_end(ap);
    return CLI_USAGE;
}

const char *cli_errors(const cli_ctx *c)
{
    return c->errors;
}

const char *cli_warning(const cli_ctx *c, int i)
{
    return i >= 0 && i < c->n_warned ? c->warned[i] : NULL;
}

size_t cli_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), d[32][32];
    if (la >= 32 || lb >= 32)
        return 99;
    for (size_t i = 0; i <= la; i++)
        for (size_t j = 0; j <= lb; j++) {
            if (i == 0 || j == 0) {
                d[i][j] = i + j;
                continue;
            }
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1; /* two letters swapped */
            d[i][j] = best;
        }
    return d[la][lb];
}

bool cli_close_to(const char *word, const char *name)
{
    size_t d = cli_distance(word, name);
    return d <= 2 && 2 * d < strlen(word);
}

/* The long option named by name (len bytes; an unambiguous prefix will
 * do); NULL when none. *count says how many options begin with it. */
static const struct option *long_option(const struct option *opts,
                                        const char *name, size_t len,
                                        int *count)
{
    const struct option *found = NULL;
    *count = 0;
    for (const struct option *o = opts; o->name; o++) {
        if (strncmp(o->name, name, len) != 0)
            continue;
        if (strlen(o->name) == len) {
            *count = 1;
            return o;
        }
        found = o;
        ++*count;
    }
    return *count == 1 ? found : NULL;
}

/* What is wrong with "--name[=value]"; see cli_bad_option. */
static int bad_long(cli_ctx *c, const char *cmd, const struct option *opts,
                    const char *word)
{
    const char *name = word + 2, *pre = cmd ? cmd : "", *sep = cmd ? ": " : "";
    size_t len = strcspn(name, "=");
    int count;
    const struct option *o = long_option(opts, name, len, &count);
    char list[256] = "", guess[64] = "";
    if (o && o->has_arg == required_argument && !name[len])
        return cli_usage_error(c, cmd, "%s%soption '--%s' needs a value", pre,
                               sep, o->name);
    if (o && o->has_arg == no_argument)
        return cli_usage_error(c, cmd, "%s%soption '--%s' takes no value", pre,
                               sep, o->name);
    for (const struct option *p = opts; p->name && count > 1; p++)
        if (strncmp(p->name, name, len) == 0)
            snprintf(list + strlen(list), sizeof(list) - strlen(list),
                     "%s'--%s'", list[0] ? " or " : "", p->name);
    if (count > 1)
        return cli_usage_error(c, cmd, "%s%soption '--%.*s' is ambiguous: %s",
                               pre, sep, (int)len, name, list);
    snprintf(guess, sizeof(guess), "%.*s", (int)len, name);
    for (const struct option *p = opts; p->name; p++)
        if (cli_close_to(guess, p->name))
            return cli_usage_error(c, cmd, "%s%sunknown option '--%s'; did you "
                                   "mean '--%s'?", pre, sep, guess, p->name);
    return cli_usage_error(c, cmd, "%s%sunknown option '--%.*s'", pre, sep,
                           (int)len, name);
}

int cli_bad_option(cli_ctx *c, const char *cmd, const struct option *opts,
                   int argc, char **argv)
{
    const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    const char *pre = cmd ? cmd : "", *sep = cmd ? ": " : "";
    if (strncmp(word, "--", 2) == 0 && word[2])
        return bad_long(c, cmd, opts, word);
    for (const struct option *o = opts; o->name; o++)
        if (o->val == optopt && o->has_arg == required_argument)
            return cli_usage_error(c, cmd, "%s%soption '-%c' needs a value", pre,
                                   sep, optopt);
    if (optopt > 0x20 && optopt < 0x7f)
        return cli_usage_error(c, cmd, "%s%sunknown option '-%c'", pre, sep,
                               optopt);
    return cli_usage_error(c, cmd, "%s%sunknown option", pre, sep);
}

/* The line comes from a device: escaped, so that it cannot drive the
 * terminal. */
static void trace(void *ctx, char dir, const char *line)
{
    cli_ctx *c = ctx;
    fprintf(stderr, "TinyHSM %s %s\n", dir == '<' ? "<-" : "->",
            thsm_escape(line, c->trace_line, sizeof(c->trace_line)));
}

/* The default port lives in a private directory: check it first. */
static int default_port(cli_ctx *c, char *port, size_t cap)
{
    char dir[4096], err[512];
    struct stat st;
    int is_default;
    if (thsm_default_port(port, cap, &is_default) != 0) {
        cli_error(c, "no port given and no default port; use --port DEV");
        return -1;
    }
    if (is_default && thsm_default_run_dir(dir, sizeof(dir)) == 0 &&
        lstat(dir, &st) == 0 &&
        thsm_check_private_dir(dir, getuid(), err, sizeof(err)) != 0) {
        cli_error(c, "%s", err);
        return -1;
    }
    return 0;
}

/* Appends "place (why)" to the list of places tried. */
static void tried_add(char *tried, size_t cap, const char *place,
                      const char *why)
{
    size_t used = strlen(tried);
    if (snprintf(tried + used, cap - used, "%s%s (%s)", used ? "; " : "",
                 place, why) < 0)
        tried[used] = '\0';
}

/* One place a daemon may serve: 1 opened, 0 nothing answers there (why
 * added to tried), -1 refused or busy (said: never passed over). */
static int try_place(cli_ctx *c, const char *port, char *tried, size_t cap)
{
    char err[512], sock[4200];
    struct stat st;
    int there = lstat(port, &st) == 0 ||
                (thsm_companion(port, ".sock", sock, sizeof(sock)) == 0 &&
                 lstat(sock, &st) == 0);
    if (!there) {
        tried_add(tried, cap, port, "nothing there");
        return 0;
    }
    int rc = thsm_at_open(&c->at, port, err, sizeof(err));
    if (rc == THSM_AT_OK)
        return 1;
    if (rc == THSM_AT_ERR_BUSY || strstr(err, "refusing")) {
        cli_error(c, "%s", err);
        return -1;
    }
    tried_add(tried, cap, port, err);
    return 0;
}

/* The user's daemon started from another kind of session (defaults.h),
 * if its private directory is there; as try_place. */
static int try_other(cli_ctx *c, char *port, size_t cap, char *tried,
                     size_t tcap)
{
    char dir[4000], err[512];
    struct stat st;
    int n = thsm_other_run_dir(dir, sizeof(dir)) == 0
                ? snprintf(port, cap, "%s/tty", dir) : -1;
    if (n < 0 || (size_t)n >= cap)
        return 0;
    if (lstat(dir, &st) != 0) {
        tried_add(tried, tcap, port, "nothing there");
        return 0;
    }
    if (thsm_check_private_dir(dir, getuid(), err, sizeof(err)) != 0) {
        tried_add(tried, tcap, port, err);
        return 0;
    }
    return try_place(c, port, tried, tcap);
}

/* No port given: the user's default port, the user's other default place,
 * the system service's socket, an attached board; when none answers,
 * every place tried is named. */
static int find_device(cli_ctx *c, char *port, size_t cap)
{
    char sys_port[4096], tried[4096] = "", err[512], dir[4096] = "";
    /* no run directory (Windows): no daemon places, only boards */
    int rc = thsm_default_run_dir(dir, sizeof(dir)) != 0 ? 0
             : default_port(c, port, cap) != 0
                 ? -1 : try_place(c, port, tried, sizeof(tried));
    if (rc == 0 && dir[0])
        rc = try_other(c, port, cap, tried, sizeof(tried));
    if (rc == 0 && thsm_system_port(sys_port, sizeof(sys_port)) == 0 &&
        (rc = try_place(c, sys_port, tried, sizeof(tried))) == 1)
        snprintf(port, cap, "%s", sys_port);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if ((rc = cli_find_board(c, port, cap)) < 0)
        return -1;
    if (rc == 0) {
        tried_add(tried, sizeof(tried), "attached boards", "no ST-LINK port");
        cli_error(c, "no TinyHSM answers; tried: %s", tried);
        cli_error(c, "%s", thsm_plat_no_device_hint());
        return -1;
    }
    if (thsm_at_open(&c->at, port, err, sizeof(err)) != THSM_AT_OK) {
        cli_error(c, "%s", err);
        return -1;
    }
    return 0;
}

int cli_connect(cli_ctx *c)
{
    char port[4096], err[512];
    if (!c->port && !getenv("TINYHSM_PORT")) {
        if (find_device(c, port, sizeof(port)) != 0)
            return -1;
    } else {
        if (c->port)
            snprintf(port, sizeof(port), "%s", c->port);
        else if (default_port(c, port, sizeof(port)) != 0)
            return -1;
        int rc = thsm_at_open(&c->at, port, err, sizeof(err));
        if (rc != THSM_AT_OK) {
            cli_error(c, "%s", err);
            if (rc == THSM_AT_ERR_OPEN && !c->port && !strstr(err, "refusing") &&
                !strstr(err, "not running")) /* a stale link said it */
                cli_error(c, "is tinyhsmd running? Start it, or give the "
                          "board's port with --port or TINYHSM_PORT");
            return -1;
        }
    }
    if (c->debug) {
        c->at.trace = trace;
        c->at.trace_ctx = c;
        fprintf(stderr, "TinyHSM port %s%s\n", port,
                c->at.via_socket ? " (through its tinyhsmd socket)" : "");
    }
    c->connected = true;
    return 0;
}

void cli_disconnect(cli_ctx *c)
{
    if (c->connected)
        thsm_at_close(&c->at);
    c->connected = false;
}

int cli_parse_number(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    if (strncmp(s, "0x", 2) != 0 && strncmp(s, "0X", 2) != 0)
        return thsm_parse_uint(s, min, max, out);
    size_t n = strlen(s + 2);
    if (n == 0 || n > 8 || strspn(s + 2, "0123456789abcdefABCDEF") != n)
        return -1;
    unsigned long v = strtoul(s + 2, NULL, 16);
    if (v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

uint8_t *cli_read_file(cli_ctx *c, const char *path, size_t max,
                       size_t *len)
{
    FILE *f = fopen(path, "rb");
    bool big = false;
    uint8_t *buf = f ? thsm_read_all(f, max, len, &big) : NULL;
    if (!f)
        cli_error(c, "cannot open %s: %s", path, strerror(errno));
    else if (!buf)
        cli_error(c, big ? "%s is too large" : "cannot read %s", path);
    return buf;
}

void cli_format_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, 32, "%lld", (long long)t);
}

const char *cli_cert_validity(const thsm_x509_info *info, int64_t now)
{
    if (now < info->not_before)
        return "NOT YET VALID";
    if (now > info->not_after)
        return thsm_cert_script_dates(info->not_before, info->not_after)
                   ? "EXPIRED (the original scripts' default dates)"
                   : "EXPIRED";
    return NULL;
}

void cli_print_cert(const char *title, const thsm_x509_info *info)
{
    char from[32], to[32], fp[2 * THSM_SHA256_LEN + 1];
    char subject[THSM_ESCAPED_MAX(sizeof(info->subject))];
    char issuer[THSM_ESCAPED_MAX(sizeof(info->issuer))];
    uint8_t digest[THSM_SHA256_LEN];
    const char *bad = cli_cert_validity(info, (int64_t)time(NULL));
    cli_format_time(info->not_before, from);
    cli_format_time(info->not_after, to);
    thsm_sha256(info->pub, sizeof(info->pub), digest);
    thsm_hex(digest, sizeof(digest), fp);
    printf("%s\n", title);
    printf("  Subject:     %s\n",
           thsm_escape(info->subject, subject, sizeof(subject)));
    printf("  Issuer:      %s\n",
           thsm_escape(info->issuer, issuer, sizeof(issuer)));
    printf("  Serial:      %s\n", info->serial_hex);
    printf("  Valid:       %s to %s%s%s\n", from, to, bad ? "  " : "",
           bad ? bad : "");
    printf("  Key SHA-256: %s\n", fp);
}

void cli_print_no_cert(const char *title, const char *why)
{
    char shown[THSM_ESCAPED_MAX(THSM_ERR_MAX)];
    printf("%s\n  none (%s)\n", title, thsm_escape(why, shown, sizeof(shown)));
}

void cli_print_device_cert(cli_ctx *c, bool ca, const char *title)
{
    char pem[THSM_PEM_MAX];
    thsm_err err;
    thsm_x509_info info;
    if (thsm_hsm_cert_pem(&c->at, ca, pem, sizeof(pem), &err) != THSM_OK)
        cli_print_no_cert(title, err.msg);
    else if (thsm_x509_parse((uint8_t *)pem, strlen(pem), &info) != 0)
        printf("%s\n  the device's certificate does not parse\n", title);
    else
        cli_print_cert(title, &info);
}
