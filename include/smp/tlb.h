/* TLB shootdown: a kernel mapping every CPU shares changed, so every CPU
 * drops what it cached of it (kernel/smp/tlb.c; docs/design.md, "Cross-CPU
 * calls").
 *
 * x86 keeps no TLB coherent across CPUs: a CPU that once used a page keeps
 * its entry after another CPU unmaps it, and reads the old frame through it.
 * Needed where a kernel page goes away (vm_unmap of a kernel address: heap
 * pages given back, a dead thread's block), not where one is added (no CPU
 * caches a not-present entry).  A block's stack view and the user half are
 * the exceptions: their changes flush locally and are counted, and other
 * CPUs catch up at the big kernel lock (include/percpu.h, tlb_changed). */
#ifndef TANDEM_SMP_TLB_H
#define TANDEM_SMP_TLB_H

#include <stdint.h>

// More pages than this are flushed whole (tlb_flush_local) instead of one by one.
#define TLB_FULL_FLUSH_PAGES 32u

// Invalidates the pages [va, va + pages * 4 KiB) on every online CPU, this
// one included, and returns when all have.
void tlb_shootdown(uintptr_t va, uint32_t pages);
// Flushes every CPU's whole TLB, global pages too.
void tlb_flush_all_cpus(void);
// Makes the paging layer shoot kernel unmaps down on every CPU (smp_init,
// once the APs are online).
void tlb_init(void);

#endif
