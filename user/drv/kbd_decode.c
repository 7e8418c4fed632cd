// Scancode set 1 to terminal bytes (see kbd_decode.h).
#include "kbd_decode.h"

#define BREAK      0x80 // set in a key's code when it is released
#define PREFIX_E0  0xE0 // the next code is an extended key
#define PREFIX_E1  0xE1 // Pause: E1 1D 45, E1 9D C5, with no break of its own
#define PAUSE_TAIL 2    // bytes after each E1

#define KEY_ESCAPE      0x01
#define KEY_BACKSPACE   0x0E
#define KEY_TAB         0x0F
#define KEY_ENTER       0x1C
#define KEY_CTRL        0x1D // E0 1D: the right one
#define KEY_SHIFT_LEFT  0x2A
#define KEY_SHIFT_RIGHT 0x36
#define KEY_CAPS_LOCK   0x3A
#define KEY_UP          0x48 // the arrows come with E0; without it they are keypad digits
#define KEY_LEFT        0x4B
#define KEY_RIGHT       0x4D
#define KEY_DOWN        0x50
#define KEY_KP_SLASH    0x35 // E0 35

#define KEYS 0x54 // make codes below this have a character

#define ASCII_ESC 0x1B
#define ASCII_DEL 0x7F

// The US layout, by make code: unshifted, and with Shift held.  0: no
// character (modifiers, function keys, the keys handled by name above).
// One keyboard row a line (clang-format 14 would pack them into columns).
// clang-format off
static const char s_plain[KEYS] = {
    [0x02] = '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=',
    [0x10] = 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']',
    [0x1E] = 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`',
    [0x2B] = '\\', 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.', '/',
    [0x37] = '*', [0x39] = ' ',
    [0x47] = '7', '8', '9', '-', '4', '5', '6', '+', '1', '2', '3', '0', '.',
};

static const char s_shifted[KEYS] = {
    [0x02] = '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+',
    [0x10] = 'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}',
    [0x1E] = 'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~',
    [0x2B] = '|', 'Z', 'X', 'C', 'V', 'B', 'N', 'M', '<', '>', '?',
    [0x37] = '*', [0x39] = ' ',
    [0x47] = '7', '8', '9', '-', '4', '5', '6', '+', '1', '2', '3', '0', '.',
};
// clang-format on

void
kbd_decoder_init(struct kbd_decoder *k)
{
    *k = (struct kbd_decoder){ 0 };
}

static bool
is_letter(char c)
{
    return c >= 'a' && c <= 'z';
}

// Tracks a modifier's press or release; returns whether code was one.
// Caps Lock toggles on its first press only: a held key repeats its make
// code, which must not toggle it again.
static bool
track_modifier(struct kbd_decoder *k, uint8_t key, bool pressed, bool extended)
{
    if (key == KEY_CTRL) {
        *(extended ? &k->ctrl_right : &k->ctrl_left) = pressed;
        return true;
    }
    if (extended)
        return false;
    if (key == KEY_SHIFT_LEFT || key == KEY_SHIFT_RIGHT) {
        *(key == KEY_SHIFT_LEFT ? &k->shift_left : &k->shift_right) = pressed;
        return true;
    }
    if (key == KEY_CAPS_LOCK) {
        if (pressed && !k->caps_down)
            k->caps_lock = !k->caps_lock;
        k->caps_down = pressed;
        return true;
    }
    return false;
}

// An arrow's escape sequence.
static unsigned
arrow(char final, char out[KBD_OUT_MAX])
{
    out[0] = ASCII_ESC;
    out[1] = '[';
    out[2] = final;
    return 3;
}

// A pressed extended key (after E0): the arrows, the keypad's Enter and
// slash; the rest (Home, Insert, the fake shifts of Print Screen, ...)
// emits nothing.
static unsigned
extended_key(uint8_t key, char out[KBD_OUT_MAX])
{
    switch (key) {
    case KEY_UP: return arrow('A', out);
    case KEY_DOWN: return arrow('B', out);
    case KEY_RIGHT: return arrow('C', out);
    case KEY_LEFT: return arrow('D', out);
    case KEY_ENTER: out[0] = '\r'; return 1;
    case KEY_KP_SLASH: out[0] = '/'; return 1;
    default: return 0;
    }
}

// A pressed ordinary key.
static unsigned
plain_key(const struct kbd_decoder *k, uint8_t key, char out[KBD_OUT_MAX])
{
    switch (key) {
    case KEY_ESCAPE: out[0] = ASCII_ESC; return 1;
    case KEY_BACKSPACE: out[0] = ASCII_DEL; return 1;
    case KEY_TAB: out[0] = '\t'; return 1;
    case KEY_ENTER: out[0] = '\r'; return 1;
    }
    if (key >= KEYS || !s_plain[key])
        return 0;
    char c = s_plain[key];
    bool shift = k->shift_left || k->shift_right;
    if (is_letter(c)) {
        if (k->ctrl_left || k->ctrl_right) {
            out[0] = (char)(c & 0x1F); // 'c' -> 0x03
            return 1;
        }
        shift ^= k->caps_lock;
    }
    out[0] = shift ? s_shifted[key] : c;
    return 1;
}

unsigned
kbd_decode(struct kbd_decoder *k, uint8_t code, char out[KBD_OUT_MAX])
{
    if (k->skip) {
        k->skip--;
        return 0;
    }
    if (code == PREFIX_E1) {
        k->skip = PAUSE_TAIL;
        k->e0 = false;
        return 0;
    }
    if (code == PREFIX_E0) {
        k->e0 = true;
        return 0;
    }
    bool extended = k->e0;
    k->e0 = false;
    uint8_t key = code & (uint8_t)~BREAK;
    bool pressed = !(code & BREAK);
    if (track_modifier(k, key, pressed, extended) || !pressed)
        return 0;
    return extended ? extended_key(key, out) : plain_key(k, key, out);
}
