/* The kernel console: COM1 always, the VGA text screen as a mirror. */
#ifndef TANDEM_CONSOLE_H
#define TANDEM_CONSOLE_H

#include <stddef.h>

void serial_init(void);
void serial_write(const char *s, size_t len);

void vga_init(void);
void vga_write(const char *s, size_t len);

// Prepares both devices; safe to call before anything else is set up.
void console_init(void);
// Writes len bytes to serial and VGA, whole (interrupts off meanwhile so
// lines from an interrupt handler do not split another's).
void console_write(const char *s, size_t len);

#endif
