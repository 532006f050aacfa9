/* Host image pieces: DER to raw signatures, SigGen.c, version files, output. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/p256.h"
#include "host/image.h"
#include "host/output.h"
#include "host/siggen.h"
#include "testutil.h"

static void test_der_to_raw_keeps_leading_zeros(void **state)
{
    (void)state;
    /* r = 0x00..00 01 02 (30 zero bytes dropped in DER), s needs a 0x00 pad */
    static const uint8_t der[] = {
        0x30, 0x27, 0x02, 0x02, 0x01, 0x02, 0x02, 0x21, 0x00, 0x80, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x22};
    uint8_t raw[64], want[64] = {0};
    want[30] = 0x01;
    want[31] = 0x02;
    want[32] = 0x80;
    memset(want + 33, 0x11, 30);
    want[63] = 0x22;
    assert_int_equal(thsm_p256_sig_der_to_raw(der, sizeof(der), raw), 0);
    assert_memory_equal(raw, want, 64);
    uint8_t longer[sizeof(der) + 1];
    memcpy(longer, der, sizeof(der));
    longer[sizeof(der)] = 0; /* trailing byte */
    assert_int_not_equal(thsm_p256_sig_der_to_raw(longer, sizeof(longer), raw), 0);
    uint8_t padded[] = {0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01};
    assert_int_not_equal(thsm_p256_sig_der_to_raw(padded, sizeof(padded), raw), 0);
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_siggen_leading_zeros(void **state)
{
    (void)state;
    uint8_t pub[65], back[65];
    char text[THSM_SIGGEN_MAX], err[200];
    for (int i = 0; i < 65; i++)
        pub[i] = (uint8_t)(0xA0 + i);
    pub[0] = 0x04;
    pub[1] = 0x00; /* Qx starts 00 01: the reference script loses both */
    pub[2] = 0x01;
    pub[33] = 0x0f; /* Qy starts 0f: the reference script pairs from the end */
    size_t n = thsm_siggen_format(pub, text, sizeof(text));
    assert_true(n > 0 && n < sizeof(text));
    assert_non_null(strstr(text, "#define SigGen_Qx_len  32\n"));
    assert_non_null(strstr(text, "#define SigGen_Qy_len  32\n"));
    assert_non_null(strstr(text, "SigGen_Qx[SigGen_Qx_len] = {0x00, 0x01, "));
    assert_non_null(strstr(text, "SigGen_Qy[SigGen_Qy_len] = {0x0f, "));
    assert_int_equal(count(text, "0x"), 64);
    assert_int_equal(thsm_siggen_parse(text, back, err, sizeof(err)), 0);
    assert_memory_equal(back, pub, 65);
    /* an array one byte short is refused */
    char *cut = strstr(text, "0x01, "); /* Qx's second byte */
    assert_non_null(cut);
    memmove(cut, cut + 6, strlen(cut + 6) + 1);
    assert_int_not_equal(thsm_siggen_parse(text, back, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "32 bytes"));
}

static void test_header_fields(void **state)
{
    (void)state;
    uint8_t h[512], want[512];
    char err[200];
    memset(want, 0xFF, sizeof(want));
    memcpy(want, "SECUREBOOT10", 13);
    memcpy(want + 0x10, "1536\0", 6); /* two NULs, as the reference writes */
    memcpy(want + 0x20, "B-U585I-IOT02A", 15);
    memcpy(want + 0x30, "1.2.3", 6);
    assert_int_equal(thsm_image_header(h, "B-U585I-IOT02A", "1.2.3", 1536, err,
                                       sizeof(err)), 0);
    assert_memory_equal(h, want, 512);
    assert_int_equal(thsm_image_header(h, "ABCDEFGHIJKLMNO", "1.2.3", 1536, err,
                                       sizeof(err)), 0);
    assert_int_not_equal(thsm_image_header(h, "ABCDEFGHIJKLMNOP", "1.2.3", 1536,
                                           err, sizeof(err)), 0);
    assert_non_null(strstr(err, "16 characters"));
    assert_int_not_equal(thsm_image_header(h, "B", "1.2", 1536, err,
                                           sizeof(err)), 0);
    assert_int_equal(thsm_image_signed_size(1), 1024);
    assert_int_equal(thsm_image_signed_size(512), 1024);
    assert_int_equal(thsm_image_signed_size(513), 1536);
    assert_int_equal(thsm_board_find("B-U585I-IOT02A")->max_size, 1007616);
    assert_int_equal(thsm_board_find("NUCLEO-G071RB")->max_size, 47104);
    assert_null(thsm_board_find("NO-SUCH-BOARD"));
}

