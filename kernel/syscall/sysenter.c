// The C half of the sysenter entry: complete the trap frame, then go the
// same way as int 0x80.
#include "gdt.h"
#include "kprintf.h"
#include "thread.h"
#include "trap.h"
#include "uaccess.h"
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
    // The user stub pushed: return eip, then its ecx and edx (uapi/syscall.h).
    uint32_t stub[3];
    f->eflags |= EFLAGS_IF;
    if (copy_from_user(stub, f->user_esp, sizeof(stub)) != 0) {
        kprintf("thread %u (%s) killed: sysenter with an unreadable stack at %08x\n",
                g_current->tid, g_current->name, f->user_esp);
        g_current->killed = true;
        g_current->exit_code = 128 + VEC_GP;
        f->eax = 0;             // dispatch nothing: exit_to_user ends the thread
    } else {
        f->eip = stub[0];
        f->ecx = stub[1];
        f->edx = stub[2];
        f->user_esp += 4;       // sysexit returns with esp just above the return address
    }
    trap_dispatch(f);
}
