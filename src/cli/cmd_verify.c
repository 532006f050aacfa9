/* cmd_verify.c - tinyhsm verify: check an image as the bootloader would. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/x509_host.h"
#include "cli/json.h"
#include "host/image.h"
#include "host/mcuboot_image.h"
#include "host/plat.h"
#include "host/siggen.h"
#include "util/certvalues.h"
#include "util/keyid.h"

static const char verify_help[] =
    "Usage: tinyhsm verify (--cert signer.pem | --siggen SigGen.c |\n"
    "                       --pubkey pub.pem) [--ca ca.pem] [--board NAME]\n"
    "                      [--max-size BYTES] [--installed CURRENT.bin]\n"
    "                      [--flash-dump] [--json] IMAGE\n"
    "       tinyhsm verify --format mcuboot (--cert|--siggen|--pubkey FILE)\n"
    "                      [--slot-size BYTES] [--align N] [--ca ca.pem]\n"
    "                      [--flash-dump] [--json] IMAGE\n"
    "Checks a SECUREBOOT10 image as the Tiny Secure Boot bootloader does, and\n"
    "stricter: header syntax and padding, layout, board, maximum size,\n"
    "version > 0.0.0, signature (r and s in range). --ca also checks that the\n"
    "signer certificate chains to the CA and is valid now. --installed applies\n"
    "the update rule: same board, strictly newer version (no downgrades).\n"
    "Prints the signer key id, then one PASS/FAIL line per check; exits 0\n"
    "only when all pass. Needs no device. Without --board the header's board\n"
    "is looked up. An image from the reference sign.py (SIZE ends with two\n"
    "NULs) and one from older tinyhsm (one NUL) are both accepted.\n"
    "--flash-dump: IMAGE was read from the flash slot, so erased flash (0xFF)\n"
    "may follow the signature; anything else there fails the layout check.\n"
    "Every check that can run runs, also after a failed one (--installed\n"
    "included). An IMAGE that cannot be read is an error (exit 1, no\n"
    "PASS/FAIL lines); a rejected image also exits 1, after its FAIL lines.\n"
    "--json prints one object: image, ok, key_id, key_file, board, version,\n"
    "signed_size, checks (an array of {check, pass, detail}); when no check\n"
    "could run, {\"ok\":false,\"error\":\"...\"}.\n\n"
    "--format mcuboot checks an MCUboot image (ECDSA P-256) as MCUboot does:\n"
    "header, TLV areas, hash, key hash (or key), signature and, with\n"
    "--slot-size, room for the image and its trailer (written --align bytes\n"
    "at a time, default 1) in the slot. --format secureboot10 is the default.\n\n"
    "Example:\n"
    "  tinyhsm verify --siggen SigGen.c --board B-U585I-IOT02A signed_binary.bin\n";

#define MAX_CHECKS 12
typedef struct {
    const char *cert, *siggen, *pubkey, *ca, *board, *installed, *image;
    uint64_t max_size;
    uint32_t slot_size, align;
    bool failed, flash_dump, json, mcuboot;
    bool header_ok; /* the image's header parsed */
    int n_checks; /* for --json */
    struct {
        const char *name;
        bool pass;
        char detail[300];
    } checks[MAX_CHECKS];
} verify_opts;

/* --max-size: a decimal number from 1024 to 2^32-1. */
static int parse_max_size(const char *arg, uint64_t *out)
{
    char *end;
    if (*arg < '1' || *arg > '9' || strlen(arg) > 10)
        return -1;
    errno = 0;
    *out = strtoull(arg, &end, 10);
    return *end || errno || *out < 1024 || *out > UINT32_MAX ? -1 : 0;
}

/* --format, --slot-size, --align. 0, or -1 after a usage error. */
static int mcuboot_option(cli_ctx *c, verify_opts *o, int ch, const char *arg)
{
    if (ch == 'f' && (!strcmp(arg, "mcuboot") || !strcmp(arg, "secureboot10"))) {
        o->mcuboot = !strcmp(arg, "mcuboot");
        return 0;
    }
    if (ch == 'S' && cli_parse_number(arg, 1, UINT32_MAX, &o->slot_size) == 0)
        return 0;
    if (ch == 'A' && thsm_parse_uint(arg, 1, 32, &o->align) == 0)
        return 0;
    cli_usage_error(c, "verify", ch == 'f' ? "--format is secureboot10 or "
                    "mcuboot, not '%s'" : ch == 'S' ? "--slot-size takes a "
                    "number of bytes (decimal or 0x hexadecimal), not '%s'"
                    : "--align takes 1, 2, 4, 8, 16 or 32, not '%s'", arg);
    return -1;
}

