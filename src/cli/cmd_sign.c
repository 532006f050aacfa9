/* cmd_sign.c - tinyhsm sign: firmware in, SECUREBOOT10 image out. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/x509_host.h"
#include "cli/json.h"
#include "host/hsm.h"
#include "host/image.h"
#include "host/output.h"
#include "host/siggen.h"
#include "util/keyid.h"

static const char sign_help[] =
    "Usage: tinyhsm sign --board NAME (--version X.Y.Z | --version-file FILE)\n"
    "                    [-o OUT] [--cert-out CERT] [--siggen SIGGEN]\n"
    "                    [--max-size BYTES] [--trust KEYFILE] [--force] [--json]\n"
    "                    FIRMWARE.bin\n"
    "Hashes the header and firmware, has the device sign the digest, checks\n"
    "the signature against the signer certificate, and that this certificate\n"
    "chains to the device's CA, then writes three files, all or none:\n"
    "  OUT     the image; default signed_binary.bin in the current directory.\n"
    "          A directory puts signed_binary.bin in it; {board} and {version}\n"
    "          are replaced by the board and version; '-' is standard output.\n"
    "  CERT    the signer certificate; SIGGEN the bootloader's SigGen.c.\n"
    "          Defaults stsafe_signer_cert.pem and SigGen.c: beside the image\n"
    "          when OUT is a directory or has a placeholder, else in the\n"
    "          current directory.\n"
    "Directories are not created: create them first. A regular file is\n"
    "replaced atomically, keeping its mode (a new one gets 0644 less the\n"
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
    "A board missing from the built-in table needs --max-size; for a known\n"
    "board it may not exceed the board's maximum unless --force.\n"
    "--json prints one object: image, certificate, siggen, board, version,\n"
    "firmware_size, signed_size, image_size, sha256, signature, key_id,\n"
    "public_key, signer_not_before, signer_not_after (ISO 8601), warnings,\n"
    "ok (true); on failure {\"ok\":false,\"error\":\"...\",\"warnings\":[...]}.\n\n"
    "Example:\n"
    "  tinyhsm sign --board B-U585I-IOT02A --version 1.2.0 build/fw.bin\n"
    "  mkdir -p dist\n"
    "  tinyhsm sign --board B-U585I-IOT02A --version-file app/application_version.h \\\n"
    "               -o 'dist/{board}-{version}.bin' build/fw.bin\n";

enum { OUT_IMAGE, OUT_CERT, OUT_SIGGEN, OUT_COUNT };

static const char *const default_names[OUT_COUNT] = {
    "signed_binary.bin", "stsafe_signer_cert.pem", "SigGen.c"};
static const char *const out_option[OUT_COUNT] = {"-o", "--cert-out",
                                                   "--siggen"};

typedef struct {
    const char *board, *version, *version_file, *firmware, *trust;
    const char *given[OUT_COUNT]; /* as on the command line, or NULL */
    char path[OUT_COUNT][4096];   /* placeholders and directories applied */
    uint64_t max_size;
    int force, json;
    char version_buf[32];
} sign_opts;

static int known_boards_error(const char *board)
{
    size_t n;
    const thsm_board_info *b = thsm_boards(&n);
    fprintf(stderr, "tinyhsm: unknown board '%s'; give --max-size BYTES, or "
                    "one of:\n", board);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %-16s %-12s max %lu bytes\n", b[i].name, b[i].mcu,
                (unsigned long)b[i].max_size);
    return CLI_USAGE;
}

/* --max-size over a known board's maximum: the bootloader would reject a
 * larger image. Refused unless --force. */
static int max_size_over_board(const sign_opts *o, const thsm_board_info *b)
{
    if (!o->force)
        return cli_usage_error("sign", "--max-size %llu is over %s's maximum "
                               "of %lu bytes: its bootloader rejects larger "
                               "images (--force allows it)",
                               (unsigned long long)o->max_size, b->name,
                               (unsigned long)b->max_size);
    cli_error("warning: --max-size %llu is over %s's maximum of %lu bytes "
              "(going on: --force)",
            (unsigned long long)o->max_size, b->name,
            (unsigned long)b->max_size);
    return -1;
}

