/* PS/2 scancode set 1 (what an i8042 with translation on delivers) to the
 * bytes a terminal sends, US layout: a state machine fed one byte at a
 * time.  No system calls: drv_kbd feeds it from port 0x60, and
 * tests/host/kbd_decode_test.c from arrays.
 *
 * What it emits (user/lib/proto.h): printable ASCII with both shifts and
 * caps lock (which changes letters only); Enter = '\r', Backspace = 0x7F,
 * Tab, Escape = 0x1B; Ctrl + a letter = that letter's control character
 * (Ctrl-C 0x03, Ctrl-U 0x15); the arrows (E0 48/50/4D/4B) as ESC [ A/B/C/D.
 * The keypad gives its digits and signs as if Num Lock were on.  Break
 * codes, Alt, the function keys and the rest emit nothing. */
#ifndef TANDEM_USER_DRV_KBD_DECODE_H
#define TANDEM_USER_DRV_KBD_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#define KBD_OUT_MAX 3 // most bytes one scancode byte emits (an arrow)

struct kbd_decoder {
    bool e0;      // the previous byte was the E0 prefix
    uint8_t skip; // bytes of a Pause sequence (E1 ...) still to ignore
    bool shift_left, shift_right;
    bool ctrl_left, ctrl_right;
    bool caps_lock; // toggled by each press of Caps Lock
    bool caps_down; // Caps Lock is held: its repeats do not toggle
};

void kbd_decoder_init(struct kbd_decoder *k);

// Feeds one byte from the keyboard; stores what it emits in out and
// returns how many bytes (0 .. KBD_OUT_MAX).
unsigned kbd_decode(struct kbd_decoder *k, uint8_t code, char out[KBD_OUT_MAX]);

#endif
