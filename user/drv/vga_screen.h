/* The VGA text screen as drv_vga keeps it: 80 x 25 cells (the character
 * in the low byte, its attribute in the high one) written by a byte
 * stream, with a cursor where the next character goes.  The model writes
 * through the cell pointer it is given: the mapped screen in drv_vga, an
 * array in tests/host/vga_screen_test.c.  No system calls.
 *
 * The stream (user/lib/proto.h): printable bytes are shown and move the
 * cursor right, wrapping to the next line after the last column; \n goes
 * to the start of the next line, \r to the start of this one, \b one
 * column left (it erases nothing, and stops at the first column), \t to
 * the next multiple of 8 (wrapping like a character); ESC [ 2 J blanks the
 * screen and puts the cursor home, ESC [ K blanks from the cursor to the
 * end of its line.  Going down from the last line scrolls everything up
 * one line.  Other control bytes and other escape sequences (ESC [, any
 * parameters, a final byte) are swallowed. */
#ifndef TANDEM_USER_DRV_VGA_SCREEN_H
#define TANDEM_USER_DRV_VGA_SCREEN_H

#include <stdint.h>

#define VGA_COLS          80
#define VGA_ROWS          25
#define VGA_ATTR          0x07 // light grey on black
#define VGA_CELL(c, attr) ((uint16_t)((uint8_t)(c) | (attr) << 8))

struct vga_screen {
    volatile uint16_t *cells; // VGA_ROWS * VGA_COLS, row by row
    unsigned row, col;        // the cursor
    uint8_t escape;           // how far into an escape sequence the stream is
    unsigned param;           // the sequence's number so far (ESC [ 2 J: 2)
};

// Starts a model over cells as they are, with the cursor at (row, col)
// (clamped to the screen).
void vga_screen_init(struct vga_screen *s, volatile uint16_t *cells, unsigned row, unsigned col);

void vga_screen_write(struct vga_screen *s, const char *text, unsigned len);

// Blanks the screen and puts the cursor home (what VGA_CLEAR does).
void vga_screen_clear(struct vga_screen *s);

// The cursor as the CRTC counts it: row * VGA_COLS + col.
unsigned vga_screen_cursor(const struct vga_screen *s);

#endif
