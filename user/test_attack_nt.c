// ATTACK (hole d): EFLAGS.NT set before sysenter panics the kernel.
//
// sysenter clears IF, VM and RF but not NT, and the sysenter path never
// clears it, so the kernel runs the call with NT set.  switch_context
// (kernel/thread/switch.asm) does not save EFLAGS, so when the call
// reschedules (a yield, a sleep, or a pending reschedule at the exit path)
// the next thread goes on with NT set too.  The first `iret` that runs
// with NT set - the interrupt return of a thread that had been preempted,
// such as the spinning sibling this test keeps running - is a TASK return
// through the TSS back link, which is not a valid TSS: #TS in the kernel.
//
// attack_child makes yield/gettid/sleep calls with NT set (through int 0x80,
// whose interrupt gate clears NT, and through sysenter) and spins with NT
// set in ring 3; this process keeps a pure ring-3 spinner (resumed by iret)
// and makes checked system calls meanwhile (victim_rounds).
//
// What is asserted: the kernel survives, every call's result is right, and
// the privileged state is right after each call (IOPL 0, IF 1, VM 0, cs and
// selectors).  NT itself is not asserted on the attacker's side (EFLAGS
// restored exactly gives it back as set; harmless in ring 3 until an iret
// there); this process, which never sets NT, must never see it.
//
// Today's kernel (observed): nt_before_int80 passes; nt_before_sysenter:
//   PANIC: unhandled #TS invalid TSS in the kernel at eip c014073c
//   (eip c014073c <trap_return+0xa>, the iretd, eflags 00004082: NT set).
#include "attack_common.h"

#define TICKS 40

static void
run(const char *name)
{
    attack_beside_a_spinner(name, TICKS, 0, __FILE__, __LINE__);
}

UTEST(nt_before_int80)
{
    run("nt_int80");
}

UTEST(nt_before_sysenter)
{
    SKIP_WITHOUT_SYSENTER();
    run("nt_sysenter");
}

int
main(void)
{
    return utest_run("test_attack_nt");
}
