/*
 * rootkey.h - the software device's root key file, kept apart from its
 * state directory and, with a TPM, sealed to it.
 *
 * A root key file holds "THSMDK01" and the 32-byte key (plain), or
 * "THSMTK01" and a TPM-sealed blob (rootkey_tpm.h). It is 0600 and ours.
 */
#ifndef THSM_ROOTKEY_H
#define THSM_ROOTKEY_H

#include <stddef.h>
#include <stdint.h>

#define THSM_ROOT_KEY_CREDENTIAL "tinyhsm-root-key" /* in $CREDENTIALS_DIRECTORY */

typedef struct {
    const char *path; /* the root key file; NULL: device.key in the state dir */
    const char *tpm;  /* TCTI to seal with (a new or plain key is sealed) and
                         unseal with; NULL: seal nothing, unseal a sealed key
                         with THSM_TPM_DEFAULT_TCTI */
    int read_only;    /* a systemd credential: never written or moved to */
} thsm_root_key_opts;

/* Where the root key is when no --root-key is given: a systemd credential
 * ($CREDENTIALS_DIRECTORY/tinyhsm-root-key, when it exists; *read_only set),
 * else $TINYHSM_ROOT_KEY, else, for the default state directory only,
 * $XDG_CONFIG_HOME/tinyhsm/root.key or ~/.config/tinyhsm/root.key. Returns
 * 0 with the path in buf, or 1 when the key stays in the state directory
 * (a state directory given without a root key place). */
int thsm_root_key_default(char *buf, size_t cap, int state_is_default,
                          int *read_only);

/* Reads the key file at path (refusing one that others can read or that is
 * not ours, unless it is a systemd credential, which systemd may hand over
 * as root's file with an ACL), unsealing a sealed one with tpm (NULL: the
 * default TCTI). *sealed tells which it was. Returns 0, or -1 with the
 * reason in err. */
int thsm_root_key_read(const char *path, const char *tpm, int credential,
                       uint8_t key[32], int *sealed, char *err, size_t err_cap);

/* Writes key to path, sealed with tpm when tpm is not NULL: a temporary
 * file, fsync, then into place, fsync of the directory (created 0700 when
 * missing). replace = 0 refuses an existing file. */
int thsm_root_key_write(const char *path, const char *tpm,
                        const uint8_t key[32], int replace, char *err,
                        size_t err_cap);

/* The bytes of a key file written as thsm_root_key_write does. */
int thsm_key_file_write(const char *path, const uint8_t *data, size_t len,
                        int replace, char *err, size_t err_cap);

/* A new random root key at path (sealed with tpm when not NULL); refuses
 * an existing file. */
int thsm_root_key_new(const char *path, const char *tpm, char *err,
                      size_t err_cap);

#endif
