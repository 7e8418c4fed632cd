// The I/O APIC's redirection table for the ISA IRQs (include/smp/ioapic.h).
#include "smp/ioapic.h"
#include "lib/format.h"
#include "mm/paging.h"
#include "smp.h"
#include "trap.h"
#include "x86.h"

// Registers are reached through a select register and a window.
#define IOAPIC_REGSEL      0x00
#define IOAPIC_WINDOW      0x10
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_REDIR   0x10 // entry n: 0x10 + 2n (low word), + 1 (high word)
#define IOAPIC_MAPPED      (IOAPIC_WINDOW + 4)

// Where each ISA IRQ went (regs NULL: nowhere).  The I/O APIC that holds
// them has GSI base 0: a GSI is its input.
static struct {
    volatile uint32_t *regs;
    uint32_t gsi;
} s_isa[ISA_IRQS];

// Select then window: two accesses that must not be split by another pair,
// so interrupts are off around them (and every caller holds the big kernel
// lock, or runs before the APs are released).
static uint32_t
reg_read(volatile uint32_t *regs, uint32_t reg)
{
    uint32_t flags = irq_save();
    regs[IOAPIC_REGSEL / 4] = reg;
    uint32_t value = regs[IOAPIC_WINDOW / 4];
    irq_restore(flags);
    return value;
}

static void
reg_write(volatile uint32_t *regs, uint32_t reg, uint32_t value)
{
    uint32_t flags = irq_save();
    regs[IOAPIC_REGSEL / 4] = reg;
    regs[IOAPIC_WINDOW / 4] = value;
    irq_restore(flags);
}

bool
ioapic_version(uint32_t phys, uint32_t *version)
{
    volatile uint32_t *regs = phys_map(phys, IOAPIC_MAPPED, PHYS_MAP_DEVICE);
    if (!regs)
        return false;
    *version = reg_read(regs, IOAPIC_REG_VERSION);
    return true;
}

// The override for ISA IRQ irq, or NULL.
static const struct irq_override *
override_of(const struct machine_tables *t, unsigned irq)
{
    for (unsigned i = 0; i < t->override_count; i++)
        if (t->overrides[i].bus == 0 && t->overrides[i].irq == irq)
            return &t->overrides[i];
    return NULL;
}

// Whether another ISA IRQ's override takes gsi (IRQ 2's GSI is IRQ 0's
// on most machines: the cascade has no input of its own).
static bool
gsi_taken(const struct machine_tables *t, unsigned irq, uint32_t gsi)
{
    for (unsigned i = 0; i < t->override_count; i++) {
        const struct irq_override *o = &t->overrides[i];
        if (o->bus == 0 && o->irq != irq && o->gsi == gsi)
            return true;
    }
    return false;
}

// The entry's low word: vector, fixed delivery, physical destination, the
// polarity and trigger the override gives (ISA's where it says "as the bus"),
// masked.
static uint32_t
entry_low(unsigned irq, const struct irq_override *o)
{
    uint16_t flags = o ? o->flags : 0;
    uint32_t low = (VEC_IRQ0 + irq) | IOAPIC_MASKED;
    if (INTI_POLARITY(flags) == INTI_LOW)
        low |= IOAPIC_ACTIVE_LOW;
    if (INTI_TRIGGER(flags) == INTI_LEVEL)
        low |= IOAPIC_LEVEL;
    return low;
}

unsigned
ioapic_route_isa(const struct machine_tables *t, const uint32_t *versions, uint8_t dest, char *why,
                 size_t why_len)
{
    volatile uint32_t *isa_regs = NULL;
    unsigned isa_inputs = 0;
    for (unsigned i = 0; i < t->ioapic_count; i++) {
        if (!smp_ioapic_answers(versions[i]))
            continue;
        volatile uint32_t *regs = phys_map(t->ioapics[i].phys, IOAPIC_MAPPED, PHYS_MAP_DEVICE);
        if (!regs)
            continue;
        unsigned inputs = ((versions[i] >> 16) & 0xFF) + 1;
        for (unsigned n = 0; n < inputs; n++)
            reg_write(regs, IOAPIC_REG_REDIR + 2 * n, IOAPIC_MASKED);
        if (t->ioapics[i].gsi_base == 0 && !isa_regs) {
            isa_regs = regs;
            isa_inputs = inputs;
        }
    }
    if (!isa_regs) {
        if (t->ioapic_count == 0)
            ksnprintf(why, why_len, "the tables list no I/O APIC");
        else
            ksnprintf(why, why_len, "no I/O APIC of the %u listed answers with GSI 0",
                      t->ioapic_count);
        return 0;
    }
    for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
        const struct irq_override *o = override_of(t, irq);
        uint32_t gsi = o ? o->gsi : irq;
        if (gsi >= isa_inputs || (!o && gsi_taken(t, irq, gsi)))
            continue;
        s_isa[irq].regs = isa_regs;
        s_isa[irq].gsi = gsi;
        reg_write(isa_regs, IOAPIC_REG_REDIR + 2 * gsi + 1, (uint32_t)dest << 24);
        reg_write(isa_regs, IOAPIC_REG_REDIR + 2 * gsi, entry_low(irq, o));
    }
    return isa_inputs;
}

bool
ioapic_isa_routed(unsigned irq)
{
    return irq < ISA_IRQS && s_isa[irq].regs;
}

uint32_t
ioapic_isa_gsi(unsigned irq)
{
    return s_isa[irq].gsi;
}

void
ioapic_isa_entry(unsigned irq, uint32_t *low, uint32_t *high)
{
    uint32_t reg = IOAPIC_REG_REDIR + 2 * s_isa[irq].gsi;
    *low = reg_read(s_isa[irq].regs, reg);
    *high = reg_read(s_isa[irq].regs, reg + 1);
}

void
ioapic_isa_mask(unsigned irq, bool masked)
{
    if (!ioapic_isa_routed(irq))
        return;
    uint32_t reg = IOAPIC_REG_REDIR + 2 * s_isa[irq].gsi;
    uint32_t flags = irq_save();
    uint32_t low = reg_read(s_isa[irq].regs, reg);
    reg_write(s_isa[irq].regs, reg, masked ? low | IOAPIC_MASKED : low & ~IOAPIC_MASKED);
    irq_restore(flags);
}

bool
ioapic_isa_masked(unsigned irq)
{
    if (!ioapic_isa_routed(irq))
        return true;
    return reg_read(s_isa[irq].regs, IOAPIC_REG_REDIR + 2 * s_isa[irq].gsi) & IOAPIC_MASKED;
}
