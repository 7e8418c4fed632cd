// ATTACK (hole f): EFLAGS.AC set before a system call.
//
// CR0.AM is on, so in ring 3 EFLAGS.AC turns misaligned accesses into #AC.
// Neither gate clears AC, the kernel never does, and switch_context does
// not save EFLAGS: a thread that enters with AC set lends it to whatever
// thread the call switches to, and sysexit (which keeps the kernel's
// EFLAGS) hands it to that thread in ring 3, where it never asked for
// alignment checks (on hardware that checks them, its next misaligned
// access kills it with #AC; QEMU's TCG does not check, so the tests look at
// the flag itself).
//
// Two halves: this process enters every call with AC set and checks the
// result and what comes back (AC as it entered it, IOPL 0, IF 1, registers);
// attack_child enters with AC set and spins with it while this process
// makes checked calls with AC clear (victim_rounds), which must come back
// with AC still clear.
//
// Today's kernel (observed): the in-process calls work; the cross-process
// half fails with, e.g.,
//   SYS_IPC_CALL via sysenter (no extra flag): EFLAGS.AC expected 0 (as
//   entered), got 1 (in 00000246, out 00040282)
#include "attack_common.h"

#define TICKS 40

UTEST(calls_with_ac_set)
{
    static uint8_t area[64 + 2 * GUARD_BYTES];
    for (int g = FLAGCALL_INT80; g <= gate_last(); g++) {
        utest_context(s_gate_names[g]);
        struct flagcall fc;
        fc_init(&fc, g, EFLAGS_AC, SYS_GETTID, 0x11100111u, 0x22200222u, 0x33300333u, 0x44400444u,
                0x55500555u);
        UEXPECT_EQ(flagcall(&fc), sys_gettid());
        FC_CHECK_EXIT(&fc, "SYS_GETTID", EFLAGS_AC);
        struct sysinfo *si = (struct sysinfo *)guard_init(area, sizeof *si);
        fc_init(&fc, g, EFLAGS_AC, SYS_SYSINFO, (uintptr_t)si, 0x22200222u, 0x33300333u,
                0x44400444u, 0x55500555u);
        UEXPECT_EQ(flagcall(&fc), 0);
        FC_CHECK_EXIT(&fc, "SYS_SYSINFO", EFLAGS_AC);
        GUARD_CHECK(area, sizeof *si, "SYS_SYSINFO", &fc);
        UEXPECT_UEQ(si->test_mode, 1);
        fc_init(&fc, g, EFLAGS_AC, SYS_YIELD, 0, 0x22200222u, 0x33300333u, 0x44400444u,
                0x55500555u);
        UEXPECT_EQ(flagcall(&fc), 0);
        FC_CHECK_EXIT(&fc, "SYS_YIELD", EFLAGS_AC);
    }
}

UTEST(ac_from_another_process)
{
    int proc = attack_child_start("ac_both", TICKS, __FILE__, __LINE__);
    UASSERT_GT(proc, 0);
    victim_rounds(TICKS, __FILE__, __LINE__);
    expect_child_code(proc, 0, __FILE__, __LINE__);
}

int
main(void)
{
    return utest_run("test_attack_ac");
}