static void test_version_file(void **state)
{
    (void)state;
    char dir[256], path[300], v[32], err[300];
    thsm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/application_version.h", dir);
    const char *good = "/* app */\n#ifndef AV\n#define AV\n"
                       "#define APP_VERSION_MAJOR   2 /* major */\n"
                       "  #  define APP_VERSION_MINOR\t10\n"
                       "#define APP_VERSION_BUILD 7\n#define OTHER 99\n#endif\n";
    thsm_test_write_file(path, good, strlen(good));
    assert_int_equal(thsm_version_file_read(path, v, sizeof(v), err, sizeof(err)), 0);
    assert_string_equal(v, "2.10.7");
    const char *missing = "#define APP_VERSION_MAJOR 1\n#define APP_VERSION_MINOR 2\n";
    thsm_test_write_file(path, missing, strlen(missing));
    assert_int_not_equal(thsm_version_file_read(path, v, sizeof(v), err,
                                           sizeof(err)), 0);
    assert_non_null(strstr(err, "APP_VERSION_BUILD"));
    const char *word = "#define APP_VERSION_MAJOR ONE\n#define APP_VERSION_MINOR 2\n"
                       "#define APP_VERSION_BUILD 3\n";
    thsm_test_write_file(path, word, strlen(word));
    assert_int_not_equal(thsm_version_file_read(path, v, sizeof(v), err,
                                           sizeof(err)), 0);
    assert_non_null(strstr(err, ":1: APP_VERSION_MAJOR is 'ONE'"));
    /* the last definition wins, as in the reference script (#if ignored) */
    const char *twice = "#define APP_VERSION_MAJOR 1\n#define APP_VERSION_MINOR 2\n"
                        "#define APP_VERSION_BUILD 3\n#ifdef NEXT\n"
                        "#define APP_VERSION_MINOR 4\n#endif\n";
    thsm_test_write_file(path, twice, strlen(twice));
    assert_int_equal(thsm_version_file_read(path, v, sizeof(v), err, sizeof(err)), 0);
    assert_string_equal(v, "1.4.3");
    /* a directory, and versions refused for the right reason */
    assert_int_not_equal(thsm_version_file_read(".", v, sizeof(v), err,
                                           sizeof(err)), 0);
    assert_non_null(strstr(err, "is a directory"));
    static const struct {
        const char *version, *why;
    } wrong[] = {
        {"4294967296.0.0", "each number is at most 4294967295"},
        {"1234567.1234567.1", "more than 15 characters"},
        {"1.2", "exactly three numbers"},
        {"1.02.3", "no leading zero"},
        {"1.x.3", "only digits and dots"},
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        assert_int_not_equal(thsm_version_check(wrong[i].version, err,
                                           sizeof(err)), 0);
        if (!strstr(err, wrong[i].why))
            fail_msg("%s: %s", wrong[i].version, err);
    }
    /* non-decimal values are refused with their line */
    const char *bad[] = {"(1U)", "1u", "0x1", "07", "1.0", "4294967296"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[300], want[100];
        snprintf(text, sizeof(text), "#define APP_VERSION_MAJOR 1\n"
                 "#define APP_VERSION_MINOR 2\n\n#define APP_VERSION_BUILD %s\n",
                 bad[i]);
        thsm_test_write_file(path, text, strlen(text));
        assert_int_not_equal(thsm_version_file_read(path, v, sizeof(v), err,
                                                    sizeof(err)), 0);
        snprintf(want, sizeof(want), ":4: APP_VERSION_BUILD is '%s'", bad[i]);
        if (!strstr(err, want))
            fail_msg("%s: %s", bad[i], err);
    }
    snprintf(path, sizeof(path), "%s/absent.h", dir);
    assert_int_not_equal(thsm_version_file_read(path, v, sizeof(v), err,
                                           sizeof(err)), 0);
    assert_non_null(strstr(err, path));
    thsm_test_rmtree(dir);
}

