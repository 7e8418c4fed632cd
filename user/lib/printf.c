// Console output for user programs: the kernel's formatting engine
// (lib/format.c) feeding SYS_DEBUG_WRITE.
#include "lib/format.h"
#include "tandem.h"

// Bytes gathered before a write; a longer line goes out in pieces.
#define PRINTF_CHUNK 256

_Static_assert(PRINTF_CHUNK <= DEBUG_WRITE_MAX, "one chunk must fit one debug_write");

// On the caller's stack, so concurrent threads need no lock.
struct printf_out {
    char buf[PRINTF_CHUNK];
    unsigned len;
    int error; // the first failed write's -errno, or 0
};

// Writes out what o holds and empties it; remembers the first error.
static void
flush(struct printf_out *o)
{
    if (o->len == 0)
        return;
    int r = sys_debug_write(o->buf, o->len);
    if (r < 0 && o->error == 0)
        o->error = r;
    o->len = 0;
}

// Writes at each newline too: a line is then one write, which concurrent
// threads cannot split.
static void
emit(char c, void *ctx)
{
    struct printf_out *o = ctx;
    o->buf[o->len++] = c;
    if (o->len == PRINTF_CHUNK || c == '\n')
        flush(o);
}

int
vprintf(const char *fmt, va_list ap)
{
    struct printf_out o;
    o.len = 0;
    o.error = 0;
    int n = format_v(emit, &o, fmt, ap);
    flush(&o);
    return o.error ? o.error : n;
}

int
printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int
puts(const char *s)
{
    int n = printf("%s\n", s);
    return n < 0 ? n : 0;
}
