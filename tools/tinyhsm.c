/* tinyhsm - the TinyHSM host tool: provision, sign, export, verify. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "host/plat.h"
#include "device/device.h" /* THSM_VERSION: one version for the project */

typedef struct {
    const char *name;
    cli_command_fn fn;
    const char *summary;
    const char *valued; /* options taking the next word as their value */
} command;

#define COMMAND_ENTRY(name, fn, summary, valued) {name, fn, summary, valued},
static const command commands[] = {CLI_COMMANDS(COMMAND_ENTRY)};
#undef COMMAND_ENTRY
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: tinyhsm [-p|--port DEV] [-d|--debug] [--pin-file FILE] "
            "COMMAND [ARGS...]\n"
            "       tinyhsm help [COMMAND]\n"
            "       tinyhsm --version\n\n"
            "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-13s %s\n", "help", "this text, or a command's help");
    fprintf(out,
            "\nThe port is --port, else $TINYHSM_PORT, else the link that "
            "tinyhsmd creates\nby default, else the one attached "
            "B-U585I-IOT02A (found by its ST-LINK USB ids).\n"
            "-d prints every line exchanged with the device on stderr "
            "(PINs masked).\nA PIN, when the device has one, comes from "
            "--pin-file, $TINYHSM_PIN or a prompt.\n"
            "TINYHSM_NO_PIN_WARNING=1 silences the warning about a device "
            "without a PIN.\nThe global options may "
            "also follow the command, each as a word of its own.\n"
            "'tinyhsm help COMMAND' (or 'tinyhsm COMMAND --help') explains a "
            "command.\n\nExample (setsid: tinyhsmd outlives the terminal):\n"
            "  setsid -f tinyhsmd\n  tinyhsm config --new all\n"
            "  tinyhsm sign --board B-U585I-IOT02A --version 1.0.0 fw.bin\n"
            "  tinyhsm -p /dev/ttyACM0 info\n");
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return &commands[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    const char *guess = NULL;
    for (size_t i = 0; i < N_COMMANDS && !guess; i++)
        if (cli_close_to(name, commands[i].name) ||
            (strlen(name) >= 2 &&
             strncmp(name, commands[i].name, strlen(name)) == 0))
            guess = commands[i].name;
    if (guess)
        fprintf(stderr, "tinyhsm: unknown command '%s'; did you mean '%s'?\n",
                name, guess);
    else
        fprintf(stderr, "tinyhsm: unknown command '%s'\n", name);
    fprintf(stderr, "Run 'tinyhsm help' for the list of commands.\n");
    return CLI_USAGE;
}

static int run_command(cli_ctx *ctx, const command *cmd, int argc, char **argv)
{
    optind = 0; /* reset getopt for the subcommand */
    int rc = cmd->fn(ctx, argc, argv);
    cli_disconnect(ctx);
    return rc;
}

/* tinyhsm help [COMMAND]: a command's help is its own --help text. */
static int help(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 ||
        strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (argc > 2) {
        fprintf(stderr, "tinyhsm: help takes one command\n");
        return CLI_USAGE;
    }
    const command *cmd = find_command(argv[1]);
    if (!cmd)
        return unknown_command(argv[1]);
    char *sub[] = {argv[1], "--help", NULL};
    return run_command(ctx, cmd, 2, sub);
}

/* Whether some command has an option name (n bytes; with prefix, an
 * abbreviation of a long option) that takes a value. */
static bool valued_option(const char *name, size_t n, bool prefix)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        for (const char *w = commands[i].valued; *w;) {
            size_t len = strcspn(w, " ");
            if (prefix ? len > 1 && n <= len && strncmp(w, name, n) == 0
                       : len == n && strncmp(w, name, n) == 0)
                return true;
            w += len + (w[len] == ' ');
        }
    return false;
}

/* Whether word is an option of some command that takes its value from the
 * next word ("--output", an abbreviation like "--out", "-o", "-yo"). */
static int takes_next(const char *word)
{
    if (word[0] != '-' || word[1] == '\0')
        return 0;
    if (word[1] != '-') {
        for (const char *c = word + 1; *c; c++)
            if (valued_option(c, 1, false))
                return c[1] == '\0';
        return 0;
    }
    size_t n = strlen(word + 2);
    if (n == 0 || strchr(word, '='))
        return 0;
    return valued_option(word + 2, n, true);
}

/* A global option's value, from "--name=VALUE" (when eq), "-pVALUE" (when
 * attached) or the next word. NULL when missing. */
