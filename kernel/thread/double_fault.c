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
#include "mm/kfast_arena.h"
#include "mm/paging.h"
#include "panic.h"
#include "thread.h"
#include "trap.h"
#include "x86.h"

extern void double_fault_entry(void);

static struct tss s_df_tss;
static uint8_t s_df_stack[4096] ALIGNED(16);

void
double_fault_init(void)
{
    memset(&s_df_tss, 0, sizeof(s_df_tss));
    s_df_tss.eip = (uint32_t)double_fault_entry;
    s_df_tss.esp = (uint32_t)(s_df_stack + sizeof(s_df_stack));
    s_df_tss.cs = KERNEL_CS;
    s_df_tss.ss = s_df_tss.ds = s_df_tss.es = s_df_tss.fs = s_df_tss.gs = KERNEL_DS;
    s_df_tss.cr3 = g_kernel_space.pd_phys;
    s_df_tss.eflags = EFLAGS_KERNEL; // the task starts as every entry does
    s_df_tss.iomap_base = sizeof(s_df_tss);
    gdt_set_tss(GDT_DF_TSS, &s_df_tss, sizeof(s_df_tss));
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
    g_tss.ds = g_tss.es = g_tss.fs = g_tss.gs = KERNEL_DS;
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
