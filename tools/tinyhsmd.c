/* tinyhsmd - a software TinyHSM on a Unix-domain socket and a pseudo-terminal. */
#include <getopt.h>
#include <grp.h>
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

static void usage(FILE *out, const char *state, const char *root_key,
                  const char *link)
{
    fprintf(out,
            "Usage: tinyhsmd [--state DIR] [--root-key FILE] [--tpm TCTI] "
            "[--link PATH]\n                [--socket PATH] [--baud N] [--allow-uid UID]...\n"
            "                [--allow-group NAME]...\n"
            "       tinyhsmd --new-root-key --root-key FILE [--tpm TCTI]\n\n"
            "A software TinyHSM: serves the TinyHSM AT protocol on the socket\n"
            "PATH.sock (one session per connection; tinyhsm uses it) and on a new\n"
            "pseudo-terminal, linked from PATH, whose path it prints as the first\n"
            "line on stdout. PATH.pid names the daemon while it runs.\n"
            "Keys are generated inside and kept encrypted in DIR.\n\n"
            "  --state DIR   state directory (now: %s)\n"
            "                default $TINYHSM_STATE, else $XDG_STATE_HOME/tinyhsm,\n"
            "                else ~/.local/state/tinyhsm\n"
            "  --root-key FILE  the device's root key, kept apart from DIR (now: %s)\n"
            "                default $CREDENTIALS_DIRECTORY/tinyhsm-root-key (systemd),\n"
            "                else $TINYHSM_ROOT_KEY, else for the default DIR\n"
            "                $XDG_CONFIG_HOME/tinyhsm/root.key (~/.config/...); else\n"
            "                DIR/device.key. A key found in DIR is moved to FILE.\n"
            "  --tpm TCTI    seal the root key to this TPM 2.0 and unseal it there\n"
            "                (device:/dev/tpmrm0, swtpm:host=127.0.0.1,port=2321)\n"
            "  --new-root-key  create FILE (a new root key) and exit\n"
            "  --link PATH   symlink to the pty (now: %s)\n"
            "                default $TINYHSM_PORT, else $XDG_RUNTIME_DIR/tinyhsm/tty,\n"
            "                else ${TMPDIR:-/tmp}/tinyhsm-<uid>/tty (a private\n"
            "                0700 directory, created and checked)\n"
            "  --socket PATH the socket (default: the link's PATH.sock); e.g. a\n"
            "                system service's /run/tinyhsm/tty.sock\n"
            "  --baud N      pace the pty like a UART at N baud (e.g. 115200)\n"
            "  --allow-uid UID  let user UID use the socket too (up to %d times)\n"
            "  --allow-group NAME  let the members of group NAME use the socket\n"
            "                too (up to %d times; each connection's uid is logged)\n"
            "SIGINT, SIGTERM or SIGHUP stop it cleanly.\n\n"
            "Example:\n  setsid -f tinyhsmd    # or: systemctl --user enable --now tinyhsmd.socket\n  tinyhsm config --new all\n",
            state, root_key, link, THSM_DAEMON_ALLOW_MAX, THSM_DAEMON_ALLOW_MAX);
}

/* The root key's place when --root-key did not say (rootkey.h). */
static const char *root_key_place(thsm_daemon_cfg *cfg, char *buf, size_t cap,
                                  int state_given)
{
    int state_default = !state_given && !getenv("TINYHSM_STATE");
    if (!cfg->root_key.path &&
        thsm_root_key_default(buf, cap, state_default,
                              &cfg->root_key.read_only) == 0)
        cfg->root_key.path = buf;
    return cfg->root_key.path ? cfg->root_key.path : "DIR/device.key";
}

/* --new-root-key: a key for a credential or a place of its own, made
 * before the first start. */
static int new_key(const thsm_root_key_opts *rk)
{
    char err[1024];
    if (!rk->path) {
        fprintf(stderr, "tinyhsmd: --new-root-key needs --root-key FILE\n");
        return 2;
    }
    if (thsm_root_key_new(rk->path, rk->tpm, err, sizeof(err)) != 0) {
        fprintf(stderr, "tinyhsmd: %s\n", err);
        return 1;
    }
    fprintf(stderr, "tinyhsmd: created a new root key %s%s\n", rk->path,
            rk->tpm ? ", sealed to the TPM" : "");
    return 0;
}

