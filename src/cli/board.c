/* board.c - board names, and choosing the attached board when no port is
 * given. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "host/usb_boards.h"

#define MAX_BOARDS 16

int cli_find_board(cli_ctx *c, char *port, size_t cap)
{
    char found[MAX_BOARDS][THSM_PORT_NAME_MAX];
    const char *root = getenv("TINYHSM_SYSFS_ROOT");
    int n = thsm_find_stlink_ports(root && *root ? root : "/sys", found,
                                   MAX_BOARDS);
    if (n == 0)
        return 0;
    if (n == 1) {
        snprintf(port, cap, "%s", found[0]);
        fprintf(stderr, "tinyhsm: no tinyhsmd running; using the board's "
                        "ST-LINK port %s\n", port);
        return 1;
    }
    cli_error(c, "no tinyhsmd running, and %d ST-LINK boards are attached:", n);
    for (int i = 0; i < n && i < MAX_BOARDS; i++)
        fprintf(stderr, "  %s\n", found[i]);
    fprintf(stderr, "Choose one with -p, e.g.: tinyhsm -p %s info\n",
            found[0]);
    return -1;
}

const thsm_board_info *cli_board_lookup(const char *name)
{
    const thsm_board_info *b = thsm_board_find_nocase(name);
    if (b && strcmp(b->name, name) != 0)
        fprintf(stderr, "tinyhsm: board '%s' is %s (the image names it so: "
                        "the bootloader compares it exactly)\n", name, b->name);
    return b;
}

const char *cli_board_guess(const char *name)
{
    char upper[32];
    size_t n = strlen(name), count;
    if (n >= sizeof(upper))
        return NULL;
    for (size_t i = 0; i <= n; i++)
        upper[i] = (char)toupper((unsigned char)name[i]);
    const thsm_board_info *b = thsm_boards(&count);
    for (size_t i = 0; i < count; i++)
        if (cli_close_to(upper, b[i].name))
            return b[i].name;
    return NULL;
}
