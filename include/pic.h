/* The two 8259A interrupt controllers (kernel/pic.c): the device IRQs'
 * controller on machines without a usable I/O APIC, and kept initialised,
 * every line masked, on those with one.  The rest of the kernel goes
 * through include/irq.h, which picks the controller. */
#ifndef TANDEM_PIC_H
#define TANDEM_PIC_H

#include <stdbool.h>
#include <stdint.h>

// Remaps IRQs 0-15 to vectors VEC_IRQ0..+15, every line masked but the
// cascade.
void pic_init(void);
void pic_mask(unsigned irq);
void pic_unmask(unsigned irq);
// Every line masked, the cascade too: the I/O APIC has taken over.
void pic_mask_all(void);
void pic_eoi(unsigned irq);
// Whether IRQ 7 or 15 was spurious (its in-service bit clear); a spurious
// IRQ 15 has been given the master's EOI it needs.
bool pic_spurious(unsigned irq);
// In-service and mask registers, IRQ n at bit n (slave in the high byte).
uint16_t pic_in_service(void);
uint16_t pic_masked(void);
// Ends the service of every IRQ in service; returns those it ended.
uint16_t pic_end_abandoned(void);

#endif