/* --allow-group NAME (or a numeric gid). */
static int add_group(thsm_daemon_cfg *cfg, const char *name)
{
    struct group *g = getgrnam(name);
    char *end;
    unsigned long gid = g ? g->gr_gid : strtoul(name, &end, 10);
    if (!g && (*end || !*name || gid > 0xfffffffeUL)) {
        fprintf(stderr, "tinyhsmd: --allow-group: no such group: %s\n", name);
        return -1;
    }
    if (cfg->n_allow_gids == THSM_DAEMON_ALLOW_MAX) {
        fprintf(stderr, "tinyhsmd: --allow-group: at most %d groups\n",
                THSM_DAEMON_ALLOW_MAX);
        return -1;
    }
    cfg->allow_gids[cfg->n_allow_gids++] = (gid_t)gid;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"state", required_argument, NULL, 's'},
        {"link", required_argument, NULL, 'l'},
        {"baud", required_argument, NULL, 'b'},
        {"allow-uid", required_argument, NULL, 'u'},
        {"allow-group", required_argument, NULL, 'g'},
        {"socket", required_argument, NULL, 'S'},
        {"root-key", required_argument, NULL, 'k'},
        {"tpm", required_argument, NULL, 't'},
        {"new-root-key", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char state[4096] = "", link[4096] = "", run_dir[4096] = "", root_key[4096];
    int is_default = 0, new_root_key = 0, state_given = 0;
    thsm_default_state_dir(state, sizeof(state));
    thsm_default_port(link, sizeof(link), &is_default);
    if (is_default)
        thsm_default_run_dir(run_dir, sizeof(run_dir));
    thsm_daemon_cfg cfg = {.state_dir = state, .link = link,
                           .run_dir = is_default ? run_dir : NULL};
    char *end;
    unsigned long uid;
    int o;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 's': cfg.state_dir = optarg; state_given = 1; break;
        case 'k': cfg.root_key.path = optarg; break;
        case 't': cfg.root_key.tpm = optarg; break;
        case 'n': new_root_key = 1; break;
        case 'l': cfg.link = optarg; cfg.run_dir = NULL; break;
        case 'S': cfg.socket = optarg; break;
        case 'g':
            if (add_group(&cfg, optarg) != 0)
                return 2;
            break;
        case 'u':
            uid = strtoul(optarg, &end, 10);
            if (*end || !*optarg || uid > 0xfffffffeUL ||
                cfg.n_allow == THSM_DAEMON_ALLOW_MAX) {
                fprintf(stderr, "tinyhsmd: --allow-uid takes a numeric uid, "
                        "at most %d times\n", THSM_DAEMON_ALLOW_MAX);
                return 2;
            }
            cfg.allow_uids[cfg.n_allow++] = (uid_t)uid;
            break;
        case 'b':
            cfg.baud = (unsigned)strtoul(optarg, &end, 10);
            if (*end || cfg.baud < 300 || cfg.baud > 4000000) {
                fprintf(stderr, "tinyhsmd: --baud takes 300 to 4000000\n");
                return 2;
            }
            break;
        case 'h': usage(stdout, state, root_key_place(&cfg, root_key, sizeof(root_key), state_given), link); return 0;
        case 'V': printf("tinyhsmd %s\n", THSM_VERSION); return 0;
        default: /* one line, not the usage (opterr is off) */
            fprintf(stderr, "tinyhsmd: unknown option or missing argument: %s "
                    "(see tinyhsmd --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc || !*cfg.state_dir || !*cfg.link) {
        fprintf(stderr, optind < argc ? "tinyhsmd: unexpected argument\n"
                        : !*cfg.state_dir ? "tinyhsmd: no state directory; use --state\n"
                                          : "tinyhsmd: no link path; use --link\n");
        return 2;
    }
    if (new_root_key) /* only where it is told: never a default place */
        return new_key(&cfg.root_key);
    root_key_place(&cfg, root_key, sizeof(root_key), state_given);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* the terminal of `tinyhsmd &` closed */
    signal(SIGPIPE, SIG_IGN);     /* a client gone mid-answer is not fatal */
    return thsm_daemon_run(&cfg, &stop);
}
