/* plat_posix.c - host/plat.h on Linux. */
#include "host/plat.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

void thsm_plat_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* a pipe reader gone (sign -o - | head) is an error the outputs report */
    signal(SIGPIPE, SIG_IGN);
}

bool thsm_plat_stat_changed(const struct stat *a, const struct stat *b)
{
    return a->st_size != b->st_size || a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
           a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* Reads a line from the quiet terminal fd, byte by byte: the terminal
 * sends no signals meanwhile (ISIG off), so the interrupt key arrives as a
 * byte and ends the prompt here, after the caller restores the echo. 1: a
 * line; 0: end of input; -1: interrupted. */
static int read_quiet_line(int fd, const struct termios *t, char *out,
                           size_t cap)
{
    size_t n = 0;
    unsigned char ch;
    for (;;) {
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || ch == t->c_cc[VEOF])
            return n > 0;
        if (ch == t->c_cc[VINTR] || ch == t->c_cc[VQUIT])
            return -1;
        if (ch == '\n' || ch == '\r')
            return 1;
        if (ch == t->c_cc[VERASE] || ch == 0x7f || ch == '\b')
            n -= n > 0;
        else if (n + 1 < cap)
            out[n++] = (char)ch;
        out[n] = '\0';
    }
}

int thsm_plat_prompt_secret(const char *prompt, char *out, size_t cap)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios old, quiet;
    if (fd < 0 || !isatty(STDIN_FILENO) || tcgetattr(fd, &old) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ICANON | ISIG);
    quiet.c_cc[VMIN] = 1;
    quiet.c_cc[VTIME] = 0;
    out[0] = '\0';
    /* echo off before the prompt: keys typed once it shows are not echoed
     * (nor dropped by the flush) however late the switch would come */
    tcsetattr(fd, TCSAFLUSH, &quiet);
    (void)!write(fd, prompt, strlen(prompt));
    int got = read_quiet_line(fd, &old, out, cap);
    tcsetattr(fd, TCSAFLUSH, &old);
    (void)!write(fd, "\n", 1);
    close(fd);
    if (got < 0) { /* the echo is back: now stop as the key asked */
        explicit_bzero(out, cap);
        raise(SIGINT);
    }
    return got > 0 ? 0 : -1;
}

bool thsm_plat_file_shared(FILE *f, const char *path, char *why, size_t cap)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        !(st.st_mode & 077))
        return false;
    snprintf(why, cap, "can be read or written by other users (mode %04o); "
             "make it private: chmod 600 %s",
             (unsigned)(st.st_mode & 07777), path);
    return true;
}

const uint8_t *thsm_plat_map_file(const char *path, size_t *len, char *why,
                                  size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    void *p = MAP_FAILED;
    if (fd < 0 || fstat(fd, &st) != 0)
        snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        snprintf(why, cap, "%s is a directory, not an image", path);
    else if (!S_ISREG(st.st_mode))
        snprintf(why, cap, "%s is not a regular file", path);
    else if (st.st_size == 0)
        snprintf(why, cap, "%s is empty", path);
    else if ((p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
                       0)) == MAP_FAILED)
        snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
    else
        *len = (size_t)st.st_size;
    if (fd >= 0)
        close(fd);
    return p == MAP_FAILED ? NULL : p;
}

void thsm_plat_unmap(const uint8_t *p, size_t len)
{
    munmap((void *)p, len);
}

const char *thsm_plat_no_device_hint(void)
{
    return "is tinyhsmd running? Start it (tinyhsmd, or systemctl --user "
           "start tinyhsmd.socket), or give the board's port with --port or "
           "TINYHSM_PORT";
}
