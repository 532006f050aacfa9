/* cmd_sign.c - tinyhsm sign: firmware in, SECUREBOOT10 or MCUboot image
 * out. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/x509_host.h"
#include "cli/json.h"
#include "proto/at.h"
#include "host/hsm.h"
#include "host/image.h"
#include "host/p11_signer.h"
#include "host/sign.h"

static const char sign_help[] =
    "Usage: tinyhsm sign --board NAME (--version X.Y.Z | --version-file FILE)\n"
    "                    [-o OUT] [--cert-out CERT] [--siggen SIGGEN]\n"
    "                    [--max-size BYTES] [--trust KEYFILE] [--force] [--json]\n"
    "                    [--key PKCS11_URI [--module PATH]] FIRMWARE.bin\n"
    "       tinyhsm sign --format mcuboot --header-size N [--pad-header]\n"
    "                    --slot-size N --version MAJOR.MINOR.REVISION+BUILD\n"
    "                    [--align N] [--security-counter N]\n"
    "                    [--public-key-format hash|full] [--name SLOT]\n"
    "                    [--trust KEYFILE] [--force] [--json]\n"
    "                    [--key PKCS11_URI [--module PATH]] -o OUT APP.bin\n"
    "Hashes the header and firmware and has the device sign them: a device\n"
    "that offers image mode gets the whole image (it hashes every byte, reads\n"
    "board, version and size from the header, applies its signing policy and\n"
    "logs them); the original board gets the digest. Then checks the\n"
    "signature against the signer certificate, and that this certificate\n"
    "chains to the device's CA, then writes three files, all or none:\n"
    "  OUT     the image; default signed_binary.bin in the current directory.\n"
    "          A directory puts signed_binary.bin in it; {board} and {version}\n"
    "          are replaced by the board and version; '-' is standard output.\n"
    "  CERT    the signer certificate; SIGGEN the bootloader's SigGen.c.\n"
    "          Defaults stsafe_signer_cert.pem and SigGen.c: beside the image\n"
    "          when OUT is a directory or has a placeholder, else in the\n"
    "          current directory.\n"
    "Directories are not created: create them first. A regular file is\n"
    "replaced atomically, in the directory checked, keeping its mode when\n"
    "it is yours, less set-id, sticky and o+w bits (else 0644 less the\n"
    "umask); a FIFO or character device (also through a link such as\n"
    "/dev/stdout) is written to, and a FIFO with no reader is refused before\n"
    "signing; a symlink is followed to its (existing) target only when it\n"
    "belongs to you or root, and another user's FIFO or device is refused.\n"
    "No output may be an input (firmware, version file, --trust). FIFOs and\n"
    "standard output are written first; files are replaced only after they\n"
    "were written in full. When an output is standard output (-, /dev/stdout\n"
    "...), the summary goes to stderr. Writing the image to a terminal needs\n"
    "--force.\n"
    "FILE is an application_version.h defining APP_VERSION_MAJOR, _MINOR and\n"
    "_BUILD as decimal numbers (the last definition wins).\n"
    "Refused unless --force: version 0.0.0; an ELF, Intel HEX or S-record\n"
    "file; an already signed image; a vector table that does not fit the\n"
    "board (stack in RAM, reset vector in the firmware at flash + 0x8200);\n"
    "replacing a CERT or SIGGEN that holds another key.\n"
    "--trust KEYFILE (SigGen.c, certificate or public key PEM) refuses to\n"
    "sign unless the device's signer key is that key.\n"
    "--key 'pkcs11:token=T;object=K' signs with that key on any PKCS#11 token\n"
    "instead of the device (an EC P-256 private key; RFC 7512 URI). The module\n"
    "is --module PATH, else the URI's module-path=, else p11-kit's registered\n"
    "modules. The PIN, when the token needs one: the URI's pin-value= or\n"
    "pin-source=FILE, else --pin-file, $TINYHSM_PIN or a prompt. The\n"
    "certificate is the token's certificate object with the key's CKA_ID; a\n"
    "key without one writes the image and SigGen.c only, and --cert-out is\n"
    "refused before anything is signed.\n"
    "A board missing from the built-in table needs --max-size; for a known\n"
    "board it may not exceed the board's maximum unless --force.\n"
    "--format mcuboot writes an MCUboot image (ECDSA P-256) as imgtool sign\n"
    "does, and only the image: the header (--header-size bytes; APP.bin must\n"
    "start with that many zero bytes, or --pad-header puts them in front),\n"
    "the application, a protected TLV area with --security-counter, then the\n"
    "TLVs SHA256, KEYHASH (SHA-256 of the DER public key) or, with\n"
    "--public-key-format full, PUBKEY, and the DER ECDSA signature. Sizes\n"
    "and the counter are decimal or 0x hexadecimal. The image and its trailer\n"
    "(for --align, the flash write size: 1, 2, 4, 8, 16 or 32) must fit\n"
    "--slot-size, checked before the device is asked. A device with image\n"
    "mode hashes the signed bytes itself, its policy keeping rising versions\n"
    "under --name; else it signs their digest. Refused unless --force: an\n"
    "MCUboot image, an ELF, Intel HEX or S-record file as APP.bin.\n"
    "--json prints one object: image, certificate, siggen, board, version,\n"
    "firmware_size, signed_size, image_size, sha256, signature, key_id,\n"
    "public_key, signer_not_before, signer_not_after (ISO 8601), warnings,\n"
    "ok (true); on failure {\"ok\":false,\"error\":\"...\",\"warnings\":[...]}.\n"
    "With --format mcuboot: format, image, version, firmware_size,\n"
    "signed_size (the bytes hashed), image_size, slot_size, mode (image,\n"
    "digest or key), sha256, signature, key_id, public_key, warnings, ok.\n\n"
    "Example:\n"
    "  tinyhsm sign --board B-U585I-IOT02A --version 1.2.0 build/fw.bin\n"
    "  mkdir -p dist\n"
    "  tinyhsm sign --board B-U585I-IOT02A --version-file app/application_version.h \\\n"
    "               -o 'dist/{board}-{version}.bin' build/fw.bin\n"
    "  tinyhsm sign --board B-U585I-IOT02A --version 1.2.0 \\\n"
    "               --key 'pkcs11:token=release;object=fw-signer' \\\n"
    "               --module /usr/lib/softhsm/libsofthsm2.so build/fw.bin\n"
    "  tinyhsm sign --format mcuboot --header-size 0x200 --pad-header \\\n"
    "               --slot-size 0x60000 --version 1.2.3+4 -o zephyr.signed.bin \\\n"
    "               zephyr.bin\n";

enum {
    OUT_IMAGE = THSM_SIGN_IMAGE,
    OUT_CERT = THSM_SIGN_CERT,
    OUT_SIGGEN = THSM_SIGN_SIGGEN,
    OUT_COUNT = THSM_SIGN_OUTPUTS
};

static const char *const default_names[OUT_COUNT] = {
    "signed_binary.bin", "stsafe_signer_cert.pem", "SigGen.c"};
static const char *const out_option[OUT_COUNT] = {"-o", "--cert-out",
                                                   "--siggen"};

typedef struct {
    const char *board, *version, *version_file, *firmware, *trust;
    const char *key, *module; /* --key PKCS11_URI, --module PATH */
    const char *given[OUT_COUNT]; /* as on the command line, or NULL */
    char path[OUT_COUNT][4096];   /* placeholders and directories applied */
    uint64_t max_size;
    bool force, json;
    char version_buf[32];
    bool mcuboot;                 /* --format mcuboot */
    thsm_mcuboot_opts mb;         /* its options */
    const char *name, *key_format; /* --name, --public-key-format */
} sign_opts;

