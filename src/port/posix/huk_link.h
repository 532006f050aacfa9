/*
 * huk_link.h - tinyhsmd-qemu's root key apart from its state directory.
 *
 * The firmware reads DIR/huk.bin (32 raw bytes, the stand-in for a hardware
 * unique key) through semihosting at every derivation, so DIR keeps only a
 * symlink named huk.bin to the key file, which lives elsewhere.
 */
#ifndef THSM_HUK_LINK_H
#define THSM_HUK_LINK_H

#include <stddef.h>

/* Makes huk.bin in the state directory dir_fd a symlink to key (made
 * absolute). A huk.bin file found there is moved to key first (written,
 * synced, read back; the link then replaces it); with neither, a new key is
 * made, unless the directory has a flash image (a device whose key is
 * missing). The key file must be ours, 0600 and 32 bytes. What it did goes
 * to stderr after who. Returns 0, or -1 with the reason in err. */
int thsm_huk_link(int dir_fd, const char *key, const char *who, char *err,
                  size_t err_cap);

#endif