/* Option values that can be checked without touching files or the device. */
static int sign_check(sign_opts *o)
{
    char err[300];
    if (!o->board)
        return cli_usage_error("sign", "--board NAME is needed");
    if (thsm_board_name_check(o->board, err, sizeof(err)))
        return cli_usage_error("sign", "%s", err);
    if (!o->version == !o->version_file)
        return cli_usage_error("sign", "give the version with exactly one of "
                                       "--version and --version-file");
    if (o->version && thsm_version_check(o->version, err, sizeof(err)))
        return cli_usage_error("sign", "%s", err);
    if (!o->firmware)
        return cli_usage_error("sign", "which FIRMWARE.bin?");
    if (o->json && o->given[OUT_IMAGE] && strcmp(o->given[OUT_IMAGE], "-") == 0)
        return cli_usage_error("sign", "--json and -o - both need standard "
                                       "output");
    if (o->given[OUT_IMAGE] && strcmp(o->given[OUT_IMAGE], "-") == 0 &&
        isatty(STDOUT_FILENO) && !o->force)
        return cli_usage_error("sign", "-o - would write the binary image to "
                               "the terminal; redirect it, or --force");
    const thsm_board_info *b = thsm_board_find(o->board);
    if (!o->max_size && !b)
        return known_boards_error(o->board);
    if (!o->max_size)
        o->max_size = b->max_size;
    if (b && o->max_size > b->max_size)
        return max_size_over_board(o, b);
    return -1;
}

