// The PIT interrupts and the tick count moves.
#include "ktest.h"
#include "timer.h"
#include "x86.h"

KTEST(timer, ticks_advance_with_interrupts_on)
{
    KASSERT_TRUE(read_eflags() & EFLAGS_IF);
    uint32_t start = timer_ticks();
    // hlt sleeps until the next interrupt; the timer is the only source, so
    // a bounded number of them must see the count move by 5.
    for (int i = 0; i < 100 && timer_ticks() - start < 5; i++)
        hlt();
    KEXPECT_UGE(timer_ticks() - start, 5);
}

KTEST(timer, no_ticks_with_interrupts_off)
{
    uint32_t flags = irq_save();
    uint32_t start = timer_ticks();
    for (volatile int i = 0; i < 200000; i++)
        ;
    KEXPECT_UEQ(timer_ticks(), start);
    irq_restore(flags);
}
