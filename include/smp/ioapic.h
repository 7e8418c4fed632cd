/* The I/O APIC (Intel 82093AA datasheet): where the ISA IRQs go when the
 * machine has one that answers (kernel/smp/ioapic.c; docs/design.md,
 * "Device interrupts").
 *
 * ioapic_route_isa programs a redirection entry for each ISA IRQ the
 * firmware's tables let it place: its global system interrupt is its own
 * number unless an interrupt source override says otherwise (QEMU's and
 * most firmware's move IRQ 0 to GSI 2), its polarity and trigger are the
 * override's or ISA's (active-high, edge).  Each entry delivers vector
 * VEC_IRQ0 + irq, fixed, to the boot CPU, and starts masked; irq.c unmasks
 * the lines that have handlers.  Every other input stays masked. */
#ifndef TANDEM_SMP_IOAPIC_H
#define TANDEM_SMP_IOAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "smp/tables.h"

#define ISA_IRQS 16

// A redirection entry's low word (the high word's bits 31:24 hold the
// destination APIC id).
#define IOAPIC_VECTOR     0xFFu
#define IOAPIC_ACTIVE_LOW (1u << 13)
#define IOAPIC_LEVEL      (1u << 15)
#define IOAPIC_MASKED     (1u << 16)

// An interrupt source override's flags (MPS INTI flags): 0 in either field
// means "as the bus says".
#define INTI_POLARITY(flags) ((flags)&3u)
#define INTI_TRIGGER(flags)  (((flags) >> 2) & 3u)
#define INTI_HIGH            1u
#define INTI_LOW             3u
#define INTI_EDGE            1u
#define INTI_LEVEL           3u

// An I/O APIC's version register (version in 7:0, the highest redirection
// entry in 23:16), read through a mapping of its registers at phys; false
// if they cannot be mapped.
bool ioapic_version(uint32_t phys, uint32_t *version);

// Masks every input of every I/O APIC of t that answers (versions: as
// g_smp.ioapic_versions) and routes the ISA IRQs to the APIC id dest.
// Returns the inputs of the I/O APIC that holds GSI 0, or 0 with why if no
// I/O APIC that answers has a known GSI base of 0 (the ISA lines cannot be
// placed).
unsigned ioapic_route_isa(const struct machine_tables *t, const uint32_t *versions, uint8_t dest,
                          char *why, size_t why_len);
// Whether ISA IRQ irq has an entry; its GSI and its entry (low word, high
// word) as read back from the I/O APIC.
bool ioapic_isa_routed(unsigned irq);
uint32_t ioapic_isa_gsi(unsigned irq);
void ioapic_isa_entry(unsigned irq, uint32_t *low, uint32_t *high);
// Masks or unmasks ISA IRQ irq's entry (nothing for a line without one).
void ioapic_isa_mask(unsigned irq, bool masked);
// Whether its entry is masked (true for a line without one).
bool ioapic_isa_masked(unsigned irq);

#endif