static int verify_parse(cli_ctx *c, int argc, char **argv, verify_opts *o)
{
    static const struct option opts[] = {
        {"cert", required_argument, NULL, 'c'},
        {"siggen", required_argument, NULL, 's'},
        {"pubkey", required_argument, NULL, 'k'},
        {"ca", required_argument, NULL, 'a'},
        {"board", required_argument, NULL, 'b'},
        {"max-size", required_argument, NULL, 'm'},
        {"installed", required_argument, NULL, 'i'},
        {"flash-dump", no_argument, NULL, 'F'},
        {"json", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'},
        {"slot-size", required_argument, NULL, 'S'},
        {"align", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->cert = optarg; break;
        case 's': o->siggen = optarg; break;
        case 'k': o->pubkey = optarg; break;
        case 'a': o->ca = optarg; break;
        case 'b': o->board = optarg; break;
        case 'i': o->installed = optarg; break;
        case 'F': o->flash_dump = true; break;
        case 'j': o->json = true; break;
        case 'm':
            if (parse_max_size(optarg, &o->max_size) != 0)
                return cli_usage_error(c, "verify", "--max-size takes a number of "
                                       "bytes from 1024 to 4294967295, not "
                                       "'%s'", optarg);
            break;
        case 'f': case 'S': case 'A':
            if (mcuboot_option(c, o, ch, optarg) != 0)
                return CLI_USAGE;
            break;
        case 'h': fputs(verify_help, stdout); return CLI_OK;
        default: return cli_bad_option(c, "verify", opts, argc, argv);
        }
    }
    if (!o->mcuboot && (o->slot_size || o->align))
        return cli_usage_error(c, "verify", "--slot-size and --align are for "
                               "--format mcuboot");
    if (o->mcuboot && (o->board || o->max_size || o->installed))
        return cli_usage_error(c, "verify", "--board, --max-size and "
                               "--installed are for SECUREBOOT10 images");
    if (optind != argc - 1)
        return cli_usage_error(c, "verify", "give one IMAGE");
    o->image = argv[optind];
    if (!!o->cert + !!o->siggen + !!o->pubkey != 1)
        return cli_usage_error(c, "verify", "give the key with exactly one of "
                                         "--cert, --siggen, --pubkey");
    if (o->ca && !o->cert)
        return cli_usage_error(c, "verify", "--ca needs --cert");
    return -1;
}

static void report(verify_opts *o, bool pass, const char *check,
                   const char *fmt, ...) __attribute__((format(THSM_PRINTF_FMT, 4, 5)));

static void report(verify_opts *o, bool pass, const char *check,
                   const char *fmt, ...)
{
    va_list ap;
    char detail[300];
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    o->failed |= !pass;
    if (!o->json) {
        printf("%s %-12s %s\n", pass ? "PASS" : "FAIL", check, detail);
        return;
    }
    if (o->n_checks < MAX_CHECKS) {
        o->checks[o->n_checks].name = check;
        o->checks[o->n_checks].pass = pass;
        memcpy(o->checks[o->n_checks++].detail, detail, sizeof(detail));
    }
}

/* --cert names the CA's certificate: images are signed by the signer. */
static void warn_if_ca(cli_ctx *c, const verify_opts *o, const uint8_t *pem,
                       size_t len)
{
    thsm_x509_info info;
    if (thsm_x509_parse(pem, len, &info) != 0 || !info.is_ca)
        return;
    cli_error(c, "warning: %s is a CA certificate (%s), not the signer's: "
              "images are signed by the signer; give --cert "
              "stsafe_signer_cert.pem (and this file as --ca)", o->cert,
              info.subject);
}

static int load_key(cli_ctx *c, const verify_opts *o, uint8_t pub[65])
{
    const char *path = o->cert ? o->cert : o->siggen ? o->siggen : o->pubkey;
    char err[200];
    size_t len;
    uint8_t *text = cli_read_file(c, path, 65536, &len);
    int rc = -1;
    if (!text)
        return -1;
    text[len] = '\0';
    if (o->siggen)
        rc = thsm_siggen_parse((char *)text, pub, err, sizeof(err));
    else
        rc = thsm_pubkey_from_pem(text, len, pub);
    if (rc != 0)
        cli_error(c, "%s: %s", path, o->siggen ? err : "no P-256 public key in it");
    else if (o->cert)
        warn_if_ca(c, o, text, len);
    free(text);
    return rc;
}

/* The board profile: --board/--max-size, else the header's board. */
static int pick_board(verify_opts *o, const thsm_boot_header *h,
                      thsm_boot_board *b)
{
    b->name = o->board ? o->board : h->board;
    const thsm_board_info *info = o->board ? cli_board_lookup(o->board)
                                           : thsm_board_find(h->board);
    if (info)
        b->name = info->name;
    b->max_size = (uint32_t)(o->max_size ? o->max_size
                                         : info ? info->max_size : 0);
    if (!b->max_size) {
        const char *guess = cli_board_guess(b->name);
        report(o, 0, "board", "%s is not a known board%s%s%s; give --max-size",
               b->name, guess ? " (did you mean " : "", guess ? guess : "",
               guess ? "?)" : "");
        return -1;
    }
    return 0;
}

/* The layout: exact for a file; for a flash dump, erased flash may follow. */
static int check_layout(const verify_opts *o, const uint8_t *img, size_t len,
                        const thsm_boot_header *h)
{
    int r = thsm_boot_check_layout(h, len, !o->flash_dump);
    if (r == THSM_BOOT_OK && o->flash_dump)
        r = thsm_boot_check_erased_tail(img, h, len);
    return r;
}

static void check_image(verify_opts *o, const uint8_t *img, size_t len,
                        const uint8_t pub[65], thsm_boot_header *h)
{
    thsm_boot_board b;
    int r = thsm_boot_parse_header(img, len, h);
    if (r != THSM_BOOT_OK) {
        report(o, 0, "header", "%s", thsm_boot_strerror(r));
        return;
    }
    o->header_ok = true;
    report(o, 1, "header", "SECUREBOOT10, board %s, version %s, signed size %lu",
           h->board, h->version_text, (unsigned long)h->size);
    int layout = check_layout(o, img, len, h);
    report(o, !layout, "layout", "%s (%zu bytes, signed size + 64 = %lu)",
           layout ? thsm_boot_strerror(layout) : "ok", len,
           (unsigned long)h->size + 64);
    if (pick_board(o, h, &b) == 0) {
        r = thsm_boot_check_board(h, &b);
        report(o, !r, "board", "%s (image %s, expected %s, maximum %lu bytes)",
               r ? thsm_boot_strerror(r) : "ok", h->board, b.name,
               (unsigned long)b.max_size);
    }
    r = thsm_boot_check_version(h);
    report(o, !r, "version", "%s (%s)", r ? thsm_boot_strerror(r) : "ok",
           h->version_text);
    if (layout == THSM_BOOT_TRUNCATED) {
        report(o, 0, "signature", "not checked: the image has no signature "
               "at offset %lu", (unsigned long)h->size);
        return;
    }
    r = thsm_boot_check_signature(img, h, pub);
    report(o, !r, "signature", "%s", r ? thsm_boot_strerror(r)
                                       : "verifies with the given key");
}

static void check_chain(cli_ctx *c, verify_opts *o)
{
    size_t ca_len, cert_len;
    char why[200] = "";
    uint8_t *ca = cli_read_file(c, o->ca, 65536, &ca_len);
    uint8_t *cert = cli_read_file(c, o->cert, 65536, &cert_len);
    int ok = ca && cert &&
             thsm_x509_check_chain(ca, ca_len, cert, cert_len, time(NULL), why,
                                   sizeof(why)) == 0;
    report(o, ok, "certificate", ok ? "issued by %s and valid now" : "%s",
           ok ? o->ca : why[0] ? why : "unreadable");
    free(ca);
    free(cert);
}

static void check_update(verify_opts *o, const thsm_boot_header *update)
{
    size_t len;
    char why[600];
    thsm_boot_header cur;
    const uint8_t *img = thsm_plat_map_file(o->installed, &len, why, sizeof(why));
    int r = img ? thsm_boot_parse_header(img, len, &cur) : THSM_BOOT_OK;
    if (!img)
        report(o, 0, "update", "installed image: %s", why);
    else if (r != THSM_BOOT_OK)
        report(o, 0, "update", "installed image %s: %s", o->installed,
               thsm_boot_strerror(r));
    else if (!o->header_ok)
        report(o, 0, "update", "not checked: the image's header does not "
               "parse (installed %s %s)", cur.board, cur.version_text);
    else if ((r = thsm_boot_check_update(&cur, update)) != THSM_BOOT_OK)
        report(o, 0, "update", "%s (installed %s %s, update %s %s)",
               thsm_boot_strerror(r), cur.board, cur.version_text,
               update->board, update->version_text);
    else
        report(o, 1, "update", "%s newer than installed %s", update->version_text,
               cur.version_text);
    if (img)
        thsm_plat_unmap(img, len);
}

static const char *key_file(const verify_opts *o)
{
    return o->cert ? o->cert : o->siggen ? o->siggen : o->pubkey;
}

static void print_json(cli_ctx *c, const verify_opts *o, const thsm_boot_header *h,
                       const char *key_id)
{
    json_begin(c);
    json_str(c, "image", o->image);
    json_bool(c, "ok", !o->failed);
    json_str(c, "key_id", key_id);
    json_str(c, "key_file", key_file(o));
    json_str(c, "board", h->board[0] ? h->board : NULL);
    json_str(c, "version", h->version_text[0] ? h->version_text : NULL);
    json_num(c, "signed_size", h->size);
    json_array(c, "checks");
    for (int i = 0; i < o->n_checks; i++) {
        json_item(c);
        json_str(c, "check", o->checks[i].name);
        json_bool(c, "pass", o->checks[i].pass);
        json_str(c, "detail", o->checks[i].detail);
        json_item_end(c);
    }
    json_array_end(c);
    json_end(c);
}

/* An MCUboot image, each of the bootloader's checks on its own line. */
static void check_mcuboot(verify_opts *o, const uint8_t *img, size_t len,
                          const uint8_t pub[65])
{
    const thsm_mcuboot_expect e = {pub, o->slot_size, o->align,
                                   !o->flash_dump};
    thsm_mcuboot_report r;
    char detail[300];
    thsm_mcuboot_verify(img, len, &e, &r);
    for (int i = 0; i < THSM_MCUBOOT_CHECK_COUNT; i++) {
        if (i == THSM_MCUBOOT_CHECK_SLOT && !o->slot_size)
            continue; /* not asked for */
        thsm_mcuboot_check_detail(&r, &e, i, detail, sizeof(detail));
        report(o, r.result[i] == THSM_MCUBOOT_OK, thsm_mcuboot_check_name(i),
               "%s", detail);
    }
}

/* Exit 1 both for a rejected image and for one that cannot be read: the
 * output says which (REJECTED, or an error and no PASS/FAIL lines). */
static int verify_run(cli_ctx *c, verify_opts *o, int argc, char **argv)
{
    char key_id[THSM_KEY_ID_LEN], why[600];
    uint8_t pub[65];
    thsm_boot_header h;
    size_t len;
    int rc = verify_parse(c, argc, argv, o);
    if (rc >= 0)
        return rc;
    if (load_key(c, o, pub) != 0)
        return CLI_FAIL;
    const uint8_t *img = thsm_plat_map_file(o->image, &len, why, sizeof(why));
    if (!img) {
        cli_error(c, "%s", why);
        return CLI_FAIL;
    }
    thsm_pub_key_id(pub, key_id);
    if (!o->json)
        printf("Signer key id: %s (%s)\n", key_id, key_file(o));
    memset(&h, 0, sizeof(h));
    if (o->mcuboot)
        check_mcuboot(o, img, len, pub);
    else
        check_image(o, img, len, pub, &h);
    if (o->ca)
        check_chain(c, o);
    if (o->installed)
        check_update(o, &h);
    thsm_plat_unmap(img, len);
    if (o->json)
        print_json(c, o, &h, key_id);
    else
        printf("%s: %s\n", o->image, o->failed ? "REJECTED" : "OK");
    return o->failed ? CLI_FAIL : CLI_OK;
}

int cli_verify(cli_ctx *c, int argc, char **argv)
{
    verify_opts *o = calloc(1, sizeof(*o)); /* no device needed */
    if (!o) {
        cli_error(c, "out of memory");
        return CLI_FAIL;
    }
    int rc = verify_run(c, o, argc, argv);
    if (rc != CLI_OK && o->json && !o->n_checks)
        json_failure(c); /* no checks ran: the reason instead */
    free(o);
    return rc;
}