static int known_boards_error(const char *board)
{
    size_t n;
    const thsm_board_info *b = thsm_boards(&n);
    const char *guess = cli_board_guess(board);
    if (guess)
        fprintf(stderr, "tinyhsm: unknown board '%s'; did you mean '%s'? Or "
                        "give --max-size BYTES, or one of:\n", board, guess);
    else
        fprintf(stderr, "tinyhsm: unknown board '%s'; give --max-size BYTES, "
                        "or one of:\n", board);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %-16s %-12s max %lu bytes\n", b[i].name, b[i].mcu,
                (unsigned long)b[i].max_size);
    return CLI_USAGE;
}

/* --max-size over a known board's maximum: the bootloader would reject a
 * larger image. Refused unless --force. */
static int max_size_over_board(cli_ctx *c, const sign_opts *o, const thsm_board_info *b)
{
    if (!o->force)
        return cli_usage_error(c, "sign", "--max-size %llu is over %s's maximum "
                               "of %lu bytes: its bootloader rejects larger "
                               "images (--force allows it)",
                               (unsigned long long)o->max_size, b->name,
                               (unsigned long)b->max_size);
    cli_error(c, "warning: --max-size %llu is over %s's maximum of %lu bytes "
              "(going on: --force)",
            (unsigned long long)o->max_size, b->name,
            (unsigned long)b->max_size);
    return -1;
}

