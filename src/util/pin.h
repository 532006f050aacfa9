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

/* 1 when a new PIN is one that guessers try first: all one character
 * ("111111") or a straight run up or down ("123456", "654321", "abcdef").
 * Only new PINs are refused: a PIN set before this rule still logs in. */
int thsm_pin_weak(const char *pin);

#define THSM_PIN_WEAK_TEXT "all one character or a straight run such as 123456"

#endif
