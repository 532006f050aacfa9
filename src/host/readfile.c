/* readfile.c - a whole small file into memory (readfile.h). */
#include "host/readfile.h"

#include <stdlib.h>

uint8_t *thsm_read_all(FILE *f, size_t max, size_t *len, bool *too_large)
{
    uint8_t *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool bad = !buf || ferror(f);
    fclose(f);
    *too_large = !bad && n > max;
    if (bad || *too_large) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
