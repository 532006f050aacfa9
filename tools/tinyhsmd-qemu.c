/*
 * tinyhsmd-qemu - the TinyHSM firmware in QEMU (mps2-an505), served on a
 * pseudo-terminal exactly as tinyhsmd serves the software device (see
 * src/daemon/relay.h).
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/relay.h"
#include "device/device.h"
#include "host/defaults.h"
#include "port/qemu/layout.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *out, const thsm_relay_cfg *o)
{
    fprintf(out,
            "Usage: tinyhsmd-qemu [--state DIR] [--link PATH] [--firmware ELF]\n"
            "                     [--qemu PROGRAM] [--flash-size BYTES] [--icount]\n"
            "                     [--idle-logout SECONDS] [--root-key FILE]\n\n"
            "Runs the TinyHSM firmware in QEMU (mps2-an505, Cortex-M33) and\n"
            "serves it on a new pseudo-terminal, whose path it prints as the\n"
            "first line on stdout, exactly as tinyhsmd does.\n\n"
            "  --state DIR        the device's flash image, key and seed (now: %s)\n"
            "                     default tinyhsmd's ($TINYHSM_STATE, ...) with\n"
            "                     -qemu appended; never a directory of tinyhsmd's\n"
            "  --link PATH        symlink to the pty (now: %s)\n"
            "                     default $TINYHSM_PORT, else tinyhsmd's default\n"
            "  --firmware ELF     now: %s\n"
            "  --qemu PROGRAM     now: %s\n"
            "  --flash-size BYTES size of a new flash image (default %u; at least\n"
            "                     3 sectors of %u bytes); the log takes all but 2\n"
            "  --icount           one instruction per virtual nanosecond (bench)\n"
            "  --idle-logout SECONDS  end a login after this long without a\n"
            "                     request, as the board does (1 to 86400;\n"
            "                     default: the firmware's build setting)\n"
            "  --root-key FILE    keep the root key (32 bytes) in FILE, DIR/huk.bin\n"
            "                     a link to it; a huk.bin file in DIR is moved there\n"
            "SIGINT, SIGTERM or SIGHUP stop it cleanly.\n",
            o->state, o->link, o->firmware, o->qemu, FLASH_DEFAULT_SIZE, FLASH_SECTOR);
}

/* The firmware of a build tree (<bin>/../fw) or of an installation
 * (<bin>/../share/tinyhsm); the first that exists, else the first. */
static void default_firmware(char *buf, size_t cap)
{
    static const char *const where[] = {"fw", "share/tinyhsm"};
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    for (int i = 1; i >= 0; i--) {
        snprintf(buf, cap, "%s/../%s/tinyhsm-fw.elf", self, where[i]);
        if (i == 0 || access(buf, R_OK) == 0)
            return;
    }
}

static int parse(int argc, char **argv, thsm_relay_cfg *o)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},
        {"link", required_argument, NULL, 'l'},
        {"firmware", required_argument, NULL, 'f'},
        {"qemu", required_argument, NULL, 'q'},
        {"flash-size", required_argument, NULL, 'z'},
        {"icount", no_argument, NULL, 'i'},
        {"idle-logout", required_argument, NULL, 't'},
        {"root-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': o->state = optarg; break;
        case 'l': o->link = optarg; o->run_dir = NULL; break;
        case 'f': o->firmware = optarg; break;
        case 'q': o->qemu = optarg; break;
        case 'i': o->icount = 1; break;
        case 'k': o->root_key = optarg; break;
        case 't':
            o->idle_logout = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o->idle_logout < 1 || o->idle_logout > 86400) {
                fprintf(stderr, "tinyhsmd-qemu: --idle-logout takes 1 to "
                        "86400 seconds\n");
                return 2;
            }
            break;
        case 'z':
            o->flash_size = strtol(optarg, &end, 10);
            if (*end || o->flash_size < 3 * FLASH_SECTOR ||
                o->flash_size > (64L << 20) || o->flash_size % FLASH_SECTOR) {
                fprintf(stderr, "tinyhsmd-qemu: --flash-size takes a multiple "
                        "of %u from %u to 64 MiB\n", FLASH_SECTOR, 3 * FLASH_SECTOR);
                return 2;
            }
            break;
        case 'h': usage(stdout, o); return 0;
        case 'V': printf("tinyhsmd-qemu %s\n", THSM_VERSION); return 0;
        default: usage(stderr, o); return 2;
        }
    }
    if (optind < argc || !*o->state || !*o->link) {
        fprintf(stderr, optind < argc ? "tinyhsmd-qemu: unexpected argument\n"
                        : !*o->state ? "tinyhsmd-qemu: no state directory; use --state\n"
                                     : "tinyhsmd-qemu: no link path; use --link\n");
        return 2;
    }
    if (access(o->firmware, R_OK) != 0) {
        fprintf(stderr, "tinyhsmd-qemu: no firmware at %s; run `make firmware`\n",
                o->firmware);
        return 1;
    }
    return -1;
}

int main(int argc, char **argv)
{
    static char state[4096], link[4096], firmware[PATH_MAX + 32];
    static char run_dir[4096];
    /* never tinyhsmd's directory: the two devices keep different files */
    if (thsm_default_state_dir(state, sizeof(state)) == 0)
        strncat(state, "-qemu", sizeof(state) - strlen(state) - 1);
    int is_default;
    thsm_default_port(link, sizeof(link), &is_default);
    if (is_default)
        thsm_default_run_dir(run_dir, sizeof(run_dir));
    default_firmware(firmware, sizeof(firmware));
    thsm_relay_cfg o = {state, link, firmware, "qemu-system-arm",
                        is_default ? run_dir : NULL, FLASH_DEFAULT_SIZE, 0, 0, NULL};
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* the terminal closed: leave nothing behind */
    signal(SIGPIPE, SIG_IGN);
    return thsm_relay_run(&o, &stop);
}
