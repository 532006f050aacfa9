/*
 * fw_powercut.c - power cuts during flash saves of the firmware in QEMU.
 *
 * Each round asks the device for a new signer key (a state save and an audit
 * append), watches the flash image, and kills QEMU with SIGKILL after a
 * random number of writes to it, i.e. at a random point of the save. The
 * device must then start again, with the CA untouched and either the old
 * signer key with its certificate or a new key without one (which then gets
 * a certificate), and sign. The test also counts the cuts
 * that left a half-written slot, to show the cuts did land inside saves.
 *
 * A second phase cuts during image signatures (AT+IMG_END: the records, and
 * the policy's last version when it keeps one): a signature that reached
 * the host always has its IMAGE and SIGN_SB10 records after the restart.
 * A third cuts during the save that spends a PIN try: the try is then spent
 * or not, never more, never given back. A fourth cuts during a change of
 * the signing policy (AT+POLICY_SET of every rule): afterwards the device
 * holds the old policy or the new one, never a mix.
 *
 * Needs $THSM_FIRMWARE; exits 77 (skipped) without it. $THSM_POWERCUTS,
 * $THSM_POWERCUTS_IMAGE, $THSM_POWERCUTS_PIN and $THSM_POWERCUTS_POLICY set
 * the number of rounds
 * (default 100, 20, 20 and 20).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/at_client.h"
#include "host/image.h"
#include "util/base64.h"
#include "port/qemu/layout.h"
#include "testutil.h"

#define NEW_KEY "AT+SIGNER_NEW_KEY ALGO=SECP256R1"
#define NEW_CERT "AT+SIGNER_NEW_CERT TYPE=CA-SIGNED C=US O=Me CN=Signer " \
    "START=20250101000000 DAYS=365"
#define SIGN "AT+SIGNER_SIGN HASH=" \
    "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"

static char dir[512], state[600], flash[700];
static const char *firmware;
static thsm_test_daemon dev;
static thsm_at at;
static thsm_at_resp resp;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

static void stop_device(void)
{
    if (dev.pid > 0)
        thsm_test_daemon_kill(&dev);
}

static void start(void)
{
    const char *extra[] = {"--firmware", firmware, NULL};
    char err[256];
    CHECK(thsm_test_device_start(&dev, "tinyhsmd-qemu", state, extra) == 0,
          "the device did not start");
    CHECK(thsm_at_open(&at, dev.link, err, sizeof(err)) == THSM_AT_OK,
          "open %s: %s", dev.link, err);
}

static const char *cmd(const char *req)
{
    CHECK(thsm_at_cmd(&at, req, &resp) == THSM_AT_OK && resp.nlines > 0,
          "no answer to %s", req);
    return resp.lines[0];
}

/* Value of KEY= in the status line, into out. */
static void status_field(const char *key, char *out, size_t cap)
{
    const char *line = cmd("AT+HSM_STATUS?");
    char pat[32];
    snprintf(pat, sizeof(pat), " %s=", key);
    const char *p = strstr(line, pat);
    CHECK(p, "no %s in '%s'", key, line);
    p += strlen(pat);
    size_t n = strcspn(p, " ");
    CHECK(n < cap, "long %s", key);
    memcpy(out, p, n);
    out[n] = '\0';
}

/* The emulator started by tinyhsmd-qemu: its only child. */
static pid_t qemu_pid(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)dev.pid,
             (int)dev.pid);
    FILE *f = fopen(path, "r");
    int pid = 0;
    CHECK(f && fscanf(f, "%d", &pid) == 1, "no QEMU under %d", (int)dev.pid);
    fclose(f);
    return pid;
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* Sends the request and waits for the first write to the flash image.
 * Returns the inotify descriptor, or -1 when the answer came first. */
static int send_and_wait_write(const char *req)
{
    int in = inotify_init1(IN_CLOEXEC);
    CHECK(in >= 0 && inotify_add_watch(in, flash, IN_MODIFY) >= 0, "inotify");
    char line[256];
    snprintf(line, sizeof(line), "%s\r\n", req);
    CHECK(write(at.fd, line, strlen(line)) == (ssize_t)strlen(line), "write");
    struct pollfd p[2] = {{in, POLLIN, 0}, {at.fd, POLLIN, 0}};
    CHECK(poll(p, 2, 10000) > 0, "no write and no answer to %s", req);
    return in;
}

/* How long the device writes flash for req: from its first write to its
 * answer, in microseconds. */
