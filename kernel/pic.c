// The two 8259A interrupt controllers, remapped to vectors 32-47.
#include <stddef.h>
#include "kprintf.h"
#include "trap.h"
#include "x86.h"

#define PIC1_CMD    0x20
#define PIC1_DATA   0x21
#define PIC2_CMD    0xA0
#define PIC2_DATA   0xA1
#define PIC_EOI     0x20
#define ICW1_INIT   0x11        // edge triggered, cascade, ICW4 follows
#define ICW4_8086   0x01
#define OCW3_ISR    0x0B        // next read of CMD returns the in-service register

static irq_handler_t s_handlers[16];

void
pic_init(void)
{
    outb(PIC1_CMD, ICW1_INIT);
    outb(PIC2_CMD, ICW1_INIT);
    outb(PIC1_DATA, VEC_IRQ0);          // ICW2: vector base
    outb(PIC2_DATA, VEC_IRQ0 + 8);
    outb(PIC1_DATA, 1 << 2);            // ICW3: slave on IRQ 2
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, ICW4_8086);
    outb(PIC2_DATA, ICW4_8086);
    outb(PIC1_DATA, 0xFF & ~(1 << 2));  // everything masked but the cascade
    outb(PIC2_DATA, 0xFF);
}

void
pic_unmask(unsigned irq)
{
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) & ~(1 << (irq & 7)));
}

void
pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, PIC_EOI);
    outb(PIC1_CMD, PIC_EOI);
}

void
irq_register(unsigned irq, irq_handler_t handler)
{
    s_handlers[irq] = handler;
    pic_unmask(irq);
}

// A spurious IRQ 7/15 is one whose in-service bit is clear: it gets no EOI
// from its own PIC (the master still needs one for a spurious IRQ 15).
static bool
pic_spurious(unsigned irq)
{
    if (irq != 7 && irq != 15)
        return false;
    uint16_t cmd = irq == 7 ? PIC1_CMD : PIC2_CMD;
    outb(cmd, OCW3_ISR);
    if (inb(cmd) & 0x80)
        return false;
    if (irq == 15)
        outb(PIC1_CMD, PIC_EOI);
    return true;
}

void
irq_dispatch(struct trap_frame *f)
{
    unsigned irq = f->vector - VEC_IRQ0;
    if (pic_spurious(irq))
        return;
    // EOI first: a handler may switch threads and not come back for a while.
    pic_eoi(irq);
    if (s_handlers[irq])
        s_handlers[irq](f);
    else
        kprintf("irq: unexpected IRQ %u\n", irq);
}
