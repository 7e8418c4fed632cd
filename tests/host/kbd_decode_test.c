// Host tests for the scancode set 1 decoder (user/drv/kbd_decode.c):
// sequences of make and break codes, as an i8042 with translation on
// delivers them, and the bytes they must give.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drv/kbd_decode.h"

// Scancodes used below, by name.
#define ESC_KEY    0x01
#define KEY_1      0x02
#define KEY_EQUALS 0x0D
#define BACKSPACE  0x0E
#define TAB        0x0F
#define KEY_Q      0x10
#define KEY_LBRACK 0x1A
#define ENTER      0x1C
#define CTRL       0x1D
#define KEY_A      0x1E
#define KEY_S      0x1F
#define KEY_L      0x26
#define KEY_SEMI   0x27
#define LSHIFT     0x2A
#define KEY_C      0x2E
#define KEY_U      0x16
#define KEY_SLASH  0x35
#define RSHIFT     0x36
#define ALT        0x38
#define SPACE      0x39
#define CAPS       0x3A
#define F1         0x3B
#define KP_7       0x47
#define KP_8       0x48
#define UP         0x48
#define LEFT       0x4B
#define RIGHT      0x4D
#define DOWN       0x50
#define E0         0xE0
#define BRK(code)  ((uint8_t)((code) | 0x80))

#define OUT_MAX 64

static struct kbd_decoder s_k;

// Feeds codes[0, n) to the decoder; returns what it emitted, NUL-terminated.
static const char *
feed(const uint8_t *codes, size_t n)
{
    static char out[OUT_MAX + 1];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char bytes[KBD_OUT_MAX];
        unsigned got = kbd_decode(&s_k, codes[i], bytes);
        assert_true(got <= KBD_OUT_MAX);
        assert_true(len + got <= OUT_MAX);
        memcpy(out + len, bytes, got);
        len += got;
    }
    out[len] = '\0';
    return out;
}

#define FEED(...) feed((const uint8_t[]){ __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }))

static int
setup(void **state)
{
    (void)state;
    kbd_decoder_init(&s_k);
    return 0;
}

// A press gives its character; the release gives nothing.
static void
test_make_and_break(void **state)
{
    (void)state;
    assert_string_equal(FEED(KEY_A), "a");
    assert_string_equal(FEED(BRK(KEY_A)), "");
    assert_string_equal(FEED(KEY_Q, BRK(KEY_Q), KEY_1, BRK(KEY_1), SPACE, BRK(SPACE)), "q1 ");
    assert_string_equal(FEED(KEY_L, KEY_L, KEY_L, BRK(KEY_L)), "lll"); // repeats
    assert_string_equal(FEED(KEY_SEMI, KEY_SLASH, KEY_LBRACK, KEY_EQUALS), ";/[=");
}

// Either shift, held: shifted characters until it is released.
static void
test_shift(void **state)
{
    (void)state;
    assert_string_equal(FEED(LSHIFT, KEY_A, KEY_1, KEY_SLASH, BRK(LSHIFT), KEY_A), "A!?a");
    assert_string_equal(FEED(RSHIFT, KEY_S, KEY_SEMI, BRK(RSHIFT), KEY_S), "S:s");
    // One shift released while the other is held: still shifted.
    assert_string_equal(FEED(LSHIFT, RSHIFT, BRK(LSHIFT), KEY_A, BRK(RSHIFT), KEY_A), "Aa");
}

// Caps lock toggles on each press (not on its repeats, not on release)
// and changes letters only; with shift, letters are small again.
static void
test_caps_lock(void **state)
{
    (void)state;
    assert_string_equal(FEED(CAPS, BRK(CAPS), KEY_A, KEY_1, KEY_SEMI), "A1;");
    assert_string_equal(FEED(LSHIFT, KEY_A, KEY_1, BRK(LSHIFT)), "a!");
    assert_string_equal(FEED(CAPS, CAPS, BRK(CAPS), KEY_A), "a"); // held: one toggle
    assert_string_equal(FEED(CAPS, BRK(CAPS), KEY_Q), "Q");
    assert_string_equal(FEED(CAPS, BRK(CAPS), KEY_Q), "q");
}

