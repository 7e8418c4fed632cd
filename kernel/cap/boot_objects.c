// The objects that exist from boot and never go: one per boot module (the
// right to start a process from it), one per device a user-space driver
// may be given (an IRQ line, a range of I/O ports, a range of device
// memory), and the kernel log.  The first process starts holding all of
// them.  An IRQ line and the log are event sources: bound to an endpoint,
// they notify it.
#include "boot.h"
#include "cap.h"
#include "compiler.h"
#include "console.h"
#include "gdt.h"
#include "irq.h"
#include "kmalloc.h"
#include "log.h"
#include "panic.h"
#include "timer.h"
#include "trap.h"
#include "lib/string.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

struct module_object {
    struct kobject obj; // CAP_TYPE_MODULE
    unsigned index;     // into g_boot.modules
};

struct device_object {
    struct kobject obj; // CAP_TYPE_IRQ, _IOPORT or _MEMORY
    const char *name;
    uint32_t base;            // the IRQ line, the first port, the physical address
    uint32_t size;            // ports or bytes (1 for an IRQ line)
    struct notify_source src; // IRQ lines: where the interrupts go
    bool masked;              // IRQ lines: masked since a notification, until SYS_IRQ_ACK
};

// The kernel log as an object: read it, be told when it grows, show it.
static struct log_object {
    struct kobject obj; // CAP_TYPE_LOG
    struct notify_source src;
    struct cap *console_taken_by; // the slot that took the console, or NULL
} s_log = { { CAP_TYPE_LOG, 1 }, { NULL, 0, NULL }, NULL };

static struct module_object s_modules[BOOT_MAX_MODULES];

// What a PC has for user-space drivers.  The kernel keeps IRQ 0 (its tick,
// include/irq.h) and IRQ 2 (the slave PIC's cascade) for itself.
// A braced-initializer macro: see include/lib/list.h.
// clang-format off
#define IRQ(line, what)        { { CAP_TYPE_IRQ, 1 }, what, line, 1, { NULL, 0, NULL }, false }
// clang-format on
static struct device_object s_devices[] = {
    IRQ(1, "irq1-keyboard"),
    IRQ(3, "irq3-com2"),
    IRQ(4, "irq4-com1"),
    IRQ(5, "irq5"),
    IRQ(6, "irq6-floppy"),
    IRQ(7, "irq7-lpt1"),
    IRQ(8, "irq8-rtc"),
    IRQ(9, "irq9"),
    IRQ(10, "irq10"),
    IRQ(11, "irq11"),
    IRQ(12, "irq12-mouse"),
    IRQ(13, "irq13-fpu"),
    IRQ(14, "irq14-ata0"),
    IRQ(15, "irq15-ata1"),
    { { CAP_TYPE_IOPORT, 1 }, "com1", 0x3F8, 8, { NULL, 0, NULL }, false },
    { { CAP_TYPE_IOPORT, 1 }, "ps2-data", 0x60, 1, { NULL, 0, NULL }, false },
    { { CAP_TYPE_IOPORT, 1 }, "ps2-control", 0x64, 1, { NULL, 0, NULL }, false },
    { { CAP_TYPE_IOPORT, 1 }, "vga-crtc", 0x3D4, 2, { NULL, 0, NULL }, false },
    { { CAP_TYPE_MEMORY, 1 }, "vga-text", 0xB8000, 0x1000, { NULL, 0, NULL }, false },
};

int
cap_setup_first(struct process *p, void *unused)
{
    (void)unused;
    int err = cap_table_create(p);
    if (err)
        return err;
    for (unsigned i = 0; i < g_boot.module_count; i++) {
        struct module_object *m = &s_modules[i];
        kobject_init(&m->obj, CAP_TYPE_MODULE);
        m->index = i;
        if (cap_install(p, &m->obj, CAP_SPAWN | CAP_GRANT, 0, NULL) < 0)
            goto full;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(s_devices); i++)
        if (cap_install(p, &s_devices[i].obj, CAP_USE | CAP_GRANT, 0, NULL) < 0)
            goto full;
    if (cap_install(p, &s_log.obj, CAP_USE | CAP_GRANT, 0, NULL) < 0)
        goto full;
    return 0;
full:
    cap_table_destroy(p);
    return -EMFILE;
}

// The module a module object stands for.
unsigned
boot_module_index(const struct kobject *o)
{
    return ((const struct module_object *)o)->index;
}