/* What both formats check: --key, --module, -o - and --json. */
static int common_check(cli_ctx *c, const sign_opts *o)
{
    if (o->module && !o->key)
        return cli_usage_error(c, "sign", "--module chooses the module of a "
                               "--key pkcs11: URI; give --key too");
    if (o->key && strncmp(o->key, "pkcs11:", 7) != 0)
        return cli_usage_error(c, "sign", "--key takes a PKCS#11 URI "
                               "('pkcs11:token=...;object=...'), not '%s'",
                               o->key);
    if (o->json && o->given[OUT_IMAGE] && strcmp(o->given[OUT_IMAGE], "-") == 0)
        return cli_usage_error(c, "sign", "--json and -o - both need standard "
                                       "output");
    if (o->given[OUT_IMAGE] && strcmp(o->given[OUT_IMAGE], "-") == 0 &&
        isatty(STDOUT_FILENO) && !o->force)
        return cli_usage_error(c, "sign", "-o - would write the binary image to "
                               "the terminal; redirect it, or --force");
    return -1;
}

/* --name: the device keeps rising versions under it, and logs it. */
static bool slot_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= THSM_PROTO_IMG_NAME_MAX && /* what the device keeps */
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789._-") == n;
}

static int expand(cli_ctx *c, const sign_opts *o, const char *opt,
                  const char *tmpl, char *out, size_t cap, int *had);

/* --format mcuboot: what it needs, and no SECUREBOOT10 option. */
static int mcuboot_check(cli_ctx *c, sign_opts *o)
{
    if (o->board || o->version_file || o->given[OUT_CERT] ||
        o->given[OUT_SIGGEN] || o->max_size)
        return cli_usage_error(c, "sign", "--board, --version-file, "
                               "--cert-out, --siggen and --max-size are for "
                               "SECUREBOOT10 images, not --format mcuboot");
    if (!o->mb.header_size)
        return cli_usage_error(c, "sign", "--header-size N is needed (0x200 "
                               "keeps the vector table aligned)");
    if (!o->mb.slot_size)
        return cli_usage_error(c, "sign", "--slot-size N is needed: the image "
                               "and its trailer must fit the slot");
    if (!o->version)
        return cli_usage_error(c, "sign", "--version MAJOR.MINOR.REVISION+BUILD "
                               "is needed");
    if (thsm_mcuboot_parse_version(o->version, &o->mb.version) != 0)
        return cli_usage_error(c, "sign", "--version takes MAJOR.MINOR."
                               "REVISION+BUILD (major and minor up to 255, "
                               "revision 65535, build 4294967295; e.g. "
                               "1.2.3+4), not '%s'", o->version);
    if (o->name && !slot_name_ok(o->name))
        return cli_usage_error(c, "sign", "--name takes 1 to %d letters, "
                               "digits, '.', '_' or '-', not '%s'",
                               THSM_PROTO_IMG_NAME_MAX, o->name);
    if (!o->given[OUT_IMAGE])
        return cli_usage_error(c, "sign", "-o OUT is needed with --format "
                               "mcuboot");
    if (!o->firmware)
        return cli_usage_error(c, "sign", "which APP.bin?");
    int had = 0; /* {version}, and {board} as the --name */
    o->board = o->name;
    int rc = expand(c, o, "-o", o->given[OUT_IMAGE], o->path[OUT_IMAGE],
                    sizeof(o->path[0]), &had);
    o->board = NULL;
    if (rc != 0)
        return rc == -2 ? CLI_USAGE : cli_usage_error(c, "sign", "-o is too long");
    return common_check(c, o);
}

