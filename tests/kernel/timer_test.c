// The PIT interrupts and the tick count moves.
#include "irq.h"
#include "ktest.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

KTEST(timer, ticks_advance_with_interrupts_on)
{
    KASSERT_TRUE(read_eflags() & EFLAGS_IF);
    uint32_t start = timer_ticks();
    // Polled, not hlt: if no interrupt comes at all, hlt never returns.
    // The PIT's own count bounds the wait by time (ten times what 5 ticks
    // take), so a timer that stopped interrupting fails here with a reason.
    struct pit_watch clock;
    pit_watch_start(&clock);
    while (timer_ticks() - start < 5 && pit_watch_poll(&clock) < 50 && clock.still < 100000)
        cpu_relax();
    uint32_t ticks = timer_ticks() - start;
    if (ticks < 5)
        ktest_fail(__FILE__, __LINE__, false,
                   "timer ticks did not advance: %u ticks while the "
                   "PIT counted %u periods (IRQs in service %#x, masked %#x)",
                   ticks, clock.periods, irq_in_service(), irq_masked());
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

// The PIT read as a clock (pit_clock, which times INIT-SIPI-SIPI) never
// runs fast: while it counts 100 ms, the tick interrupts count at least 9
// of their 10 ms periods.  A clock that ran slow by more than 3x would
// fail too.
KTEST(timer, pit_clock_agrees_with_the_ticks)
{
    KASSERT_TRUE(read_eflags() & EFLAGS_IF);
    struct pit_clock clock;
    pit_clock_start(&clock);
    uint32_t start = timer_ticks();
    while (pit_clock_us(&clock) < 100000 && clock.still < PIT_STILL_POLLS)
        cpu_relax();
    uint32_t ticks = timer_ticks() - start;
    KEXPECT_LT(clock.still, PIT_STILL_POLLS);
    KEXPECT_GE(ticks, 9);
    KEXPECT_LE(ticks, 30);
}
