/* usb_boards_win32.c - ST-LINK COM ports through SetupAPI (usb_boards.h):
 * present devices of the Ports class whose hardware id is USB VID 0483,
 * PID 374x; the port name is the device key's PortName. sysfs_root is a
 * Linux test hook and means nothing here. */
#include "host/usb_boards.h"
#include "host/win32.h"

#include <devguid.h>
#include <setupapi.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

/* "USB\VID_0483&PID_374B&REV_0100" and the like. */
static int is_stlink(const wchar_t *hwid)
{
    wchar_t up[64];
    size_t i = 0;
    for (; hwid[i] && i < 63; i++)
        up[i] = (wchar_t)towupper(hwid[i]);
    up[i] = 0;
    return wcsncmp(up, L"USB\\VID_0483&PID_374", 20) == 0 &&
           iswxdigit(up[20]);
}

static int port_name(HDEVINFO set, SP_DEVINFO_DATA *dev, char *out, size_t cap)
{
    wchar_t name[THSM_PORT_NAME_MAX];
    DWORD size = sizeof(name) - sizeof(wchar_t), type = 0;
    HKEY key = SetupDiOpenDevRegKey(set, dev, DICS_FLAG_GLOBAL, 0, DIREG_DEV,
                                    KEY_READ);
    if (key == INVALID_HANDLE_VALUE)
        return -1;
    LONG rc = RegQueryValueExW(key, L"PortName", NULL, &type, (BYTE *)name,
                               &size);
    RegCloseKey(key);
    if (rc != ERROR_SUCCESS || type != REG_SZ)
        return -1;
    name[size / sizeof(wchar_t)] = 0;
    return thsm_w_to_utf8(name, out, cap);
}

/* COM2 before COM10. */
static int by_number(const void *a, const void *b)
{
    long na = strtol((const char *)a + 3, NULL, 10);
    long nb = strtol((const char *)b + 3, NULL, 10);
    return na != nb ? (na < nb ? -1 : 1) : strcmp(a, b);
}

int thsm_find_stlink_ports(const char *sysfs_root,
                           char ports[][THSM_PORT_NAME_MAX], int max)
{
    (void)sysfs_root;
    HDEVINFO set = SetupDiGetClassDevsW(&GUID_DEVCLASS_PORTS, NULL, NULL,
                                        DIGCF_PRESENT);
    if (set == INVALID_HANDLE_VALUE)
        return 0;
    int found = 0;
    SP_DEVINFO_DATA dev = {.cbSize = sizeof(dev)};
    for (DWORD i = 0; SetupDiEnumDeviceInfo(set, i, &dev); i++) {
        wchar_t hwid[512] = {0}; /* a list of strings; the first is enough */
        char name[THSM_PORT_NAME_MAX];
        if (!SetupDiGetDeviceRegistryPropertyW(set, &dev, SPDRP_HARDWAREID,
                                               NULL, (BYTE *)hwid,
                                               sizeof(hwid) - 2 * sizeof(wchar_t),
                                               NULL) ||
            !is_stlink(hwid) || port_name(set, &dev, name, sizeof(name)) != 0)
            continue;
        if (found < max)
            memcpy(ports[found], name, sizeof(name));
        found++;
    }
    SetupDiDestroyDeviceInfoList(set);
    qsort(ports, (size_t)(found < max ? found : max), THSM_PORT_NAME_MAX,
          by_number);
    return found;
}
