/*
 * Outputs against a local user who races them (issue 16, finding 1): the
 * user owns a directory above the output and swaps the output directory
 * for a symlink to another directory after tinyhsm checked it: when
 * tinyhsm opens the firmware (an inotify watch, as the attacker would).
 * The files must land in the directory checked, or the command must fail;
 * never elsewhere. As root the swap is made by nobody, who owns the
 * directory above.
 */
#define _GNU_SOURCE /* setresuid */
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#define NOBODY 65534
/* A large firmware: its reading is the window between the checks and
 * the first file created, which the old code lost to the swap. */
#define FW_SIZE (24 << 20)

typedef struct {
    char dir[256], state[300], base[300], out[300], moved[300],
        other[300];
    thsm_test_daemon d;
    pid_t watcher;
} rig;

static char text[65536];

/* base/out becomes out.moved, and base/out a symlink to other: done by
 * nobody as root (base is nobody's then), else by us. */
static void swap_dir(const rig *g)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (geteuid() == 0 && (setgroups(0, NULL) != 0 ||
                               setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
                               setresuid(NOBODY, NOBODY, NOBODY) != 0))
            _exit(1);
        _exit(rename(g->out, g->moved) == 0 && symlink(g->other, g->out) == 0
                  ? 0 : 1);
    }
    int st = 1;
    waitpid(pid, &st, 0);
    if (st != 0)
        _exit(2);
}

/* A watcher that swaps when fw.bin is opened: tinyhsm opens the firmware
 * after it checked the outputs and before it creates anything. */
static void watcher_start(rig *g)
{
    char fw[400];
    snprintf(fw, sizeof(fw), "%s/fw.bin", g->dir);
    int in = inotify_init1(IN_CLOEXEC);
    assert_true(in >= 0);
    assert_true(inotify_add_watch(in, fw, IN_OPEN) >= 0);
    g->watcher = fork();
    assert_true(g->watcher >= 0);
    if (g->watcher == 0) {
        char ev[sizeof(struct inotify_event) + NAME_MAX + 1];
        if (read(in, ev, sizeof(ev)) <= 0)
            _exit(1);
        swap_dir(g);
        _exit(0);
    }
    close(in);
}

static int setup(void **state)
{
    rig *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    thsm_test_tmpdir(g->dir, sizeof(g->dir));
    snprintf(g->state, sizeof(g->state), "%s/state", g->dir);
    snprintf(g->base, sizeof(g->base), "%s/base", g->dir);
    snprintf(g->out, sizeof(g->out), "%s/base/out", g->dir);
    snprintf(g->moved, sizeof(g->moved), "%s/base/out.moved", g->dir);
    snprintf(g->other, sizeof(g->other), "%s/other", g->dir);
    assert_int_equal(thsm_test_daemon_start(&g->d, g->state, NULL), 0);
    assert_int_equal(thsm_test_run(text, sizeof(text),
                                   "%s -p %s config --new all --yes",
                                   thsm_test_bin("tinyhsm"), g->d.link), 0);
    assert_int_equal(thsm_test_run(text, sizeof(text),
                                   "cd %s && head -c %d /dev/urandom >fw.bin"
                                   " && openssl ecparam -name prime256v1 "
                                   "-genkey -noout 2>/dev/null | openssl ec "
                                   "-pubout >other.pem 2>/dev/null",
                                   g->dir, FW_SIZE), 0);
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    rig *g = *state;
    thsm_test_daemon_stop(&g->d);
    thsm_test_rmtree(g->dir);
    free(g);
    return 0;
}

/* Fresh base/out and other; base is nobody's as root. */
static void fresh_dirs(const rig *g)
{
    assert_int_equal(thsm_test_run(text, sizeof(text),
                                   "rm -rf %s %s && mkdir -m 755 %s %s %s",
                                   g->base, g->other, g->base, g->out,
                                   g->other), 0);
    if (geteuid() == 0) {
        assert_int_equal(chmod(g->dir, 0755), 0);
        assert_int_equal(chown(g->base, NOBODY, NOBODY), 0);
    }
}

/* tinyhsm sign -o base/out/, the directory swapped when the firmware is
 * opened; its exit status. */
