/* sign.c - the signing pipeline (see sign.h). */
#include "host/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/hsm.h"
#include "host/image.h"
#include "host/img_stream.h"
#include "host/output.h"
#include "host/plat.h"
#include "host/readfile.h"
#include "host/siggen.h"
#include "util/certvalues.h"

#define KEY_FILE_MAX 65536 /* a SigGen.c, certificate or public key */

static const char *const out_option[THSM_SIGN_OUTPUTS] = {"-o", "--cert-out",
                                                          "--siggen"};

/* Where each output is kept in a job: in order for the device; for another
 * signer, which may have no certificate, the certificate last, so that
 * without one the first two are delivered. */
static const int device_slots[THSM_SIGN_OUTPUTS] = {0, 1, 2};
static const int other_slots[THSM_SIGN_OUTPUTS] = {
    [THSM_SIGN_IMAGE] = 0, [THSM_SIGN_SIGGEN] = 1, [THSM_SIGN_CERT] = 2};

/* One call's state; on the heap, the caller's request and result beside. */
typedef struct {
    const thsm_sign_req *req;
    thsm_sign_result *res;
    thsm_err *err;
    thsm_at *at;
    const thsm_signer *signer; /* the request's, or device below */
    thsm_signer device;
    const int *slot;                    /* device_slots or other_slots */
    thsm_output out[THSM_SIGN_OUTPUTS]; /* in slot order */
    size_t n_out;                       /* delivered: 2 without certificate */
    uint8_t *fw; /* the firmware, read once: hashed, checked and written */
    uint8_t header[THSM_BOOT_HEADER_LEN];
    uint8_t pad[512];
    char pem[THSM_PEM_MAX];
    thsm_x509_info cert;
    char ca[THSM_PEM_MAX];
    thsm_x509_info ca_info;
    char siggen[THSM_SIGGEN_MAX];
    size_t siggen_len;
    thsm_mcuboot_build mb;  /* MCUboot: the image being built */
    thsm_stream_req stream; /* what the device hashes in image mode; its
                               bytes NULL: the digest mode only */
} job;

static void note(job *j, thsm_note_kind kind, const char *fmt, ...)
    __attribute__((format(THSM_PRINTF_FMT, 3, 4)));

static void note(job *j, thsm_note_kind kind, const char *fmt, ...)
{
    char msg[sizeof(j->res->warnings[0])];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    thsm_sign_result *r = j->res;
    if (kind == THSM_NOTE_WARNING && r->n_warnings < THSM_SIGN_WARNINGS_MAX)
        memcpy(r->warnings[r->n_warnings++], msg, sizeof(msg));
    if (j->req->note)
        j->req->note(j->req->ctx, kind, msg);
}

/* "YYYY-MM-DD hh:mm:ss UTC". */
static void format_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
        snprintf(out, 32, "%lld", (long long)t);
}

/* ---- outputs -------------------------------------------------------------- */

/* The input an output would overwrite, or NULL. */
static const char *input_hit(const thsm_sign_req *q, const thsm_output *out)
{
    if (thsm_output_is_input(out, q->firmware))
        return "the firmware itself";
    if (q->version_file && thsm_output_is_input(out, q->version_file))
        return "the --version-file being read";
    if (q->trust && thsm_output_is_input(out, q->trust))
        return "the --trust file being read";
    return NULL;
}

/* Output i may not be standard output with --json, the image on a
 * terminal, an input, or an output before it. */
static int output_clash(job *j, thsm_output *const out[], int i)
{
    const thsm_sign_req *q = j->req;
    if (out[i]->is_stdout && q->json)
        return thsm_fail(j->err, THSM_ERR_USAGE, "--json and %s %s both "
                         "need standard output", out_option[i], q->out[i]);
    if (i == THSM_SIGN_IMAGE && out[i]->is_stdout && isatty(STDOUT_FILENO) &&
        !q->force)
        return thsm_fail(j->err, THSM_ERR_USAGE, "-o %s would write the "
                         "binary image to the terminal; redirect it, or "
                         "--force", q->out[i]);
    const char *input = input_hit(q, out[i]);
    if (input)
        return thsm_fail(j->err, THSM_ERR_USAGE, "%s %s is %s",
                         out_option[i], q->out[i], input);
    for (int k = 0; k < i; k++)
        if (thsm_output_same(out[i], out[k]))
            return thsm_fail(j->err, THSM_ERR_USAGE, "%s and %s name the "
                             "same file (%s): each output needs its own",
                             out_option[k], out_option[i], q->out[i]);
    return THSM_OK;
}