static double save_time(const char *req)
{
    int in = send_and_wait_write(req);
    double t0 = now_us();
    struct pollfd first = {at.fd, POLLIN, 0};
    CHECK(poll(&first, 1, 10000) > 0, "no answer to %s", req);
    double t1 = now_us();
    char buf[512];
    size_t len = 0;
    while (len < 4 || memcmp(buf + len - 4, "\r\n\r\n", 4) != 0) {
        struct pollfd p = {at.fd, POLLIN, 0};
        CHECK(poll(&p, 1, 10000) > 0 && len < sizeof(buf), "no answer to %s", req);
        ssize_t n = read(at.fd, buf + len, sizeof(buf) - len);
        len += n > 0 ? (size_t)n : 0;
    }
    close(in);
    return t1 - t0;
}

/* What the device answered while a cut was pending (read as it comes: the
 * pty's buffer does not outlive the emulator). */
static char heard[512];
static size_t heard_len;

static void hear(void)
{
    ssize_t n = read(at.fd, heard + heard_len, sizeof(heard) - 1 - heard_len);
    heard_len += n > 0 ? (size_t)n : 0;
    heard[heard_len] = '\0';
}

/* Sends the request, kills QEMU at a random instant within the first
 * window_us after its first flash write, and waits for tinyhsmd-qemu; the
 * link stays open for what the device answered before the cut. */
static void cut_keep_link(const char *req, double window_us)
{
    pid_t q = qemu_pid();
    int in = send_and_wait_write(req);
    double until = now_us() + window_us * (rand() / (RAND_MAX + 1.0));
    heard_len = 0;
    while (now_us() < until)
        hear(); /* spin: a sleep would be far coarser than a save */
    kill(q, SIGKILL);
    close(in);
    int status;
    CHECK(waitpid(dev.pid, &status, 0) == dev.pid, "waitpid");
    dev.pid = -1;
}

static void cut_during(const char *req, double window_us)
{
    cut_keep_link(req, window_us);
    thsm_at_close(&at);
}

/* 1 when a slot was cut off mid-save: written to, but without its mark. */
static int torn_slot(void)
{
    size_t len;
    unsigned char *img = thsm_test_read_file(flash, &len);
    int torn = 0;
    CHECK(img && len >= 3 * FLASH_SECTOR, "flash image");
    for (int s = 0; s < FLASH_SLOTS; s++) {
        const unsigned char *p = img + (size_t)s * FLASH_SECTOR;
        int marked = memcmp(p, FLASH_SLOT_MARK, sizeof(FLASH_SLOT_MARK)) == 0;
        int erased = 1;
        for (size_t i = 0; i < FLASH_SECTOR && erased; i++)
            erased = p[i] == 0xff;
        torn |= !marked && !erased;
    }
    free(img);
    return torn;
}

/* Waits out the delay a wrong PIN started (it survives restarts), so the
 * next AT+AUTH is a real try. */
static void wait_pin_delay(void)
{
    char delay[16];
    status_field("DELAY", delay, sizeof(delay));
    if (atoi(delay) > 0)
        sleep((unsigned)atoi(delay) + 1);
}

/* Cuts during the save that spends a PIN try (AT+AUTH with a wrong PIN):
 * afterwards the try is spent or not, never given back beyond that; a
 * right PIN restores the tries between rounds. Returns the cuts after
 * which the try was spent. */
static int pin_rounds(double window)
{
    const char *env = getenv("THSM_POWERCUTS_PIN");
    int rounds = env ? atoi(env) : 20, spent = 0;
    char tries[8];
    CHECK(strcmp(cmd("AT+PIN_SET NEW=powercut-pin"), "OK") == 0, "PIN: %s",
          resp.lines[0]);
    for (int i = 0; i < rounds; i++) {
        status_field("TRIES", tries, sizeof(tries));
        int before = atoi(tries);
        wait_pin_delay();
        if (before <= 2) {
            char delay[8];
            status_field("DELAY", delay, sizeof(delay));
            sleep((unsigned)atoi(delay) + 1); /* the wait after wrong PINs */
            CHECK(strcmp(cmd("AT+AUTH PIN=powercut-pin"), "OK") == 0,
                  "right PIN: %s", resp.lines[0]);
            before = 5;
            wait_pin_delay();
        }
        cut_during("AT+AUTH PIN=wrong-pin", window);
        start();
        status_field("TRIES", tries, sizeof(tries));
        int after = atoi(tries);
        CHECK(after == before || after == before - 1,
              "PIN round %d: %d tries before, %d after", i, before, after);
        spent += after == before - 1;
    }
    return spent;
}

/* Two policies that differ in every rule (no rate limit: signing stays
 * possible), as AT+POLICY_SET takes them and AT+POLICY? shows them. */