static void test_firmware_kind(void **state)
{
    (void)state;
    static const uint8_t elf[] = "\177ELF\1\1\1";
    static const uint8_t ihex[] = ":10010000214601360121470136007EFE09D2190140\r\n";
    static const uint8_t srec[] = "S00F000068656C6C6F202020202000003C\n";
    static const uint8_t img[] = "SECUREBOOT10\0\377\377\377";
    static const uint8_t raw[] = "\0\040\0\040\001\202\0\010";
    static const uint8_t colon[] = ":not hex at all";
    assert_int_equal(thsm_firmware_kind(elf, sizeof(elf)), THSM_FW_ELF);
    assert_int_equal(thsm_firmware_kind(ihex, sizeof(ihex) - 1), THSM_FW_IHEX);
    assert_int_equal(thsm_firmware_kind(srec, sizeof(srec) - 1), THSM_FW_SREC);
    assert_int_equal(thsm_firmware_kind(img, sizeof(img)), THSM_FW_IMAGE);
    assert_int_equal(thsm_firmware_kind(raw, sizeof(raw)), THSM_FW_RAW);
    assert_int_equal(thsm_firmware_kind(colon, sizeof(colon)), THSM_FW_RAW);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void test_vector_table(void **state)
{
    (void)state;
    static uint8_t fw[4096];
    char err[300];
    const thsm_board_info *u5 = thsm_board_find("B-U585I-IOT02A");
    const thsm_board_info *g0 = thsm_board_find("NUCLEO-G071RB");
    struct { uint32_t sp, reset; const thsm_board_info *b; int ok; } c[] = {
        {0x200C0000, 0x08008201, u5, 1},  /* stack at the end of RAM */
        {0x20001000, 0x08008FFF, u5, 1},  /* last Thumb byte of 4 KiB */
        {0x20009000, 0x08008401, g0, 1},
        {0x2000A000, 0x08008401, g0, 0},  /* over G071's 36 KiB */
        {0x20000000, 0x08008401, u5, 0},  /* stack at RAM start: empty */
        {0x10000000, 0x08008401, u5, 0},
        {0x20001000, 0x08000401, u5, 0},  /* linked at flash base */
        {0x20001000, 0x08008400, u5, 0},  /* not Thumb */
        {0x20001000, 0x08009201, u5, 0},  /* past the firmware */
        {0x20001002, 0x08008401, u5, 0},  /* misaligned stack */
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        put32(fw, c[i].sp);
        put32(fw + 4, c[i].reset);
        if ((thsm_vector_check(fw, sizeof(fw), c[i].b, err, sizeof(err)) == 0) !=
            c[i].ok)
            fail_msg("case %zu: %s", i, c[i].ok ? err : "accepted");
    }
    assert_int_not_equal(thsm_vector_check(fw, 7, u5, err, sizeof(err)), 0);
    size_t n;
    const thsm_board_info *all = thsm_boards(&n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(all[i].flash_base, 0x08000000);
        assert_true(all[i].ram_end > all[i].ram_start);
    }
}

static void test_output_kinds(void **state)
{
    (void)state;
    char dir[256], p[300], link[300], err[300];
    thsm_output a, b;
    thsm_test_tmpdir(dir, sizeof(dir));
    assert_int_equal(thsm_output_resolve(&a, "-", err, sizeof(err)), 0);
    assert_int_equal(a.kind, THSM_OUT_STDOUT);
    assert_int_equal(thsm_output_resolve(&a, "/dev/null", err, sizeof(err)), 0);
    assert_int_equal(a.kind, THSM_OUT_DIRECT);
    snprintf(p, sizeof(p), "%s/fifo", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(thsm_output_resolve(&a, p, err, sizeof(err)), 0);
    assert_int_equal(a.kind, THSM_OUT_DIRECT);
    assert_int_not_equal(thsm_output_resolve(&a, dir, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "directory"));
    snprintf(p, sizeof(p), "%s/file", dir);
    thsm_test_write_file(p, "x", 1);
    snprintf(link, sizeof(link), "%s/link", dir);
    assert_int_equal(symlink("file", link), 0);
    assert_int_equal(thsm_output_resolve(&a, link, err, sizeof(err)), 0);
    assert_int_equal(a.kind, THSM_OUT_FILE);
    assert_non_null(strstr(a.path, "/file"));
    assert_int_equal(thsm_output_resolve(&b, p, err, sizeof(err)), 0);
    assert_true(thsm_output_same(&a, &b)); /* a link and its target */
    snprintf(p, sizeof(p), "%s/./new", dir);
    assert_int_equal(thsm_output_resolve(&a, p, err, sizeof(err)), 0);
    snprintf(p, sizeof(p), "%s/new", dir);
    assert_int_equal(thsm_output_resolve(&b, p, err, sizeof(err)), 0);
    assert_true(thsm_output_same(&a, &b));
    snprintf(p, sizeof(p), "%s/dangling", dir);
    assert_int_equal(symlink("nowhere", p), 0);
    assert_int_not_equal(thsm_output_resolve(&a, p, err, sizeof(err)), 0);
    snprintf(p, sizeof(p), "%s/missing/x", dir);
    assert_int_not_equal(thsm_output_resolve(&a, p, err, sizeof(err)), 0);
    /* a link to a FIFO (like /dev/stdout on a pipe) is written directly */
    snprintf(p, sizeof(p), "%s/fifolink", dir);
    assert_int_equal(symlink("fifo", p), 0);
    assert_int_equal(thsm_output_resolve(&a, p, err, sizeof(err)), 0);
    assert_int_equal(a.kind, THSM_OUT_DIRECT);
    assert_string_equal(a.path, p);
    /* /dev/null may be named twice; an existing file may not be an input */
    assert_int_equal(thsm_output_resolve(&a, "/dev/null", err, sizeof(err)), 0);
    assert_int_equal(thsm_output_resolve(&b, "/dev/null", err, sizeof(err)), 0);
    assert_false(thsm_output_same(&a, &b));
    assert_false(thsm_output_is_input(&a, "/dev/null"));
    snprintf(p, sizeof(p), "%s/file", dir);
    assert_int_equal(thsm_output_resolve(&a, link, err, sizeof(err)), 0);
    assert_true(thsm_output_is_input(&a, p));
    assert_int_not_equal(thsm_output_resolve(&a, ".", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "directory"));
    thsm_test_rmtree(dir);
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* A whole file through the atomic writer, as the commands use it. */
static int write_file_atomic(const char *path, const void *data, size_t len,
                             mode_t mode, char *err, size_t cap)
{
    thsm_atomic_file f;
    if (thsm_atomic_begin(&f, path, mode, err, cap) != 0)
        return -1;
    if (thsm_atomic_write(&f, data, len) != 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        thsm_atomic_abort(&f);
        return -1;
    }
    return thsm_atomic_commit(&f, err, cap);
}

static void test_atomic_writer(void **state)
{
    (void)state;
    char dir[256], path[300], err[300];
    struct stat st;
    size_t len;
    thsm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/out.bin", dir);
    assert_int_equal(write_file_atomic(path, "first", 5, 0640, err,
                                       sizeof(err)), 0);
    assert_int_equal(write_file_atomic(path, "second!", 7, 0644, err,
                                       sizeof(err)), 0);
    unsigned char *data = thsm_test_read_file(path, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(data, "second!", 7);
    free(data);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640); /* the replaced file's mode */
    assert_int_equal(entries(dir), 1); /* no temporary left */
    snprintf(path, sizeof(path), "%s/new.bin", dir);
    mode_t old = umask(077);
    assert_int_equal(write_file_atomic(path, "x", 1, 0644, err,
                                       sizeof(err)), 0);
    umask(old);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* 0644 less the umask */
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/missing/out.bin", dir);
    assert_int_not_equal(write_file_atomic(path, "x", 1, 0644, err,
                                           sizeof(err)), 0);
    assert_non_null(strstr(err, "missing/out.bin"));
    assert_int_equal(entries(dir), 1);
    thsm_test_rmtree(dir);
}

/* A directory swapped for a symlink between resolve and delivery: the
 * file lands in the directory resolved, and the file an output would
 * replace is read there (issue 16). */
static void test_output_holds_its_directory(void **state)
{
    (void)state;
    char dir[256], p[400], moved[300], other[300], err[300], buf[8];
    thsm_output o;
    struct stat st;
    size_t len;
    thsm_test_tmpdir(dir, sizeof(dir));
    snprintf(p, sizeof(p), "%s/out", dir);
    snprintf(moved, sizeof(moved), "%s/moved", dir);
    snprintf(other, sizeof(other), "%s/other", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(mkdir(other, 0755), 0);
    snprintf(p, sizeof(p), "%s/out/f", dir);
    thsm_test_write_file(p, "old", 3);
    assert_int_equal(thsm_output_resolve(&o, p, err, sizeof(err)), 0);
    snprintf(p, sizeof(p), "%s/out", dir);
    assert_int_equal(rename(p, moved), 0);
    assert_int_equal(symlink(other, p), 0);
    int fd = thsm_output_open_existing(&o);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf)), 3);
    close(fd);
    assert_int_equal(thsm_output_prepare(&o, err, sizeof(err)), 0);
    assert_int_equal(thsm_atomic_write(&o.f, "new", 3), 0);
    const thsm_output_data d = {{"new"}, {3}, 1};
    assert_int_equal(thsm_output_deliver(&o, &d, 1, err, sizeof(err)), 0);
    assert_int_equal(entries(other), 0);
    snprintf(p, sizeof(p), "%s/f", moved);
    unsigned char *data = thsm_test_read_file(p, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "new", 3);
    free(data);
    assert_int_equal(entries(moved), 1);
    /* a mode of 07777 is not carried over */
    assert_int_equal(chmod(p, 07777), 0);
    assert_int_equal(write_file_atomic(p, "x", 1, 0644, err, sizeof(err)), 0);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0775);
    thsm_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_der_to_raw_keeps_leading_zeros),
        cmocka_unit_test(test_siggen_leading_zeros),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_version_file),
        cmocka_unit_test(test_atomic_writer),
        cmocka_unit_test(test_firmware_kind),
        cmocka_unit_test(test_vector_table),
        cmocka_unit_test(test_output_kinds),
        cmocka_unit_test(test_output_holds_its_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
