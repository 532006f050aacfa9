/* common.c - helpers shared by the tinyhsm subcommands. */
#include <getopt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"
#include "host/defaults.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tinyhsm: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tinyhsm: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'tinyhsm %s --help'.\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

static void trace(void *ctx, char dir, const char *line)
{
    (void)ctx;
    fprintf(stderr, "TinyHSM %s %s\n", dir == '<' ? "<-" : "->", line);
}

int cli_connect(cli_ctx *c)
{
    char port[512], err[256];
    if (c->port)
        snprintf(port, sizeof(port), "%s", c->port);
    else if (thsm_default_port(port, sizeof(port)) != 0) {
        cli_error("no port given and no default port; use --port DEV");
        return -1;
    }
    if (!c->port && !getenv("TINYHSM_PORT") && access(port, F_OK) != 0 &&
        cli_find_board(port, sizeof(port)) < 0)
        return -1; /* several boards: the user must choose */
    int rc = thsm_at_open(&c->at, port, err, sizeof(err));
    if (rc != THSM_AT_OK) {
        cli_error("%s", err);
        if (rc == THSM_AT_ERR_OPEN && !c->port)
            cli_error("is tinyhsmd running? Start it, or give the board's "
                      "port with --port or TINYHSM_PORT");
        return -1;
    }
    if (c->debug) {
        c->at.trace = trace;
        fprintf(stderr, "TinyHSM port %s\n", port);
    }
    c->connected = 1;
    return 0;
}

void cli_disconnect(cli_ctx *c)
{
    if (c->connected)
        thsm_at_close(&c->at);
    c->connected = 0;
}

uint8_t *cli_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad || n > max) {
        cli_error(bad ? "cannot read %s" : "%s is too large", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

void cli_format_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, 32, "%lld", (long long)t);
}

void cli_print_cert(const char *title, const thsm_x509_info *info)
{
    char from[32], to[32], fp[2 * THSM_SHA256_LEN + 1];
    uint8_t digest[THSM_SHA256_LEN];
    cli_format_time(info->not_before, from);
    cli_format_time(info->not_after, to);
    thsm_sha256(info->pub, sizeof(info->pub), digest);
    thsm_hex(digest, sizeof(digest), fp);
    printf("%s\n", title);
    printf("  Subject:     %s\n", info->subject);
    printf("  Issuer:      %s\n", info->issuer);
    printf("  Serial:      %s\n", info->serial_hex);
    printf("  Valid:       %s to %s\n", from, to);
    printf("  Key SHA-256: %s\n", fp);
}

/* Handles --help and unknown options for commands without options. */
int cli_only_help(const char *cmd, const char *help, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int o = getopt_long(argc, argv, "h", opts, NULL);
    if (o == 'h') {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (o != -1)
        return cli_usage_error(cmd, "bad option");
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return -1; /* go on */
}

void cli_print_device_cert(cli_ctx *c, int ca, const char *title)
{
    char pem[THSM_PEM_MAX], err[300];
    thsm_x509_info info;
    if (thsm_hsm_cert_pem(&c->at, ca, pem, sizeof(pem), err, sizeof(err)) != 0)
        printf("%s\n  none (%s)\n", title, err);
    else if (thsm_x509_parse((uint8_t *)pem, strlen(pem), &info) != 0)
        printf("%s\n  the device's certificate does not parse\n", title);
    else
        cli_print_cert(title, &info);
}