static const char *option_value(int argc, char **argv, int *i,
                                const char *inline_value)
{
    if (inline_value)
        return inline_value;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

/* If argv[*i] is a global option, applies it (consuming its value) and
 * returns 1; 0 when it is not one; -1 when its value is missing. */
static int take_global(cli_ctx *ctx, int argc, char **argv, int *i)
{
    const char *w = argv[*i];
    const char **dest = NULL, *inline_value = NULL;
    if (strcmp(w, "-d") == 0 || strcmp(w, "--debug") == 0) {
        ctx->debug = true;
        return 1;
    }
    if (strcmp(w, "-p") == 0 || strcmp(w, "--port") == 0)
        dest = &ctx->port;
    else if (strncmp(w, "--port=", 7) == 0)
        dest = &ctx->port, inline_value = w + 7;
    else if (strncmp(w, "-p", 2) == 0)
        dest = &ctx->port, inline_value = w + 2;
    else if (strcmp(w, "--pin-file") == 0)
        dest = &ctx->pin_file;
    else if (strncmp(w, "--pin-file=", 11) == 0)
        dest = &ctx->pin_file, inline_value = w + 11;
    else
        return 0;
    *dest = option_value(argc, argv, i, inline_value);
    if (!*dest || !**dest) {
        fprintf(stderr, "tinyhsm: %s needs a value\n", w);
        return -1;
    }
    return 1;
}

/* Moves the global options found among a command's arguments into ctx,
 * leaving the rest in order; stops at "--". The new argc, or -1. */
static int pull_globals(cli_ctx *ctx, int argc, char **argv)
{
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[n++] = argv[i++];
            break;
        }
        int r = take_global(ctx, argc, argv, &i);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        argv[n++] = argv[i];
        if (takes_next(argv[i]) && i + 1 < argc)
            argv[n++] = argv[++i];
    }
    argv[n] = NULL;
    return n;
}

/* Options before the command: sets *ask to 'h' (--help) or 'V'
 * (--version). Returns -1 to go on, else the exit code. */
static int parse_globals(cli_ctx *ctx, int argc, char **argv, int *ask)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"debug", no_argument, NULL, 'd'},
        {"pin-file", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "+p:dhV", opts, NULL)) != -1) {
        if (o == 'p')
            ctx->port = optarg;
        else if (o == 'd')
            ctx->debug = true;
        else if (o == 'P')
            ctx->pin_file = optarg;
        else if (o == 'h' || o == 'V')
            *ask = *ask == 'h' ? 'h' : o;
        else
            return cli_bad_option(ctx, NULL, opts, argc, argv);
    }
    if (optind >= argc && !*ask) {
        usage(stderr);
        fprintf(stderr, "\ntinyhsm: no command given; start with 'tinyhsm "
                        "info', or see 'tinyhsm help'.\n");
        return CLI_USAGE;
    }
    return -1;
}

/* tinyhsm --help [COMMAND] is tinyhsm help [COMMAND]; --version takes
 * nothing after it. */
static int help_or_version(cli_ctx *ctx, int ask, int argc, char **argv)
{
    if (ask == 'V') {
        if (optind < argc)
            return cli_usage_error(ctx, NULL, "--version takes no argument, not "
                                   "'%s'", argv[optind]);
        printf("tinyhsm %s\n", THSM_VERSION);
        return CLI_OK;
    }
    char *sub[4] = {"help", NULL, NULL, NULL};
    int n = 1;
    for (int i = optind; i < argc && n < 3; i++)
        sub[n++] = argv[i];
    return help(ctx, n, sub);
}

/* tinyhsm may hold a PIN: no core file, and no ptrace or /proc/<pid>/mem
 * for other processes of the user. */
static int run(cli_ctx *ctx, int argc, char **argv)
{
    int ask = 0;
    opterr = 0; /* cli_bad_option says what was wrong, in one line */
    int rc = parse_globals(ctx, argc, argv, &ask);
    if (rc >= 0)
        return rc;
    if (ask)
        return help_or_version(ctx, ask, argc, argv);
    char **sub = argv + optind;
    int n = pull_globals(ctx, argc - optind, sub);
    if (n < 0)
        return CLI_USAGE;
    if (strcmp(sub[0], "help") == 0)
        return help(ctx, n, sub);
    const command *cmd = find_command(sub[0]);
    if (!cmd)
        return unknown_command(sub[0]);
    return run_command(ctx, cmd, n, sub);
}

int main(int argc, char **argv)
{
    thsm_plat_init(&argc, &argv);
    cli_ctx *ctx = calloc(1, sizeof(*ctx)); /* the AT buffers: off the stack */
    if (!ctx) {
        fprintf(stderr, "tinyhsm: out of memory\n");
        return CLI_FAIL;
    }
    int rc = run(ctx, argc, argv);
    free(ctx);
    /* a full disk or a closed pipe behind stdout is a failure, not exit 0 */
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CLI_OK) {
        fprintf(stderr, "tinyhsm: cannot write to standard output: %s\n",
                strerror(errno));
        rc = CLI_FAIL;
    }
    return rc;
}
