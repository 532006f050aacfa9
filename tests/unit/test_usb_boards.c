/*
 * Finding the board's ST-LINK serial port in a fake sysfs tree laid out as
 * Linux lays it out: class/tty/NAME -> devices/.../INTERFACE/tty/NAME, whose
 * "device" link is the USB interface; the USB device above it has idVendor
 * and idProduct.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/usb_boards.h"
#include "testutil.h"

/* snprintf that fails the test instead of truncating a path. */
#define FMT(buf, ...) \
    assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

static void mkdirs(const char *path)
{
    char p[1024];
    FMT(p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[1024];
    FMT(path, "%s/%s", dir, name);
    thsm_test_write_file(path, text, strlen(text));
}

/* A USB ACM tty NAME on bus port BUSPORT with the given ids (NULL: a tty
 * whose device has no USB ids, like a platform UART). */
static void add_tty(const char *root, const char *busport, const char *name,
                    const char *vendor, const char *product)
{
    char usbdev[1024], tty[1200], link[1200], target[1200];
    FMT(usbdev, "%s/devices/pci0000:00/usb1/%s", root,
             busport);
    FMT(tty, "%s/%s:1.1/tty/%s", usbdev, busport, name);
    mkdirs(tty);
    if (vendor) {
        put(usbdev, "idVendor", vendor);
        put(usbdev, "idProduct", product);
    }
    FMT(link, "%s/device", tty);
    FMT(target, "../../../%s:1.1", busport);
    assert_int_equal(symlink(target, link), 0);
    FMT(link, "%s/class/tty", root);
    mkdirs(link);
    FMT(link, "%s/class/tty/%s", root, name);
    snprintf(target, sizeof(target),
             "../../devices/pci0000:00/usb1/%s/%s:1.1/tty/%s", busport,
             busport, name);
    assert_int_equal(symlink(target, link), 0);
}

static int setup(void **state)
{
    static char root[512];
    thsm_test_tmpdir(root, sizeof(root));
    *state = root;
    return 0;
}

static int teardown(void **state)
{
    thsm_test_rmtree(*state);
    return 0;
}

static void test_one_board_among_other_ttys(void **state)
{
    const char *root = *state;
    char ports[4][THSM_PORT_NAME_MAX];
    add_tty(root, "1-1", "ttyACM0", "2341\n", "0043\n"); /* an Arduino */
    add_tty(root, "1-2", "ttyACM1", "0483\n", "374e\n"); /* STLINK-V3 */
    add_tty(root, "1-3", "ttyACM2", "0483\n", "5740\n"); /* STM32 VCP */
    add_tty(root, "1-4", "ttyS0", NULL, NULL);           /* no USB ids */
    add_tty(root, "1-5", "ttyUSB0", "0483\n", "3752\n"); /* not 374x */
    assert_int_equal(thsm_find_stlink_ports(root, ports, 4), 1);
    assert_string_equal(ports[0], "/dev/ttyACM1");
}

static void test_several_boards_in_name_order(void **state)
{
    const char *root = *state;
    char ports[4][THSM_PORT_NAME_MAX];
    add_tty(root, "1-1", "ttyACM10", "0483\n", "374B\n"); /* V2-1, capitals */
    add_tty(root, "1-2", "ttyACM2", "0483\n", "374f\n");
    add_tty(root, "1-3", "ttyACM3", "0483", "3748");      /* no newline */
    assert_int_equal(thsm_find_stlink_ports(root, ports, 4), 3);
    assert_string_equal(ports[0], "/dev/ttyACM2");
    assert_string_equal(ports[1], "/dev/ttyACM3");
    assert_string_equal(ports[2], "/dev/ttyACM10");
}

static void test_more_than_max_are_counted(void **state)
{
    const char *root = *state;
    char ports[2][THSM_PORT_NAME_MAX];
    add_tty(root, "1-1", "ttyACM0", "0483\n", "374e\n");
    add_tty(root, "1-2", "ttyACM1", "0483\n", "374e\n");
    add_tty(root, "1-3", "ttyACM2", "0483\n", "374e\n");
    assert_int_equal(thsm_find_stlink_ports(root, ports, 2), 3);
    assert_true(strncmp(ports[0], "/dev/ttyACM", 11) == 0);
    assert_true(strncmp(ports[1], "/dev/ttyACM", 11) == 0);
    assert_string_not_equal(ports[0], ports[1]);
}

static void test_no_sysfs_or_bad_ids(void **state)
{
    const char *root = *state;
    char ports[2][THSM_PORT_NAME_MAX], missing[600];
    FMT(missing, "%s/nothing", root);
    assert_int_equal(thsm_find_stlink_ports(missing, ports, 2), 0);
    add_tty(root, "1-1", "ttyACM0", "0483\n", "374\n");   /* too short */
    add_tty(root, "1-2", "ttyACM1", "0483\n", "374g\n");  /* not hex */
    add_tty(root, "1-3", "ttyACM2", "10483\n", "374e\n"); /* other vendor */
    add_tty(root, "1-4", "ttyACM3", "0483\n", "3740x\n"); /* too long */
    assert_int_equal(thsm_find_stlink_ports(root, ports, 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_board_among_other_ttys,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_several_boards_in_name_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_more_than_max_are_counted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_sysfs_or_bad_ids, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
