// ATTACK (hole c): one process's EFLAGS.DF reaches another process.
//
// attack_child sets DF before its system calls (yield, gettid, sleep)
// through int 0x80 and sysenter, and spins in ring 3 with DF set.  The
// kernel never clears DF (test_attack_df), and switch_context
// (kernel/thread/switch.asm) does not save or restore EFLAGS: when the
// attacker's yield, sleep or a timer interrupt taken while it spins
// switches to this process, this process goes on running kernel code with
// the attacker's DF - its copy_to_user and copy_from_user run backwards -
// and, returning through sysexit (which keeps the kernel's EFLAGS), it
// even gets DF set in ring 3, where the C code it runs assumes DF clear.
//
// This process meanwhile makes system calls that copy to and from user
// memory through both gates (victim_rounds in attack_common.h: sysinfo and
// cap_info into guarded buffers, an IPC call with a payload to ipc_echo)
// and checks after every one that the data and guards are intact and that
// DF (and AC, NT) are clear in its own EFLAGS.
//
// Today's kernel (observed, first round): the innocent ipc_echo process is
// killed in ring 3 - "thread N (ipc_echo) killed: #PF page fault at eip
// b000400a" - and this process's call fails:
//   expected SYS_IPC_CALL(ipc_echo) == 0, got -3; 64 of 64 reply bytes wrong
// (other runs: EFLAGS.DF expected 0 (as entered), got 1 after a sysenter
// SYS_YIELD; guard bytes below sysinfo's buffer overwritten).  After the fix
// (cld on entry, EFLAGS saved across the switch
// and restored exactly on the way out) every round passes.
#include "attack_common.h"

#define TICKS 50

UTEST(df_from_another_process_int80_and_sysenter)
{
    int proc = attack_child_start("df_both", TICKS, __FILE__, __LINE__);
    UASSERT_GT(proc, 0);
    unsigned rounds = victim_rounds(TICKS, __FILE__, __LINE__);
    UEXPECT_UGT(rounds, 0);
    expect_child_code(proc, 0, __FILE__, __LINE__);
}

int
main(void)
{
    return utest_run("test_attack_df_cross");
}
