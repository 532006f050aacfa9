/* board.c - choosing the attached board when no port is given. */
#include <stdio.h>
#include <stdlib.h>

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
