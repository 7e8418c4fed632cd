// Output streams over the console devices and the kernel log, made by
// factories in the arena.
#include "console.h"
#include "kfast.h"
#include "log.h"
#include "ostream.h"
#include "x86.h"

struct tee_stream {
    struct ostream base;
    struct ostream *a, *b;
};

static size_t
serial_stream_write(struct ostream *self, const char *buf, size_t len)
{
    (void)self;
    serial_write(buf, len);
    return len;
}

static size_t
vga_stream_write(struct ostream *self, const char *buf, size_t len)
{
    (void)self;
    vga_write(buf, len);
    return len;
}

static size_t
log_stream_write(struct ostream *self, const char *buf, size_t len)
{
    (void)self;
    log_write(buf, len);
    return len;
}

static size_t
tee_stream_write(struct ostream *self, const char *buf, size_t len)
{
    struct tee_stream *t = (struct tee_stream *)self;
    // Both halves together, so a line from an interrupt cannot split it.
    uint32_t flags = irq_save();
    size_t a = ostream_write(t->a, buf, len), b = ostream_write(t->b, buf, len);
    irq_restore(flags);
    return a < b ? a : b;
}

static struct ostream *
ostream_make(size_t (*write)(struct ostream *, const char *, size_t), const char *name)
{
    struct ostream *s = kfastmalloc(sizeof(*s));
    if (s) {
        s->write = write;
        s->name = name;
    }
    return s;
}

struct ostream *
ostream_serial(void)
{
    return ostream_make(serial_stream_write, "serial");
}

struct ostream *
ostream_vga(void)
{
    return ostream_make(vga_stream_write, "vga");
}

struct ostream *
ostream_log(void)
{
    return ostream_make(log_stream_write, "log");
}

struct ostream *
ostream_tee(struct ostream *a, struct ostream *b)
{
    if (!a || !b)
        return NULL;
    struct tee_stream *t = kfastmalloc(sizeof(*t));
    if (!t)
        return NULL;
    t->base.write = tee_stream_write;
    t->base.name = "tee";
    t->a = a;
    t->b = b;
    return &t->base;
}

struct ostream *
ostream_console(void)
{
    if (console_devices_released())
        return ostream_log();
    return ostream_tee(ostream_log(), ostream_tee(ostream_serial(), ostream_vga()));
}
