// Isolation holes an attacker found, each closed by the kernel: a killed
// waiter, half-delivered IPC, system calls on the growing stack, ring-3
// descriptor-table reads (UMIP), a heap that kept its frames, and no limit
// on processes or threads.  Helpers: user/iso_child.c.
#include "iso_child.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define SETTLE_TICKS    300             // 3 s: far longer than any clean-up takes

static int s_child = -1;                // iso_child's module index

// Waits until the thread and process counts and the heap's live blocks are
// back to *base; returns whether they came back, leaving the last reading in *now.
static bool
settle(const struct sysinfo *base, struct sysinfo *now, bool processes_too)
{
    unsigned start = sys_time();
    for (;;) {
        if (sys_sysinfo(now) != 0)
            return false;
        if (now->threads == base->threads &&
            (!processes_too || (now->processes == base->processes &&
                                now->heap_live_blocks == base->heap_live_blocks)))
            return true;
        if (sys_time() - start > SETTLE_TICKS)
            return false;
        sys_sleep(1);
    }
}

// Expects every counter settle() watches to be back at *base.
static void
expect_baseline(const struct sysinfo *base)
{
    struct sysinfo now;
    settle(base, &now, true);
    UEXPECT_UEQ(now.threads, base->threads);
    UEXPECT_UEQ(now.processes, base->processes);
    UEXPECT_UEQ(now.heap_live_blocks, base->heap_live_blocks);
}

UTEST(start)
{
    s_child = module_find("iso_child");
    UASSERT_GT(s_child, 0);
}

// A thread in SYS_WAIT on a child that will not end while a sibling calls
// SYS_EXIT: the kill must reach the waiter, so the process ends at once,
// and the child, which then ends too (its holder is gone), is freed
// although nobody waits for it.
UTEST(exit_ends_a_thread_in_wait)
{
    struct sysinfo base, now;
    UASSERT_EQ(sys_sysinfo(&base), 0);
    int pid = sys_spawn((unsigned)s_child);
    UASSERT_GT(pid, 0);
    UASSERT_EQ(sys_ipc_send(pid, ISO_WAIT_KILL, 0, NULL), 0);
    // Waiting for the process could hang the whole run if it never ends.
    if (!UEXPECT_TRUE(settle(&base, &now, false))) {
        utest_note("  threads: %u, %u at the start", now.threads, base.threads);
        return;
    }
    UEXPECT_EQ(sys_wait(pid), ISO_EXIT_CODE);
    expect_baseline(&base);
}

int
main(void)
{
    return utest_run("test_isolation");
}
