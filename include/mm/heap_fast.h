/* The heap's block header and the cache's fast paths (kernel/mm/heap.c
 * owns the rest).  Here so that kmalloc and kfree can take a block from the
 * cache and give one back inline, without a call into the heap; heap.c
 * uses the same code, so the host tests run it too.
 *
 * Every block starts with a header: its physical predecessor and its size,
 * whose low bits (the size is a multiple of HEAP_ALIGN) carry three flags.
 * A cached block keeps the link to the next one of its class in its first
 * user word. */
#ifndef TANDEM_MM_HEAP_FAST_H
#define TANDEM_MM_HEAP_FAST_H

#include "mm/heap.h"

struct heap_block {
    struct heap_block *prev_phys; // physical predecessor; NULL for a region's first block
    size_t size;                  // bytes of the whole block, header included | HEAP_BLOCK_*
#if TANDEM_DEBUG
    uint32_t magic;  // MAGIC_LIVE, MAGIC_FREE, MAGIC_CACHED or MAGIC_END
    size_t req;      // bytes the caller asked for
    uintptr_t owner; // who asked for them
#endif
};

#define HEAP_BLOCK_FREE       ((size_t)1) // in a free list
#define HEAP_BLOCK_CACHED     ((size_t)2) // in a cache class
// A free block lies below this one with nothing but cached blocks between
// (set whenever that is so; it may stay set after it stops being so).
#define HEAP_BLOCK_FREE_BELOW ((size_t)4)

#define HEAP_GRAIN_SHIFT (sizeof(void *) == 8 ? 4u : 3u)
#if TANDEM_DEBUG
#define HEAP_RZ_MIN 8u // red zone on each side, at least
#else
#define HEAP_RZ_MIN 0u
#endif
// The header, rounded so the user bytes after it stay aligned; in debug
// builds the rounding leaves at least HEAP_RZ_MIN bytes of front red zone.
#define HEAP_HDR ALIGN_UP(sizeof(struct heap_block) + HEAP_RZ_MIN, HEAP_ALIGN)

// The class of a request of 1..HEAP_CACHE_MAX bytes: its block's size in
// grains, as heap.c's block_size_for rounds it.
#define HEAP_CACHE_CLASS(size) \
    (((size) + HEAP_RZ_MIN + HEAP_ALIGN - 1) / HEAP_ALIGN + HEAP_HDR / HEAP_ALIGN)
#define HEAP_CACHE_TOP HEAP_CACHE_CLASS(HEAP_CACHE_MAX) // the largest class

// Rotating right by the grain's bits keeps a multiple of the grain small
// and makes anything else huge: one comparison then checks both.
static FORCE_INLINE uintptr_t
heap_ror_grain(uintptr_t x)
{
    return (x >> HEAP_GRAIN_SHIFT) | (x << (sizeof(x) * 8 - HEAP_GRAIN_SHIFT));
}

static FORCE_INLINE struct heap_block *
heap_block_at(uintptr_t addr)
{
    return (struct heap_block *)addr;
}

// Takes the newest block of class j (which must not be empty) out of the
// cache and marks it in use.  Returns its user pointer.
static FORCE_INLINE void *
heap_cache_unlink(struct heap *h, size_t j)
{
    struct heap_cache_class *c = &h->cache[j];
    void *p = c->head;
    struct heap_block *b = heap_block_at((uintptr_t)p - HEAP_HDR);

    c->head = *(void **)p;
    c->room++;
    h->cache_room++;
    h->cache_pops++;
    b->size &= ~HEAP_BLOCK_CACHED;
    return p;
}

// Files the in-use block at user pointer p, of class j, in the cache; the
// class and the cache must have room.
static FORCE_INLINE void
heap_cache_link(struct heap *h, void *p, size_t j)
{
    struct heap_cache_class *c = &h->cache[j];

    c->room--;
    h->cache_room--;
    *(void **)p = c->head;
    c->head = p;
    heap_block_at((uintptr_t)p - HEAP_HDR)->size |= HEAP_BLOCK_CACHED;
}

// Release builds' allocation fast path: a block of the request's class
// from the cache, or NULL (then heap_alloc decides).  Debug builds check
// and paint every block they hand out, in heap.c, and never take it.
static FORCE_INLINE void *
heap_cache_pop(struct heap *h, size_t size)
{
    if (unlikely(size - 1 >= HEAP_CACHE_MAX)) // 0 wraps: it takes a block of its own
        return NULL;
    size_t j = HEAP_CACHE_CLASS(size);
    if (unlikely(!h->cache[j].head))
        return NULL;
    return heap_cache_unlink(h, j);
}

// Release builds' free fast path: files ptr's block in its class and
// returns true, or returns false and leaves everything to heap_free.  It
// takes what heap_free would put in the cache (heap.c's cacheable), as
// far as heap_free checks it without a loop: a pointer in the first
// region's window, aligned, whose block is in use, of a cached size, with
// no free block below it, just below or below cached blocks only (else it
// merges; see heap.c), into a class with room in a cache with room, with
// a successor that links back to it.
static FORCE_INLINE bool
heap_cache_push(struct heap *h, void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;

    if (unlikely(heap_ror_grain(p - h->cache_lo) >= h->cache_span))
        return false;
    struct heap_block *b = heap_block_at(p - HEAP_HDR);
    size_t j = heap_ror_grain(b->size); // any flag makes it too large
    if (unlikely(j > HEAP_CACHE_TOP))
        return false;
    if (unlikely(heap_block_at((uintptr_t)b + j * HEAP_ALIGN)->prev_phys != b))
        return false;
    // Taking the room first and giving it back if there was none saves a
    // compare and keeps fewer values live on the common path.
    struct heap_cache_class *c = &h->cache[j];
    if (unlikely(--c->room < 0)) {
        c->room++;
        return false;
    }
    if (unlikely(--h->cache_room < 0)) {
        h->cache_room++;
        c->room++;
        return false;
    }
    *(void **)ptr = c->head;
    c->head = ptr;
    b->size |= HEAP_BLOCK_CACHED;
    return true;
}

#endif
