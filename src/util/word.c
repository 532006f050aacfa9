/* word.c - names as single words (word.h). */
#include "util/word.h"

void thsm_word_of(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    if (cap == 0)
        return;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (s[i] > ' ' && s[i] <= '~' && s[i] != ',' && s[i] != ':')
                     ? s[i] : '?';
    out[i] = '\0';
}
