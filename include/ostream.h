/* Output streams: a small polymorphic interface (an ostream that may be a
 * VGA stream, a serial stream, or a tee of both; kernel/ostream.c).
 *
 * Streams are transient objects: the factories make them with kfastmalloc,
 * so they live until the current kernel entry ends (or the caller's scope
 * is released) and are never freed by hand. */
#ifndef TANDEM_OSTREAM_H
#define TANDEM_OSTREAM_H

#include <stddef.h>

struct ostream {
    // Writes len bytes; returns how many were written.
    size_t (*write)(struct ostream *self, const char *buf, size_t len);
    const char *name;
};

// The console's devices, the kernel log, and a tee that writes to both of
// its streams.
struct ostream *ostream_serial(void);
struct ostream *ostream_vga(void);
struct ostream *ostream_log(void);
struct ostream *ostream_tee(struct ostream *a, struct ostream *b);
// What the console is: the log, with serial and VGA unless a user-space
// console has taken them (console_release_devices).  NULL if the arena is out
// of room and memory (callers then fall back to console_write).
struct ostream *ostream_console(void);

static inline size_t
ostream_write(struct ostream *s, const char *buf, size_t len)
{
    return s->write(s, buf, len);
}

#endif