/* Option values that can be checked without touching files or the device. */
static int sign_check(cli_ctx *c, sign_opts *o)
{
    char err[300];
    if (o->mcuboot)
        return mcuboot_check(c, o);
    if (o->mb.header_size || o->mb.pad_header || o->mb.slot_size ||
        o->mb.align || o->mb.has_security_counter || o->key_format || o->name)
        return cli_usage_error(c, "sign", "--header-size, --pad-header, "
                               "--slot-size, --align, --security-counter, "
                               "--public-key-format and --name are for "
                               "--format mcuboot");
    if (!o->board)
        return cli_usage_error(c, "sign", "--board NAME is needed");
    if (thsm_board_name_check(o->board, err, sizeof(err)))
        return cli_usage_error(c, "sign", "%s", err);
    if (!o->version == !o->version_file)
        return cli_usage_error(c, "sign", "give the version with exactly one of "
                                       "--version and --version-file");
    if (o->version && thsm_version_check(o->version, err, sizeof(err)))
        return cli_usage_error(c, "sign", "%s", err);
    if (!o->firmware)
        return cli_usage_error(c, "sign", "which FIRMWARE.bin?");
    if (common_check(c, o) >= 0)
        return CLI_USAGE;
    const thsm_board_info *b = cli_board_lookup(o->board);
    if (b)
        o->board = b->name;
    if (!o->max_size && !b)
        return known_boards_error(o->board);
    if (!o->max_size)
        o->max_size = b->max_size;
    if (b && o->max_size > b->max_size)
        return max_size_over_board(c, o, b);
    return -1;
}

/* The options of --format mcuboot. 0, or -1 after a usage error. */
static int mcuboot_option(cli_ctx *c, sign_opts *o, int ch, const char *arg)
{
    thsm_mcuboot_opts *m = &o->mb;
    uint32_t *num = ch == 'H' ? &m->header_size : ch == 'S' ? &m->slot_size
                  : ch == 'A' ? &m->align : &m->security_counter;
    uint32_t min = ch == 'H' ? THSM_MCUBOOT_HEADER_LEN : ch == 'C' ? 0 : 1;
    uint32_t max = ch == 'H' ? 0xFFFF : UINT32_MAX;
    if (ch == 'T' && (!strcmp(arg, "mcuboot") || !strcmp(arg, "secureboot10")))
        return o->mcuboot = !strcmp(arg, "mcuboot"), 0;
    if (ch == 'K' && (!strcmp(arg, "hash") || !strcmp(arg, "full"))) {
        o->key_format = arg;
        m->key_format = !strcmp(arg, "full") ? THSM_MCUBOOT_KEY_FULL
                                             : THSM_MCUBOOT_KEY_HASH;
        return 0;
    }
    if (strchr("HSAC", ch) && cli_parse_number(arg, min, max, num) == 0 &&
        (ch != 'A' || thsm_mcuboot_trailer_size(*num) != 0)) {
        m->has_security_counter |= ch == 'C';
        return 0;
    }
    cli_usage_error(c, "sign", "%s", ch == 'T' ? "--format is secureboot10 or "
                    "mcuboot" : ch == 'K' ? "--public-key-format is hash or "
                    "full" : ch == 'H' ? "--header-size takes 32 to 65535 "
                    "bytes (decimal or 0x hexadecimal)" : ch == 'S' ?
                    "--slot-size takes a number of bytes (decimal or 0x "
                    "hexadecimal)" : ch == 'A' ? "--align takes 1, 2, 4, 8, 16 "
                    "or 32" : "--security-counter takes 0 to 4294967295 "
                    "(decimal or 0x hexadecimal)");
    return -1;
}