static int sign_parse(int argc, char **argv, sign_opts *o)
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
        {"force", no_argument, NULL, 'F'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o->board = optarg; break;
        case 'v': o->version = optarg; break;
        case 'f': o->version_file = optarg; break;
        case 'o': o->given[OUT_IMAGE] = optarg; break;
        case 'c': o->given[OUT_CERT] = optarg; break;
        case 's': o->given[OUT_SIGGEN] = optarg; break;
        case 't': o->trust = optarg; break;
        case 'F': o->force = 1; break;
        case 'j': o->json = 1; break;
        case 'm':
            errno = 0;
            o->max_size = strtoull(optarg, &end, 10);
            if (*end || errno || *optarg < '1' || *optarg > '9' ||
                o->max_size < 1024 || o->max_size > UINT32_MAX)
                return cli_usage_error("sign", "--max-size takes a number of "
                                       "bytes from 1024 to 4294967295, not "
                                       "'%s'", optarg);
            break;
        case 'h': fputs(sign_help, stdout); return CLI_OK;
        default: return cli_bad_option("sign", opts, argc, argv);
        }
    }
    if (optind < argc)
        o->firmware = argv[optind++];
    if (optind < argc)
        return cli_usage_error("sign", "one firmware file at a time");
    return sign_check(o);
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
static int expand(const sign_opts *o, const char *opt, const char *tmpl,
                  char *out, size_t cap, int *had)
{
    size_t n = 0, bad;
    while (*tmpl) {
        const char *put = NULL;
        if (strncmp(tmpl, "{board}", 7) == 0)
            put = o->board, tmpl += 7;
        else if (strncmp(tmpl, "{version}", 9) == 0)
            put = o->version, tmpl += 9;
        else if ((bad = unknown_placeholder(tmpl)) != 0) {
            cli_usage_error("sign", "%s: unknown placeholder %.*s; the known "
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
static int place_outputs(sign_opts *o)
{
    char(*p)[4096] = o->path;
    struct stat st;
    int beside = 0;
    const char *img = o->given[OUT_IMAGE] ? o->given[OUT_IMAGE]
                                          : default_names[OUT_IMAGE];
    int rc = expand(o, "-o", img, p[OUT_IMAGE], sizeof(p[0]), &beside);
    if (rc != 0)
        return rc == -2 ? CLI_USAGE : cli_usage_error("sign", "-o is too long");
    if (strcmp(p[OUT_IMAGE], "-") != 0 && stat(p[OUT_IMAGE], &st) == 0 &&
        S_ISDIR(st.st_mode)) {
        size_t n = strlen(p[OUT_IMAGE]);
        while (n > 1 && p[OUT_IMAGE][n - 1] == '/')
            p[OUT_IMAGE][--n] = '\0';
        if (n + 1 + strlen(default_names[OUT_IMAGE]) >= sizeof(p[0]))
            return cli_usage_error("sign", "-o is too long");
        strcat(strcat(p[OUT_IMAGE], "/"), default_names[OUT_IMAGE]);
        beside = 1;
    }
    const char *slash = strrchr(p[OUT_IMAGE], '/');
    int dir_len = beside && slash ? (int)(slash - p[OUT_IMAGE]) + 1 : 0;
    for (int i = OUT_CERT; i < OUT_COUNT; i++) {
        int had = 0;
        rc = o->given[i] ? expand(o, out_option[i], o->given[i], p[i],
                                  sizeof(p[0]), &had)
                         : 0;
        if (rc != 0)
            return rc == -2 ? CLI_USAGE
                            : cli_usage_error("sign", "%s is too long",
                                              out_option[i]);
        if (!o->given[i]) { /* the image's directory, then the default */
            memcpy(p[i], p[OUT_IMAGE], (size_t)dir_len);
            snprintf(p[i] + dir_len, sizeof(p[0]) - (size_t)dir_len, "%s",
                     default_names[i]);
        }
    }
    return -1;
}

/* The input an output would overwrite, or NULL. */
static const char *input_hit(const sign_opts *o, const thsm_output *out)
{
    if (thsm_output_is_input(out, o->firmware))
        return "the firmware itself";
    if (o->version_file && thsm_output_is_input(out, o->version_file))
        return "the --version-file being read";
    if (o->trust && thsm_output_is_input(out, o->trust))
        return "the --trust file being read";
    return NULL;
}

/* Resolves each output and refuses two that are the same file, or one
 * that is an input. */
static int resolve_outputs(const sign_opts *o, thsm_output out[OUT_COUNT])
{
    char err[4400];
    for (int i = 0; i < OUT_COUNT; i++) {
        if (thsm_output_resolve(&out[i], o->path[i], err, sizeof(err)) != 0) {
            cli_error("%s", err);
            return CLI_FAIL;
        }
        if (out[i].is_stdout && o->json)
            return cli_usage_error("sign", "--json and %s %s both need "
                                   "standard output", out_option[i],
                                   o->path[i]);
        if (i == OUT_IMAGE && out[i].is_stdout && isatty(STDOUT_FILENO) &&
            !o->force)
            return cli_usage_error("sign", "-o %s would write the binary "
                                   "image to the terminal; redirect it, or "
                                   "--force", o->path[i]);
        const char *input = input_hit(o, &out[i]);
        if (input)
            return cli_usage_error("sign", "%s %s is %s", out_option[i],
                                   o->path[i], input);
        for (int j = 0; j < i; j++)
            if (thsm_output_same(&out[i], &out[j]))
                return cli_usage_error("sign", "%s and %s name the same file "
                                       "(%s): each output needs its own",
                                       out_option[j], out_option[i],
                                       o->path[i]);
    }
    return -1;
}

typedef struct {
    uint8_t *fw; /* the firmware, read once: hashed, checked and written */
    size_t fw_len;
    uint64_t size; /* signed size */
    uint8_t header[THSM_BOOT_HEADER_LEN];
    uint8_t pad[512];
    uint8_t digest[THSM_SHA256_LEN];
    uint8_t sig[THSM_BOOT_SIG_LEN];
    uint8_t pub[THSM_P256_PUB_LEN];
    char key_id[THSM_KEY_ID_LEN];
    char pem[THSM_PEM_MAX];
    thsm_x509_info cert;
    char siggen[THSM_SIGGEN_MAX];
    size_t siggen_len;
} image;

/* Reads len bytes into a private buffer: a file that changes later (a
 * build still writing it) cannot make the bytes hashed differ from the
 * bytes written. 0, or -1 (errno; EAGAIN when the file was short). */
static int read_all(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            errno = r == 0 ? EAGAIN : errno;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

/* 1 when the file changed between the two stats. */
static int changed(const struct stat *a, const struct stat *b)
{
    return a->st_size != b->st_size || a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
           a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static int read_firmware(const sign_opts *o, image *im, int fd,
                         const struct stat *st)
{
    struct stat after;
    im->fw = malloc((size_t)st->st_size);
    if (!im->fw || read_all(fd, im->fw, (size_t)st->st_size) != 0) {
        cli_error("cannot read firmware %s: %s", o->firmware,
                  errno == EAGAIN ? "it shrank while being read"
                                  : strerror(errno));
        return -1;
    }
    if (fstat(fd, &after) != 0 || changed(st, &after)) {
        cli_error("firmware %s changed while being read (is a build still "
                  "writing it?); nothing signed", o->firmware);
        return -1;
    }
    im->fw_len = (size_t)st->st_size;
    return 0;
}

/* Reads the firmware and checks it fits. */
static int load_firmware(const sign_opts *o, image *im)
{
    int fd = open(o->firmware, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        cli_error("cannot open firmware %s: %s", o->firmware, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = -1;
    im->size = thsm_image_signed_size((uint64_t)st.st_size);
    if (!S_ISREG(st.st_mode))
        cli_error("firmware %s is not a regular file", o->firmware);
    else if (st.st_size == 0)
        cli_error("firmware %s is empty", o->firmware);
    else if (im->size > o->max_size)
        cli_error("image would be %llu bytes, over the maximum of %llu for "
                  "board %s", (unsigned long long)im->size,
                  (unsigned long long)o->max_size, o->board);
    else
        rc = read_firmware(o, im, fd, &st);
    close(fd);
    return rc;
}

/* A refusal that --force turns into a warning. -1 when refused. */
static int refuse_unless_forced(const sign_opts *o, const char *why)
{
    if (o->force) {
        cli_error("warning: %s (going on: --force)", why);
        return 0;
    }
    cli_error("%s\ntinyhsm: nothing written; --force signs it anyway", why);
    return -1;
}

/* The firmware's file name with its extension replaced by .bin, or by
 * .raw.bin when that would be the firmware's own name. */
static void raw_name(const char *fw, char *out, size_t cap)
{
    const char *base = strrchr(fw, '/');
    base = base ? base + 1 : fw;
    const char *dot = strrchr(base, '.');
    int n = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, cap, "%.*s%s", n, base,
             dot && strcmp(dot, ".bin") == 0 ? ".raw.bin" : ".bin");
}

/* s quoted for a POSIX shell when it holds anything but safe characters. */
static void shell_quote(const char *s, char *out, size_t cap)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                               "VWXYZ0123456789_-+./,:@%=";
    size_t n = 0;
    if (*s && strspn(s, safe) == strlen(s)) {
        snprintf(out, cap, "%s", s);
        return;
    }
    out[n++] = '\'';
    for (; *s && n + 6 < cap; s++) {
        if (*s == '\'')
            n += (size_t)snprintf(out + n, cap - n, "'\\''");
        else
            out[n++] = *s;
    }
    snprintf(out + n, cap - n, "'");
}

/* Refuses, unless --force, what the bootloader cannot boot. */
static int preflight(const sign_opts *o, image *im)
{
    static const char *const what[] = {
        [THSM_FW_ELF] = "an ELF file", [THSM_FW_IHEX] = "Intel HEX",
        [THSM_FW_SREC] = "S-records"};
    static const char *const flag[] = {
        [THSM_FW_ELF] = "", [THSM_FW_IHEX] = "-I ihex ",
        [THSM_FW_SREC] = "-I srec "};
    char why[1400], bin[300], qfw[600], qbin[600];
    thsm_fw_kind kind = thsm_firmware_kind(im->fw, im->fw_len);
    const thsm_board_info *b = thsm_board_find(o->board);
    raw_name(o->firmware, bin, sizeof(bin));
    shell_quote(o->firmware, qfw, sizeof(qfw));
    shell_quote(bin, qbin, sizeof(qbin));
    if (strcmp(o->version, "0.0.0") == 0 &&
        refuse_unless_forced(o, "version 0.0.0: the bootloader refuses it"))
        return -1;
    if (kind == THSM_FW_IMAGE) {
        snprintf(why, sizeof(why), "%s is already a signed SECUREBOOT10 image; "
                 "sign the raw firmware", o->firmware);
        return refuse_unless_forced(o, why);
    }
    if (kind != THSM_FW_RAW) {
        snprintf(why, sizeof(why), "%s is %s, not a raw binary; make one "
                 "with:\n  arm-none-eabi-objcopy %s-O binary %s %s",
                 o->firmware, what[kind], flag[kind], qfw, qbin);
        return refuse_unless_forced(o, why);
    }
    if (b && thsm_vector_check(im->fw, im->fw_len, b, why, sizeof(why)) != 0)
        return refuse_unless_forced(o, why);
    return 0;
}

/* A public key from a SigGen.c, a certificate or a public key PEM. */
static int load_any_key(const char *path, uint8_t pub[THSM_P256_PUB_LEN],
                        char *err, size_t cap)
{
    size_t len;
    uint8_t *text = cli_read_file(path, 65536, &len);
    int rc;
    if (!text)
        return -2;
    text[len] = '\0';
    if (strstr((char *)text, "SigGen_Qx"))
        rc = thsm_siggen_parse((char *)text, pub, err, cap);
    else if ((rc = thsm_pubkey_from_pem(text, len, pub)) != 0)
        snprintf(err, cap, "%s holds no P-256 public key, certificate or "
                 "SigGen.c arrays", path);
    free(text);
    return rc;
}

/* --trust names a readable key file of sensible size. */
static int trust_file_check(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        cli_error("--trust %s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        cli_error("--trust %s: is a directory, not a key file", path);
    else if (st.st_size > 65536)
        cli_error("--trust %s: %lld bytes is too large for a SigGen.c, "
                  "certificate or public key", path, (long long)st.st_size);
    else
        return 0;
    return -1;
}

/* --trust: the device's signer key must be the trusted one. */
static int check_trust(const sign_opts *o, const image *im)
{
    uint8_t want[THSM_P256_PUB_LEN];
    char err[300], id[THSM_KEY_ID_LEN];
    if (trust_file_check(o->trust) != 0)
        return -1;
    int rc = load_any_key(o->trust, want, err, sizeof(err));
    if (rc != 0) {
        if (rc == -1)
            cli_error("--trust %s: %s", o->trust, err);
        return -1;
    }
    if (memcmp(want, im->pub, sizeof(want)) == 0)
        return 0;
    thsm_pub_key_id(want, id);
    cli_error("the device's signer key %s is not the trusted key %s (%s); "
              "bootloaders built with %s would reject the image. Nothing "
              "written", im->key_id, id, o->trust, o->trust);
    return -1;
}

/* An existing certificate or SigGen.c output holding another key is not
 * replaced unless --force. */
static int check_overwrite(const sign_opts *o, image *im,
                           const thsm_output out[OUT_COUNT])
{
    for (int i = OUT_CERT; i < OUT_COUNT; i++) {
        uint8_t old[THSM_P256_PUB_LEN];
        char err[300], id[THSM_KEY_ID_LEN], why[4400];
        if (!out[i].exists ||
            load_any_key(out[i].path, old, err, sizeof(err)) != 0 ||
            memcmp(old, im->pub, sizeof(old)) == 0)
            continue;
        thsm_pub_key_id(old, id);
        snprintf(why, sizeof(why), "%s holds key %s, not the device's signer "
                 "key %s: replacing it changes the key bootloaders are built "
                 "with", o->path[i], id, im->key_id);
        if (refuse_unless_forced(o, why) != 0)
            return -1;
    }
    return 0;
}

/* An expired or not yet valid certificate (the signer's or the CA's) only
 * warns: the bootloader does not check dates. */
static void check_validity(const char *who, const thsm_x509_info *cert)
{
    char when[32];
    int64_t now = (int64_t)time(NULL);
    if (now > cert->not_after) {
        cli_format_time(cert->not_after, when);
        cli_error("warning: the %s certificate expired on %s", who, when);
    } else if (now < cert->not_before) {
        cli_format_time(cert->not_before, when);
        cli_error("warning: the %s certificate is not valid before %s", who,
                  when);
    }
}

/* The signer certificate must chain to the device's CA certificate. Dates
 * are not checked here: an expired certificate only warns (check_validity). */
static int check_chain(cli_ctx *c, const image *im)
{
    static char ca[THSM_PEM_MAX];
    static thsm_x509_info ca_info;
    char err[400], why[300] = "";
    if (thsm_hsm_cert_pem(&c->at, 1, ca, sizeof(ca), err, sizeof(err)) != 0) {
        cli_error("cannot read the device's CA certificate to check the "
                  "signer certificate: %s", err);
        return -1;
    }
    if (thsm_x509_check_chain((uint8_t *)ca, strlen(ca), (uint8_t *)im->pem,
                              strlen(im->pem), THSM_X509_ANY_TIME, why,
                              sizeof(why)) != 0) {
        cli_error("the device's signer certificate does not chain to its CA "
                  "certificate (%s); nothing written. Run 'tinyhsm config "
                  "--new signer' to issue a signer under this CA",
                  why[0] ? why : "the CA certificate does not parse");
        return -1;
    }
    if (thsm_x509_parse((uint8_t *)ca, strlen(ca), &ca_info) == 0)
        check_validity("CA", &ca_info);
    return 0;
}

/* Fetches the signer certificate and checks it before anything is signed. */
static int device_prepare(cli_ctx *c, const sign_opts *o, image *im,
                          const thsm_output out[OUT_COUNT])
{
    char err[400];
    static const uint8_t zero[THSM_P256_PUB_LEN];
    if (cli_connect(c) != 0 || cli_login(c, 0) != 0)
        return -1;
    if (thsm_hsm_cert_pem(&c->at, 0, im->pem, sizeof(im->pem), err,
                          sizeof(err)) != 0) {
        cli_error("%s", err);
        return -1;
    }
    if (thsm_x509_parse((uint8_t *)im->pem, strlen(im->pem), &im->cert) != 0 ||
        memcmp(im->cert.pub, zero, sizeof(zero)) == 0) {
        cli_error("the device's signer certificate has no P-256 key");
        return -1;
    }
    memcpy(im->pub, im->cert.pub, sizeof(im->pub));
    thsm_pub_key_id(im->pub, im->key_id);
    if (check_chain(c, im) != 0 || (o->trust && check_trust(o, im) != 0) ||
        check_overwrite(o, im, out) != 0)
        return -1;
    check_validity("signer", &im->cert);
    return 0;
}

static size_t pad_len(const image *im)
{
    return (size_t)(im->size - THSM_BOOT_HEADER_LEN - im->fw_len);
}

/* The image file is written while the firmware is hashed: on two cores the
 * copy costs nothing, and the signature is all that waits for the device. */
typedef struct {
    thsm_atomic_file *out;
    const image *im;
    int rc;
} copier;

static void *copy_body(void *arg)
{
    copier *c = arg;
    const image *im = c->im;
    c->rc = thsm_atomic_write(c->out, im->header, sizeof(im->header)) ||
            thsm_atomic_write(c->out, im->fw, im->fw_len) ||
            thsm_atomic_write(c->out, im->pad, pad_len(im));
    if (c->rc == 0)
        thsm_atomic_start_writeback(c->out);
    return NULL;
}

static int hash_image(image *im)
{
    thsm_sha256_ctx c;
    int ok = thsm_sha256_init(&c) == 0 &&
             thsm_sha256_update(&c, im->header, sizeof(im->header)) == 0 &&
             thsm_sha256_update(&c, im->fw, im->fw_len) == 0 &&
             thsm_sha256_update(&c, im->pad, pad_len(im)) == 0 &&
             thsm_sha256_final(&c, im->digest) == 0;
    if (!ok)
        thsm_sha256_release(&c);
    return ok ? 0 : -1;
}

/* Hashes (while the image body is copied to its temporary, for a file)
 * and has the device sign; checks the signature with the certificate. */
static int hash_and_sign(cli_ctx *c, image *im, thsm_output *img)
{
    char err[400];
    copier cp = {&img->f, im, 0};
    pthread_t copy;
    int threaded = 0;
    if (img->kind == THSM_OUT_FILE) {
        threaded = pthread_create(&copy, NULL, copy_body, &cp) == 0;
        if (!threaded)
            copy_body(&cp);
    }
    int ok = hash_image(im) == 0;
    if (!ok)
        cli_error("hashing failed");
    if (ok && thsm_hsm_sign_digest(&c->at, im->digest, im->sig, err,
                                   sizeof(err)) != 0) {
        cli_error("%s", err);
        ok = 0;
    }
    if (ok && thsm_p256_verify(im->pub, im->digest, im->sig) != 0) {
        cli_error("the device's signature does not verify with its signer "
                  "certificate; nothing written");
        ok = 0;
    }
    if (threaded)
        pthread_join(copy, NULL);
    if (ok && cp.rc != 0) {
        cli_error("cannot write %s: %s", img->name, strerror(errno));
        ok = 0;
    }
    return ok ? 0 : -1;
}

/* Every output's temporary is created (or its FIFO or device checked)
 * before the device is asked to sign: an unwritable output costs no
 * signature. */
static int prepare_outputs(thsm_output out[OUT_COUNT])
{
    char err[4400];
    for (int i = 0; i < OUT_COUNT; i++) {
        if (thsm_output_prepare(&out[i], err, sizeof(err)) != 0) {
            cli_error("%s; nothing written", err);
            return -1;
        }
    }
    return 0;
}

/* The signature at the end of the image's temporary, the certificate and
 * SigGen.c into theirs; then everything is delivered (output.h). */
static int write_outputs(thsm_output out[OUT_COUNT], image *im)
{
    char err[4400];
    im->siggen_len = thsm_siggen_format(im->pub, im->siggen, sizeof(im->siggen));
    const thsm_output_data body[OUT_COUNT] = {
        {{im->header, im->fw, im->pad, im->sig},
         {sizeof(im->header), im->fw_len, pad_len(im), sizeof(im->sig)}, 4},
        {{im->pem}, {strlen(im->pem)}, 1},
        {{im->siggen}, {im->siggen_len}, 1},
    };
    for (int i = 0; i < OUT_COUNT; i++) {
        size_t last = body[i].n - 1; /* the image's body is there already */
        if (out[i].kind == THSM_OUT_FILE &&
            thsm_atomic_write(&out[i].f, body[i].part[last], body[i].len[last])) {
            cli_error("cannot write %s: %s; nothing written", out[i].name,
                      strerror(errno));
            return -1;
        }
    }
    if (thsm_output_deliver(out, body, OUT_COUNT, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        return -1;
    }
    return 0;
}

static void print_summary(FILE *f, const sign_opts *o, const image *im)
{
    char hex[2 * THSM_P256_PUB_LEN + 1];
    fprintf(f, "Board:         %s (maximum %llu bytes)\n", o->board,
            (unsigned long long)o->max_size);
    fprintf(f, "Version:       %s\n", o->version);
    fprintf(f, "Firmware:      %s, %zu bytes\n", o->firmware, im->fw_len);
    fprintf(f, "Signed size:   %llu bytes (512-byte header + firmware padded "
            "to %llu)\n", (unsigned long long)im->size,
            (unsigned long long)(im->size - THSM_BOOT_HEADER_LEN));
    thsm_hex(im->digest, sizeof(im->digest), hex);
    fprintf(f, "SHA-256:       %s\n", hex);
    thsm_hex(im->sig, 32, hex);
    fprintf(f, "Signature r:   %s\n", hex);
    thsm_hex(im->sig + 32, 32, hex);
    fprintf(f, "Signature s:   %s\n", hex);
    fprintf(f, "Signer key id: %s\n", im->key_id);
    thsm_hex(im->pub + 1, 32, hex);
    fprintf(f, "Public key Qx: %s\n", hex);
    thsm_hex(im->pub + 33, 32, hex);
    fprintf(f, "Public key Qy: %s\n", hex);
    fprintf(f, "Wrote %s (%llu bytes), %s, %s\n", o->path[OUT_IMAGE],
            (unsigned long long)im->size + THSM_BOOT_SIG_LEN, o->path[OUT_CERT],
            o->path[OUT_SIGGEN]);
}

static void print_json(const sign_opts *o, const image *im)
{
    char hex[2 * THSM_P256_PUB_LEN + 1];
    json_begin();
    json_bool("ok", 1);
    json_str("image", o->path[OUT_IMAGE]);
    json_str("certificate", o->path[OUT_CERT]);
    json_str("siggen", o->path[OUT_SIGGEN]);
    json_str("board", o->board);
    json_str("version", o->version);
    json_num("firmware_size", im->fw_len);
    json_num("signed_size", im->size);
    json_num("image_size", im->size + THSM_BOOT_SIG_LEN);
    thsm_hex(im->digest, sizeof(im->digest), hex);
    json_str("sha256", hex);
    thsm_hex(im->sig, sizeof(im->sig), hex);
    json_str("signature", hex);
    json_str("key_id", im->key_id);
    thsm_hex(im->pub, sizeof(im->pub), hex);
    json_str("public_key", hex);
    json_time("signer_not_before", im->cert.not_before);
    json_time("signer_not_after", im->cert.not_after);
    json_warnings();
    json_end();
}

static int sign_image(cli_ctx *c, const sign_opts *o, image *im,
                      thsm_output out[OUT_COUNT])
{
    char err[400];
    memset(im->pad, 0xFF, sizeof(im->pad));
    if (thsm_image_header(im->header, o->board, o->version, (uint32_t)im->size,
                          err, sizeof(err)) != 0) {
        cli_error("%s", err);
        return CLI_FAIL;
    }
    if (preflight(o, im) != 0)
        return CLI_FAIL;
    if (prepare_outputs(out) != 0 || device_prepare(c, o, im, out) != 0 ||
        hash_and_sign(c, im, &out[OUT_IMAGE]) != 0 ||
        write_outputs(out, im) != 0) {
        thsm_output_abort(out, OUT_COUNT);
        return CLI_FAIL;
    }
    int piped = 0; /* an output is standard output: the summary goes aside */
    for (int i = 0; i < OUT_COUNT; i++)
        piped |= out[i].is_stdout;
    if (o->json)
        print_json(o, im);
    else
        print_summary(piped ? stderr : stdout, o, im);
    return CLI_OK;
}

static int sign_run(cli_ctx *c, int argc, char **argv, sign_opts *o)
{
    static image im;
    static thsm_output out[OUT_COUNT];
    char err[400];
    int rc = sign_parse(argc, argv, o);
    if (rc >= 0)
        return rc;
    if (o->version_file) {
        if (thsm_version_file_read(o->version_file, o->version_buf,
                                   sizeof(o->version_buf), err, sizeof(err))) {
            cli_error("%s", err);
            return CLI_FAIL;
        }
        o->version = o->version_buf;
    }
    if ((rc = place_outputs(o)) >= 0 || (rc = resolve_outputs(o, out)) >= 0)
        return rc;
    thsm_atomic_cleanup_on_signals();
    if (load_firmware(o, &im) != 0)
        return CLI_FAIL;
    rc = sign_image(c, o, &im, out);
    free(im.fw);
    return rc;
}

int cli_sign(cli_ctx *c, int argc, char **argv)
{
    static sign_opts o;
    int rc = sign_run(c, argc, argv, &o);
    if (rc != CLI_OK && o.json)
        json_failure();
    return rc;
}
