// The counters every test run must leave as it found them: frames, heap
// blocks and bytes, kernel objects and open handles.  Frames the heap took
// for itself are not a leak (the heap keeps its region), so they are
// counted back.
#include "cap.h"
#include "kmalloc.h"
#include "kprintf.h"
#include "ktest.h"
#include "mm/frame.h"

struct baseline {
    uint32_t frames_free_or_heap;
    size_t heap_blocks, heap_bytes;
    uint32_t objects, handles;
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
    b->objects = kobject_count();
    b->handles = cap_handles_open();
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
    ok &= KEXPECT_UEQ(now.objects, s_baseline.objects);
    ok &= KEXPECT_UEQ(now.handles, s_baseline.handles);
    return ok;
}
