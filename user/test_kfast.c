// The scratch arena seen from user space: every way back to ring 3 empties
// it.  Each check reads the calling thread's figures with SYS_KFAST_STATS,
// whose in_use is what the arena holds at that entry: it must be 0 whatever
// the previous entry allocated, and the allocation count shows that the
// previous entry did allocate.  `emptied` is counted by the reset itself
// when it gives something back, so it grows only if the reset happened
// (`resets` counts kernel entries, and would grow without one).
#include "ipc_echo.h"
#include "tandem.h"
#include "utest.h"

static struct kfast_stats
stats(void)
{
    struct kfast_stats st = { 0 };
    sys_kfast_stats(&st);
    return st;
}

UTEST(figures_are_sane)
{
    struct kfast_stats st = stats();
    UEXPECT_UEQ(st.block_size, KSTACK_SIZE);
    UEXPECT_UEQ(st.in_use, 0);
    UEXPECT_UGT(st.stack_low_water, 0);
    UEXPECT_ULT(st.stack_low_water, KSTACK_SIZE);
    UEXPECT_UEQ(st.collisions, 0);
}

UTEST(empty_after_a_syscall_that_allocated)
{
    FOR_EACH_SYSCALL_MODE() {
        struct kfast_stats before = stats();
        static const char line[] = "  # test_kfast: debug_write formats into the arena\n";
        UEXPECT_EQ(sys_debug_write(line, sizeof(line) - 1), (int)sizeof(line) - 1);
        struct kfast_stats after = stats();
        UEXPECT_UEQ(after.in_use, 0);
        // The text, the serial, VGA and tee streams: four allocations.
        UEXPECT_UGE(after.allocations, before.allocations + 4);
        UEXPECT_UGE(after.peak, sizeof(line) - 1);
        // debug_write's entry allocated, so its reset had something to give
        // back (a debug kernel's interrupts in between may add more).
        UEXPECT_UGE(after.emptied, before.emptied + 1);
    }
}

UTEST(empty_after_timer_interrupts_in_ring3)
{
    unsigned start = sys_time();
    struct kfast_stats before = stats();
    // Spin in ring 3 (no system calls) until the timer has interrupted us.
    unsigned resets_seen = before.resets;
    for (volatile unsigned i = 0; i < 200000000u; i++) {
        if ((i & 0xFFFF) == 0) {
            struct kfast_stats now = stats();
            UEXPECT_UEQ(now.in_use, 0);
            if (now.resets > resets_seen + 1) // more exits than our own calls: interrupts
                break;
            resets_seen = now.resets;
        }
    }
    struct kfast_stats after = stats();
    UEXPECT_UEQ(after.in_use, 0);
    UEXPECT_UGT(sys_time(), start);
#if TANDEM_DEBUG
    // Debug kernels record each ring-3 interrupt in the arena (a struct
    // trap_record), so the count proves the interrupt path allocated, and
    // emptied that its exit gave the record back.
    UEXPECT_UGT(after.allocations, before.allocations);
    UEXPECT_UGT(after.emptied, before.emptied);
#endif
}

UTEST(empty_after_a_handled_exception)
{
    struct kfast_stats before = stats();
    // Below the 64 KiB mapped at start: a page fault the kernel resolves by
    // growing the stack, then returns here through the exit path.
    volatile char *below = (volatile char *)(0xBFFF0000u - 64 * 1024 - 100);
    *below = 42;
    UEXPECT_EQ(*below, 42);
    struct kfast_stats after = stats();
    UEXPECT_UEQ(after.in_use, 0);
    UEXPECT_UGT(after.resets, before.resets + 1); // the fault was a kernel entry
#if TANDEM_DEBUG
    UEXPECT_UGT(after.allocations, before.allocations);
    UEXPECT_UGT(after.emptied, before.emptied); // and its record was given back
#endif
}

UTEST(ipc_payload_bounces_through_the_arena)
{
    int echo = -1;
    int proc = echo_start(&echo, 0);
    UASSERT_GT(proc, 0);
    static char data[IPC_BUF_MAX];
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (char)i;
    struct ipc_buf buf = { data, sizeof(data), sizeof(data), 0 };
    struct ipc_words reply;
    struct kfast_stats before = stats();
    UEXPECT_EQ(sys_ipc_call(echo, 1, 2, &buf, &reply), 0);
    struct kfast_stats after = stats();
    UEXPECT_UEQ(after.in_use, 0);
    UEXPECT_UGE(after.peak, IPC_BUF_MAX); // the bounce buffer was in our block
    UEXPECT_UGT(after.allocations, before.allocations);
    UEXPECT_EQ(sys_ipc_call(echo, ECHO_QUIT, 0, NULL, &reply), 0);
    UEXPECT_EQ(sys_wait(proc, 500), 0);
    UEXPECT_EQ(sys_cap_close(proc), 0);
    UEXPECT_EQ(sys_cap_close(echo), 0);
}

int
main(void)
{
    return utest_run("test_kfast");
}
