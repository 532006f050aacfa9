/* tinyhsmd - a software TinyHSM on a pseudo-terminal. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "device/device.h"
#include "host/defaults.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *out, const char *state, const char *link)
{
    fprintf(out,
            "Usage: tinyhsmd [--state DIR] [--link PATH] [--baud N]\n\n"
            "A software TinyHSM: serves the TinyHSM AT protocol on a new\n"
            "pseudo-terminal, whose path it prints as the first line on stdout.\n"
            "Keys are generated inside and kept encrypted in DIR.\n\n"
            "  --state DIR   state directory (now: %s)\n"
            "                default $TINYHSM_STATE, else $XDG_STATE_HOME/tinyhsm,\n"
            "                else ~/.local/state/tinyhsm\n"
            "  --link PATH   symlink to the pty (now: %s)\n"
            "                default $TINYHSM_PORT, else $XDG_RUNTIME_DIR/tinyhsm,\n"
            "                else /tmp/tinyhsm-<uid>\n"
            "  --baud N      pace the line like a UART at N baud (e.g. 115200)\n"
            "SIGINT or SIGTERM stop it cleanly.\n\n"
            "Example:\n  tinyhsmd &\n  tinyhsm config --new all\n",
            state, link);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},
        {"link", required_argument, NULL, 'l'},
        {"baud", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char state[4096] = "", link[4096] = "";
    thsm_default_state_dir(state, sizeof(state));
    thsm_default_port(link, sizeof(link));
    thsm_daemon_cfg cfg = {state, link, 0};
    char *end;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 's': cfg.state_dir = optarg; break;
        case 'l': cfg.link = optarg; break;
        case 'b':
            cfg.baud = (unsigned)strtoul(optarg, &end, 10);
            if (*end || cfg.baud < 300 || cfg.baud > 4000000) {
                fprintf(stderr, "tinyhsmd: --baud takes 300 to 4000000\n");
                return 2;
            }
            break;
        case 'h': usage(stdout, state, link); return 0;
        case 'V': printf("tinyhsmd %s\n", THSM_VERSION); return 0;
        default: usage(stderr, state, link); return 2;
        }
    }
    if (optind < argc || !*cfg.state_dir) {
        fprintf(stderr, optind < argc ? "tinyhsmd: unexpected argument\n"
                                      : "tinyhsmd: no state directory; use --state\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return thsm_daemon_run(&cfg, &stop);
}
