// The VGA text screen model (see vga_screen.h).
#include <stdbool.h>

#include "vga_screen.h"

#define ESC       0x1B
#define TAB_STOP  8
#define PARAM_MAX 9999 // larger numbers are clamped: no sequence here needs more

// Where the stream is in an escape sequence.
enum {
    PLAIN,   // not in one
    SAW_ESC, // ESC
    SAW_CSI, // ESC [, then perhaps digits and ';'
};

static const uint16_t BLANK = VGA_CELL(' ', VGA_ATTR);

static void
blank(struct vga_screen *s, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        s->cells[i] = BLANK;
}

void
vga_screen_init(struct vga_screen *s, volatile uint16_t *cells, unsigned row, unsigned col)
{
    s->cells = cells;
    s->row = row < VGA_ROWS ? row : VGA_ROWS - 1;
    s->col = col < VGA_COLS ? col : VGA_COLS - 1;
    s->escape = PLAIN;
    s->param = 0;
}

void
vga_screen_clear(struct vga_screen *s)
{
    blank(s, 0, VGA_ROWS * VGA_COLS);
    s->row = 0;
    s->col = 0;
}

unsigned
vga_screen_cursor(const struct vga_screen *s)
{
    return s->row * VGA_COLS + s->col;
}

// To the start of the next line, scrolling if this was the last.
static void
new_line(struct vga_screen *s)
{
    s->col = 0;
    if (s->row + 1 < VGA_ROWS) {
        s->row++;
        return;
    }
    for (unsigned i = 0; i < (VGA_ROWS - 1) * VGA_COLS; i++)
        s->cells[i] = s->cells[i + VGA_COLS];
    blank(s, (VGA_ROWS - 1) * VGA_COLS, VGA_ROWS * VGA_COLS);
}

static void
put(struct vga_screen *s, char c)
{
    s->cells[vga_screen_cursor(s)] = VGA_CELL(c, VGA_ATTR);
    if (++s->col == VGA_COLS)
        new_line(s);
}

static void
tab(struct vga_screen *s)
{
    s->col = (s->col / TAB_STOP + 1) * TAB_STOP;
    if (s->col >= VGA_COLS)
        new_line(s);
}

// The final byte of ESC [ ... : runs the two sequences the screen knows.
static void
control_sequence(struct vga_screen *s, char final)
{
    if (final == 'J' && s->param == 2)
        vga_screen_clear(s);
    else if (final == 'K' && s->param == 0)
        blank(s, vga_screen_cursor(s), (s->row + 1) * VGA_COLS);
}

// A byte inside an escape sequence; returns whether the sequence took it
// (an ESC followed by anything but '[' ends, and that byte is shown).
static bool
escape_byte(struct vga_screen *s, char c)
{
    if (s->escape == SAW_ESC) {
        s->escape = c == '[' ? SAW_CSI : PLAIN;
        s->param = 0;
        return c == '[';
    }
    if (c >= '0' && c <= '9') {
        unsigned next = s->param * 10 + (unsigned)(c - '0');
        s->param = next < PARAM_MAX ? next : PARAM_MAX;
    } else if (c >= 0x40 && c <= 0x7E) { // a final byte ends the sequence
        s->escape = PLAIN;
        control_sequence(s, c);
    }
    return true; // digits, ';' and intermediates stay in it
}

static void
write_byte(struct vga_screen *s, char c)
{
    if (s->escape != PLAIN && escape_byte(s, c))
        return;
    unsigned char u = (unsigned char)c;
    switch (c) {
    case '\n': new_line(s); return;
    case '\r': s->col = 0; return;
    case '\b':
        if (s->col)
            s->col--;
        return;
    case '\t': tab(s); return;
    case ESC: s->escape = SAW_ESC; return;
    }
    if (u >= 0x20 && u != 0x7F)
        put(s, c);
}

void
vga_screen_write(struct vga_screen *s, const char *text, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        write_byte(s, text[i]);
}
