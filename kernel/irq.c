// Device interrupts over whichever controller delivers them (include/irq.h).
#include "irq.h"
#include "kprintf.h"

#define LINES 16

static irq_handler_t s_handlers[LINES];
static const struct irq_controller *s_controller = &g_irq_8259;

void
irq_controller_use(const struct irq_controller *c)
{
    s_controller = c;
    for (unsigned irq = 0; irq < LINES; irq++)
        if (s_handlers[irq])
            c->unmask(irq);
}

const struct irq_controller *
irq_controller(void)
{
    return s_controller;
}

void
irq_mask(unsigned irq)
{
    s_controller->mask(irq);
}

void
irq_unmask(unsigned irq)
{
    s_controller->unmask(irq);
}

void
irq_register(unsigned irq, irq_handler_t handler)
{
    s_handlers[irq] = handler;
    irq_unmask(irq);
}

void
irq_unregister(unsigned irq)
{
    irq_mask(irq);
    s_handlers[irq] = NULL;
}

void
irq_dispatch(struct trap_frame *f)
{
    unsigned irq = f->vector - VEC_IRQ0;
    if (s_controller->swallow && s_controller->swallow(irq))
        return;
    // EOI first: a handler may switch threads and not come back for a while.
    s_controller->eoi(irq);
    if (s_handlers[irq])
        s_handlers[irq](f);
    else
        kprintf("irq: unexpected IRQ %u\n", irq);
}

uint16_t
irq_in_service(void)
{
    return s_controller->in_service();
}

uint16_t
irq_masked(void)
{
    return s_controller->masked();
}

uint16_t
irq_end_abandoned(void)
{
    return s_controller->end_abandoned();
}
