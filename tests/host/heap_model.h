/* Host-side helpers shared by the heap's unit test and fuzz target: a
 * bounded arena behind the grow callback, a shadow map that proves no two
 * live blocks overlap, and per-block byte patterns that prove contents
 * survive until freed. */
#ifndef TANDEM_TESTS_HEAP_MODEL_H
#define TANDEM_TESTS_HEAP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/asan_interface.h>
#include "mm/heap.h"
#include "mm/heap_fast.h"

enum arena_mode {
    ARENA_CONTIGUOUS, // each grow continues where the last ended (the kernel's way)
    ARENA_DISJOINT,   // each grow leaves a gap: every result is a new region
    ARENA_REFUSE,     // grow always says no
};

struct arena {
    uint8_t *mem;
    size_t cap; // bytes grow may hand out in all
    size_t used;
    size_t step; // grow hands out multiples of this (a page, say)
    enum arena_mode mode;
    unsigned calls;    // grow calls, answered or not
    unsigned shrinks;  // shrink calls
    size_t given_back; // bytes they took back
    uint8_t *shadow;   // one byte per 8-byte granule: 1 while a live block holds it
};

#define ARENA_GAP 64 // bytes skipped between disjoint regions

// Allocates an arena of cap bytes; dies if the host is out of memory.
static inline void
arena_init(struct arena *a, size_t cap, size_t step, enum arena_mode mode)
{
    memset(a, 0, sizeof(*a));
    a->mem = aligned_alloc(65536, cap); // the largest alignment tested: twins place alike
    a->shadow = calloc(cap / 8 + 1, 1);
    if (!a->mem || !a->shadow)
        abort();
    a->cap = cap;
    a->step = step;
    a->mode = mode;
}

static inline void
arena_fini(struct arena *a)
{
    ASAN_UNPOISON_MEMORY_REGION(a->mem, a->cap);
    free(a->mem);
    free(a->shadow);
    a->mem = NULL;
    a->shadow = NULL;
}

// The grow callback: at least min bytes, rounded to the arena's step.
static inline void *
arena_grow(void *ctx, size_t min, size_t *got)
{
    struct arena *a = ctx;
    size_t n = (min + a->step - 1) / a->step * a->step;
    size_t at = a->used;

    a->calls++;
    if (a->mode == ARENA_REFUSE || n < min)
        return NULL;
    if (a->mode == ARENA_DISJOINT && at)
        at += ARENA_GAP;
    if (at > a->cap || n > a->cap - at)
        return NULL;
    a->used = at + n;
    *got = n;
    ASAN_UNPOISON_MEMORY_REGION(a->mem + at, n);
    return a->mem + at;
}

// The shrink callback: the memory must be the end of what grow handed out.
// It is poisoned, so that ASan stops any later touch by the heap.
static inline void
arena_shrink(void *ctx, void *start, size_t bytes)
{
    struct arena *a = ctx;
    uint8_t *p = start;

    if (p < a->mem || p + bytes != a->mem + a->used || bytes == 0)
        abort();
    a->shrinks++;
    a->given_back += bytes;
    a->used = (size_t)(p - a->mem);
    ASAN_POISON_MEMORY_REGION(p, bytes);
}

// Marks [p, p + n) (at least one byte) as held by a live block; false if
// any of it was already held or lies outside the arena.
static inline bool
shadow_claim(struct arena *a, const void *p, size_t n)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)a->mem;

    if (n == 0)
        n = 1;
    if ((uintptr_t)p < (uintptr_t)a->mem || off > a->cap || n > a->cap - off)
        return false;
    for (size_t g = off / 8; g < (off + n + 7) / 8; g++)
        if (a->shadow[g])
            return false;
    memset(a->shadow + off / 8, 1, (off + n + 7) / 8 - off / 8);
    return true;
}

static inline void
shadow_release(struct arena *a, const void *p, size_t n)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)a->mem;

    if (n == 0)
        n = 1;
    memset(a->shadow + off / 8, 0, (off + n + 7) / 8 - off / 8);
}

// The byte a block with this id is filled with.
static inline uint8_t
pattern_of(uint32_t id)
{
    return (uint8_t)(id * 131u + 7u);
}

// True if all n bytes at p equal v; reads a word at a time.
static inline bool
all_bytes(const void *p, size_t n, uint8_t v)
{
    const uint8_t *b = p;
    uint64_t w = 0x0101010101010101ull * v;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, b + i, 8);
        if (x != w)
            return false;
    }
    for (; i < n; i++)
        if (b[i] != v)
            return false;
    return true;
}

// The block at the head of the cache class for blocks of `bytes`, or NULL:
// the one the next request of that size gets.
static inline void *
cache_head(const struct heap *h, size_t bytes)
{
    size_t j = bytes / HEAP_ALIGN;

    return j < HEAP_CACHE_SLOTS ? h->cache[j].head : NULL;
}

// Whether a request of size bytes is served from the class of blocks of
// `bytes` (a block may be larger than its request's own size).
static inline bool
cache_serves(size_t size, size_t bytes)
{
    return size >= 1 && size <= HEAP_CACHE_MAX && HEAP_CACHE_CLASS(size) * HEAP_ALIGN == bytes;
}

// splitmix64: a small, well-mixed, seedable generator.
static inline uint64_t
rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Uniform in [0, n), n > 0.
static inline size_t
rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

#endif
