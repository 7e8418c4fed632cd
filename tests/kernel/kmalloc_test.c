// kmalloc on the real, paging-backed heap (the host tests cover the logic
// in depth; these prove the kernel wiring: growth, alignment, limits).
#include "kmalloc.h"
#include "ktest.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/paging.h"

KTEST(heap, alloc_free_alignment_and_contents)
{
    void *p[64];
    for (unsigned i = 0; i < 64; i++) {
        p[i] = kmalloc(1 + i * 37);
        KASSERT_NOT_NULL(p[i]);
        KEXPECT_UEQ((uintptr_t)p[i] & 7, 0);
        KEXPECT_UGE((uintptr_t)p[i], HEAP_BASE);
        KEXPECT_ULT((uintptr_t)p[i], HEAP_LIMIT);
        memset(p[i], (int)i, 1 + i * 37);
    }
    for (unsigned i = 0; i < 64; i++) {
        const uint8_t *b = p[i];
        KEXPECT_EQ(b[0], i);
        KEXPECT_EQ(b[i * 37], i);
        kfree(p[i]);
    }
}

KTEST(heap, zalloc_calloc_realloc_aligned)
{
    uint8_t *z = kzalloc(100);
    KASSERT_NOT_NULL(z);
    uint32_t sum = 0;
    for (int i = 0; i < 100; i++)
        sum += z[i];
    KEXPECT_UEQ(sum, 0);
    KEXPECT_NULL(kcalloc(0x10000, 0x10001)); // product overflows 32 bits
    uint32_t *c = kcalloc(16, sizeof(uint32_t));
    KASSERT_NOT_NULL(c);
    KEXPECT_UEQ(c[15], 0);
    memcpy(z, "tandem", 7);
    z = krealloc(z, 5000);
    KASSERT_NOT_NULL(z);
    KEXPECT_STREQ((char *)z, "tandem");
    void *a = kmalloc_aligned(300, 4096);
    KEXPECT_NOT_NULL(a);
    KEXPECT_UEQ((uintptr_t)a & 4095, 0);
    kfree(a);
    kfree(c);
    kfree(z);
    kfree(NULL);
}

KTEST(heap, exhaustion_returns_null_and_changes_nothing)
{
    struct heap_stats before, after;
    struct frame_counts fb, fa;
    kheap_stats(&before);
    frame_counts(&fb);
    KEXPECT_NULL(kmalloc((size_t)-1));
    KEXPECT_NULL(kmalloc(HEAP_LIMIT - HEAP_BASE)); // more than the region
    kheap_stats(&after);
    frame_counts(&fa);
    KEXPECT_UEQ(after.failures, before.failures + 2);
    KEXPECT_UEQ(after.live_blocks, before.live_blocks);
    KEXPECT_UEQ(after.in_use, before.in_use);
    KEXPECT_UEQ(fa.free, fb.free);
}

KTEST(heap, grows_by_mapping_frames)
{
    struct heap_stats before, after;
    kheap_stats(&before);
    // Larger than anything free in the heap so far: forces a grow.
    size_t big = before.heap_size + 64 * 1024;
    void *p = kmalloc(big);
    KASSERT_NOT_NULL(p);
    memset(p, 0x5A, big); // every page is mapped and writable
    kheap_stats(&after);
    // The heap may join the new memory to free space at its end, so it
    // grows by at most big, but it must grow.
    KEXPECT_UGE(after.heap_size, before.heap_size + PAGE_SIZE);
    KEXPECT_ULE(after.heap_size, before.heap_size + big + 64 * 1024);
    kfree(p);
    KEXPECT_UEQ(kheap_check(), 0);
}

KTEST(heap, check_finds_no_damage)
{
    KEXPECT_UEQ(kheap_check(), 0);
}

// The cache in front of the heap: a freed small block is the next one of
// its size, and while it waits it is free to every counter (the leak
// checks' baseline counts on that).
KTEST(heap, cache_reuses_a_freed_block_and_counts_it_free)
{
    struct heap_stats s0, s1, s2;
    kheap_flush_cache();
    void *guard = kmalloc(24);
    void *p = kmalloc(24);
    void *q = kmalloc(24); // p has a block in use on each side
    KASSERT_NOT_NULL(p);
    kheap_stats(&s0);
    KEXPECT_UEQ(s0.cached_blocks, 0);
    kfree(p);
    kheap_stats(&s1);
    KEXPECT_UEQ(s1.cached_blocks, 1);
    KEXPECT_UEQ(s1.live_blocks, s0.live_blocks - 1);
    KEXPECT_UEQ(s1.in_use, s0.in_use - s1.cached_bytes);
    KEXPECT_UEQ(s1.frees, s0.frees + 1);
    KEXPECT_UEQ(kheap_check(), 0);
    void *again = kmalloc(17); // another size of the same class
    KEXPECT_PTR_EQ(again, p);
    kheap_stats(&s2);
    KEXPECT_UEQ(s2.cached_blocks, 0);
    KEXPECT_UEQ(s2.live_blocks, s0.live_blocks);
    KEXPECT_UEQ(s2.allocs, s0.allocs + 1);
    kfree(again);
    kfree(q);
    kfree(guard);
    kheap_flush_cache();
    kheap_stats(&s2);
    KEXPECT_UEQ(s2.cached_blocks, 0);
    KEXPECT_UEQ(s2.live_blocks, s0.live_blocks - 3);
    KEXPECT_UEQ(kheap_check(), 0);
}

// However many small blocks go, the cache keeps HEAP_CACHE_BLOCKS at most.
KTEST(heap, cache_bound_holds_under_many_frees)
{
    enum { N = 3 * HEAP_CACHE_BLOCKS };
    static void *p[N];
    struct heap_stats s;
    for (unsigned i = 0; i < N; i++)
        p[i] = kmalloc(8 + (i % 6) * 8);
    for (unsigned i = 0; i < N; i += 2) // every other one: no two merge
        kfree(p[i]);
    kheap_stats(&s);
    KEXPECT_ULE(s.cached_blocks, HEAP_CACHE_BLOCKS);
    KEXPECT_UGE(s.cached_blocks, 1);
    KEXPECT_UEQ(kheap_check(), 0);
    for (unsigned i = 1; i < N; i += 2)
        kfree(p[i]);
    kheap_flush_cache();
    kheap_stats(&s);
    KEXPECT_UEQ(s.cached_blocks, 0);
    KEXPECT_UEQ(kheap_check(), 0);
}