static const char *const policies[2] = {
    "BOARDS=A1 FORMATS=SECUREBOOT10 RISING=ON MAX_SIZE=1000 PER_HOUR=0 "
    "PER_DAY=0 DIGEST=ON IMPORTS=ON",
    "BOARDS=B1,B2 FORMATS=MCUBOOT RISING=OFF MAX_SIZE=2000 PER_HOUR=0 "
    "PER_DAY=0 DIGEST=ON IMPORTS=OFF",
};

/* Which of the two policies the device holds: 0 or 1 (a mix fails). */
static int policy_held(int round)
{
    const char *line = cmd("AT+POLICY?");
    for (int i = 0; i < 2; i++)
        if (strncmp(line, "OK ", 3) == 0 &&
            strncmp(line + 3, policies[i], strlen(policies[i])) == 0)
            return i;
    CHECK(0, "policy round %d: neither policy: %s", round, line);
    return -1;
}

/* Logs in with the PIN pin_rounds set (after the wait a wrong one left). */
static void log_in(void)
{
    wait_pin_delay();
    CHECK(strcmp(cmd("AT+AUTH PIN=powercut-pin"), "OK") == 0, "right PIN: %s",
          resp.lines[0]);
}

/* Cuts during AT+POLICY_SET that swaps one policy for the other. Returns
 * the cuts after which the new one held. */
static int policy_rounds(double window)
{
    const char *env = getenv("THSM_POWERCUTS_POLICY");
    int rounds = env ? atoi(env) : 20, changed = 0;
    char req[256];
    log_in();
    snprintf(req, sizeof(req), "AT+POLICY_SET %s", policies[0]);
    CHECK(strcmp(cmd(req), "OK") == 0, "policy: %s", resp.lines[0]);
    for (int i = 0; i < rounds; i++) {
        int before = policy_held(i);
        snprintf(req, sizeof(req), "AT+POLICY_SET %s", policies[!before]);
        cut_during(req, window);
        start();
        log_in();
        int after = policy_held(i);
        changed += after != before;
        CHECK(strncmp(cmd(SIGN), "OK ", 3) == 0, "policy round %d: cannot "
              "sign: %s", i, resp.lines[0]);
    }
    return changed;
}

/* Streams a 1024-byte SECUREBOOT10 image of version 1.0.<n> up to
 * AT+IMG_END (not sent). */
static void stream_image(int n)
{
    uint8_t img[1024];
    char version[16], err[200], line[1024];
    memset(img, 0xFF, sizeof(img));
    snprintf(version, sizeof(version), "1.0.%d", n);
    CHECK(thsm_image_header(img, "POWERCUT", version, sizeof(img), err,
                            sizeof(err)) == 0, "header: %s", err);
    snprintf(line, sizeof(line), "AT+IMG_BEGIN FORMAT=SECUREBOOT10 SIZE=%zu",
             sizeof(img));
    CHECK(strcmp(cmd(line), "OK") == 0, "begin: %s", resp.lines[0]);
    for (int i = 0; i < 2; i++) {
        int k = snprintf(line, sizeof(line), "AT+IMG_DATA SEQ=%d DATA=", i);
        thsm_base64(img + 512 * i, 512, line + k);
        CHECK(strcmp(cmd(line), "OK") == 0, "data: %s", resp.lines[0]);
    }
}

/* Whether the device's answer before the cut was a signature. */
static int signature_arrived(void)
{
    hear();
    thsm_at_close(&at);
    return strncmp(heard, "OK ", 3) == 0;
}

/* Whether the log holds the records of image version 1.0.<n>. */
static int image_recorded(int n)
{
    char total[16], from[48], want[64];
    status_field("LOG", total, sizeof(total));
    snprintf(from, sizeof(from), "AT+LOG? FROM=%d",
             atoi(total) > 4 ? atoi(total) - 4 : 0);
    CHECK(thsm_at_cmd(&at, from, &resp) == THSM_AT_OK && resp.ok, "log");
    snprintf(want, sizeof(want), "B=POWERCUT,V=1.0.%d,S=1024", n);
    for (size_t i = 1; i + 1 < resp.nlines; i++)
        if (strstr(resp.lines[i], want) && strstr(resp.lines[i + 1], " SIGN_SB10 "))
            return 1;
    return 0;
}

/* Cuts during AT+IMG_END: a signature the host received has its records
 * (IMAGE, then SIGN_SB10) after the restart; the device signs again.
 * Returns the cuts after which the signature had arrived. */
