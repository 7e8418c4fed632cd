// kprintf: lib/format.c's engine with the console as its sink.
#include "console.h"
#include "kprintf.h"
#include "lib/format.h"

// Output is gathered in a small stack buffer so that a short line reaches
// the console in one console_write (one piece, even if an interrupt prints).
struct kprintf_sink {
    char buf[128];
    unsigned len;
};

static void
kprintf_emit(char c, void *ctx)
{
    struct kprintf_sink *sink = ctx;
    sink->buf[sink->len++] = c;
    if (sink->len == sizeof(sink->buf)) {
        console_write(sink->buf, sink->len);
        sink->len = 0;
    }
}

int
kvprintf(const char *fmt, va_list ap)
{
    struct kprintf_sink sink = { .len = 0 };
    int n = format_v(kprintf_emit, &sink, fmt, ap);
    if (sink.len)
        console_write(sink.buf, sink.len);
    return n;
}

int
kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
