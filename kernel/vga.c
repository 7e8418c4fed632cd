// VGA text mode console (80x25 at physical 0xB8000), a mirror of serial.
#include <stdint.h>
#include "config.h"
#include "console.h"
#include "x86.h"

#define VGA_COLS   80
#define VGA_ROWS   25
#define VGA_ATTR   0x0700 // light grey on black
#define CRTC_INDEX 0x3D4
#define CRTC_DATA  0x3D5

static volatile uint16_t *const s_screen = (volatile uint16_t *)(KERNEL_VMA + 0xB8000);
static unsigned s_row, s_col;

static void
vga_move_cursor(void)
{
    unsigned pos = s_row * VGA_COLS + s_col;
    outb(CRTC_INDEX, 0x0F);
    outb(CRTC_DATA, pos & 0xFF);
    outb(CRTC_INDEX, 0x0E);
    outb(CRTC_DATA, (pos >> 8) & 0xFF);
}

static void
vga_scroll(void)
{
    for (unsigned i = 0; i < (VGA_ROWS - 1) * VGA_COLS; i++)
        s_screen[i] = s_screen[i + VGA_COLS];
    for (unsigned i = 0; i < VGA_COLS; i++)
        s_screen[(VGA_ROWS - 1) * VGA_COLS + i] = VGA_ATTR | ' ';
    s_row = VGA_ROWS - 1;
}

void
vga_init(void)
{
    for (unsigned i = 0; i < VGA_ROWS * VGA_COLS; i++)
        s_screen[i] = VGA_ATTR | ' ';
    s_row = s_col = 0;
    vga_move_cursor();
}

static void
vga_putc(char c)
{
    if (c == '\n') {
        s_col = 0;
        s_row++;
    } else if (c == '\r') {
        s_col = 0;
    } else if (c == '\t') {
        s_col = (s_col + 8) & ~7u;
    } else {
        s_screen[s_row * VGA_COLS + s_col] = VGA_ATTR | (uint8_t)c;
        s_col++;
    }
    if (s_col >= VGA_COLS) {
        s_col = 0;
        s_row++;
    }
    if (s_row >= VGA_ROWS)
        vga_scroll();
}

void
vga_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        vga_putc(s[i]);
    vga_move_cursor();
}
