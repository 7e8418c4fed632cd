/* Inside the entry layer (kernel/entry/): what its files and its assembly
 * call in one another.  The rest of the kernel sees include/trap.h. */
#ifndef TANDEM_ENTRY_ENTRY_H
#define TANDEM_ENTRY_ENTRY_H

#include <stdbool.h>
#include "compiler.h"
#include "trap.h"

// traps.asm: the stub table (IDT vectors 0-47, then int 0x80), the
// common return that pops a frame and irets, and a new user thread's
// first iret (esp onto its frame, then trap_return).
extern const uint32_t g_trap_stubs[48];
extern const uint32_t g_syscall_stub;
extern const uint32_t g_apic_stubs[4]; // VEC_LAPIC_TIMER, VEC_RESCHEDULE, VEC_XCALL, VEC_SPURIOUS
NORETURN void enter_user(struct trap_frame *f);

// trap.c: every trap stub's C half.
void trap_dispatch(struct trap_frame *f);

// sysenter.c: the C half of sysenter_entry.asm.
void sysenter_dispatch(struct trap_frame *f);
NORETURN void sysenter_bad_stack(struct trap_frame *f);
// #DB taken on the first instructions of the sysenter entry because ring 3
// entered with TF set: handled (true) by owing the trap to the user thread.
bool sysenter_catch_single_step(struct trap_frame *f);

// exit.c: a new user thread's first run (the thread layer's user-start
// hook), out through exit_to_user like every return to ring 3.
NORETURN void uthread_start(void);

#endif
