// The per-CPU areas and the segment that reaches them (include/percpu.h).
#include "gdt.h"
#include "lib/string.h"
#include "percpu.h"

struct percpu g_percpu[SMP_MAX_CPUS] ALIGNED(64);

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
    __asm__ volatile("mov %w0, %%fs" :: "r"(PERCPU_SEL) : "memory");
}