// Ctrl (left, or right: E0 1D) with a letter gives its control character.
static void
test_ctrl(void **state)
{
    (void)state;
    assert_string_equal(FEED(CTRL, KEY_C, BRK(KEY_C), BRK(CTRL)), "\x03");
    assert_string_equal(FEED(CTRL, KEY_U, BRK(CTRL), KEY_U), "\x15u");
    assert_string_equal(FEED(E0, CTRL, KEY_A, E0, BRK(CTRL), KEY_A), "\001a");
    // Caps lock or shift do not change a control character.
    assert_string_equal(FEED(CAPS, BRK(CAPS), CTRL, LSHIFT, KEY_C, BRK(LSHIFT), BRK(CTRL)), "\x03");
    assert_string_equal(FEED(CAPS, BRK(CAPS)), "");
    // Releasing the right ctrl leaves the left one held.
    assert_string_equal(FEED(CTRL, E0, CTRL, E0, BRK(CTRL), KEY_C, BRK(CTRL), KEY_C), "\003c");
}

// The arrows are E0-prefixed; their release is too.
static void
test_arrows(void **state)
{
    (void)state;
    assert_string_equal(FEED(E0, UP, E0, BRK(UP)), "\x1b[A");
    assert_string_equal(FEED(E0, DOWN, E0, BRK(DOWN)), "\x1b[B");
    assert_string_equal(FEED(E0, RIGHT, E0, BRK(RIGHT)), "\x1b[C");
    assert_string_equal(FEED(E0, LEFT, E0, BRK(LEFT)), "\x1b[D");
    // Without E0 the same codes are the keypad's digits; the prefix lasts one code.
    assert_string_equal(FEED(KP_8, BRK(KP_8), KP_7, E0, UP, KP_8), "87\x1b[A8");
}

static void
test_named_keys(void **state)
{
    (void)state;
    assert_string_equal(FEED(ENTER, BRK(ENTER)), "\r");
    assert_string_equal(FEED(E0, ENTER, E0, BRK(ENTER)), "\r"); // the keypad's
    assert_string_equal(FEED(BACKSPACE, BRK(BACKSPACE)), "\x7f");
    assert_string_equal(FEED(TAB, BRK(TAB)), "\t");
    assert_string_equal(FEED(ESC_KEY, BRK(ESC_KEY)), "\x1b");
    assert_string_equal(FEED(E0, KEY_SLASH), "/"); // the keypad's
}

// Keys without a character, and Print Screen's fake shifts (E0 2A): nothing,
// and no shift is left held.
static void
test_silent_keys(void **state)
{
    (void)state;
    assert_string_equal(FEED(F1, BRK(F1), ALT, KEY_A, BRK(ALT)), "a");
    assert_string_equal(FEED(E0, LSHIFT, E0, 0x37, E0, BRK(0x37), E0, BRK(LSHIFT), KEY_A), "a");
    assert_string_equal(FEED(E0, 0x47, E0, 0x53, 0x58, 0x7F), ""); // Home, Delete, F12
}

// Pause (E1 1D 45 E1 9D C5) gives nothing, and its 1D is no ctrl: not
// even between its halves.
static void
test_pause(void **state)
{
    (void)state;
    assert_string_equal(FEED(0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5, KEY_C), "c");
    assert_string_equal(FEED(0xE1, 0x1D, 0x45, KEY_C, 0xE1, 0x9D, 0xC5, KEY_C), "cc");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_make_and_break, setup),
        cmocka_unit_test_setup(test_shift, setup),
        cmocka_unit_test_setup(test_caps_lock, setup),
        cmocka_unit_test_setup(test_ctrl, setup),
        cmocka_unit_test_setup(test_arrows, setup),
        cmocka_unit_test_setup(test_named_keys, setup),
        cmocka_unit_test_setup(test_silent_keys, setup),
        cmocka_unit_test_setup(test_pause, setup),
    };
    return cmocka_run_group_tests_name("kbd_decode", tests, NULL, NULL);
}
