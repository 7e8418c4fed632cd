// Double faults: a kernel stack that ran off its limits, reported from a
// task with its own stack instead of ending in a triple fault.
//
// The usual cause in Tandem is a page missing from a block's stack view
// (include/mm/block.h): the stack grew into the arena's claimed pages, or
// off the bottom of its block; the page fault could not be pushed on that
// stack, and the CPU switched here.  The
// interrupted state is in g_tss, where the task switch saved it.
#include "collision.h"
#include "gdt.h"
#include "kprintf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/kfast_arena.h"
#include "mm/paging.h"
#include "panic.h"
#include "percpu.h"
#include "thread.h"
#include "trap.h"
#include "x86.h"

extern void double_fault_entry(void);

// The boot CPU's stack; each AP's is a frame of its own.
static uint8_t s_df_stack[4096] ALIGNED(16);

void
double_fault_init(void)
{
    struct percpu *p = this_cpu();
    struct tss *df = &p->df_tss;
    if (!p->df_stack_top) {
        uintptr_t frame = p->index ? frame_alloc() : V2P(s_df_stack);
        if (!frame)
            panic("double_fault_init: no frame for cpu %u's double-fault stack", p->index);
        p->df_stack_top = (uintptr_t)P2V(frame) + PAGE_SIZE;
    }
    memset(df, 0, sizeof(*df));
    df->eip = (uint32_t)double_fault_entry;
    df->esp = p->df_stack_top;
    df->cs = KERNEL_CS;
    df->ss = df->ds = df->es = df->gs = KERNEL_DS;
    df->fs = PERCPU_SEL; // the CPU's own area, as on every entry
    df->cr3 = g_kernel_space.pd_phys;
    df->eflags = EFLAGS_KERNEL; // the task starts as every entry does
    df->iomap_base = sizeof(*df);
    // Each CPU's GDT describes its own task, so the one IDT gate serves all.
    gdt_set_tss(p->gdt, GDT_DF_TSS, df, sizeof(*df));
    idt_set_task_gate(VEC_DF, DF_TSS_SEL);
}

// Resumes the interrupted task at its collision recovery point (a test's).
static void
resume_at_recovery(uint32_t stack)
{
    g_tss.eip = (uint32_t)collision_resume;
    g_tss.esp = stack;
    g_tss.ebp = 0;
    g_tss.eflags = EFLAGS_KERNEL;
    g_tss.cs = KERNEL_CS;
    g_tss.ss = KERNEL_DS;
    g_tss.ds = g_tss.es = g_tss.gs = KERNEL_DS;
    g_tss.fs = PERCPU_SEL;
    // The CPU does not save CR3 when it leaves a task; going back loads it.
    g_tss.cr3 = as_current()->pd_phys;
}

void
double_fault_handler(void)
{
    struct thread *t = g_current;
    uint32_t esp = g_tss.esp, eip = g_tss.eip;
    uint32_t block = t ? (uint32_t)t->block : 0;
    // Within the block, or just under it: the stack ran into the guard.
    if (t && esp + 4096 > block && esp <= block + KSTACK_SIZE) {
        uint32_t recovery_stack =
            collision_report(t, esp, eip, "the guard: a page fault in the stack view", true);
        if (recovery_stack) {
            resume_at_recovery(recovery_stack);
            return;
        }
        panic("stack/arena collision in thread %u (%s) at eip %08x: esp %08x, guard %08x, "
              "arena top %08x",
              t->tid, t->name, eip, esp, (uint32_t)kfast_arena_guard(&t->arena),
              (uint32_t)kfast_arena_top(&t->arena));
    }
    panic("double fault at eip %08x, esp %08x (thread %u, block %08x-%08x)", eip, esp,
          t ? t->tid : 0, block, block + KSTACK_SIZE);
}
