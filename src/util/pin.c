/* pin.c - the PIN format rule (see pin.h). */
#include "util/pin.h"

#include <string.h>

int thsm_pin_format_ok(const char *pin)
{
    size_t n = pin ? strlen(pin) : 0;
    if (n < THSM_PIN_MIN || n > THSM_PIN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (pin[i] < 0x21 || pin[i] > 0x7e)
            return 0;
    return 1;
}

int thsm_pin_weak(const char *pin)
{
    size_t n = pin ? strlen(pin) : 0;
    if (n < 2)
        return 0;
    int step = pin[1] - pin[0];
    if (step < -1 || step > 1)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (pin[i] - pin[i - 1] != step)
            return 0;
    return 1;
}
