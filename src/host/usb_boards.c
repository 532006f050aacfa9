/* usb_boards.c - ST-LINK serial ports from sysfs (see usb_boards.h). */
#include "host/usb_boards.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* First line of a small sysfs attribute, without its newline. */
static int read_attr(const char *dir, const char *name, char *out, size_t cap)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -1;
    FILE *f = fopen(path, "r");
    int ok = f && fgets(out, (int)cap, f) != NULL;
    if (f)
        fclose(f);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok ? 0 : -1;
}

/* class/tty/NAME/device is the USB interface; its parent directory is the
 * USB device, which has idVendor and idProduct. */
static int is_stlink(const char *sysfs_root, const char *tty)
{
    char link[PATH_MAX], iface[PATH_MAX], vendor[16], product[16];
    snprintf(link, sizeof(link), "%s/class/tty/%s/device", sysfs_root, tty);
    if (!realpath(link, iface))
        return 0;
    char *slash = strrchr(iface, '/');
    if (!slash || slash == iface)
        return 0;
    *slash = '\0';
    if (read_attr(iface, "idVendor", vendor, sizeof(vendor)) != 0 ||
        read_attr(iface, "idProduct", product, sizeof(product)) != 0)
        return 0;
    return strcasecmp(vendor, "0483") == 0 && strlen(product) == 4 &&
           strncmp(product, "374", 3) == 0 &&
           strchr("0123456789abcdefABCDEF", product[3]);
}

/* Shorter names first, so that ttyACM2 comes before ttyACM10. */
static int by_name(const void *a, const void *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

int thsm_find_stlink_ports(const char *sysfs_root,
                           char ports[][THSM_PORT_NAME_MAX], int max)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/class/tty", sysfs_root);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' ||
            strlen(e->d_name) + 6 > THSM_PORT_NAME_MAX ||
            !is_stlink(sysfs_root, e->d_name))
            continue;
        if (found < max) { /* the length was checked above */
            memcpy(ports[found], "/dev/", 5);
            memcpy(ports[found] + 5, e->d_name, strlen(e->d_name) + 1);
        }
        found++;
    }
    closedir(d);
    qsort(ports, (size_t)(found < max ? found : max), THSM_PORT_NAME_MAX,
          by_name);
    return found;
}
