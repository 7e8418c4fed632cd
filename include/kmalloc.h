/* The persistent kernel heap: for objects that outlive one kernel entry
 * (thread control blocks, address spaces, IPC endpoints, program images).
 * Transient objects belong in the scratch arena (include/kfast.h).
 *
 * Every pointer is 8-byte aligned.  Exhaustion returns NULL and changes
 * nothing.  Bounded time: see kernel/mm/heap.c.  Misuse (double free, wild
 * pointer, red-zone overwrite) panics with the pointer, size and callers.
 * Safe from interrupt handlers (interrupts are held off inside). */
#ifndef TANDEM_KMALLOC_H
#define TANDEM_KMALLOC_H

#include <stddef.h>
#include "mm/heap.h"

void kheap_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size);
// NULL if n * size overflows.
void *kcalloc(size_t n, size_t size);
void *krealloc(void *ptr, size_t size);
// align: a power of two up to PAGE_SIZE.
void *kmalloc_aligned(size_t size, size_t align);
void kfree(void *ptr);
void kheap_stats(struct heap_stats *out);
// Walks every block; prints each problem; returns how many were found.
size_t kheap_check(void);

#endif
