/* What Tandem's arena and heap need around them on the host: kmalloc and
 * kfree over one Tandem heap (as in the kernel, where the arena's spill
 * chunks come from kmalloc), and a panic that stops the benchmark. */
#ifndef TANDEM_BENCH_TANDEM_HOST_H
#define TANDEM_BENCH_TANDEM_HOST_H

#include "mm/heap.h"

// Live stack bytes assumed below the top of the KSTACK_SIZE block during a
// kernel entry (trap frame, the syscall path's frames): the arena may use
// the block up to this much stack plus KFAST_RESERVE.
#define BENCH_STACK_IN_USE 1024u

// The host's Tandem heap, made on first use: it grows from one large
// malloc'd region, so it is a single contiguous region like the kernel's.
struct heap *bench_tandem_heap(void);

#endif
