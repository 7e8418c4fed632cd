/* The persistent kernel heap: for objects that outlive one kernel entry
 * (thread control blocks, address spaces, IPC endpoints, program images).
 * Transient objects belong in the scratch arena (include/kfast.h).
 *
 * Every pointer is 8-byte aligned.  Exhaustion returns NULL and changes
 * nothing.  Bounded time: see kernel/mm/heap.c.  Misuse (double free, wild
 * pointer, red-zone overwrite) panics with the pointer, size and callers.
 * Safe from interrupt handlers (interrupts are held off inside).
 *
 * In release builds kmalloc and kfree are inline: a request of 1..512
 * bytes whose size the heap's cache holds, and a free it can take, are a
 * few instructions with interrupts held off (mm/heap_fast.h); anything
 * else calls into kernel/mm/kmalloc.c.  Debug builds always call, so every
 * block is checked and painted. */
#ifndef TANDEM_KMALLOC_H
#define TANDEM_KMALLOC_H

#include <stddef.h>
#include "mm/heap.h"

void kheap_init(void);
void *kzalloc(size_t size);
// NULL if n * size overflows.
void *kcalloc(size_t n, size_t size);
void *krealloc(void *ptr, size_t size);
// align: a power of two up to PAGE_SIZE.
void *kmalloc_aligned(size_t size, size_t align);
void kheap_stats(struct heap_stats *out);
// Walks every block; prints each problem; returns how many were found.
size_t kheap_check(void);
// Returns the cache's blocks to the heap (and its free top pages to the
// frame allocator).
void kheap_flush_cache(void);

// Hosted builds (the host tests and benchmarks, whatever HOST_TEST says)
// bring kmalloc and kfree of their own; only the freestanding kernel has
// the heap they stand in front of.
#if TANDEM_DEBUG || __STDC_HOSTED__
void *kmalloc(size_t size);
void kfree(void *ptr);
#else
#include "mm/heap_fast.h"
#include "x86.h"

extern struct heap g_kheap;
// The whole of kmalloc and kfree, for what the inline parts leave.
void *kmalloc_slow(size_t size);
void kfree_slow(void *ptr);

static FORCE_INLINE void *
kmalloc(size_t size)
{
    uint32_t flags = irq_save();
    void *p = heap_cache_pop(&g_kheap, size);
    irq_restore(flags);
    return likely(p) ? p : kmalloc_slow(size);
}

static FORCE_INLINE void
kfree(void *ptr)
{
    uint32_t flags = irq_save();
    bool done = heap_cache_push(&g_kheap, ptr);
    irq_restore(flags);
    if (unlikely(!done))
        kfree_slow(ptr);
}
#endif

#endif
