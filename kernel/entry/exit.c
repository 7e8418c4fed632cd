// The out-of-line part of exit_to_user (kernel/entry/exit.h), and a new
// user thread's first way out.
#include "entry.h"
#include "exit.h"

void
exit_to_user_slow(void)
{
    struct thread *t = g_current;
    for (;;) {
        if (t->killed)
            thread_exit(t->exit_code);
        if (!g_need_resched)
            return;
        schedule();
    }
}

// A new user thread's first run: out through the one exit path, like any
// return to ring 3.
void
uthread_start(void)
{
    struct trap_frame *f = thread_user_frame(g_current);
    exit_to_user(f);
    enter_user(f);
}
