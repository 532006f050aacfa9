/* cmd_sign.c - tinyhsm sign: firmware in, SECUREBOOT10 image out. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/hsm.h"
#include "host/image.h"
#include "host/siggen.h"

static const char sign_help[] =
    "Usage: tinyhsm sign --board NAME (--version X.Y.Z | --version-file FILE)\n"
    "                    [-o signed_binary.bin] [--cert-out stsafe_signer_cert.pem]\n"
    "                    [--siggen SigGen.c] [--max-size BYTES] FIRMWARE.bin\n"
    "Hashes the header and firmware, has the device sign the digest, checks\n"
    "the signature against the signer certificate, then writes the image,\n"
    "the certificate and SigGen.c (each atomically). Nothing is written when\n"
    "anything fails. FILE is an application_version.h defining\n"
    "APP_VERSION_MAJOR, APP_VERSION_MINOR and APP_VERSION_BUILD.\n"
    "A board missing from the built-in table needs --max-size.\n\n"
    "Example:\n"
    "  tinyhsm sign --board B-U585I-IOT02A --version 1.2.0 build/fw.bin\n";

typedef struct {
    const char *board, *version, *version_file, *firmware;
    const char *out, *cert_out, *siggen;
    uint64_t max_size;
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
    const thsm_board_info *b = thsm_board_find(o->board);
    if (!o->max_size && !b)
        return known_boards_error(o->board);
    if (!o->max_size)
        o->max_size = b->max_size;
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
        case 'o': o->out = optarg; break;
        case 'c': o->cert_out = optarg; break;
        case 's': o->siggen = optarg; break;
        case 'm':
            o->max_size = strtoull(optarg, &end, 10);
            if (*end || *optarg < '1' || *optarg > '9' || o->max_size < 1024 ||
                o->max_size > 999999999)
                return cli_usage_error("sign", "--max-size takes a number of "
                                               "bytes from 1024");
            break;
        case 'h': fputs(sign_help, stdout); return CLI_OK;
        default: return cli_usage_error("sign", "bad option");
        }
    }
    if (optind < argc)
        o->firmware = argv[optind++];
    if (optind < argc)
        return cli_usage_error("sign", "one firmware file at a time");
    return sign_check(o);
}

typedef struct {
    const uint8_t *fw; /* mapped firmware, for hashing */
    int fw_fd;         /* the same file, for the kernel to copy */
    size_t fw_len;
    uint64_t size; /* signed size */
    uint8_t header[THSM_BOOT_HEADER_LEN];
    uint8_t pad[512];
    uint8_t digest[THSM_SHA256_LEN];
    uint8_t sig[THSM_BOOT_SIG_LEN];
    uint8_t pub[THSM_P256_PUB_LEN];
    char pem[THSM_PEM_MAX];
} image;

/* Maps the firmware and checks it fits. */
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
    im->fw_fd = fd;
    im->size = thsm_image_signed_size((uint64_t)st.st_size);
    if (st.st_size == 0)
        cli_error("firmware %s is empty", o->firmware);
    else if (im->size > o->max_size)
        cli_error("image would be %llu bytes, over the maximum of %llu for "
                  "board %s", (unsigned long long)im->size,
                  (unsigned long long)o->max_size, o->board);
    else if ((im->fw = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                            fd, 0)) == MAP_FAILED)
        cli_error("cannot read firmware %s: %s", o->firmware, strerror(errno));
    else {
        im->fw_len = (size_t)st.st_size;
        rc = 0;
    }
    if (rc != 0)
        close(fd);
    return rc;
}

static size_t pad_len(const image *im)
{
    return (size_t)(im->size - THSM_BOOT_HEADER_LEN - im->fw_len);
}

/* The image file is written while the firmware is hashed: on two cores the
 * copy costs nothing, and the signature is all that waits for the device. */
typedef struct {
    thsm_atomic_file out;
    const image *im;
    int rc;
} copier;

static void *copy_body(void *arg)
{
    copier *c = arg;
    const image *im = c->im;
    c->rc = thsm_atomic_write(&c->out, im->header, sizeof(im->header)) ||
            thsm_atomic_copy(&c->out, im->fw_fd, im->fw_len) ||
            thsm_atomic_write(&c->out, im->pad, pad_len(im));
    if (c->rc == 0)
        thsm_atomic_start_writeback(&c->out);
    return NULL;
}

static int hash_image(image *im)
{
    thsm_sha256_ctx c;
    size_t pad = pad_len(im);
    int ok = thsm_sha256_init(&c) == 0 &&
             thsm_sha256_update(&c, im->header, sizeof(im->header)) == 0 &&
             thsm_sha256_update(&c, im->fw, im->fw_len) == 0 &&
             thsm_sha256_update(&c, im->pad, pad) == 0 &&
             thsm_sha256_final(&c, im->digest) == 0;
    if (!ok)
        thsm_sha256_release(&c);
    return ok ? 0 : -1;
}

