/* The PIT, programmed to interrupt TICK_HZ times a second (include/uapi/syscall.h). */
#ifndef TANDEM_TIMER_H
#define TANDEM_TIMER_H

#include <stdint.h>

void timer_init(void);
// Runs at every tick, in the interrupt, after the count moves (the
// scheduler installs its tick: the timer knows nothing above it).
typedef void (*timer_tick_hook_t)(void);
void timer_set_tick_hook(timer_tick_hook_t hook);
// Timer interrupts since boot.
uint32_t timer_ticks(void);

#endif
