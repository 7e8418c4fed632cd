// ATTACK (hole e): EFLAGS.TF set before sysenter panics the kernel.
//
// sysenter does not clear TF: the single-step trap comes after the first
// instruction of sysenter_entry, in ring 0, and trap.c's kernel_exception
// has nothing for it.  The required behaviour: the kernel recognises a #DB
// on the first instructions of its sysenter path, clears TF and delivers
// the trap to the user thread as its own debug exception - the fate of any
// ring-3 #DB in Tandem, which kills the thread (exit code 128 + 1).
//
// attack_child makes one SYS_GETTID with TF set as its only thread, so its
// process's exit code is the thread's.  Meanwhile this process keeps a pure
// ring-3 spinner (which must never see TF, and must go on counting) and
// makes checked system calls (victim_rounds).
//
// Through int 0x80 (asserted the same fate): the interrupt gate saves
// EFLAGS with TF and clears it, so the kernel runs without it; iret puts it
// back, and after the first ring-3 instruction that follows (the
// instruction that set TF does not trap, and iret is that instruction
// here), the single step is taken in ring 3: #DB, the thread is killed, 129.
//
// Today's kernel (observed): int 0x80 passes (129); sysenter:
//   PANIC: unhandled #DB debug in the kernel at eip c0140740
//   (eip c0140740 <sysenter_entry+0>  cs 0008  eflags 00000146).
#include "attack_common.h"

#define TICKS 20

static void
run(const char *name)
{
    attack_beside_a_spinner(name, TICKS, 128 + 1, __FILE__, __LINE__);
}

UTEST(tf_before_int80_kills_the_thread)
{
    run("tf_int80");
}

UTEST(tf_before_sysenter_kills_the_thread)
{
    SKIP_WITHOUT_SYSENTER();
    run("tf_sysenter");
}

int
main(void)
{
    return utest_run("test_attack_tf");
}
