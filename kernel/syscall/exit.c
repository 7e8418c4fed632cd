// The out-of-line part of exit_to_user (include/exit.h).
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
