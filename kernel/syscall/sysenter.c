// The C half of the sysenter entry (kernel/syscall/sysenter_entry.asm).
#include "gdt.h"
#include "kprintf.h"
#include "panic.h"
#include "thread.h"
#include "trap.h"
#include "x86.h"

#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_EIP 0x176

extern void sysenter_entry(void);

void
sysenter_init(void)
{
    wrmsr(MSR_SYSENTER_CS, KERNEL_CS);
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysenter_entry);
}

void
sysenter_dispatch(struct trap_frame *f)
{
    f->eflags |= EFLAGS_IF;     // ring 3 always runs with interrupts on
    syscall_entry(f);
}

// The stub's stack pointer (ebp) was outside user space or unmapped: there
// is no return address, so the thread cannot go on.
void
sysenter_bad_stack(struct trap_frame *f)
{
    struct thread *t = g_current;
    kprintf("thread %u (%s) killed: sysenter with an unusable stack pointer (ebp %08x)\n",
            t->tid, t->name, f->user_esp);
    t->killed = true;
    t->exit_code = 128 + VEC_GP;
    f->eax = (uint32_t)-1;      // no system call: syscall_entry's exit path ends the thread
    sysenter_dispatch(f);
    panic("sysenter_bad_stack: killed thread %u came back", t->tid);
}
