/* The PIT, programmed to interrupt PIT_HZ times a second (include/config.h). */
#ifndef TANDEM_TIMER_H
#define TANDEM_TIMER_H

#include <stdint.h>

void timer_init(void);
// Timer interrupts since boot.
uint32_t timer_ticks(void);

#endif
