/* Stopping the other CPUs when one panics (kernel/smp/halt.c;
 * docs/design.md, "Cross-CPU calls").
 *
 * The panicking CPU sends every other an NMI and waits a moment for each to
 * say it stopped; it does not depend on them.  An NMI, not a cross-CPU
 * call: a CPU spinning with interrupts off (waiting on a call, or on the
 * CPU that just panicked) takes nothing else, and a call would wait for an
 * acknowledgement a stuck CPU never gives.  Only one CPU reports a panic
 * (kernel/panic.c): a second that panics meanwhile halts without a word. */
#ifndef TANDEM_SMP_HALT_H
#define TANDEM_SMP_HALT_H

#include <stdbool.h>
#include "compiler.h"

// Installs the panic path's hooks (once the APs are online).
void smp_halt_init(void);
// Whether a CPU has panicked and asked the others to stop: an NMI then
// means "stop", and the entry layer calls smp_halt_here.
bool smp_halt_requested(void);
// Notes that this CPU stopped, and halts it for good (interrupts off; the
// NMI being served blocks further NMIs).
NORETURN void smp_halt_here(void);

#endif
