// Host tests for the VGA text screen model (user/drv/vga_screen.c): the
// cells and the cursor after each kind of byte the stream may hold.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drv/vga_screen.h"

#define CELLS      (VGA_ROWS * VGA_COLS)
#define GUARD      8 // cells past each end that must stay untouched
#define GUARD_CELL 0xDEAD

static uint16_t s_mem[GUARD + CELLS + GUARD];
static uint16_t *const s_cells = s_mem + GUARD;
static struct vga_screen s_s;

static void
write_str(const char *text)
{
    vga_screen_write(&s_s, text, (unsigned)strlen(text));
}

// The characters of row `row` from column `col` on, up to n of them.
static const char *
text_at(unsigned row, unsigned col, unsigned n)
{
    static char out[VGA_COLS + 1];
    assert_true(col + n <= VGA_COLS);
    for (unsigned i = 0; i < n; i++)
        out[i] = (char)(s_cells[row * VGA_COLS + col + i] & 0xFF);
    out[n] = '\0';
    return out;
}

static void
assert_cursor(unsigned row, unsigned col)
{
    assert_int_equal(s_s.row, row);
    assert_int_equal(s_s.col, col);
    assert_int_equal(vga_screen_cursor(&s_s), row * VGA_COLS + col);
}

// Whether every cell of rows [from, to) is a blank with the default attribute.
static void
assert_blank_rows(unsigned from, unsigned to)
{
    for (unsigned i = from * VGA_COLS; i < to * VGA_COLS; i++)
        assert_int_equal(s_cells[i], VGA_CELL(' ', VGA_ATTR));
}

// A screen full of 'x' in attribute 0x1F, the cursor home.
static int
setup(void **state)
{
    (void)state;
    for (unsigned i = 0; i < GUARD + CELLS + GUARD; i++)
        s_mem[i] = GUARD_CELL;
    for (unsigned i = 0; i < CELLS; i++)
        s_cells[i] = VGA_CELL('x', 0x1F);
    vga_screen_init(&s_s, s_cells, 0, 0);
    return 0;
}

// Nothing is written outside the screen.
static int
teardown(void **state)
{
    (void)state;
    for (unsigned i = 0; i < GUARD; i++) {
        assert_int_equal(s_mem[i], GUARD_CELL);
        assert_int_equal(s_mem[GUARD + CELLS + i], GUARD_CELL);
    }
    return 0;
}

// The model starts over what is there, with the cursor it is given.
static void
test_init_keeps_the_screen(void **state)
{
    (void)state;
    vga_screen_init(&s_s, s_cells, 3, 7);
    assert_cursor(3, 7);
    assert_string_equal(text_at(0, 0, 3), "xxx");
    vga_screen_init(&s_s, s_cells, 99, 99); // clamped to the screen
    assert_cursor(VGA_ROWS - 1, VGA_COLS - 1);
}

static void
test_printable(void **state)
{
    (void)state;
    write_str("Hello, world!");
    assert_string_equal(text_at(0, 0, 14), "Hello, world!x");
    assert_int_equal(s_cells[0], VGA_CELL('H', VGA_ATTR));
    assert_cursor(0, 13);
    // Control bytes without a meaning here show nothing and do not move.
    vga_screen_write(&s_s, "\x01\x07\x7f\x00", 4);
    assert_cursor(0, 13);
    assert_string_equal(text_at(0, 13, 1), "x");
}

static void
test_newline_return_backspace(void **state)
{
    (void)state;
    write_str("abc\ndef");
    assert_string_equal(text_at(0, 0, 4), "abcx");
    assert_string_equal(text_at(1, 0, 4), "defx");
    assert_cursor(1, 3);
    write_str("\rZ");
    assert_string_equal(text_at(1, 0, 3), "Zef");
    assert_cursor(1, 1);
    write_str("\b\bq"); // stops at the first column; erases nothing
    assert_string_equal(text_at(1, 0, 3), "qef");
    assert_cursor(1, 1);
    write_str("12\b");
    assert_string_equal(text_at(1, 0, 3), "q12");
    assert_cursor(1, 2);
}