static int sign_racing(rig *g)
{
    int st = 1;
    watcher_start(g);
    int rc = thsm_test_run(text, sizeof(text),
                           "cd %s && TINYHSM_NO_PIN_WARNING=1 timeout 60 %s -p "
                           "%s sign --board TEST --max-size %d --version 1.0.0 "
                           "-o base/out/ fw.bin </dev/null", g->dir,
                           thsm_test_bin("tinyhsm"), g->d.link, FW_SIZE + 1024);
    waitpid(g->watcher, &st, 0);
    if (st != 0)
        fail_msg("the directory was not swapped: %s", text);
    return rc;
}

/* The names in dir other than the ones listed (NULL-terminated). */
static int others_in(const char *dir, const char *const *keep)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        int known = e->d_name[0] == '.' && (!e->d_name[1] ||
                                            strcmp(e->d_name, "..") == 0);
        for (const char *const *k = keep; *k && !known; k++)
            known = strcmp(e->d_name, *k) == 0;
        n += !known;
    }
    closedir(d);
    return n;
}

static const char *const none[] = {NULL};
static const char *const three[] = {"signed_binary.bin",
                                    "stsafe_signer_cert.pem", "SigGen.c",
                                    NULL};
static const char *const siggen[] = {"SigGen.c", NULL};

/* A SigGen.c of another key in dir. */
static void plant_siggen(const rig *g, const char *dir)
{
    assert_int_equal(thsm_test_run(text, sizeof(text),
                                   "h=$(openssl pkey -pubin -in %s/other.pem "
                                   "-outform DER | tail -c 64 | od -An -v -tx1 "
                                   "| tr -d ' \\n' | sed 's/../0x&,/g') && "
                                   "printf 'const uint8_t SigGen_Qx[SigGen_Qx_"
                                   "len] = {%%s};\\nconst uint8_t SigGen_Qy["
                                   "SigGen_Qy_len] = {%%s};\\n' \"$(echo $h | "
                                   "cut -c1-160 | sed 's/,$//')\" \"$(echo $h "
                                   "| cut -c161-320 | sed 's/,$//')\" "
                                   ">%s/SigGen.c && cp %s/SigGen.c %s/keep.c",
                                   g->dir, dir, dir, g->dir), 0);
}

static void same_file(const char *a, const char *b)
{
    if (thsm_test_run(text, sizeof(text), "cmp %s %s", a, b) != 0)
        fail_msg("%s was replaced: %s", a, text);
}

/* The swap after the checks: the outputs land in the directory checked
 * (now out.moved), and the other directory's SigGen.c, which holds another
 * key, is untouched. */
static void test_swapped_dir_gets_nothing(void **state)
{
    rig *g = *state;
    char path[400], keep[400];
    fresh_dirs(g);
    plant_siggen(g, g->other);
    int rc = sign_racing(g);
    snprintf(path, sizeof(path), "%s/SigGen.c", g->other);
    snprintf(keep, sizeof(keep), "%s/keep.c", g->dir);
    same_file(path, keep);
    assert_int_equal(others_in(g->other, siggen), 0);
    /* refusing is allowed: then nothing anywhere */
    assert_int_equal(others_in(g->moved, none), rc == 0 ? 3 : 0);
    assert_int_equal(others_in(g->moved, three), 0);
}

/* The key check reads the file replaced: SigGen.c of another key in the
 * directory checked is refused, though the swapped-in directory has none. */
static void test_key_check_reads_the_file_replaced(void **state)
{
    rig *g = *state;
    char path[400], keep[400];
    fresh_dirs(g);
    plant_siggen(g, g->out);
    int rc = sign_racing(g);
    assert_int_equal(rc, 1);
    if (!strstr(text, "holds key"))
        fail_msg("no refusal for the other key: %s", text);
    snprintf(path, sizeof(path), "%s/SigGen.c", g->moved);
    snprintf(keep, sizeof(keep), "%s/keep.c", g->dir);
    same_file(path, keep);
    assert_int_equal(others_in(g->moved, siggen), 0);
    assert_int_equal(others_in(g->other, none), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swapped_dir_gets_nothing),
        cmocka_unit_test(test_key_check_reads_the_file_replaced),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
