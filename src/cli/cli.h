/*
 * cli.h - shared pieces of the tinyhsm command line.
 * Exit status: 0 success, 1 the operation failed, 2 usage error.
 */
#ifndef THSM_CLI_H
#define THSM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/x509.h"
#include "host/at_client.h"
#include "host/image.h"
#include "host/policy.h"
#include "util/escape.h"
#include "util/hex.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define CLI_WARNINGS_MAX 8

/* One invocation's state: main allocates it once; nothing else is kept. */
typedef struct {
    const char *port;     /* NULL: the default port */
    const char *pin_file; /* --pin-file */
    bool debug;
    thsm_at at;
    bool connected;
    char errors[8192];    /* every error so far, for --json */
    char warned[CLI_WARNINGS_MAX][1024]; /* "warning: " messages, for --json */
    int n_warned;
    bool json_first;      /* json.c: no comma before the next member */
    char trace_line[THSM_ESCAPED_MAX(THSM_AT_RESP_MAX)]; /* -d */
} cli_ctx;

/* A subcommand: argv[0] is its name. */
typedef int (*cli_command_fn)(cli_ctx *c, int argc, char **argv);

/* Every subcommand, in the order `tinyhsm help` lists them:
 *   X(name, function, summary, options that take their value from the next
 *     word: long names and short letters, separated by spaces)
 * The function is declared below from it; tools/tinyhsm.c reads it for the
 * help, to dispatch, and to keep a value that looks like a global option
 * ("-o -d") with its option. A new command is one line here and its
 * cmd_*.c (README.md, "Hacking"). */
#define CLI_COMMANDS(X)                                                      \
    X("info", cli_info, "show the device, its status, its CA and its signer", \
      "")                                                                    \
    X("config", cli_config, "create the CA and signer, or a new signer",     \
      "n new ca-country ca-org ca-cn ca-start ca-days signer-country "       \
      "signer-org signer-cn signer-start signer-days")                       \
    X("sign", cli_sign, "sign a firmware: SECUREBOOT10 or MCUboot image",    \
      "o output board version version-file cert-out siggen max-size trust "  \
      "key module format header-size slot-size align security-counter "     \
      "public-key-format name")                                              \
    X("cert", cli_cert, "export or renew the CA or signer certificate",     \
      "o output days format")                                                \
    X("verify", cli_verify, "check a signed image as the bootloader would",  \
      "cert siggen pubkey ca board max-size installed format slot-size "     \
      "align")                                                               \
    X("decommission", cli_decommission, "erase every key and certificate",   \
      "")                                                                    \
    X("pin", cli_pin, "set, change or unblock the PIN; the SO PIN",          \
      "new-pin-file so-pin-file")                                            \
    X("log", cli_log, "print or verify the device's audit log", "")          \
    X("sign-digest", cli_sign_digest, "sign a 32-byte digest for imgtool",  \
      "")                                                                    \
    X("policy", cli_policy, "show, set or lock the device's signing policy", \
      "boards formats rising-versions max-size max-per-hour max-per-day "    \
      "digest-signing imports")                                             \
    X("import", cli_import, "move an existing P-256 signer key in",          \
      "cert passphrase-file")

#define CLI_DECLARE(name, fn, summary, valued)                               \
    int fn(cli_ctx *c, int argc, char **argv);
CLI_COMMANDS(CLI_DECLARE)
#undef CLI_DECLARE

/* Logs in when the device has a PIN (asking for it as needed); warns when
 * it has none (unless $TINYHSM_NO_PIN_WARNING is set and not 0). With
 * blocked_ok, a blocked PIN is not an error. 0 or -1. */
int cli_login(cli_ctx *c, bool blocked_ok);
/* The same; when it logs in with a PIN, copies the PIN into pin (else
 * pin is ""): config sets it again after an erase. */
int cli_login_keep(cli_ctx *c, bool blocked_ok, char *pin, size_t cap);

/* Which secret cli_get_secret reads. */
enum {
    CLI_SECRET_PIN = 0, /* the current user PIN: --pin-file, $TINYHSM_PIN */
    CLI_SECRET_NEW = 1, /* a new one: --new-pin-file, $TINYHSM_NEW_PIN */
    CLI_SECRET_SO = 2,  /* the SO PIN: --so-pin-file, $TINYHSM_SO_PIN */
};

/* The secret which names: from file (first line), else the environment,
 * else a prompt without echo. Checks its format; 0, or -1 with the reason
 * on stderr (never the PIN). */
int cli_get_secret(cli_ctx *c, const char *file, int which,
                   const char *prompt, char *out, size_t cap);
/* The PIN of another token (a PKCS#11 one: its own format): --pin-file,
 * $TINYHSM_PIN or a prompt. 0, or -1 with the reason on stderr. */
