// The one way back to ring 3.
//
// Every return to user mode - from int 0x80 and sysenter, from an interrupt
// or an exception taken in ring 3, and a new thread's first entry - calls
// exit_to_user just before the final iret or sysexit.  Here a pending
// reschedule is taken, a killed thread dies, the arena's canary is checked,
// and the scratch arena is emptied.
#include "mm/kfast_arena.h"
#include "thread.h"
#include "trap.h"

void
exit_to_user(struct trap_frame *f)
{
    (void)f;
    struct thread *t = g_current;
    for (;;) {
        if (t->killed)
            thread_exit(t->exit_code);
        if (!g_need_resched)
            break;
        schedule();
    }
    kfast_check(t);
    kfast_reset();      // everything kfastmalloc'd during this kernel entry dies here
}