bool
boot_object_info(const struct kobject *o, struct cap_info *out)
{
    if (o->type == CAP_TYPE_MODULE) {
        const struct boot_module *m = &g_boot.modules[boot_module_index(o)];
        out->base = boot_module_index(o);
        out->size = m->end - m->start;
        strlcpy(out->name, m->name, sizeof(out->name));
        return true;
    }
    if (o->type == CAP_TYPE_LOG) {
        out->base = log_head();
        out->size = LOG_RING_SIZE;
        strlcpy(out->name, "kernel-log", sizeof(out->name));
        return true;
    }
    if (o->type == CAP_TYPE_IRQ || o->type == CAP_TYPE_IOPORT || o->type == CAP_TYPE_MEMORY) {
        const struct device_object *d = (const struct device_object *)o;
        out->base = d->base;
        out->size = d->size;
        strlcpy(out->name, d->name, sizeof(out->name));
        return true;
    }
    return false;
}

// The IRQ objects by line, for the interrupt handler.
static struct device_object *
irq_object(unsigned line)
{
    for (unsigned i = 0; i < ARRAY_SIZE(s_devices); i++)
        if (s_devices[i].obj.type == CAP_TYPE_IRQ && s_devices[i].base == line)
            return &s_devices[i];
    return NULL;
}

// A bound line's interrupt: masked until the driver acknowledges it, and
// told to the endpoint it is bound to.
static void
irq_notify(struct trap_frame *f)
{
    struct device_object *d = irq_object(f->vector - VEC_IRQ0);
    KASSERT(d);
    irq_mask(d->base);
    d->masked = true;
    notify_fire(&d->src);
}

static struct notify_source *
source_of(struct kobject *o)
{
    if (o->type == CAP_TYPE_LOG)
        return &s_log.src;
    if (o->type == CAP_TYPE_IRQ)
        return &((struct device_object *)o)->src;
    return NULL;
}

static void
source_unbind(struct kobject *o, struct notify_source *src)
{
    if (!src->ep)
        return;
    if (o->type == CAP_TYPE_IRQ) {
        struct device_object *d = (struct device_object *)o;
        irq_unregister(d->base);
        d->masked = false;
    }
    kobject_put(&src->ep->obj);
    src->ep = NULL;
    src->bound_by = NULL;
}

int
boot_object_bind(struct kobject *o, struct cap *by, struct endpoint *ep, uint32_t badge)
{
    struct notify_source *src = source_of(o);
    KASSERT(src);
    if (src->bound_by && src->bound_by != by)
        return -EBUSY;
    source_unbind(o, src);
    if (!ep)
        return 0;
    kobject_get(&ep->obj);
    src->ep = ep;
    src->badge = badge;
    src->bound_by = by;
    if (o->type == CAP_TYPE_IRQ)
        irq_register(((struct device_object *)o)->base, irq_notify);
    return 0;
}

void
boot_object_irq_ack(struct kobject *o)
{
    struct device_object *d = (struct device_object *)o;
    if (d->masked && d->src.ep) {
        d->masked = false;
        irq_unmask(d->base);
    }
}

void
boot_object_range(const struct kobject *o, uint32_t *base, uint32_t *size)
{
    const struct device_object *d = (const struct device_object *)o;
    *base = d->base;
    *size = d->size;
}

void
boot_object_take_console(struct kobject *o, struct cap *by)
{
    KASSERT(o == &s_log.obj);
    s_log.console_taken_by = by;
    console_release_devices(true);
}

void
boot_object_slot_closing(struct kobject *o, struct cap *c)
{
    struct notify_source *src = source_of(o);
    if (src && src->bound_by == c)
        source_unbind(o, src);
    if (o == &s_log.obj && s_log.console_taken_by == c) {
        s_log.console_taken_by = NULL;
        console_release_devices(false); // nobody shows the log: the kernel does again
    }
}

// The timer's tick: a log that grew since the last tick tells its reader.
static void
log_tick(void)
{
    if (log_take_news())
        notify_fire(&s_log.src);
}

void
boot_objects_init(void)
{
    static struct timer_tick_hook tick = { .fn = log_tick };
    timer_add_tick_hook(&tick);
    for (unsigned i = 0; i < ARRAY_SIZE(s_devices); i++)
        KASSERT(s_devices[i].obj.type != CAP_TYPE_IOPORT ||
                s_devices[i].base + s_devices[i].size <= IOMAP_PORTS);
}