/* Releases the first n resolved outputs (their held directories). */
static void abort_first(thsm_output *const out[], int n)
{
    for (int k = 0; k < n; k++)
        thsm_output_abort(out[k], 1);
}

/* Resolves each output and refuses two that are the same file, or one
 * that is an input. */
static int resolve_outputs(job *j)
{
    const thsm_sign_req *q = j->req;
    thsm_output *out[THSM_SIGN_OUTPUTS];
    for (int i = 0; i < THSM_SIGN_OUTPUTS; i++)
        out[i] = &j->out[j->slot[i]];
    for (int i = 0; i < (int)j->n_out; i++) { /* the image first */
        if (thsm_output_resolve(out[i], q->out[i], j->err->msg,
                                sizeof(j->err->msg)) != 0) {
            abort_first(out, i);
            return j->err->code = THSM_ERR_FAIL;
        }
        if (output_clash(j, out, i) != THSM_OK) {
            abort_first(out, i + 1);
            return j->err->code;
        }
    }
    return THSM_OK;
}

/* Every output's temporary is created (or its FIFO or device checked)
 * before the device is asked to sign: an unwritable output costs no
 * signature. */
static int prepare_outputs(job *j)
{
    char err[4400];
    for (size_t i = 0; i < j->n_out; i++)
        if (thsm_output_prepare(&j->out[i], err, sizeof(err)) != 0)
            return thsm_fail(j->err, THSM_ERR_FAIL, "%s; nothing written",
                             err);
    return THSM_OK;
}

static size_t pad_len(const job *j)
{
    return (size_t)(j->res->size - THSM_BOOT_HEADER_LEN - j->res->fw_len);
}

/* The signature at the end of the image's temporary, the certificate and
 * SigGen.c into theirs; then everything is delivered (output.h). */
static int write_outputs(job *j)
{
    thsm_sign_result *r = j->res;
    char err[4400];
    j->siggen_len = thsm_siggen_format(r->pub, j->siggen, sizeof(j->siggen));
    thsm_output_data body[THSM_SIGN_OUTPUTS];
    body[j->slot[THSM_SIGN_IMAGE]] = (thsm_output_data){
        {j->header, j->fw, j->pad, r->sig},
        {sizeof(j->header), r->fw_len, pad_len(j), sizeof(r->sig)}, 4};
    if (j->req->mcuboot) /* no copy ran: the whole image is the last part */
        body[j->slot[THSM_SIGN_IMAGE]] =
            (thsm_output_data){{j->mb.data}, {j->mb.len}, 1};
    body[j->slot[THSM_SIGN_CERT]] = (thsm_output_data){{j->pem}, {strlen(j->pem)}, 1};
    body[j->slot[THSM_SIGN_SIGGEN]] =
        (thsm_output_data){{j->siggen}, {j->siggen_len}, 1};
    for (size_t i = 0; i < j->n_out; i++) {
        size_t last = body[i].n - 1; /* the image's body is there already */
        if (j->out[i].kind == THSM_OUT_FILE &&
            thsm_atomic_write(&j->out[i].f, body[i].part[last],
                              body[i].len[last]))
            return thsm_fail(j->err, THSM_ERR_FAIL, "cannot write %s: %s; "
                             "nothing written", j->out[i].name,
                             strerror(errno));
    }
    if (thsm_output_deliver(j->out, body, j->n_out, err, sizeof(err)) != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "%s", err);
    return THSM_OK;
}

/* ---- the firmware --------------------------------------------------------- */

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

