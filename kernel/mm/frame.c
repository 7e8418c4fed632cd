// The physical frame allocator: a binary buddy system over the direct map.
//
// Why buddies: single frames must come and go in O(1), and kernel-stack
// blocks need runs of 2^k frames aligned to their size.  A buddy system gives
// both: every operation walks at most FRAME_MAX_ORDER levels, whatever the
// number of frames.  Free blocks are linked through their own first bytes
// (reachable through the direct map); one byte of state per frame records
// whether a frame heads a free block, heads an allocated block, lies inside
// a block, or is not ours, so a bad free is caught and reported.
#include <stdbool.h>
#include "boot.h"
#include "kprintf.h"
#include "lib/list.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "panic.h"

#define STATE_INSIDE   0x00 // part of a block headed by a lower frame
#define STATE_FREE     0x40 // heads a free block; low bits: order
#define STATE_USED     0x80 // heads an allocated block; low bits: order
#define STATE_RESERVED 0xFF // hole, kernel, module, metadata: never handed out
#define ORDER_MASK     0x1F

// Minimum memory Tandem asks for beyond the kernel image: page tables, the
// heap, threads, user programs, and the self-tests, which need a free
// naturally aligned 4 MiB run.  With QEMU that means `-m 12M` or more.
#define MIN_FREE_FRAMES 2048 // 8 MiB

// A free run's first frame holds its link in the list of its order.
struct free_block {
    struct list_node link;
};

static uint8_t *s_state; // one byte per frame below s_limit_pfn
static uint32_t s_limit_pfn;
static struct list_node s_free[FRAME_MAX_ORDER + 1]; // free runs of each order
static struct frame_counts s_counts;

extern char __boot_start[], __kernel_end[];

static struct free_block *
block_at(uint32_t pfn)
{
    return P2V((uintptr_t)pfn << 12);
}

static uint32_t
pfn_of(struct list_node *n)
{
    return (uint32_t)(V2P(list_entry(n, struct free_block, link)) >> 12);
}

// Files the free run at pfn first in the list of its order.
static void
free_run_push(unsigned order, uint32_t pfn)
{
    list_insert_before(s_free[order].next, &block_at(pfn)->link);
    s_state[pfn] = STATE_FREE | order;
}

// Gives back a run, merging with its buddy for as long as the buddy is a
// free run of the same order.
static void
buddy_free(uint32_t pfn, unsigned order)
{
    while (order < FRAME_MAX_ORDER) {
        uint32_t buddy = pfn ^ (1u << order);
        if (buddy >= s_limit_pfn || s_state[buddy] != (STATE_FREE | order))
            break;
        list_remove(&block_at(buddy)->link);
        s_state[buddy] = STATE_INSIDE;
        s_state[pfn] = STATE_INSIDE;
        pfn &= ~(1u << order);
        order++;
    }
    free_run_push(order, pfn);
}

uintptr_t
frame_alloc_order(unsigned order)
{
    if (order > FRAME_MAX_ORDER)
        return 0;
    unsigned o = order;
    while (o <= FRAME_MAX_ORDER && list_empty(&s_free[o]))
        o++;
    if (o > FRAME_MAX_ORDER)
        return 0;
    uint32_t pfn = pfn_of(list_pop_front(&s_free[o]));
    // Split down to the requested order, returning the upper halves.
    while (o > order) {
        o--;
        free_run_push(o, pfn + (1u << o));
    }
    s_state[pfn] = STATE_USED | order;
    s_counts.free -= 1u << order;
    return (uintptr_t)pfn << 12;
}

uintptr_t
frame_alloc(void)
{
    return frame_alloc_order(0);
}

