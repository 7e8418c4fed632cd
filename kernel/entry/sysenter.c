// The C half of the sysenter entry (kernel/entry/sysenter_entry.asm).
#include "cpu.h"
#include "entry.h"
#include "exit.h"
#include "gdt.h"
#include "kprintf.h"
#include "panic.h"
#include "spinlock.h"
#include "thread.h"
#include "trap.h"
#include "uapi/syscall.h"
#include "x86.h"

extern const uint8_t sysenter_entry[], sysenter_flags_clean[];

// Without SEP the MSRs may not exist (a wrmsr would #GP): sysenter stays
// off, and user programs, told so by syscall_gates, use int 0x80.
void
sysenter_init(void)
{
    if (!g_cpu.sep)
        return;
    wrmsr(MSR_SYSENTER_CS, KERNEL_CS);
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
}

// sysenter keeps TF, so a user that sets it and enters takes #DB at CPL 0
// on the entry's first instructions, before they load the kernel's flags.
// That trap belongs to the user: clear TF so the entry runs on, and have
// sysenter_dispatch put it back in the user's saved flags, so the thread
// single-steps into its next instruction in ring 3 and meets the fate of
// any ring-3 #DB.  Returns false for any other #DB.
bool
sysenter_catch_single_step(struct trap_frame *f)
{
    if (f->vector != VEC_DB || f->eip < (uint32_t)sysenter_entry ||
        f->eip > (uint32_t)sysenter_flags_clean || !(f->eflags & EFLAGS_TF))
        return false;
    f->eflags &= ~EFLAGS_TF;
    // Owed until this CPU's sysenter_dispatch: written and read with
    // interrupts off, between one sysenter and its dispatch, on one CPU.
    THIS_CPU(owed_single_step) = true;
    return true;
}

void
sysenter_dispatch(struct trap_frame *f)
{
    if (unlikely(THIS_CPU(owed_single_step))) {
        f->eflags |= EFLAGS_TF;
        THIS_CPU(owed_single_step) = false;
    }
    syscall_entry(f);
}

// The stub's stack pointer (ebp) was outside user space or unmapped: there
// is no return address, so the thread cannot go on.
void
sysenter_bad_stack(struct trap_frame *f)
{
    struct thread *t = g_current;
    // The stub came here before any lock: the report and the kill are made
    // under the big kernel lock, which syscall_entry then takes again.
    bkl_lock();
    kprintf("thread %u (%s) killed: sysenter with an unusable stack pointer (ebp %08x)\n", t->tid,
            t->name, f->user_esp);
    t->killed = true;
    t->exit_code = 128 + VEC_GP;
    bkl_unlock();
    f->eax = (uint32_t)-1; // no system call: syscall_entry's exit path ends the thread
    sysenter_dispatch(f);
    panic("sysenter_bad_stack: killed thread %u came back", t->tid);
}
