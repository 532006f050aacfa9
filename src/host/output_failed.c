/* output_failed.c - the message of a failed delivery (output.h), shared by
 * output.c and output_win32.c. */
#include <stdio.h>
#include <string.h>

#include "host/output.h"

/* Appends "; LABEL: a, b" listing the outputs whose done flag is want. */
static void list(char *err, size_t cap, const char *label,
                 const thsm_output *out, const int *done, size_t n, int want)
{
    const char *sep = "; ";
    for (size_t i = 0; i < n; i++) {
        if (done[i] != want)
            continue;
        size_t used = strlen(err);
        snprintf(err + used, cap - used, "%s%s%s", sep, *sep == ';' ? label : "",
                 out[i].name);
        sep = ", ";
    }
}

int thsm_output_failed(thsm_output *out, const int *done, size_t n,
                       char *err, size_t cap)
{
    thsm_output_abort(out, n);
    list(err, cap, "written: ", out, done, n, 1);
    list(err, cap, "not written: ", out, done, n, 0);
    return -1;
}
