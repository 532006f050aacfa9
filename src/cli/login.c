/* login.c - PIN entry and logging in to the device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

/* First line of a file, without its newline. */
static int read_pin_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    int ok = f && fgets(out, (int)cap, f) != NULL;
    if (f)
        fclose(f);
    if (!ok) {
        cli_error("cannot read a PIN from %s", path);
        return -1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* Asks on the terminal without echo. */
int cli_prompt_pin(const char *prompt, char *out, size_t cap)
{
    FILE *tty = fopen("/dev/tty", "r+");
    struct termios old, quiet;
    if (!tty || !isatty(STDIN_FILENO) || tcgetattr(fileno(tty), &old) != 0) {
        if (tty)
            fclose(tty);
        cli_error("a PIN is needed: use --pin-file FILE, TINYHSM_PIN or a "
                  "terminal");
        return -1;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fputs(prompt, tty);
    fflush(tty);
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    int ok = fgets(out, (int)cap, tty) != NULL;
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    out[ok ? strcspn(out, "\r\n") : 0] = '\0';
    return ok ? 0 : -1;
}

int cli_get_secret(const char *file, const char *env, const char *prompt,
                      char *out, size_t cap)
{
    if (file)
        return read_pin_file(file, out, cap);
    if (getenv(env) && *getenv(env)) {
        snprintf(out, cap, "%s", getenv(env));
        return 0;
    }
    return cli_prompt_pin(prompt, out, cap);
}

int cli_login(cli_ctx *c, int blocked_ok)
{
    static thsm_at_resp r;
    char pin[128];
    if (thsm_at_cmd(&c->at, "AT+HSM_STATUS?", &r) != THSM_AT_OK) {
        cli_error("no answer from the device");
        return -1;
    }
    if (!r.ok || strstr(r.text, "AUTH=1"))
        return 0; /* the original board has no PIN; or logged in already */
    if (strstr(r.text, "PIN=NONE")) {
        cli_error("warning: no PIN is set, so anyone who can open the port "
                  "can sign; set one with: tinyhsm pin set");
        return 0;
    }
    if (strstr(r.text, "PIN=BLOCKED") && blocked_ok)
        return 0;
    if (strstr(r.text, "PIN=BLOCKED")) {
        cli_error("the PIN is blocked; only 'tinyhsm decommission --yes' "
                  "(which erases every key) recovers the device");
        return -1;
    }
    if (cli_get_secret(c->pin_file, "TINYHSM_PIN", "TinyHSM PIN: ", pin,
                   sizeof(pin)) != 0)
        return -1;
    int rc = thsm_at_cmdf(&c->at, &r, "AT+AUTH PIN=%s", pin);
    explicit_bzero(pin, sizeof(pin));
    if (rc != THSM_AT_OK || !r.ok) {
        cli_error("login failed: %s", rc == THSM_AT_OK && r.nlines
                                          ? r.lines[0] : thsm_at_strerror(rc));
        return -1;
    }
    return 0;
}

