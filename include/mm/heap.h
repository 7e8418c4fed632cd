/* The persistent kernel heap: a two-level segregated-fit allocator for
 * objects that outlive one kernel entry.  Pure C; memory arrives only
 * through the grow callback, so the same code runs in the kernel and in
 * host tests.  Not thread-safe: the caller serialises (kmalloc does).
 *
 * Alignment: every pointer is HEAP_ALIGN-aligned (8 on i686, 16 on a
 * 64-bit host).  heap_alloc(h, 0) returns a unique block with no usable
 * bytes; it must be freed like any other.  Sizes above HEAP_MAX_ALLOC fail.
 *
 * Debug builds (TANDEM_DEBUG=1) fill and check:
 *   HEAP_FILL_NEW     0xCD  bytes handed out by alloc/realloc (not zalloc)
 *   HEAP_FILL_FREED   0xDD  bytes of a freed block, past its header
 *   HEAP_FILL_REDZONE 0xFD  red zones: at least 8 bytes before the user
 *                           bytes and from their end to the block's end
 * and record the allocating caller in every block header.  Red zones are
 * verified on free and realloc, and by heap_check.
 *
 * Release builds keep the structural checks that cost a few loads: the
 * pointer lies in a region and is aligned, its block is not already free,
 * and its size agrees with both physical neighbours.  Any failed check
 * calls the corrupt callback, which must not return.
 *
 * Small blocks (requests of 1..HEAP_CACHE_MAX bytes) pass through a cache
 * in front of the free lists: one LIFO list per block size, each bounded
 * (heap.c says how, and what that does to the worst case).  A cached
 * block is free as far as any caller can tell: the counters leave it out,
 * a second free or a realloc of it is a double free, and heap_check
 * checks it.  heap_flush_cache empties the cache into the free lists. */
#ifndef TANDEM_MM_HEAP_H
#define TANDEM_MM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

#define HEAP_ALIGN       (2 * sizeof(void *)) // 8 on i686, 16 on 64-bit
#define HEAP_MAX_ALLOC   ((size_t)1 << 30)    // larger requests return NULL
#define HEAP_MAX_REGIONS 16                   // disjoint grow results kept
#define HEAP_SL_LOG2     4                    // 16 lists per power of two
#define HEAP_SL_COUNT    (1u << HEAP_SL_LOG2)
#define HEAP_FL_SHIFT    (HEAP_SL_LOG2 + (sizeof(void *) == 8 ? 4 : 3))
#define HEAP_FL_COUNT    (32 - HEAP_FL_SHIFT + 1)

#define HEAP_FILL_NEW     0xCD
#define HEAP_FILL_FREED   0xDD
#define HEAP_FILL_REDZONE 0xFD

// What a corrupt report is about.
enum heap_fault {
    HEAP_BAD_POINTER,      // not a pointer this heap returned (outside, misaligned, no block there)
    HEAP_DOUBLE_FREE,      // the block is already free
    HEAP_BAD_HEADER,       // header or neighbour links damaged (an underrun past the red zone)
    HEAP_REDZONE_BEFORE,   // bytes just before the user bytes were written
    HEAP_REDZONE_AFTER,    // bytes past the requested size were written
    HEAP_BAD_FREE_LIST,    // heap_check: lists, bitmaps or coalescing disagree with the blocks
    HEAP_BAD_STATS,        // heap_check: counted bytes or blocks disagree with the walk
    HEAP_WRITE_AFTER_FREE, // debug builds: a cached block was written after its free
    HEAP_BAD_CACHE,        // heap_check: a cache list or its count disagrees with the blocks
};

struct heap_report {
    enum heap_fault what;
    const void *ptr;  // the pointer passed in (or the block's user pointer)
    size_t size;      // the block's requested size (debug) or usable size, 0 if unknown
    uintptr_t caller; // who called the operation that noticed
    uintptr_t owner;  // who allocated the block (debug builds), 0 if unknown
};

// Asked for at least min_bytes more memory: returns its start and stores
// in *got how many bytes it gives (>= min_bytes), or returns NULL to refuse.
// Memory that starts where the previous grow ended is joined to it; any
// other address starts a new region.  It is kept unless a shrink callback
// is set (heap_set_shrink).
typedef void *(*heap_grow_fn)(void *ctx, size_t min_bytes, size_t *got);

// Takes back [start, start + bytes): always the end of the memory the last
// grow calls handed over (start + bytes is where the last one ended), and
// start is a multiple of the shrink unit.  The next grow may hand it out again.
typedef void (*heap_shrink_fn)(void *ctx, void *start, size_t bytes);

// Reports misuse or damage (kernel: panic; host tests: longjmp).  The heap
// is left as it was before the operation that noticed.
typedef void (*heap_corrupt_fn)(void *ctx, const struct heap_report *r) NORETURN;

// Receives each problem heap_check finds; may return.
typedef void (*heap_report_fn)(void *arg, const struct heap_report *r);

struct heap_stats {
    size_t in_use;      // bytes of live blocks, headers and rounding included
    size_t peak_in_use; // highest in_use + cached_bytes so far: what the blocks needed at most
    size_t live_blocks;
    uint64_t allocs;      // blocks handed out (a realloc that moves counts one)
    uint64_t frees;       // blocks taken back (a realloc that moves counts one)
    uint64_t failures;    // requests that returned NULL
    size_t heap_size;     // bytes obtained from grow
    size_t cached_blocks; // free blocks waiting in the cache (not in live_blocks)
    size_t cached_bytes;  // their bytes (not in in_use)
};