void
frame_free(uintptr_t pa)
{
    uint32_t pfn = (uint32_t)(pa >> 12);
    if (pa & 0xFFF)
        panic("frame_free(%#lx): not a frame address (not 4 KiB aligned)", (unsigned long)pa);
    if (pfn >= s_limit_pfn || s_state[pfn] == STATE_RESERVED)
        panic("frame_free(%#lx): not a frame this allocator manages", (unsigned long)pa);
    uint8_t st = s_state[pfn];
    if ((st & ~ORDER_MASK) != STATE_USED)
        panic("frame_free(%#lx): frame is not allocated (state %s)", (unsigned long)pa,
              (st & ~ORDER_MASK) == STATE_FREE ? "free: double free" : "inside another block");
    unsigned order = st & ORDER_MASK;
    s_counts.free += 1u << order;
    buddy_free(pfn, order);
}

unsigned
frame_order_for(uint32_t bytes)
{
    unsigned order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

void
frame_counts(struct frame_counts *out)
{
    *out = s_counts;
}

// True if [pa, pa + 4 KiB) must stay out of the allocator.
static bool
frame_is_reserved(uint64_t pa, uint64_t meta_start, uint64_t meta_end)
{
    if (pa < 0x100000)
        return true; // BIOS, VGA, real-mode leftovers
    if (pa < V2P(__kernel_end) && pa + PAGE_SIZE > (uintptr_t)__boot_start)
        return true; // the kernel image
    if (pa < meta_end && pa + PAGE_SIZE > meta_start)
        return true; // this allocator's state array
    if (pa < g_boot.info_phys_end && pa + PAGE_SIZE > g_boot.info_phys_start)
        return true; // the Multiboot structures
    for (unsigned i = 0; i < g_boot.module_count; i++)
        if (pa < g_boot.modules[i].end && pa + PAGE_SIZE > g_boot.modules[i].start)
            return true; // module images, until loaded
    return false;
}

void
frame_init(void)
{
    // The highest usable address decides the size of the state array.
    uint64_t top = 0;
    for (unsigned i = 0; i < g_boot.region_count; i++) {
        const struct boot_region *r = &g_boot.regions[i];
        if (r->type == 1 && r->base + r->length > top)
            top = r->base + r->length;
    }
    if (top > DIRECT_MAP_LIMIT)
        top = DIRECT_MAP_LIMIT;
    s_limit_pfn = (uint32_t)(top >> 12);

    // The state array goes right after everything loaded (kernel, modules),
    // inside the 16 MiB the early page tables map.
    uintptr_t meta = V2P(__kernel_end);
    for (unsigned i = 0; i < g_boot.module_count; i++)
        if (g_boot.modules[i].end > meta)
            meta = g_boot.modules[i].end;
    meta = ALIGN_UP(meta, PAGE_SIZE);
    uintptr_t meta_end = ALIGN_UP(meta + s_limit_pfn, PAGE_SIZE);
    if (meta_end > 16u << 20)
        panic("frame_init: state array %#lx-%#lx lies beyond the early 16 MiB map",
              (unsigned long)meta, (unsigned long)meta_end);
    s_state = P2V(meta);
    memset(s_state, STATE_RESERVED, s_limit_pfn);
    for (unsigned o = 0; o <= FRAME_MAX_ORDER; o++)
        list_init(&s_free[o]);

    memset(&s_counts, 0, sizeof(s_counts));
    for (unsigned i = 0; i < g_boot.region_count; i++) {
        const struct boot_region *r = &g_boot.regions[i];
        if (r->type != 1)
            continue;
        uint64_t start = ALIGN_UP(r->base, (uint64_t)PAGE_SIZE);
        uint64_t end = ALIGN_DOWN(r->base + r->length, (uint64_t)PAGE_SIZE);
        for (uint64_t pa = start; pa < end; pa += PAGE_SIZE) {
            if (pa >= DIRECT_MAP_LIMIT) {
                s_counts.ignored++;
            } else if (frame_is_reserved(pa, meta, meta_end)) {
                s_counts.reserved++;
            } else {
                s_counts.total++;
                s_counts.free++;
                buddy_free((uint32_t)(pa >> 12), 0);
            }
        }
    }
    if (s_counts.free < MIN_FREE_FRAMES)
        boot_stop("not enough memory: Tandem needs at least %u KiB free after the kernel "
                  "and its modules; this machine has %u KiB",
                  MIN_FREE_FRAMES * 4, s_counts.free * 4);
}
