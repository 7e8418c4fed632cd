// Interrupt descriptor table: 32 exceptions, 16 PIC interrupts, int 0x80.
// Loaded empty; entry_init (kernel/entry/trap.c) routes the vectors to the
// stubs, double_fault_init the double fault to its task.
#include "gdt.h"
#include "trap.h"

struct idt_gate {
    uint16_t offset_lo, selector;
    uint8_t zero, type_attr;
    uint16_t offset_hi;
} PACKED;

struct idt_pointer {
    uint16_t limit;
    uint32_t base;
} PACKED;

#define GATE_INTERRUPT32 0x8E // present, DPL 0, 32-bit interrupt gate (clears IF)
#define GATE_DPL3        0x60 // reachable with int from ring 3
#define GATE_TASK        0x85 // present, DPL 0, task gate

static struct idt_gate s_idt[256];

void
idt_set_gate(unsigned vector, uint32_t handler, bool user)
{
    s_idt[vector] = (struct idt_gate){
        .offset_lo = handler & 0xFFFF,
        .selector = KERNEL_CS,
        .type_attr = GATE_INTERRUPT32 | (user ? GATE_DPL3 : 0),
        .offset_hi = handler >> 16,
    };
}

// Routes a vector to a hardware task instead of a handler (the double fault).
void
idt_set_task_gate(unsigned vector, uint16_t tss_selector)
{
    s_idt[vector] = (struct idt_gate){ .selector = tss_selector, .type_attr = GATE_TASK };
}

void
idt_load(void)
{
    struct idt_pointer p = { sizeof(s_idt) - 1, (uint32_t)s_idt };
    __asm__ volatile("lidt %0" : : "m"(p));
}

void
idt_init(void)
{
    idt_load();
}