static int read_firmware(job *j, int fd, const struct stat *st)
{
    const char *name = j->req->firmware;
    struct stat after;
    j->fw = malloc((size_t)st->st_size);
    if (!j->fw || read_all(fd, j->fw, (size_t)st->st_size) != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "cannot read firmware %s: %s",
                         name, errno == EAGAIN ? "it shrank while being read"
                                               : strerror(errno));
    if (fstat(fd, &after) != 0 || thsm_plat_stat_changed(st, &after))
        return thsm_fail(j->err, THSM_ERR_FAIL, "firmware %s changed while "
                         "being read (is a build still writing it?); nothing "
                         "signed", name);
    j->res->fw_len = (size_t)st->st_size;
    return THSM_OK;
}

/* Reads the firmware and checks it fits. */
static int load_firmware(job *j)
{
    const thsm_sign_req *q = j->req;
    int fd = open(q->firmware, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        thsm_fail(j->err, THSM_ERR_FAIL, "cannot open firmware %s: %s",
                  q->firmware, strerror(errno));
        if (fd >= 0)
            close(fd);
        return THSM_ERR_FAIL;
    }
    int rc;
    j->res->size = thsm_image_signed_size((uint64_t)st.st_size);
    if (!S_ISREG(st.st_mode))
        rc = thsm_fail(j->err, THSM_ERR_FAIL, "firmware %s is not a regular "
                       "file", q->firmware);
    else if (st.st_size == 0)
        rc = thsm_fail(j->err, THSM_ERR_FAIL, "firmware %s is empty",
                       q->firmware);
    else if (!q->mcuboot && j->res->size > q->max_size)
        rc = thsm_fail(j->err, THSM_ERR_FAIL, "image would be %llu bytes, "
                       "over the maximum of %llu for board %s",
                       (unsigned long long)j->res->size,
                       (unsigned long long)q->max_size, q->board);
    else
        rc = read_firmware(j, fd, &st);
    close(fd);
    return rc;
}

