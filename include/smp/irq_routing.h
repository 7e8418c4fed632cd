/* Where the device interrupts and the boot CPU's tick come from
 * (kernel/smp/irq_routing.c; docs/design.md, "Device interrupts").
 *
 * irq_routing_init, from kmain after smp_init and before interrupts are
 * on, moves the ISA IRQs from the 8259 to the I/O APIC when the firmware's
 * tables name one that answers with GSI 0 and the command line does not
 * say `noioapic`: the I/O APIC's entries route them to the boot CPU, every
 * 8259 line and the boot CPU's LINT0 are masked, EOIs go to the local
 * APIC.  The tick moves with them to the boot CPU's local APIC timer (the
 * PIT only calibrates it and is read as a clock), unless that timer does
 * not count, when the PIT's line stays open on the I/O APIC.  Otherwise
 * nothing changes: the 8259 and the PIT, as on a machine without an
 * APIC. */
#ifndef TANDEM_SMP_IRQ_ROUTING_H
#define TANDEM_SMP_IRQ_ROUTING_H

#include <stdbool.h>
#include <stddef.h>

void irq_routing_init(void);
// Whether the I/O APIC delivers the device interrupts, and whether the
// boot CPU's local APIC timer is the tick (line 0).
bool irq_routing_via_ioapic(void);
bool irq_routing_tick_on_lapic(void);
// "irqs: ioapic (24 inputs), timer: lapic (N counts a tick)", or "irqs:
// 8259 (why), timer: pit"; returns what ksnprintf does.
int irq_routing_summary_line(char *buf, size_t size);

#endif
