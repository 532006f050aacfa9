/*
 * pin.h - what a PIN may be, one rule for the device (which enforces it) and
 * tinyhsm (which checks before anything is sent).
 */
#ifndef THSM_PIN_H
#define THSM_PIN_H

#define THSM_PIN_MIN 6
#define THSM_PIN_MAX 64

/* 1 when pin is THSM_PIN_MIN to THSM_PIN_MAX printable ASCII characters
 * without spaces; 0 otherwise (also for NULL). */
int thsm_pin_format_ok(const char *pin);

#endif