static int sign_parse(cli_ctx *c, int argc, char **argv, sign_opts *o)
{
    static const struct option opts[] = {
        {"board", required_argument, NULL, 'b'},
        {"version", required_argument, NULL, 'v'},
        {"version-file", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"cert-out", required_argument, NULL, 'c'},
        {"siggen", required_argument, NULL, 's'},
        {"max-size", required_argument, NULL, 'm'},
        {"trust", required_argument, NULL, 't'},
        {"key", required_argument, NULL, 'k'},
        {"module", required_argument, NULL, 'M'},
        {"format", required_argument, NULL, 'T'},
        {"header-size", required_argument, NULL, 'H'},
        {"pad-header", no_argument, NULL, 'P'},
        {"slot-size", required_argument, NULL, 'S'},
        {"align", required_argument, NULL, 'A'},
        {"security-counter", required_argument, NULL, 'C'},
        {"public-key-format", required_argument, NULL, 'K'},
        {"name", required_argument, NULL, 'N'},
        {"force", no_argument, NULL, 'F'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': o->board = optarg; break;
        case 'v': o->version = optarg; break;
        case 'f': o->version_file = optarg; break;
        case 'o': o->given[OUT_IMAGE] = optarg; break;
        case 'c': o->given[OUT_CERT] = optarg; break;
        case 's': o->given[OUT_SIGGEN] = optarg; break;
        case 't': o->trust = optarg; break;
        case 'k': o->key = optarg; break;
        case 'M': o->module = optarg; break;
        case 'N': o->name = optarg; break;
        case 'P': o->mb.pad_header = 1; break;
        case 'T': case 'H': case 'S': case 'A': case 'C': case 'K':
            if (mcuboot_option(c, o, ch, optarg) != 0)
                return CLI_USAGE;
            break;
        case 'F': o->force = true; break;
        case 'j': o->json = true; break;
        case 'm':
            errno = 0;
            o->max_size = strtoull(optarg, &end, 10);
            if (*end || errno || *optarg < '1' || *optarg > '9' ||
                o->max_size < 1024 || o->max_size > UINT32_MAX)
                return cli_usage_error(c, "sign", "--max-size takes a number of "
                                       "bytes from 1024 to 4294967295, not "
                                       "'%s'", optarg);
            break;
        case 'h': fputs(sign_help, stdout); return CLI_OK;
        default: return cli_bad_option(c, "sign", opts, argc, argv);
        }
    }
    if (optind < argc)
        o->firmware = argv[optind++];
    if (optind < argc)
        return cli_usage_error(c, "sign", "one firmware file at a time");
    return sign_check(c, o);
}

