// The objects that exist from boot and never go: one per boot module (the
// right to start a process from it) and one per device a user-space driver
// may be given (an IRQ line, a range of I/O ports, a range of device
// memory).  The first process starts holding all of them.
#include "boot.h"
#include "cap.h"
#include "compiler.h"
#include "lib/string.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

struct module_object {
    struct kobject obj;         // CAP_TYPE_MODULE
    unsigned index;             // into g_boot.modules
};

struct device_object {
    struct kobject obj;         // CAP_TYPE_IRQ, _IOPORT or _MEMORY
    const char *name;
    uint32_t base;              // the IRQ line, the first port, the physical address
    uint32_t size;              // ports or bytes (1 for an IRQ line)
};

static struct module_object s_modules[BOOT_MAX_MODULES];

// What a PC has for user-space drivers.  The kernel keeps IRQ 0 (the PIT,
// its scheduler's clock) and IRQ 2 (the slave PIC's cascade) for itself.
#define IRQ(line, what)        { { CAP_TYPE_IRQ, 1 }, what, line, 1 }
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
    { { CAP_TYPE_IOPORT, 1 }, "com1", 0x3F8, 8 },
    { { CAP_TYPE_IOPORT, 1 }, "ps2-data", 0x60, 1 },
    { { CAP_TYPE_IOPORT, 1 }, "ps2-control", 0x64, 1 },
    { { CAP_TYPE_IOPORT, 1 }, "vga-crtc", 0x3D4, 2 },
    { { CAP_TYPE_MEMORY, 1 }, "vga-text", 0xB8000, 0x1000 },
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
    if (o->type == CAP_TYPE_IRQ || o->type == CAP_TYPE_IOPORT || o->type == CAP_TYPE_MEMORY) {
        const struct device_object *d = (const struct device_object *)o;
        out->base = d->base;
        out->size = d->size;
        strlcpy(out->name, d->name, sizeof(out->name));
        return true;
    }
    return false;
}
