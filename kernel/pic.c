// The two 8259A interrupt controllers, remapped to vectors 32-47
// (include/pic.h).
#include "pic.h"
#include "irq.h"
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

// Why: include/irq.h, irq_end_abandoned.
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
pic_mask_all(void)
{
    outb(PIC1_DATA, 0xFF);
    outb(PIC2_DATA, 0xFF);
}

// A spurious IRQ 7/15 is one whose in-service bit is clear: it gets no EOI
// from its own PIC (the master still needs one for a spurious IRQ 15).
bool
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

const struct irq_controller g_irq_8259 = {
    .name = "8259",
    .mask = pic_mask,
    .unmask = pic_unmask,
    .swallow = pic_spurious,
    .eoi = pic_eoi,
    .in_service = pic_in_service,
    .masked = pic_masked,
    .end_abandoned = pic_end_abandoned,
};