/* A {word} at s that is not a known placeholder: its length, else 0. */
static size_t unknown_placeholder(const char *s)
{
    size_t n = s[0] == '{' ? strspn(s + 1, "abcdefghijklmnopqrstuvwxyz"
                                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789")
                           : 0;
    return n && s[n + 1] == '}' ? n + 2 : 0;
}

/* Copies tmpl into out with {board} and {version} replaced; *had is set
 * when there was one. -1 when the result is too long, -2 (with a message)
 * for an unknown placeholder. */
static int expand(cli_ctx *c, const sign_opts *o, const char *opt, const char *tmpl,
                  char *out, size_t cap, int *had)
{
    size_t n = 0, bad;
    while (*tmpl) {
        const char *put = NULL;
        if (strncmp(tmpl, "{board}", 7) == 0 && !o->board) {
            cli_usage_error(c, "sign", "%s: {board} is the MCUboot image's "
                            "--name here, and none was given", opt);
            return -2;
        } else if (strncmp(tmpl, "{board}", 7) == 0)
            put = o->board, tmpl += 7;
        else if (strncmp(tmpl, "{version}", 9) == 0)
            put = o->version, tmpl += 9;
        else if ((bad = unknown_placeholder(tmpl)) != 0) {
            cli_usage_error(c, "sign", "%s: unknown placeholder %.*s; the known "
                            "ones are {board} and {version}", opt, (int)bad,
                            tmpl);
            return -2;
        }
        int w = put ? snprintf(out + n, cap - n, "%s", put)
                    : snprintf(out + n, cap - n, "%c", *tmpl++);
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
        *had |= put != NULL;
    }
    return 0;
}

/* Decides the three paths. When -o names a directory or has a placeholder,
 * the certificate and SigGen.c default to the image's directory. */
static int place_outputs(cli_ctx *c, sign_opts *o)
{
    char(*p)[4096] = o->path;
    struct stat st;
    int beside = 0;
    const char *img = o->given[OUT_IMAGE] ? o->given[OUT_IMAGE]
                                          : default_names[OUT_IMAGE];
    int rc = expand(c, o, "-o", img, p[OUT_IMAGE], sizeof(p[0]), &beside);
    if (rc != 0)
        return rc == -2 ? CLI_USAGE : cli_usage_error(c, "sign", "-o is too long");
    if (strcmp(p[OUT_IMAGE], "-") != 0 && stat(p[OUT_IMAGE], &st) == 0 &&
        S_ISDIR(st.st_mode)) {
        size_t n = strlen(p[OUT_IMAGE]);
        while (n > 1 && p[OUT_IMAGE][n - 1] == '/')
            p[OUT_IMAGE][--n] = '\0';
        if (n + 1 + strlen(default_names[OUT_IMAGE]) >= sizeof(p[0]))
            return cli_usage_error(c, "sign", "-o is too long");
        strcat(strcat(p[OUT_IMAGE], "/"), default_names[OUT_IMAGE]);
        beside = 1;
    }
    const char *slash = strrchr(p[OUT_IMAGE], '/');
    int dir_len = beside && slash ? (int)(slash - p[OUT_IMAGE]) + 1 : 0;
    for (int i = OUT_CERT; i < OUT_COUNT; i++) {
        int had = 0;
        rc = o->given[i] ? expand(c, o, out_option[i], o->given[i], p[i],
                                  sizeof(p[0]), &had)
                         : 0;
        if (rc != 0)
            return rc == -2 ? CLI_USAGE
                            : cli_usage_error(c, "sign", "%s is too long",
                                              out_option[i]);
        if (!o->given[i]) { /* the image's directory, then the default */
            memcpy(p[i], p[OUT_IMAGE], (size_t)dir_len);
            snprintf(p[i] + dir_len, sizeof(p[0]) - (size_t)dir_len, "%s",
                     default_names[i]);
        }
    }
    return -1;
}

static void print_summary(FILE *f, const sign_opts *o,
                          const thsm_sign_result *r)
{
    char hex[2 * THSM_P256_PUB_LEN + 1];
    fprintf(f, "Board:         %s (maximum %llu bytes)\n", o->board,
            (unsigned long long)o->max_size);
    fprintf(f, "Version:       %s\n", o->version);
    fprintf(f, "Firmware:      %s, %zu bytes\n", o->firmware, r->fw_len);
    fprintf(f, "Signed size:   %llu bytes (512-byte header + firmware padded "
            "to %llu)\n", (unsigned long long)r->size,
            (unsigned long long)(r->size - THSM_BOOT_HEADER_LEN));
    thsm_hex(r->digest, sizeof(r->digest), hex);
    fprintf(f, "SHA-256:       %s\n", hex);
    thsm_hex(r->sig, 32, hex);
    fprintf(f, "Signature r:   %s\n", hex);
    thsm_hex(r->sig + 32, 32, hex);
    fprintf(f, "Signature s:   %s\n", hex);
    fprintf(f, "Signer key id: %s\n", r->key_id);
    thsm_hex(r->pub + 1, 32, hex);
    fprintf(f, "Public key Qx: %s\n", hex);
    thsm_hex(r->pub + 33, 32, hex);
    fprintf(f, "Public key Qy: %s\n", hex);
    if (r->no_cert)
        fprintf(f, "Wrote %s (%llu bytes), %s (no certificate: the token "
                "holds none for this key)\n", o->path[OUT_IMAGE],
                (unsigned long long)r->size + THSM_BOOT_SIG_LEN,
                o->path[OUT_SIGGEN]);
    else
        fprintf(f, "Wrote %s (%llu bytes), %s, %s\n", o->path[OUT_IMAGE],
                (unsigned long long)r->size + THSM_BOOT_SIG_LEN,
                o->path[OUT_CERT], o->path[OUT_SIGGEN]);
}

/* Who signed: the device hashing the image itself, the device signing
 * its digest, or a PKCS#11 key. */
static const char *signed_by(const sign_opts *o, const thsm_sign_result *r)
{
    return o->key ? "key" : r->image_mode ? "image" : "digest";
}

/* How it was signed and what: the fields both formats' --json share. */
static void json_signature(cli_ctx *c, const sign_opts *o,
                           const thsm_sign_result *r)
{
    char hex[2 * THSM_P256_PUB_LEN + 1];
    json_str(c, "mode", signed_by(o, r));
    thsm_hex(r->digest, sizeof(r->digest), hex);
    json_str(c, "sha256", hex);
    thsm_hex(r->sig, sizeof(r->sig), hex);
    json_str(c, "signature", hex);
    json_str(c, "key_id", r->key_id);
    thsm_hex(r->pub, sizeof(r->pub), hex);
    json_str(c, "public_key", hex);
}

static void print_json(cli_ctx *c, const sign_opts *o,
                       const thsm_sign_result *r)
{
    json_begin(c);
    json_bool(c, "ok", true);
    json_str(c, "image", o->path[OUT_IMAGE]);
    json_str(c, "certificate", r->no_cert ? NULL : o->path[OUT_CERT]);
    json_str(c, "siggen", o->path[OUT_SIGGEN]);
    json_str(c, "board", o->board);
    json_str(c, "version", o->version);
    json_num(c, "firmware_size", r->fw_len);
    json_num(c, "signed_size", r->size);
    json_num(c, "image_size", r->size + THSM_BOOT_SIG_LEN);
    json_signature(c, o, r);
    if (!r->no_cert) {
        json_time(c, "signer_not_before", r->not_before);
        json_time(c, "signer_not_after", r->not_after);
    }
    json_warnings(c);
    json_end(c);
}

static void print_mcuboot_summary(FILE *f, const sign_opts *o,
                                  const thsm_sign_result *r)
{
    static const char *const by[] = {
        "key", "a PKCS#11 key (--key)",
        "image", "the device, in image mode (it hashed the image itself)",
        "digest", "the device, over the digest (no image mode)"};
    const char *mode = signed_by(o, r), *who = by[1];
    char hex[2 * THSM_P256_PUB_LEN + 1];
    for (size_t i = 0; i < sizeof(by) / sizeof(by[0]); i += 2)
        if (!strcmp(by[i], mode))
            who = by[i + 1];
    fprintf(f, "Format:        MCUboot (ECDSA P-256, %s)\n",
            o->mb.key_format == THSM_MCUBOOT_KEY_FULL ? "full public key"
                                                      : "key hash");
    fprintf(f, "Version:       %s\n", o->version);
    fprintf(f, "Application:   %s, %zu bytes\n", o->firmware, r->fw_len);
    fprintf(f, "Signed bytes:  %llu (header %lu, payload, protected TLVs)\n",
            (unsigned long long)r->size, (unsigned long)o->mb.header_size);
    fprintf(f, "Slot:          %lu bytes, image %zu + trailer %lu\n",
            (unsigned long)o->mb.slot_size, r->image_len,
            (unsigned long)thsm_mcuboot_trailer_size(o->mb.align ? o->mb.align
                                                                  : 1));
    fprintf(f, "Signed by:     %s\n", who);
    thsm_hex(r->digest, sizeof(r->digest), hex);
    fprintf(f, "SHA-256:       %s\n", hex);
    fprintf(f, "Signer key id: %s\n", r->key_id);
    fprintf(f, "Wrote %s (%zu bytes)\n", o->path[OUT_IMAGE], r->image_len);
}

static void print_mcuboot_json(cli_ctx *c, const sign_opts *o,
                               const thsm_sign_result *r)
{
    json_begin(c);
    json_bool(c, "ok", true);
    json_str(c, "format", "mcuboot");
    json_str(c, "image", o->path[OUT_IMAGE]);
    json_str(c, "version", o->version);
    json_num(c, "firmware_size", r->fw_len);
    json_num(c, "signed_size", r->size);
    json_num(c, "image_size", r->image_len);
    json_num(c, "slot_size", o->mb.slot_size);
    json_signature(c, o, r);
    json_warnings(c);
    json_end(c);
}

/* The device, when the pipeline first needs it: connected and logged in
 * (cli_connect and cli_login say what went wrong themselves). */
static int sign_connect(void *ctx, thsm_at **at, thsm_err *err)
{
    cli_ctx *c = ctx;
    (void)err;
    if (cli_connect(c) != 0 || cli_login(c, false) != 0)
        return THSM_ERR_FAIL;
    *at = &c->at;
    return THSM_OK;
}

/* The PIN of a PKCS#11 token, when its URI gives none. */
static int sign_token_pin(void *ctx, const char *token, char *pin, size_t cap,
                          thsm_err *err)
{
    char prompt[100];
    (void)err;
    snprintf(prompt, sizeof(prompt), "PIN of token '%.40s': ", token);
    return cli_get_token_pin(ctx, prompt, pin, cap) == 0 ? THSM_OK
                                                          : THSM_ERR_FAIL;
}

static void sign_note(void *ctx, thsm_note_kind kind, const char *msg)
{
    cli_ctx *c = ctx;
    cli_error(c, "%s%s", kind == THSM_NOTE_WARNING ? "warning: " : "", msg);
}

/* The pipeline's failure as the CLI words it. */
static int sign_failed(cli_ctx *c, const thsm_err *err)
{
    if (err->code == THSM_ERR_USAGE)
        return cli_usage_error(c, "sign", "%s", err->msg);
    if (err->code == THSM_ERR_REFUSED)
        cli_error(c, "%s\ntinyhsm: nothing written; --force signs it anyway",
                  err->msg);
    else if (err->msg[0])
        cli_error(c, "%s", err->msg);
    return CLI_FAIL;
}

static int sign_run(cli_ctx *c, int argc, char **argv, sign_opts *o)
{
    thsm_sign_result r;
    thsm_err err;
    int rc = sign_parse(c, argc, argv, o);
    if (rc >= 0)
        return rc;
    if (!o->mcuboot && o->version_file) {
        if (thsm_version_file_read(o->version_file, o->version_buf,
                                   sizeof(o->version_buf), err.msg,
                                   sizeof(err.msg))) {
            cli_error(c, "%s", err.msg);
            return CLI_FAIL;
        }
        o->version = o->version_buf;
    }
    if (!o->mcuboot && (rc = place_outputs(c, o)) >= 0)
        return rc;
    const thsm_p11_cfg p11 = {.uri = o->key, .module = o->module,
                              .pin = sign_token_pin, .ctx = c};
    thsm_p11_signer *key = NULL;
    if (o->key && thsm_p11_signer_new(&p11, &key, &err) != THSM_OK)
        return sign_failed(c, &err);
    const thsm_sign_req req = {
        .board = o->board, .version = o->version, .firmware = o->firmware,
        .version_file = o->version_file, .trust = o->trust,
        .out = {o->path[OUT_IMAGE], o->path[OUT_CERT], o->path[OUT_SIGGEN]},
        .max_size = o->max_size, .force = o->force, .json = o->json,
        .connect = sign_connect, .note = sign_note, .ctx = c,
        .signer = key ? thsm_p11_signer_get(key) : NULL,
        .cert_optional = !o->given[OUT_CERT],
        .mcuboot = o->mcuboot ? &o->mb : NULL, .name = o->name,
    };
    thsm_atomic_cleanup_on_signals();
    rc = thsm_sign_image(&req, &r, &err);
    thsm_p11_signer_free(key);
    if (rc != THSM_OK)
        return sign_failed(c, &err);
    FILE *summary = r.to_stdout ? stderr : stdout; /* the image may be stdout */
    if (o->json)
        (o->mcuboot ? print_mcuboot_json : print_json)(c, o, &r);
    else if (o->mcuboot)
        print_mcuboot_summary(summary, o, &r);
    else
        print_summary(summary, o, &r);
    return CLI_OK;
}

int cli_sign(cli_ctx *c, int argc, char **argv)
{
    sign_opts o = {0};
    int rc = sign_run(c, argc, argv, &o);
    if (rc != CLI_OK && o.json)
        json_failure(c);
    return rc;
}
