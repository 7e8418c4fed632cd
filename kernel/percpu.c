// The per-CPU areas and the segment that reaches them (include/percpu.h).
#include "gdt.h"
#include "lib/string.h"
#include "percpu.h"
#include "x86.h"

struct percpu g_percpu[SMP_MAX_CPUS] ALIGNED(64);
volatile uint32_t g_kernel_tlb_gen;
bool g_tlb_shared;

void
percpu_setup(unsigned index)
{
    struct percpu *p = &g_percpu[index];
    p->self = p;
    p->index = index;
    p->lock_id = index + 1;
    p->io_stale = true;
    gdt_set_data(p->gdt, GDT_PERCPU, (uint32_t)p - PERCPU_SEG_OFFSET);
}

void
percpu_load(void)
{
    __asm__ volatile("mov %w0, %%fs" : : "r"(PERCPU_SEL) : "memory");
}

void
tlb_changed(void)
{
    if (!g_tlb_shared)
        return;
    // The caller flushed its own entry: if its TLB was current before this
    // change, it is after it too.
    uint32_t gen = __atomic_fetch_add(&g_kernel_tlb_gen, 1, __ATOMIC_ACQ_REL);
    if (THIS_CPU(tlb_gen) == gen)
        THIS_CPU(tlb_gen) = gen + 1;
}

void
tlb_catch_up(void)
{
    THIS_CPU(tlb_gen) = __atomic_load_n(&g_kernel_tlb_gen, __ATOMIC_ACQUIRE);
    tlb_flush_local(); // global pages too: a CR3 load would keep those
}
