/* The one way back to ring 3.
 *
 * Every return to user mode - from int 0x80 and sysenter, from an interrupt
 * or an exception taken in ring 3, and a new thread's first entry - goes
 * through exit_to_user just before the final iret or sysexit.  It takes a
 * pending reschedule, ends a killed thread, checks the arena's canary,
 * empties the scratch arena, seals the frame the thread returns through
 * (trap_frame_seal_user: the privileged bits forced) and drops the big
 * kernel lock every entry from ring 3 took.  Inline, so the common case (nothing pending,
 * nothing allocated) costs a few compares; the rest is in kernel/entry/exit.c.
 */
#ifndef TANDEM_ENTRY_EXIT_H
#define TANDEM_ENTRY_EXIT_H

#include "mm/kfast_arena.h"
#include "spinlock.h"
#include "thread.h"
#include "trap.h"

// Reschedules and ends killed threads until neither is pending.
void exit_to_user_slow(void);

static inline void
exit_to_user(struct trap_frame *f)
{
    struct thread *t = g_current;
    if (unlikely(t->killed | g_need_resched))
        exit_to_user_slow();
    kfast_check("an exit to user mode");
    kfast_reset(); // everything kfastmalloc'd during this kernel entry dies here
    trap_frame_seal_user(f);
    bkl_unlock(); // what is left is this CPU's: the frame and the iret or sysexit
}

// A system call from ring 3 (int 0x80 or sysenter), through to
// exit_to_user: inline in both entries' C halves, which are on every
// system call's path.
static FORCE_INLINE void
syscall_entry(struct trap_frame *f)
{
    bkl_lock(); // exit_to_user drops it
    g_current->kernel_entries++;
    syscall_dispatch(f);
    exit_to_user(f);
}

#endif
