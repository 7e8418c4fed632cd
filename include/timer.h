/* The tick, TICK_HZ times a second (include/uapi/syscall.h), on line 0: the
 * PIT's interrupt at boot, the boot CPU's local APIC timer once the I/O APIC
 * takes the device interrupts (include/smp/irq_routing.h).  The PIT keeps
 * counting either way, and is read as a clock. */
#ifndef TANDEM_TIMER_H
#define TANDEM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

void timer_init(void);
// What runs at every tick, in the interrupt, after the count moves, in the
// order added (the scheduler's tick, the log's notification: the timer
// knows nothing above it).  Added once, at init.
struct timer_tick_hook {
    void (*fn)(void);
    struct timer_tick_hook *next;
};
void timer_add_tick_hook(struct timer_tick_hook *hook);
// Timer interrupts since boot.
uint32_t timer_ticks(void);

// The PIT read as a clock that runs without its interrupt.  A test that
// waits for ticks polls one to bound the wait by time, so that a timer
// that no longer interrupts (IRQ 0 masked or left in service, interrupts
// off) fails it with a reason instead of hanging it.  One poll per tick
// period at least counts every period; sparser polls undercount, which
// only lengthens the bound.  still counts the polls in a row that saw the
// same count: a PIT that does not count at all.
struct pit_watch {
    uint16_t last;
    uint32_t periods; // tick periods seen to pass since the start
    uint32_t still;
};
void pit_watch_start(struct pit_watch *w);
uint32_t pit_watch_poll(struct pit_watch *w);

// The PIT's channel 0 read as a microsecond clock that needs no interrupt
// (bring-up times INIT-SIPI-SIPI with it: kernel/smp/smp.c).  Poll it at
// least once per tick period (10 ms); a slower poll only makes it run slow.
// still counts the polls in a row that saw no count go by.
struct pit_clock {
    uint16_t last;
    uint32_t counts; // input clock periods (1.193182 MHz) since the start
    uint32_t still;
};
void pit_clock_start(struct pit_clock *c);
// Microseconds since pit_clock_start (slow by 0.07%, never fast).
uint32_t pit_clock_us(struct pit_clock *c);
// Polls in a row that see no count go by before a wait on the clock gives
// up: the PIT is not counting, and no wait can be timed.
#define PIT_STILL_POLLS 1000000u

#endif
