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
    KEXPECT_NULL(kcalloc(0x10000, 0x10001));        // product overflows 32 bits
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
    KEXPECT_NULL(kmalloc(HEAP_LIMIT - HEAP_BASE));   // more than the region
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
    memset(p, 0x5A, big);           // every page is mapped and writable
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