int cli_get_token_pin(cli_ctx *c, const char *prompt, char *out, size_t cap);
/* The first line of a secret file (a PIN, a passphrase: what names it in
 * messages), without its newline; warns when others may read the file.
 * 0, or -1 with the reason on stderr. */
int cli_read_secret_file(cli_ctx *c, const char *path, const char *what,
                         char *out, size_t cap);
/* Asks on the terminal without echo. 0, or -1 (no terminal) silently. */
int cli_prompt_pin(const char *prompt, char *out, size_t cap);
/* "what: N tries left before the device blocks", or, with none left,
 * that the device is blocked now and how to recover it. */
void cli_wrong_pin(cli_ctx *c, unsigned long left, const char *what);
/* How a blocked user PIN is recovered: so_set 1 when an SO PIN with tries
 * is set, 0 when none is, -1 when not known. */
const char *cli_blocked_hint(int so_set);
/* "what: wait N s before the next try" (the device's wait after a wrong
 * PIN; no try was spent). */
void cli_pin_delay(cli_ctx *c, unsigned long wait, const char *what);

/* The signing policy as text (info, policy show), and as a JSON value
 * (null when the device has none to show). */
void cli_print_policy(const thsm_policy_info *p);
void cli_json_policy(const thsm_policy_info *p);

/* Prints the device's CA (ca=1) or signer certificate summary. */
void cli_print_device_cert(cli_ctx *c, bool ca, const char *title);

/* "tinyhsm: message" on stderr; kept in c for --json. */
void cli_error(cli_ctx *c, const char *fmt, ...)
    __attribute__((format(THSM_PRINTF_FMT, 2, 3)));

/* Every message cli_error and cli_usage_error printed so far, joined by
 * "; " (for --json), or "". */
const char *cli_errors(const cli_ctx *c);

/* The i-th message printed as cli_error("warning: ...") (without the
 * prefix; kept apart from cli_errors()), or NULL. */
const char *cli_warning(const cli_ctx *c, int i);

/* Usage error: message, then a hint to cmd's --help (to 'tinyhsm help'
 * when cmd is NULL); returns CLI_USAGE. */
int cli_usage_error(cli_ctx *c, const char *cmd, const char *fmt, ...)
    __attribute__((format(THSM_PRINTF_FMT, 3, 4)));

struct option;
/* After getopt_long (with opterr = 0) returned '?' or ':': one usage
 * error naming the option and what is wrong (unknown, ambiguous, needs a
 * value, takes none), suggesting the nearest valid long option. cmd is the
 * command, NULL for the global options. Returns CLI_USAGE. */
int cli_bad_option(cli_ctx *c, const char *cmd, const struct option *opts,
                   int argc, char **argv);

/* Edit distance of two short words, a swap of two neighbours counting
 * as one edit (99 when one is 32 bytes or longer). */
size_t cli_distance(const char *a, const char *b);
/* Whether word is near enough to name to suggest name: at most 2 edits,
 * and fewer than half of word's length ("foo" is not near "log"). */
bool cli_close_to(const char *word, const char *name);

/* The board table's entry for name, matched ignoring case (the header
 * gets the table's spelling: the bootloader compares it exactly; a note
 * says so when the spelling differs), or NULL. */
const thsm_board_info *cli_board_lookup(const char *name);
/* The known board name nearest to an unknown name, ignoring case (at most
 * two edits), or NULL. */
const char *cli_board_guess(const char *name);

/* Opens the device port (with the debug trace when asked). 0 or -1. */
int cli_connect(cli_ctx *c);
void cli_disconnect(cli_ctx *c);

/* With no port given and nothing at tinyhsmd's default port: the port of
 * the one attached B-U585I-IOT02A, found by its ST-LINK USB ids under
 * $TINYHSM_SYSFS_ROOT (else /sys). 1 with port set, 0 when there is no
 * board, -1 when there are several (listed on stderr). */
int cli_find_board(cli_ctx *c, char *port, size_t cap);

/* A number of bytes (or a counter) as imgtool takes it: decimal without
 * leading zeros, or hexadecimal after 0x (0x60000); within [min, max].
 * 0, or -1 when not. */
int cli_parse_number(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* Reads a whole file (at most max bytes) into a malloc'ed buffer. */
uint8_t *cli_read_file(cli_ctx *c, const char *path, size_t max,
                       size_t *len);

/* "YYYY-MM-DD hh:mm:ss UTC". */
void cli_format_time(int64_t t, char out[32]);

/* Prints a certificate summary block; its text escaped, and its validity
 * flagged when the certificate has expired or is not yet valid. */
void cli_print_cert(const char *title, const thsm_x509_info *info);
/* "title", then "  none (why)", why escaped. */
void cli_print_no_cert(const char *title, const char *why);
/* "EXPIRED" (saying so when the dates are the original scripts'
 * defaults) or "NOT YET VALID" at time now; NULL while valid. */
const char *cli_cert_validity(const thsm_x509_info *info, int64_t now);

#endif
