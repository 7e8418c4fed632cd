// The counters every test run must leave as it found them: frames, heap
// blocks and bytes.  Frames the heap took for itself are not a leak (the
// heap keeps its region), so they are counted back.
#include "kmalloc.h"
#include "kprintf.h"
#include "ktest.h"
#include "mm/frame.h"

struct baseline {
    uint32_t frames_free_or_heap;
    size_t heap_blocks, heap_bytes;
};

static struct baseline s_baseline;

static void
baseline_read(struct baseline *b)
{
    struct frame_counts fc;
    struct heap_stats hs;
    frame_counts(&fc);
    kheap_stats(&hs);
    b->frames_free_or_heap = fc.free + (uint32_t)(hs.heap_size / PAGE_SIZE);
    b->heap_blocks = hs.live_blocks;
    b->heap_bytes = hs.in_use;
}

void
ktest_baseline_take(void)
{
    baseline_read(&s_baseline);
}

bool
ktest_baseline_check(void)
{
    struct baseline now;
    baseline_read(&now);
    bool ok = true;
    ok &= KEXPECT_UEQ(now.frames_free_or_heap, s_baseline.frames_free_or_heap);
    ok &= KEXPECT_UEQ(now.heap_blocks, s_baseline.heap_blocks);
    ok &= KEXPECT_UEQ(now.heap_bytes, s_baseline.heap_bytes);
    return ok;
}