// The cache: requests of 1..HEAP_CACHE_MAX bytes are served from it when
// it holds a block of their size.  Class j holds blocks of j * HEAP_ALIGN
// bytes; HEAP_CACHE_SLOTS covers the largest class of every build.  A
// class holds at most HEAP_CACHE_CLASS_BYTES of blocks and never more than
// HEAP_CACHE_DEPTH of them, at least one; all classes together hold at
// most HEAP_CACHE_BLOCKS.
#define HEAP_CACHE_MAX         512
#define HEAP_CACHE_SLOTS       72
#define HEAP_CACHE_DEPTH       8
#define HEAP_CACHE_CLASS_BYTES 512
#define HEAP_CACHE_BLOCKS      32

struct heap_cache_class {
    void *head;   // user pointer of the newest block; each links the next in its first word
    int32_t room; // how many more it may take before it is flushed
};

struct heap_block;

struct heap_region {
    uintptr_t start;   // first block (aligned)
    uintptr_t end;     // end of the end marker (aligned)
    uintptr_t raw_end; // where the grow result ended: the next one may start here
};

struct heap {
    uint32_t fl_map;                // bit f: some list in row f is non-empty
    uint32_t sl_map[HEAP_FL_COUNT]; // bit s: list [f][s] is non-empty
    struct heap_block *free[HEAP_FL_COUNT][HEAP_SL_COUNT];
    struct heap_region regions[HEAP_MAX_REGIONS];
    unsigned nregions;
    uintptr_t grow_end; // end of the memory grow last handed out
    heap_grow_fn grow;
    heap_shrink_fn shrink; // NULL: memory is never given back
    size_t shrink_unit;    // give back multiples of this (a page)
    size_t shrink_keep;    // free bytes kept at the top, at least
    heap_corrupt_fn corrupt;
    void *ctx;
    // Counted as the free lists see it: a cached block is in use there, so
    // in_use and live_blocks include the cache (heap_stats takes it out).
    struct heap_stats stats;
    struct heap_cache_class cache[HEAP_CACHE_SLOTS];
    int32_t cache_room;    // how many more all classes may take
    uint32_t cache_victim; // the class a full cache last took a block from
    uint64_t cache_pops;   // blocks handed out from the cache
    // The fast free's window: user pointers p with (p - cache_lo) / HEAP_ALIGN
    // below cache_span lie in the first region, far enough from its end that
    // the largest class's successor header is inside it too.
    uintptr_t cache_lo;
    uintptr_t cache_span;
};

// Prepares an empty heap; no memory is asked for until the first allocation.
void heap_init(struct heap *h, heap_grow_fn grow, heap_corrupt_fn corrupt, void *ctx);

// Makes the heap give memory back: whenever a free or a shrinking realloc
// leaves a free block at the top of the last region with more than keep
// bytes plus at least one unit past it, the whole units above keep go to
// shrink.  unit is a power of two, at least HEAP_ALIGN; keep damps the
// alternation of grow and shrink at the boundary.  Memory inside the heap
// (below its top live block) is never given back: that would split regions.
void heap_set_shrink(struct heap *h, heap_shrink_fn shrink, size_t unit, size_t keep);

// Returns size bytes aligned to HEAP_ALIGN, or NULL with nothing changed
// but the failure count.  Calls grow at most twice (twice only when grow
// breaks contiguity).
void *heap_alloc(struct heap *h, size_t size, uintptr_t caller);

// As heap_alloc, with the bytes zeroed.
void *heap_zalloc(struct heap *h, size_t size, uintptr_t caller);

// Zeroed room for n objects of size bytes; NULL if n * size overflows.
void *heap_calloc(struct heap *h, size_t n, size_t size, uintptr_t caller);

// Resizes ptr's block, in place when it shrinks or its successor is free,
// else by copying.  ptr NULL acts as heap_alloc; size 0 keeps a minimal
// block (it does not free).  On NULL the old block is untouched.
void *heap_realloc(struct heap *h, void *ptr, size_t size, uintptr_t caller);

// Returns size bytes at a multiple of align (a power of two; any up to
// HEAP_MAX_ALLOC), freeable with heap_free.  NULL if align is not a power of two.
void *heap_alloc_aligned(struct heap *h, size_t size, size_t align, uintptr_t caller);

// Returns ptr's block to the heap, merging it with free neighbours.
// NULL is a no-op; misuse goes to the corrupt callback.
void heap_free(struct heap *h, void *ptr, uintptr_t caller);

// Bytes usable at ptr: the requested size in debug builds (the rest is red
// zone), the whole payload in release builds.
size_t heap_usable_size(struct heap *h, const void *ptr, uintptr_t caller);

// Copies the counters into *out.  Bounded by the number of cache classes.
void heap_stats(const struct heap *h, struct heap_stats *out);

// Returns every cached block to the free lists (and gives memory back as
// a free would).  The cost is one free per cached block.
void heap_flush_cache(struct heap *h);

// Walks every block, list and bitmap and returns the number of problems,
// each passed to report (or, if report is NULL, the first to the corrupt
// callback).  Time grows with the number of blocks: a debugging aid.
size_t heap_check(struct heap *h, heap_report_fn report, void *arg);

#endif
