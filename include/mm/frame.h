/* Physical memory, in 4 KiB frames. */
#ifndef TANDEM_MM_FRAME_H
#define TANDEM_MM_FRAME_H

#include <stdint.h>
#include "config.h"

#define FRAME_MAX_ORDER  10 // largest block: 2^10 frames = 4 MiB
// Frames the kernel can reach: the direct map covers physical memory from 0
// up to this limit at KERNEL_VMA (see include/mm/paging.h).
#define DIRECT_MAP_LIMIT 0x30000000u // 768 MiB

struct frame_counts {
    uint32_t total;    // frames under management (usable RAM in the direct map)
    uint32_t free;     // of those, free now
    uint32_t reserved; // usable RAM kept out: low 1 MiB, kernel, modules, metadata
    uint32_t ignored;  // usable RAM above DIRECT_MAP_LIMIT, not used
};

// Builds the allocator from the boot memory map; panics naming the shortfall
// if there is too little memory to run.
void frame_init(void);
// One frame, or 0 when none is left.  O(FRAME_MAX_ORDER).
uintptr_t frame_alloc(void);
// 2^order contiguous frames aligned to their size, or 0.  O(FRAME_MAX_ORDER).
uintptr_t frame_alloc_order(unsigned order);
// Returns a block from frame_alloc*; panics, with the address, on anything else.
void frame_free(uintptr_t pa);
void frame_counts(struct frame_counts *out);
// The smallest order whose block holds bytes.
unsigned frame_order_for(uint32_t bytes);

#endif
