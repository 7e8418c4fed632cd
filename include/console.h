/* The kernel console: the kernel log (include/log.h) always; COM1, with the
 * VGA text screen as a mirror, until a user-space console takes them. */
#ifndef TANDEM_CONSOLE_H
#define TANDEM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

void serial_init(void);
void serial_write(const char *s, size_t len);

void vga_init(void);
void vga_write(const char *s, size_t len);

// Prepares both devices; safe to call before anything else is set up.
void console_init(void);
// Writes len bytes to the log and (unless released) serial and VGA, whole
// (interrupts off meanwhile so lines from an interrupt handler do not split
// another's).
void console_write(const char *s, size_t len);
// Stops (true) or resumes (false) writing the devices: a user-space console
// shows the log instead (SYS_CONSOLE_TAKE).  A panic resumes them.
void console_release_devices(bool released);
bool console_devices_released(void);

#endif
