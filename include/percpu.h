/* Each CPU's own state: one struct percpu per CPU, reached from kernel code
 * through %fs (include/percpu_seg.h), so the same instruction means "this
 * CPU's" on every CPU and no code needs to know which CPU it runs on
 * (docs/design.md, "Per-CPU state and the lock").
 *
 * Ring 3 controls %fs (it may load the null selector or its own data
 * segment): every kernel entry loads PERCPU_SEL before any C runs, and the
 * user's value is in the trap frame.  The descriptor has privilege 0, so
 * ring 3 cannot load it. */
#ifndef TANDEM_PERCPU_H
#define TANDEM_PERCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "gdt.h"
#include "kfast.h"
#include "percpu_seg.h"
#include "smp/tables.h"

struct thread;
struct spinlock;
struct addrspace;

// Locks a CPU may hold at once (the debug lock-order checker's stack).
#define PERCPU_HELD_MAX 8

struct percpu {
    struct kfast_cpu kfast; // first: kfast.h's g_kfast is %fs:PERCPU_SEG_OFFSET
    struct percpu *self;    // this area's address, for a plain pointer to it
    unsigned index;         // in g_smp.cpus
    uint32_t lock_id;       // index + 1: what a lock this CPU holds records
    struct thread *current; // the thread this CPU runs (g_current)
    struct thread *idle;    // its idle thread (kernel/thread/sched.c)
    uint32_t queued_here;   // threads pinned to it on the run queue
    struct addrspace *as;   // the address space in its CR3 (kernel/mm/paging.c)
    uint32_t tlb_gen;       // g_kernel_tlb_gen as of its last full TLB flush
    uint32_t need_resched;  // a switch is due at the next safe point (g_need_resched)
    uint32_t resched_taken; // reschedule IPIs it took: the tests see wake-ups arrive
    uint32_t dispatches;    // threads this CPU switched to
    // Debug builds: the locks this CPU holds, in the order taken (kernel/spinlock.c).
    const struct spinlock *held[PERCPU_HELD_MAX];
    unsigned held_count;
    // The TSS: the ring-0 stack of entries from ring 3 and the I/O bitmap of
    // the process running here; whose bitmap it holds (kernel/gdt.c).
    struct tss_io tss_io;
    const uint8_t *io_loaded;
    bool io_stale;
    bool owed_single_step;     // kernel/entry/sysenter.c: a #DB owed to ring 3
    uint64_t gdt[GDT_ENTRIES]; // this CPU's GDT: the shared segments, its TSS, its area
    // Its double-fault task (kernel/thread/double_fault.c) and the top of its stack.
    struct tss df_tss;
    uintptr_t df_stack_top;
};

_Static_assert(offsetof(struct percpu, kfast) == 0, "g_kfast is at the area's start");

extern struct percpu g_percpu[SMP_MAX_CPUS];

// The running CPU's area, field by field, or whole.
#define THIS_CPU(field) \
    PERCPU_AT(__typeof__(((struct percpu *)0)->field), offsetof(struct percpu, field))
static inline struct percpu *
this_cpu(void)
{
    return THIS_CPU(self);
}
static inline unsigned
this_cpu_index(void)
{
    return THIS_CPU(index);
}

// The running CPU's TSS.
#define g_tss (THIS_CPU(tss_io).tss)
// Points the running CPU's ring-0 stack used on entry from ring 3 at esp0.
static inline void
tss_set_esp0(uint32_t esp0)
{
    g_tss.esp0 = esp0;
}

// The TLB rule while several CPUs run threads (docs/design.md, "Per-CPU
// state and the lock"): whoever changes or removes a present page mapping
// counts it in g_kernel_tlb_gen (tlb_changed), after flushing its own
// entry; every CPU, when it takes the big kernel lock, flushes its whole
// TLB if the count moved since it last did (tlb_catch_up).  No CPU touches
// a kernel mapping, nor runs a thread whose stack view changed, without
// the lock, so none uses a stale entry.  On one CPU nothing is counted.
extern volatile uint32_t g_kernel_tlb_gen;
extern bool g_tlb_shared; // set once other CPUs run threads
void tlb_changed(void);
void tlb_catch_up(void);

// Fills area index (self, index; its GDT is filled by gdt_init or
// gdt_load_cpu) and points the GDT's PERCPU_SEL descriptor at it.
void percpu_setup(unsigned index);
// Loads PERCPU_SEL into %fs on the calling CPU (after its GDT is loaded).
void percpu_load(void);

#endif