/* A refusal that force turns into a warning. */
static int refuse_unless_forced(job *j, const char *why)
{
    if (j->req->force) {
        note(j, THSM_NOTE_WARNING, "%s (going on: --force)", why);
        return THSM_OK;
    }
    return thsm_fail(j->err, THSM_ERR_REFUSED, "%s", why);
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

/* Refuses, unless forced, a signed SECUREBOOT10 image and what is not a
 * raw binary (saying how to make one). */
static int raw_firmware_check(job *j)
{
    static const char *const what[] = {
        [THSM_FW_ELF] = "an ELF file", [THSM_FW_IHEX] = "Intel HEX",
        [THSM_FW_SREC] = "S-records"};
    static const char *const flag[] = {
        [THSM_FW_ELF] = "", [THSM_FW_IHEX] = "-I ihex ",
        [THSM_FW_SREC] = "-I srec "};
    const thsm_sign_req *q = j->req;
    char why[1400], bin[300], qfw[600], qbin[600];
    thsm_fw_kind kind = thsm_firmware_kind(j->fw, j->res->fw_len);
    raw_name(q->firmware, bin, sizeof(bin));
    shell_quote(q->firmware, qfw, sizeof(qfw));
    shell_quote(bin, qbin, sizeof(qbin));
    if (kind == THSM_FW_IMAGE) {
        snprintf(why, sizeof(why), "%s is already a signed SECUREBOOT10 image; "
                 "sign the raw firmware", q->firmware);
        return refuse_unless_forced(j, why);
    }
    if (kind != THSM_FW_RAW) {
        snprintf(why, sizeof(why), "%s is %s, not a raw binary; make one "
                 "with:\n  arm-none-eabi-objcopy %s-O binary %s %s",
                 q->firmware, what[kind], flag[kind], qfw, qbin);
        return refuse_unless_forced(j, why);
    }
    return THSM_OK;
}

/* Refuses, unless forced, what the bootloader cannot boot. */
static int preflight(job *j)
{
    const thsm_sign_req *q = j->req;
    char why[1400];
    const thsm_board_info *b = thsm_board_find(q->board);
    if (strcmp(q->version, "0.0.0") == 0 &&
        refuse_unless_forced(j, "version 0.0.0: the bootloader refuses it"))
        return j->err->code;
    if (raw_firmware_check(j) != THSM_OK)
        return j->err->code;
    if (b && thsm_firmware_kind(j->fw, j->res->fw_len) == THSM_FW_RAW &&
        thsm_vector_check(j->fw, j->res->fw_len, b, why, sizeof(why)))
        return refuse_unless_forced(j, why);
    return THSM_OK;
}

/* ---- keys and certificates ------------------------------------------------ */

/* A whole small file from fd (closed here), NUL-terminated, into a
 * malloc'ed buffer; fd < 0: the open of path failed (errno). */
static char *read_key_file(int fd, const char *path, size_t *len,
                           thsm_err *err)
{
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        thsm_fail(err, THSM_ERR_FAIL, "cannot open %s: %s", path,
                  strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    bool big;
    char *buf = (char *)thsm_read_all(f, KEY_FILE_MAX, len, &big);
    if (!buf)
        thsm_fail(err, THSM_ERR_FAIL, big ? "%s is too large" : "cannot read "
                  "%s", path);
    return buf;
}

/* A public key from a SigGen.c, a certificate or a public key PEM, read
 * from fd (see read_key_file). When the file cannot be read: THSM_ERR_FAIL
 * with *read_failed set. */
static int load_any_key(int fd, const char *path,
                        uint8_t pub[THSM_P256_PUB_LEN], bool *read_failed,
                        thsm_err *err)
{
    size_t len;
    char *text = read_key_file(fd, path, &len, err);
    int rc = THSM_OK;
    *read_failed = !text;
    if (!text)
        return THSM_ERR_FAIL;
    if (strstr(text, "SigGen_Qx")) {
        if (thsm_siggen_parse(text, pub, err->msg, sizeof(err->msg)) != 0)
            rc = err->code = THSM_ERR_FAIL;
    } else if (thsm_pubkey_from_pem((uint8_t *)text, len, pub) != 0) {
        rc = thsm_fail(err, THSM_ERR_FAIL, "%s holds no P-256 public key, "
                       "certificate or SigGen.c arrays", path);
    }
    free(text);
    return rc;
}

/* --trust names a readable key file of sensible size. */
static int trust_file_check(job *j, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "--trust %s: %s", path,
                         strerror(errno));
    if (S_ISDIR(st.st_mode))
        return thsm_fail(j->err, THSM_ERR_FAIL, "--trust %s: is a directory, "
                         "not a key file", path);
    if (st.st_size > KEY_FILE_MAX)
        return thsm_fail(j->err, THSM_ERR_FAIL, "--trust %s: %lld bytes is "
                         "too large for a SigGen.c, certificate or public key",
                         path, (long long)st.st_size);
    return THSM_OK;
}

/* --trust: the device's signer key must be the trusted one. */
static int check_trust(job *j)
{
    const char *path = j->req->trust;
    uint8_t want[THSM_P256_PUB_LEN];
    char id[THSM_KEY_ID_LEN];
    thsm_err why;
    bool read_failed;
    if (trust_file_check(j, path) != THSM_OK)
        return j->err->code;
    if (load_any_key(open(path, O_RDONLY | O_CLOEXEC), path, want,
                     &read_failed, &why) != THSM_OK)
        return read_failed ? thsm_fail(j->err, THSM_ERR_FAIL, "%s", why.msg)
                           : thsm_fail(j->err, THSM_ERR_FAIL, "--trust %s: %s",
                                       path, why.msg);
    if (memcmp(want, j->res->pub, sizeof(want)) == 0)
        return THSM_OK;
    thsm_pub_key_id(want, id);
    return thsm_fail(j->err, THSM_ERR_FAIL, "%s %s is not the trusted key %s "
                     "(%s); bootloaders built with %s would reject the image. "
                     "Nothing written", j->signer->name, j->res->key_id, id,
                     path, path);
}

/* An existing certificate or SigGen.c output holding another key is not
 * replaced unless forced. The file read is the one the rename replaces:
 * in the directory the output holds. */
static int check_overwrite(job *j)
{
    for (int i = THSM_SIGN_CERT; i < THSM_SIGN_OUTPUTS; i++) {
        uint8_t old[THSM_P256_PUB_LEN];
        char id[THSM_KEY_ID_LEN], why[4400];
        thsm_err e;
        bool read_failed;
        if (j->slot[i] >= (int)j->n_out)
            continue;
        int fd = thsm_output_open_existing(&j->out[j->slot[i]]);
        if (fd < 0 && errno == ENOENT)
            continue;
        if (load_any_key(fd, j->req->out[i], old, &read_failed, &e) !=
            THSM_OK) {
            if (read_failed) /* said, and the output is replaced anyway */
                note(j, THSM_NOTE_ERROR, "%s", e.msg);
            continue;
        }
        if (memcmp(old, j->res->pub, sizeof(old)) == 0)
            continue;
        thsm_pub_key_id(old, id);
        snprintf(why, sizeof(why), "%s holds key %s, not %s %s: replacing it "
                 "changes the key bootloaders are built with", j->req->out[i],
                 id, j->signer->name, j->res->key_id);
        if (refuse_unless_forced(j, why) != THSM_OK)
            return j->err->code;
    }
    return THSM_OK;
}

/* An expired or not yet valid certificate (the signer's or the CA's) only
 * warns: the bootloader does not check dates. */
static void check_validity(job *j, const char *who, const thsm_x509_info *cert)
{
    char when[32];
    int64_t now = (int64_t)time(NULL);
    if (now > cert->not_after) {
        format_time(cert->not_after, when);
        char hint[200] = "";
        if (thsm_cert_script_dates(cert->not_before, cert->not_after))
            snprintf(hint, sizeof(hint), ": it has the original scripts' "
                     "default dates (START=%s DAYS=%d); make new certificates "
                     "with dates of your own (tinyhsm config --new ...)",
                     THSM_SCRIPT_START, THSM_SCRIPT_DAYS);
        note(j, THSM_NOTE_WARNING, "the %s certificate expired on %s%s", who,
             when, hint);
    } else if (now < cert->not_before) {
        format_time(cert->not_before, when);
        note(j, THSM_NOTE_WARNING, "the %s certificate is not valid before %s",
             who, when);
    }
}

/* The signer certificate must chain to the device's CA certificate. Dates
 * are not checked here: an expired certificate only warns. */
static int check_chain(job *j)
{
    char why[300] = "";
    thsm_err e;
    int ca_rc = thsm_hsm_cert_pem(j->at, true, j->ca, sizeof(j->ca), &e);
    bool chains = ca_rc == THSM_OK &&
                  thsm_x509_check_chain((uint8_t *)j->ca, strlen(j->ca),
                                        (uint8_t *)j->pem, strlen(j->pem),
                                        THSM_X509_ANY_TIME, why,
                                        sizeof(why)) == 0;
    /* an imported key keeps the certificate it came with (its own CA's):
     * the device checked that it holds the key */
    if (!chains && thsm_hsm_signer_imported(j->at))
        return THSM_OK;
    if (ca_rc != THSM_OK)
        return thsm_fail(j->err, THSM_ERR_FAIL, "cannot read the device's CA "
                         "certificate to check the signer certificate: %s",
                         e.msg);
    if (!chains)
        return thsm_fail(j->err, THSM_ERR_FAIL, "the device's signer "
                         "certificate does not chain to its CA certificate "
                         "(%s); nothing written. Run 'tinyhsm config --new "
                         "signer' to issue a signer under this CA",
                         why[0] ? why : "the CA certificate does not parse");
    if (thsm_x509_parse((uint8_t *)j->ca, strlen(j->ca), &j->ca_info) == 0)
        check_validity(j, "CA", &j->ca_info);
    return THSM_OK;
}

/* ---- the device as a signer ---------------------------------------------- */

static int device_open(void *ctx, thsm_err *err)
{
    job *j = ctx;
    const thsm_sign_req *q = j->req;
    j->at = q->at;
    if (j->at)
        return THSM_OK;
    err->msg[0] = '\0';
    int rc = q->connect ? q->connect(q->ctx, &j->at, err)
                        : thsm_fail(err, THSM_ERR_USAGE, "no device given");
    return rc != THSM_OK || !j->at ? (err->code = THSM_ERR_FAIL) : THSM_OK;
}

/* The signer certificate, which must chain to the device's CA. */
static int device_key(void *ctx, uint8_t pub[THSM_P256_PUB_LEN], char *pem,
                      size_t cap, thsm_err *err)
{
    job *j = ctx;
    thsm_x509_info cert;
    if (thsm_hsm_cert_pem(j->at, false, pem, cap, err) != THSM_OK)
        return err->code;
    if (thsm_x509_parse((uint8_t *)pem, strlen(pem), &cert) != 0)
        return thsm_fail(err, THSM_ERR_FAIL, "the device's signer "
                         "certificate has no P-256 key");
    memcpy(pub, cert.pub, THSM_P256_PUB_LEN);
    return check_chain(j);
}

/* Image mode: the device hashes the bytes it signs and reads their header
 * itself (img_stream.h). The signature is over the same digest. */
static int device_sign_image(job *j, uint8_t sig[THSM_P256_SIG_RAW_LEN],
                             thsm_err *err)
{
    size_t fw = j->res->fw_len, len = sizeof(j->header) + fw + pad_len(j);
    uint8_t *img = malloc(len);
    if (!img)
        return thsm_fail(err, THSM_ERR_FAIL, "out of memory");
    memcpy(img, j->header, sizeof(j->header));
    memcpy(img + sizeof(j->header), j->fw, fw);
    memcpy(img + sizeof(j->header) + fw, j->pad, pad_len(j));
    thsm_stream_req req = {THSM_STREAM_SECUREBOOT10, img, len, NULL};
    int rc = thsm_hsm_sign_stream(j->at, &req, sig, err);
    free(img);
    return rc;
}

/* The image mode when the device offers it (it hashes the bytes itself:
 * sign_digest checks that the signature verifies over the host's digest);
 * the digest mode for the original board and devices without it. */
static int device_sign(void *ctx, const uint8_t digest[THSM_SHA256_LEN],
                       uint8_t sig[THSM_P256_SIG_RAW_LEN], thsm_err *err)
{
    job *j = ctx;
    if (thsm_hsm_image_mode(j->at, j->stream.bytes ? j->stream.format
                                                   : THSM_STREAM_SECUREBOOT10)) {
        j->res->image_mode = true;
        return j->stream.bytes ? thsm_hsm_sign_stream(j->at, &j->stream, sig, err)
                               : device_sign_image(j, sig, err);
    }
    return thsm_hsm_sign_digest(j->at, digest, sig, err);
}

/* ---- the signer's key and certificate ------------------------------------- */

/* A signer without a certificate: none is written when that is allowed. */
static int no_cert(job *j)
{
    const char *path = j->req->out[THSM_SIGN_CERT];
    if (j->req->mcuboot) /* the image is the only output */
        return j->res->no_cert = true, THSM_OK;
    if (!j->req->cert_optional ||
        j->slot[THSM_SIGN_CERT] != THSM_SIGN_OUTPUTS - 1)
        return thsm_fail(j->err, THSM_ERR_FAIL, "--cert-out %s: %s has no "
                         "certificate (no certificate object with the key's "
                         "CKA_ID); nothing signed. Sign without --cert-out "
                         "(the image and SigGen.c need none), or store the "
                         "certificate beside the key", path, j->signer->name);
    thsm_output_abort(&j->out[j->slot[THSM_SIGN_CERT]], 1);
    j->n_out = THSM_SIGN_OUTPUTS - 1;
    j->res->no_cert = true;
    return THSM_OK;
}

/* The certificate, when there is one, must hold the signer's key. */
static int check_cert(job *j)
{
    static const uint8_t zero[THSM_P256_PUB_LEN];
    thsm_sign_result *r = j->res;
    if (!j->pem[0])
        return no_cert(j);
    if (thsm_x509_parse((uint8_t *)j->pem, strlen(j->pem), &j->cert) != 0 ||
        memcmp(j->cert.pub, zero, sizeof(zero)) == 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "the certificate of %s has "
                         "no P-256 key", j->signer->name);
    if (memcmp(j->cert.pub, r->pub, sizeof(r->pub)) != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "the certificate stored with "
                         "%s holds another key; nothing signed",
                         j->signer->name);
    r->not_before = j->cert.not_before;
    r->not_after = j->cert.not_after;
    return THSM_OK;
}

/* Opens the signer, fetches its key and certificate and checks them
 * before anything is signed. */
static int signer_prepare(job *j)
{
    const thsm_signer *s = j->signer;
    thsm_sign_result *r = j->res;
    if (s->open(s->ctx, j->err) != THSM_OK ||
        s->key(s->ctx, r->pub, j->pem, sizeof(j->pem), j->err) != THSM_OK)
        return j->err->code = j->err->code ? j->err->code : THSM_ERR_FAIL;
    thsm_pub_key_id(r->pub, r->key_id);
    if (check_cert(j) != THSM_OK ||
        (j->req->trust && check_trust(j) != THSM_OK) ||
        check_overwrite(j) != THSM_OK)
        return j->err->code;
    if (j->pem[0])
        check_validity(j, "signer", &j->cert);
    return THSM_OK;
}

/* ---- hashing and signing -------------------------------------------------- */

/* The image file is written while the firmware is hashed: on two cores the
 * copy costs nothing. The device signs only once the copy is complete, so a
 * full disk costs no signature. */
typedef struct {
    thsm_atomic_file *out;
    const job *j;
    int rc, err; /* 0, or -1 and the errno of the failed write */
} copier;

static void *copy_body(void *arg)
{
    copier *c = arg;
    const job *j = c->j;
    c->rc = thsm_atomic_write(c->out, j->header, sizeof(j->header)) ||
            thsm_atomic_write(c->out, j->fw, j->res->fw_len) ||
            thsm_atomic_write(c->out, j->pad, pad_len(j));
    c->err = c->rc ? errno : 0;
    if (c->rc == 0)
        thsm_atomic_start_writeback(c->out);
    return NULL;
}

static bool hash_image(job *j)
{
    thsm_sha256_ctx c;
    bool ok = thsm_sha256_init(&c) == 0 &&
              thsm_sha256_update(&c, j->header, sizeof(j->header)) == 0 &&
              thsm_sha256_update(&c, j->fw, j->res->fw_len) == 0 &&
              thsm_sha256_update(&c, j->pad, pad_len(j)) == 0 &&
              thsm_sha256_final(&c, j->res->digest) == 0;
    if (!ok)
        thsm_sha256_release(&c);
    return ok;
}

/* The signer signs the digest; the signature is checked before any use. */
static int sign_digest(job *j)
{
    thsm_sign_result *r = j->res;
    const thsm_signer *s = j->signer;
    if (s->sign(s->ctx, r->digest, r->sig, j->err) != THSM_OK)
        return j->err->code = j->err->code ? j->err->code : THSM_ERR_FAIL;
    if (thsm_p256_verify(r->pub, r->digest, r->sig) != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "the signature of %s does "
                         "not verify with its public key; nothing written",
                         s->name);
    return THSM_OK;
}

/* Hashes while the image body is copied to its temporary (a file), then
 * signs. */
static int hash_and_sign(job *j)
{
    thsm_output *img = &j->out[j->slot[THSM_SIGN_IMAGE]];
    copier cp = {&img->f, j, 0, 0};
    pthread_t copy;
    bool threaded = false;
    if (img->kind == THSM_OUT_FILE) {
        threaded = pthread_create(&copy, NULL, copy_body, &cp) == 0;
        if (!threaded)
            copy_body(&cp);
    }
    bool hashed = hash_image(j);
    if (threaded)
        pthread_join(copy, NULL);
    if (cp.rc != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "cannot write %s: %s; nothing "
                         "signed", img->name, strerror(cp.err));
    if (!hashed)
        return thsm_fail(j->err, THSM_ERR_FAIL, "hashing failed");
    return sign_digest(j);
}

/* ---- the pipeline --------------------------------------------------------- */

/* After the outputs are resolved: everything up to their delivery. */
static int sign_and_write(job *j)
{
    const thsm_sign_req *q = j->req;
    char err[400];
    if (load_firmware(j) != THSM_OK)
        return j->err->code;
    memset(j->pad, 0xFF, sizeof(j->pad));
    if (thsm_image_header(j->header, q->board, q->version,
                          (uint32_t)j->res->size, err, sizeof(err)) != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "%s", err);
    if (preflight(j) != THSM_OK || prepare_outputs(j) != THSM_OK ||
        signer_prepare(j) != THSM_OK || hash_and_sign(j) != THSM_OK ||
        write_outputs(j) != THSM_OK)
        return j->err->code;
    return THSM_OK;
}

/* ---- MCUboot -------------------------------------------------------------- */

/* Refuses, unless forced, an MCUboot image given as the application, and
 * what is not a raw binary. */
static int mcuboot_preflight(job *j)
{
    static const uint8_t magic[4] = {0x3d, 0xb8, 0xf3, 0x96}; /* LE */
    char why[1400];
    if (j->res->fw_len >= sizeof(magic) &&
        memcmp(j->fw, magic, sizeof(magic)) == 0) {
        snprintf(why, sizeof(why), "%s is already an MCUboot image; sign the "
                 "application binary", j->req->firmware);
        return refuse_unless_forced(j, why);
    }
    return raw_firmware_check(j);
}

/* Header, payload and protected TLVs, checked against the slot before
 * anything is signed; their digest, and the same bytes for image mode. */
static int mcuboot_build(job *j)
{
    char err[400];
    if (thsm_mcuboot_prepare(j->fw, j->res->fw_len, j->req->mcuboot, &j->mb,
                             err, sizeof(err)) != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "%s; nothing signed", err);
    j->res->size = j->mb.hashed_len;
    if (thsm_mcuboot_digest(&j->mb, j->res->digest) != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "hashing failed");
    j->stream = (thsm_stream_req){THSM_STREAM_MCUBOOT, j->mb.data,
                                  j->mb.hashed_len, j->req->name};
    return THSM_OK;
}

/* The TLV area: hash, key (hash) and the DER signature. */
static int mcuboot_finish(job *j)
{
    const thsm_sign_result *r = j->res;
    char err[400];
    if (thsm_mcuboot_finish(&j->mb, j->req->mcuboot, r->pub, r->digest,
                            r->sig, err, sizeof(err)) != 0)
        return thsm_fail(j->err, THSM_ERR_FAIL, "%s; nothing written", err);
    j->res->image_len = j->mb.len;
    return THSM_OK;
}

/* After the outputs are resolved: the MCUboot pipeline to delivery. */
static int mcuboot_sign_and_write(job *j)
{
    if (load_firmware(j) != THSM_OK || mcuboot_preflight(j) != THSM_OK ||
        mcuboot_build(j) != THSM_OK || prepare_outputs(j) != THSM_OK ||
        signer_prepare(j) != THSM_OK || sign_digest(j) != THSM_OK ||
        mcuboot_finish(j) != THSM_OK || write_outputs(j) != THSM_OK)
        return j->err->code;
    return THSM_OK;
}

static int run(job *j)
{
    if (resolve_outputs(j) != THSM_OK)
        return j->err->code;
    if ((j->req->mcuboot ? mcuboot_sign_and_write(j) : sign_and_write(j)) !=
        THSM_OK) {
        thsm_output_abort(j->out, j->n_out);
        return j->err->code;
    }
    for (size_t i = 0; i < j->n_out; i++)
        j->res->to_stdout |= j->out[i].is_stdout;
    return THSM_OK;
}

int thsm_sign_image(const thsm_sign_req *req, thsm_sign_result *res,
                    thsm_err *err)
{
    memset(res, 0, sizeof(*res));
    memset(err, 0, sizeof(*err));
    job *j = calloc(1, sizeof(*j));
    if (!j)
        return thsm_fail(err, THSM_ERR_FAIL, "out of memory");
    j->req = req;
    j->res = res;
    j->err = err;
    j->n_out = req->mcuboot ? 1 : THSM_SIGN_OUTPUTS;
    j->device = (thsm_signer){"the device's signer key", device_open,
                              device_key, device_sign, j};
    j->signer = req->signer ? req->signer : &j->device;
    j->slot = req->signer ? other_slots : device_slots;
    int rc = run(j);
    free(j->fw);
    thsm_mcuboot_build_free(&j->mb);
    explicit_bzero(j, sizeof(*j));
    free(j);
    return err->code = rc;
}
