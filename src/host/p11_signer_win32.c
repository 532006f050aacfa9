/* p11_signer_win32.c - tinyhsm.exe signs with the TinyHSM only: PKCS#11
 * tokens (p11-kit) are a Linux feature (docs/DECISIONS.md, "Windows"). */
#include "host/p11_signer.h"

int thsm_p11_signer_new(const thsm_p11_cfg *cfg, thsm_p11_signer **out,
                        thsm_err *err)
{
    (void)cfg;
    *out = NULL;
    return thsm_fail(err, THSM_ERR_USAGE, "signing with a PKCS#11 token "
                     "(--key pkcs11:...) is not available on Windows; sign "
                     "with the TinyHSM (leave out --key)");
}

const thsm_signer *thsm_p11_signer_get(const thsm_p11_signer *s)
{
    (void)s;
    return NULL;
}

void thsm_p11_signer_free(thsm_p11_signer *s)
{
    (void)s;
}
