// The frame allocator on the machine's real memory map.
#include "ktest.h"
#include "lib/string.h"
#include "mm/frame.h"

KTEST(frames, counts_are_consistent)
{
    struct frame_counts c;
    frame_counts(&c);
    KEXPECT_GT(c.total, 0);
    KEXPECT_LE(c.free, c.total);
    KEXPECT_GT(c.reserved, 0); // at least the kernel image
}

// The largest order with a free run now.  Not always FRAME_MAX_ORDER: in a
// small memory the boot modules may leave no free run of 4 MiB, wherever
// the boot loader happened to put them.
static unsigned
largest_free_order(void)
{
    for (unsigned order = FRAME_MAX_ORDER; order > 0; order--) {
        uintptr_t run = frame_alloc_order(order);
        if (run) {
            frame_free(run);
            return order;
        }
    }
    return 0;
}

KTEST(frames, exhaust_and_return_all)
{
    struct frame_counts before, empty, after;
    frame_counts(&before);
    unsigned largest = largest_free_order();
    // Chain every frame through its own first word, so the test needs no memory.
    uintptr_t head = 0;
    uint32_t n = 0;
    for (uintptr_t pa; (pa = frame_alloc()) != 0; n++) {
        KASSERT_UEQ(pa & 0xFFF, 0);
        *(uintptr_t *)P2V(pa) = head;
        head = pa;
    }
    frame_counts(&empty);
    KEXPECT_UEQ(n, before.free);
    KEXPECT_UEQ(empty.free, 0);
    KEXPECT_UEQ(frame_alloc_order(2), 0);
    while (head) {
        uintptr_t next = *(uintptr_t *)P2V(head);
        frame_free(head);
        head = next;
    }
    frame_counts(&after);
    KEXPECT_UEQ(after.free, before.free);
    // Coalescing worked: the largest run is available again.
    KEXPECT_UEQ(largest_free_order(), largest);
    KEXPECT_GE(largest, 8); // 1 MiB: every memory size make test boots has one
}

KTEST(frames, runs_are_naturally_aligned)
{
    uintptr_t runs[FRAME_MAX_ORDER + 1] = { 0 };
    unsigned largest = largest_free_order();
    for (unsigned order = largest + 1; order-- > 0;) { // the largest first, while it is whole
        runs[order] = frame_alloc_order(order);
        KEXPECT_NE(runs[order], 0);
        KEXPECT_UEQ(runs[order] & ((PAGE_SIZE << order) - 1), 0);
    }
    // The runs do not overlap: fill each with its order and read it back.
    for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
        if (runs[order])
            memset(P2V(runs[order]), (int)order, PAGE_SIZE << order);
    for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++) {
        if (!runs[order])
            continue;
        const uint8_t *p = P2V(runs[order]);
        KEXPECT_EQ(p[0], order);
        KEXPECT_EQ(p[(PAGE_SIZE << order) - 1], order);
        frame_free(runs[order]);
    }
    KEXPECT_UEQ(frame_alloc_order(FRAME_MAX_ORDER + 1), 0);
}

KTEST(frames, order_for_bytes)
{
    KEXPECT_EQ(frame_order_for(1), 0);
    KEXPECT_EQ(frame_order_for(4096), 0);
    KEXPECT_EQ(frame_order_for(4097), 1);
    KEXPECT_EQ(frame_order_for(8192), 1);
    KEXPECT_EQ(frame_order_for(16384), 2);
}