static void
test_tab(void **state)
{
    (void)state;
    write_str("\tA");
    assert_cursor(0, 9);
    assert_string_equal(text_at(0, 8, 1), "A");
    assert_string_equal(text_at(0, 0, 8), "xxxxxxxx"); // a tab moves, writes nothing
    write_str("\t\t");
    assert_cursor(0, 24);
    vga_screen_init(&s_s, s_cells, 0, 75);
    write_str("\t"); // past the last stop: the next line
    assert_cursor(1, 0);
}

// The last column's character wraps the cursor to the next line.
static void
test_wrap(void **state)
{
    (void)state;
    vga_screen_init(&s_s, s_cells, 2, VGA_COLS - 2);
    write_str("ab");
    assert_cursor(3, 0);
    write_str("c");
    assert_string_equal(text_at(2, VGA_COLS - 2, 2), "ab");
    assert_string_equal(text_at(3, 0, 2), "cx");
}

// Going down from the last line moves every line up and blanks the last.
static void
test_scroll(void **state)
{
    (void)state;
    for (unsigned r = 0; r < VGA_ROWS; r++) {
        char line[8];
        line[0] = (char)('A' + r);
        line[1] = r + 1 < VGA_ROWS ? '\n' : '\0';
        line[2] = '\0';
        write_str(line);
    }
    assert_cursor(VGA_ROWS - 1, 1);
    assert_string_equal(text_at(0, 0, 2), "Ax");
    write_str("\nlast");
    assert_cursor(VGA_ROWS - 1, 4);
    assert_string_equal(text_at(0, 0, 2), "Bx"); // 'A' scrolled off
    assert_string_equal(text_at(VGA_ROWS - 2, 0, 2), "Yx");
    assert_string_equal(text_at(VGA_ROWS - 1, 0, 5), "last ");
    assert_int_equal(s_cells[(VGA_ROWS - 1) * VGA_COLS + 4], VGA_CELL(' ', VGA_ATTR));
    // Wrapping off the last column scrolls too.
    vga_screen_init(&s_s, s_cells, VGA_ROWS - 1, VGA_COLS - 1);
    write_str("!");
    assert_cursor(VGA_ROWS - 1, 0);
    assert_string_equal(text_at(VGA_ROWS - 2, VGA_COLS - 1, 1), "!");
    assert_blank_rows(VGA_ROWS - 1, VGA_ROWS);
}

static void
test_clear_screen(void **state)
{
    (void)state;
    write_str("abc\ndef\x1b[2J");
    assert_blank_rows(0, VGA_ROWS);
    assert_cursor(0, 0);
    write_str("z");
    assert_string_equal(text_at(0, 0, 2), "z ");
    vga_screen_init(&s_s, s_cells, 5, 5);
    vga_screen_clear(&s_s);
    assert_blank_rows(0, VGA_ROWS);
    assert_cursor(0, 0);
}

static void
test_clear_to_end_of_line(void **state)
{
    (void)state;
    write_str("0123456789\r01234\x1b[K");
    assert_cursor(0, 5);
    assert_string_equal(text_at(0, 0, 10), "01234     ");
    assert_string_equal(text_at(0, VGA_COLS - 1, 1), " ");
    assert_string_equal(text_at(1, 0, 1), "x"); // the next line is left alone
    assert_int_equal(s_cells[5], VGA_CELL(' ', VGA_ATTR));
}

// Sequences the screen does not know are swallowed whole; an ESC followed
// by anything but '[' is dropped and that byte shown; a sequence may be
// split across writes.
static void
test_other_escapes(void **state)
{
    (void)state;
    write_str("a\x1b[1;31mb\x1b[3Jc\x1b[1Kd\x1b[Ae");
    assert_string_equal(text_at(0, 0, 6), "abcdex");
    assert_cursor(0, 5);
    write_str("\x1bZ");
    assert_string_equal(text_at(0, 5, 1), "Z");
    write_str("\x1b");
    write_str("[");
    write_str("2");
    write_str("J");
    assert_blank_rows(0, VGA_ROWS);
    assert_cursor(0, 0);
    write_str("\x1b[99999999999Kq"); // a huge parameter: no overflow, nothing cleared
    assert_string_equal(text_at(0, 0, 1), "q");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_keeps_the_screen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_printable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newline_return_backspace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tab, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scroll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_screen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_to_end_of_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_escapes, setup, teardown),
    };
    return cmocka_run_group_tests_name("vga_screen", tests, NULL, NULL);
}