/* Gets the certificate and a signature that verifies with its key. */
static int device_sign(cli_ctx *c, image *im)
{
    char err[400];
    if (cli_connect(c) != 0 || cli_login(c, 0) != 0)
        return -1;
    if (thsm_hsm_cert_pem(&c->at, 0, im->pem, sizeof(im->pem), err,
                          sizeof(err)) != 0 ||
        thsm_hsm_sign_digest(&c->at, im->digest, im->sig, err, sizeof(err))) {
        cli_error("%s", err);
        return -1;
    }
    if (thsm_pubkey_from_pem((uint8_t *)im->pem, strlen(im->pem), im->pub)) {
        cli_error("the device's signer certificate has no P-256 key");
        return -1;
    }
    if (thsm_p256_verify(im->pub, im->digest, im->sig) != 0) {
        cli_error("the device's signature does not verify with its signer "
                  "certificate; nothing written");
        return -1;
    }
    return 0;
}

/* Finishes the image with its signature, then the certificate and key. */
static int write_outputs(const sign_opts *o, image *im, thsm_atomic_file *out)
{
    char err[400], siggen[THSM_SIGGEN_MAX];
    size_t siggen_len = thsm_siggen_format(im->pub, siggen, sizeof(siggen));
    if (thsm_atomic_write(out, im->sig, sizeof(im->sig)) != 0) {
        cli_error("cannot write %s", o->out);
        thsm_atomic_abort(out);
        return -1;
    }
    if (thsm_atomic_commit(out, err, sizeof(err)) ||
        thsm_write_file_atomic(o->cert_out, im->pem, strlen(im->pem), 0644, err,
                               sizeof(err)) ||
        thsm_write_file_atomic(o->siggen, siggen, siggen_len, 0644, err,
                               sizeof(err))) {
        cli_error("%s", err);
        return -1;
    }
    return 0;
}

static void print_summary(const sign_opts *o, const image *im)
{
    char hex[2 * THSM_P256_PUB_LEN + 1];
    printf("Board:         %s (maximum %llu bytes)\n", o->board,
           (unsigned long long)o->max_size);
    printf("Version:       %s\n", o->version);
    printf("Firmware:      %s, %zu bytes\n", o->firmware, im->fw_len);
    printf("Signed size:   %llu bytes (512-byte header + firmware padded to "
           "%llu)\n", (unsigned long long)im->size,
           (unsigned long long)(im->size - THSM_BOOT_HEADER_LEN));
    thsm_hex(im->digest, sizeof(im->digest), hex);
    printf("SHA-256:       %s\n", hex);
    thsm_hex(im->sig, 32, hex);
    printf("Signature r:   %s\n", hex);
    thsm_hex(im->sig + 32, 32, hex);
    printf("Signature s:   %s\n", hex);
    thsm_hex(im->pub + 1, 32, hex);
    printf("Public key Qx: %s\n", hex);
    thsm_hex(im->pub + 33, 32, hex);
    printf("Public key Qy: %s\n", hex);
    printf("Wrote %s (%llu bytes), %s, %s\n", o->out,
           (unsigned long long)im->size + THSM_BOOT_SIG_LEN, o->cert_out,
           o->siggen);
}

static int sign_image(cli_ctx *c, const sign_opts *o, image *im)
{
    static copier cp;
    pthread_t copy;
    char err[400];
    memset(im->pad, 0xFF, sizeof(im->pad));
    if (thsm_image_header(im->header, o->board, o->version, (uint32_t)im->size,
                          err, sizeof(err)) != 0 ||
        thsm_atomic_begin(&cp.out, o->out, 0644, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        return CLI_FAIL;
    }
    cp.im = im;
    cp.rc = -1;
    int threaded = pthread_create(&copy, NULL, copy_body, &cp) == 0;
    if (!threaded)
        copy_body(&cp);
    int hashed = hash_image(im) == 0;
    if (!hashed)
        cli_error("hashing failed");
    int signed_ok = hashed && device_sign(c, im) == 0;
    if (threaded)
        pthread_join(copy, NULL);
    if (signed_ok && cp.rc != 0)
        cli_error("cannot write %s: %s", o->out, strerror(errno));
    if (!signed_ok || cp.rc != 0) {
        thsm_atomic_abort(&cp.out);
        return CLI_FAIL;
    }
    if (write_outputs(o, im, &cp.out) != 0)
        return CLI_FAIL;
    print_summary(o, im);
    return CLI_OK;
}

int cli_sign(cli_ctx *c, int argc, char **argv)
{
    static image im;
    sign_opts o = {.out = "signed_binary.bin",
                   .cert_out = "stsafe_signer_cert.pem",
                   .siggen = "SigGen.c"};
    char err[400];
    int rc = sign_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.version_file) {
        if (thsm_version_file_read(o.version_file, o.version_buf,
                                   sizeof(o.version_buf), err, sizeof(err))) {
            cli_error("%s", err);
            return CLI_FAIL;
        }
        o.version = o.version_buf;
    }
    if (load_firmware(&o, &im) != 0)
        return CLI_FAIL;
    rc = sign_image(c, &o, &im);
    munmap((void *)im.fw, im.fw_len);
    close(im.fw_fd);
    return rc;
}
