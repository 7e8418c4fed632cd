// The two 8259A interrupt controllers, remapped to vectors 32-47.
#include <stddef.h>
#include "kprintf.h"
#include "trap.h"
#include "x86.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xA0
#define PIC2_DATA 0xA1
#define PIC_EOI   0x20
#define ICW1_INIT 0x11 // edge triggered, cascade, ICW4 follows
#define ICW4_8086 0x01
#define OCW3_ISR  0x0B // next read of CMD returns the in-service register
#define OCW2_SEOI 0x60 // specific EOI: OR in the IRQ's number on its PIC

static irq_handler_t s_handlers[16];

void
pic_init(void)
{
    outb(PIC1_CMD, ICW1_INIT);
    outb(PIC2_CMD, ICW1_INIT);
    outb(PIC1_DATA, VEC_IRQ0); // ICW2: vector base
    outb(PIC2_DATA, VEC_IRQ0 + 8);
    outb(PIC1_DATA, 1 << 2); // ICW3: slave on IRQ 2
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, ICW4_8086);
    outb(PIC2_DATA, ICW4_8086);
    outb(PIC1_DATA, 0xFF & ~(1 << 2)); // everything masked but the cascade
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

uint16_t
pic_in_service(void)
{
    outb(PIC1_CMD, OCW3_ISR);
    outb(PIC2_CMD, OCW3_ISR);
    return (uint16_t)(inb(PIC1_CMD) | inb(PIC2_CMD) << 8);
}

uint16_t
pic_masked(void)
{
    return (uint16_t)(inb(PIC1_DATA) | inb(PIC2_DATA) << 8);
}

// A recovery point (a collision or a panic a test expected) longjmps out
// of whatever the kernel was doing - possibly an interrupt whose EOI was
// still to come: irq_dispatch sends it only after the kernel-mode entry's
// canary check, and an interrupt whose frame lands in a stack guard never
// reaches irq_dispatch at all.  Its in-service bit would then block that
// IRQ and every one of lower priority for good; for IRQ 0, the timer is
// gone.  Handlers run with interrupts off and EOI before anything else,
// so at a recovery point every bit still in service belongs to an
// abandoned handler: end each one.  Prints nothing: it runs on whatever
// stack the recovery left.
uint16_t
pic_end_abandoned(void)
{
    uint16_t isr = pic_in_service();
    for (unsigned irq = 16; irq-- > 0;) { // the slave first, then the cascade's bit
        if (isr & (1u << irq))
            outb(irq < 8 ? PIC1_CMD : PIC2_CMD, OCW2_SEOI | (irq & 7));
    }
    return isr;
}

void
pic_mask(unsigned irq)
{
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) | (1 << (irq & 7)));
}

void
irq_register(unsigned irq, irq_handler_t handler)
{
    s_handlers[irq] = handler;
    pic_unmask(irq);
}

void
irq_unregister(unsigned irq)
{
    pic_mask(irq);
    s_handlers[irq] = NULL;
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