static int image_rounds(double window)
{
    const char *env = getenv("THSM_POWERCUTS_IMAGE");
    int rounds = env ? atoi(env) : 20, arrived = 0;
    for (int i = 0; i < rounds; i++) {
        stream_image(2 * i + 1);
        cut_keep_link("AT+IMG_END", window);
        int got = signature_arrived();
        start();
        CHECK(!got || image_recorded(2 * i + 1),
              "image round %d: a signature without its records", i);
        arrived += got;
        stream_image(2 * i + 2);
        CHECK(strncmp(cmd("AT+IMG_END"), "OK ", 3) == 0,
              "image round %d: cannot sign: %s", i, resp.lines[0]);
        CHECK(image_recorded(2 * i + 2), "image round %d: no records", i);
    }
    return arrived;
}

int main(void)
{
    firmware = getenv("THSM_FIRMWARE");
    if (!firmware || access(firmware, R_OK) != 0) {
        printf("SKIP: no firmware (set THSM_FIRMWARE; run make firmware)\n");
        return 77;
    }
    const char *env = getenv("THSM_POWERCUTS");
    int rounds = env ? atoi(env) : 100, old = 0, fresh = 0, torn = 0;
    thsm_test_tmpdir(dir, sizeof(dir));
    snprintf(state, sizeof(state), "%s/state", dir);
    snprintf(flash, sizeof(flash), "%s/flash.img", state);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    atexit(stop_device);

    start();
    CHECK(strcmp(cmd("AT+HSM_CA_NEW_CERT C=US O=MyHSM CN=My_CA "
                 "START=20250101000000 DAYS=365"),
                 "OK") == 0, "CA: %s", resp.lines[0]);
    CHECK(strcmp(cmd(NEW_KEY), "OK") == 0, "signer: %s", resp.lines[0]);
    CHECK(strcmp(cmd(NEW_CERT), "OK") == 0, "cert: %s", resp.lines[0]);
    char ca[32], before[32], after[32], ca_now[32], cert[8];
    status_field("CA_KEY", ca, sizeof(ca));
    /* the median of 5 saves: the machine may be busy */
    double t[5], window;
    for (int i = 0; i < 5; i++) {
        t[i] = save_time(NEW_KEY);
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            window = t[j];
            t[j] = t[j - 1];
            t[j - 1] = window;
        }
    }
    window = t[2];
    CHECK(strcmp(cmd(NEW_CERT), "OK") == 0, "cert: %s", resp.lines[0]);
    for (int i = 0; i < rounds; i++) {
        status_field("SIGNER_KEY", before, sizeof(before));
        /* a save is an erase (32 page writes), the payload and the header */
        cut_during(NEW_KEY, window);
        torn += torn_slot();
        start();
        status_field("CA_KEY", ca_now, sizeof(ca_now));
        status_field("SIGNER_KEY", after, sizeof(after));
        status_field("SIGNER_CERT", cert, sizeof(cert));
        CHECK(strcmp(ca, ca_now) == 0, "round %d: CA key changed", i);
        CHECK(strcmp(after, "-") != 0, "round %d: signer key lost", i);
        int same = strcmp(before, after) == 0;
        CHECK(strcmp(cert, same ? "1" : "0") == 0,
              "round %d: %s key with SIGNER_CERT=%s", i, same ? "old" : "new", cert);
        if (!same)
            CHECK(strcmp(cmd(NEW_CERT), "OK") == 0, "cert: %s", resp.lines[0]);
        CHECK(strncmp(cmd(SIGN), "OK ", 3) == 0, "round %d: cannot sign: %s",
              i, resp.lines[0]);
        old += same;
        fresh += !same;
    }
    int arrived = image_rounds(window);
    int spent = pin_rounds(window);
    int changed = policy_rounds(window);
    thsm_at_close(&at);
    CHECK(thsm_test_daemon_stop(&dev) == 0, "clean stop");
    printf("%d power cuts within %.0f us of the first flash write: %d kept the "
           "old key, %d the new one; %d cut a slot mid-save\n", rounds, window,
           old, fresh, torn);
    CHECK(rounds < 20 || (torn >= rounds / 20 && old > 0 && fresh > 0),
          "too few cuts landed inside a save");
    printf("image: %d cuts during AT+IMG_END came after the signature was "
           "answered, each with its records\n", arrived);
    printf("PIN: %d cuts during a wrong-PIN login spent the try (saved before "
           "the comparison), the others left it\n", spent);
    printf("policy: %d cuts during a policy change left the new policy, the "
           "others the old one; none a mix\n", changed);
    thsm_test_rmtree(dir);
    return 0;
}
