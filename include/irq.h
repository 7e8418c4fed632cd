/* Device interrupts, whichever controller delivers them (kernel/irq.c;
 * docs/design.md, "Device interrupts").
 *
 * IRQs 0-15 are the ISA lines, delivered at vectors VEC_IRQ0 + irq.  At
 * boot the 8259 pair delivers them (include/pic.h); irq_routing_init
 * (include/smp/irq_routing.h) moves them to the I/O APIC when the machine
 * has one that answers and the command line does not say `noioapic`.
 * Line 0 is the kernel's tick: the PIT's, or under the I/O APIC the boot
 * CPU's local APIC timer, at the same vector, so that its handler, EOI
 * and in-service bit stay line 0's.  Everything here runs with interrupts
 * off or under the big kernel lock. */
#ifndef TANDEM_IRQ_H
#define TANDEM_IRQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "trap.h"

typedef void (*irq_handler_t)(struct trap_frame *f);
// Installs handler for irq and unmasks it; unregistering masks it first.
void irq_register(unsigned irq, irq_handler_t handler);
void irq_unregister(unsigned irq);
void irq_mask(unsigned irq);
void irq_unmask(unsigned irq);
// Runs the handler of the IRQ a trap frame's vector names, after the EOI.
void irq_dispatch(struct trap_frame *f);

// Which controller delivers, and how it is driven.  The 8259's (kernel/pic.c)
// until irq_controller_use switches (kernel/smp/irq_routing.c installs the
// I/O APIC's: the smp layer sits above this one).  swallow may be NULL.
struct irq_controller {
    const char *name;
    void (*mask)(unsigned irq);
    void (*unmask)(unsigned irq);
    bool (*swallow)(unsigned irq); // one not for the handler (spurious, held): its EOI is sent
    void (*eoi)(unsigned irq);
    uint16_t (*in_service)(void);
    uint16_t (*masked)(void);
    uint16_t (*end_abandoned)(void);
};
extern const struct irq_controller g_irq_8259;
// Switches to c, with interrupts off: the lines with handlers are unmasked
// on it (the old one is the caller's to silence).
void irq_controller_use(const struct irq_controller *c);
const struct irq_controller *irq_controller(void);

// The calling CPU's lines in service (delivered, no EOI yet), and the
// masked lines, IRQ n at bit n.  The I/O APIC delivers to the boot CPU
// only, so elsewhere no line is ever in service.
uint16_t irq_in_service(void);
uint16_t irq_masked(void);
// A recovery point (a collision or a panic a test expected) longjmps out
// of whatever the kernel was doing - possibly an interrupt whose EOI was
// still to come: irq_dispatch sends it only after the kernel-mode entry's
// canary check, and an interrupt whose frame lands in a stack guard never
// reaches irq_dispatch at all.  Its in-service bit would then block that
// IRQ and every one of lower priority for good; for line 0, the tick is
// gone.  Handlers run with interrupts off and EOI before anything else,
// so at a recovery point every bit still in service (on this CPU, for a
// local APIC) belongs to an abandoned handler: this ends each one, and
// returns the lines it ended.  Prints nothing: it runs on whatever stack
// the recovery left.
uint16_t irq_end_abandoned(void);

#endif
