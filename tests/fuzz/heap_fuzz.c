/* libFuzzer target for the persistent heap: the input is a stream of
 * operations on a small heap with a bounded arena; a model of every live
 * block checks placement, contents and counters after each one, and any
 * disagreement aborts.
 *
 * The cache: small sizes dominate the input, a recycling op frees a block
 * and asks for its size at once (a block left at the head of its class
 * must come back), a flush op empties the cache, and a second heap runs
 * the same operations with its free fast path shut (its window emptied
 * before every free), so in release builds every fast free is checked
 * against what the slow path does: both heaps must hand out the same
 * offsets and count the same.  heap_check after every op proves the
 * classes' bounds, the flags and that no cached block pins the top.
 *
 * Input: byte 0 picks the arena (bit 0: disjoint grow results, bit 1:
 * 64-byte grow steps instead of pages, bit 2: give back, bit 3: keep two
 * pages); then 4 bytes per operation:
 *   op  slot  size-low  size-high/align */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/heap_model.h"
#include "mm/heap.h"

#define NSLOT     64
#define ARENA_CAP (256u << 10)
#define SLACK_MAX 192

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "heap_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                           \
        }                                                                      \
    } while (0)

struct live {
    uint8_t *p;
    size_t size;
    size_t bytes;
    uint8_t fill;
};

static struct arena g_arena, g_arena2;
static struct heap g_heap, g_heap2; // g_heap2: the same, with no fast free
static struct live g_slot[NSLOT];
static uint8_t *g_slot2[NSLOT]; // g_heap2's block for each slot
static struct heap_stats g_want;
static uint64_t g_fast_frees;

static NORETURN void
on_corrupt(void *ctx, const struct heap_report *r)
{
    (void)ctx;
    fprintf(stderr, "heap_fuzz: corrupt report %d ptr %p size %zu\n", (int)r->what, r->ptr,
            r->size);
    abort();
}

// The peak counts cached blocks as in use (as the free lists do): it
// follows in_use + cached_bytes, or, after a realloc that moved (both
// blocks live at once), lies between that and g_peak_ceiling.
static size_t g_peak_ceiling;

static void
check_stats(void)
{
    struct heap_stats s, s2;

    heap_stats(&g_heap, &s);
    heap_stats(&g_heap2, &s2);
    if (s.in_use + s.cached_bytes > g_want.peak_in_use)
        g_want.peak_in_use = s.in_use + s.cached_bytes;
    if (g_peak_ceiling) {
        CHECK(s.peak_in_use >= g_want.peak_in_use && s.peak_in_use <= g_peak_ceiling);
        g_want.peak_in_use = s.peak_in_use;
        g_peak_ceiling = 0;
    }
    CHECK(s.in_use == g_want.in_use);
    CHECK(s.peak_in_use == g_want.peak_in_use);
    CHECK(s.live_blocks == g_want.live_blocks);
    CHECK(s.allocs == g_want.allocs);
    CHECK(s.frees == g_want.frees);
    CHECK(s.failures == g_want.failures);
    CHECK(s.heap_size <= g_arena.used);
    CHECK(s.cached_blocks <= HEAP_CACHE_BLOCKS);
    CHECK(heap_check(&g_heap, NULL, NULL) == 0);
    // The twin: the same in every count.
    CHECK(s2.in_use == s.in_use && s2.peak_in_use == s.peak_in_use &&
          s2.live_blocks == s.live_blocks);
    CHECK(s2.allocs == s.allocs && s2.frees == s.frees && s2.failures == s.failures);
    CHECK(s2.heap_size == s.heap_size && s2.cached_blocks == s.cached_blocks);
    CHECK(s2.cached_bytes == s.cached_bytes);
    CHECK(heap_check(&g_heap2, NULL, NULL) == 0);
}

// Where p lies in its arena: the twins must agree on it.
static size_t
offset_in(const struct arena *a, const void *p)
{
    return p ? (size_t)((const uint8_t *)p - a->mem) : SIZE_MAX;
}

// The twin's side of a free: its fast path shut.
static void
twin_free(struct live *l)
{
    uint8_t **p2 = &g_slot2[l - g_slot];

    g_heap2.cache_span = 0;
    heap_free(&g_heap2, *p2, 2);
    *p2 = NULL;
}

static size_t
in_use(void)
{
    struct heap_stats s;

    heap_stats(&g_heap, &s);
    return s.in_use;
}

// Records a block just placed in l and fills it with its own byte.
static void
place(struct live *l, uint8_t *p, size_t size, size_t align, size_t bytes, uint8_t fill)
{
    CHECK(((uintptr_t)p & (HEAP_ALIGN - 1)) == 0);
    CHECK(((uintptr_t)p & (align - 1)) == 0);
    CHECK(bytes > size && bytes <= size + SLACK_MAX);
    CHECK(shadow_claim(&g_arena, p, size));
    CHECK(heap_usable_size(&g_heap, p, 0) >= size);
    l->p = p;
    l->size = size;
    l->bytes = bytes;
    l->fill = fill;
    memset(p, fill, size);
}

static void
do_alloc(struct live *l, unsigned op, size_t size, size_t align, uint8_t fill)
{
    size_t before = in_use();
    bool zeroed = false;
    uint8_t *p, *p2;

    switch (op) {
    case 0:
        p = heap_alloc(&g_heap, size, 1);
        p2 = heap_alloc(&g_heap2, size, 1);
        align = 1;
        break;
    case 1:
        p = heap_zalloc(&g_heap, size, 1);
        p2 = heap_zalloc(&g_heap2, size, 1);
        align = 1;
        zeroed = true;
        break;
    case 2: {
        size_t n = 1 + (align & 7);
        size /= n;
        p = heap_calloc(&g_heap, n, size, 1);
        p2 = heap_calloc(&g_heap2, n, size, 1);
        size *= n;
        align = 1;
        zeroed = true;
        break;
    }
    default:
        p = heap_alloc_aligned(&g_heap, size, align, 1);
        p2 = heap_alloc_aligned(&g_heap2, size, align, 1);
        break;
    }
    CHECK(offset_in(&g_arena, p) == offset_in(&g_arena2, p2));
    g_slot2[l - g_slot] = p2;
    if (!p) {
        g_want.failures++;
        return;
    }
    if (zeroed)
        CHECK(all_bytes(p, size, 0));
#if TANDEM_DEBUG
    else
        CHECK(all_bytes(p, size, HEAP_FILL_NEW));
#endif
    size_t bytes = in_use() - before;
    g_want.in_use += bytes;
    g_want.live_blocks++;
    g_want.allocs++;
    place(l, p, size, align, bytes, fill);
}

static void
do_free(struct live *l)
{
    CHECK(all_bytes(l->p, l->size, l->fill));
    shadow_release(&g_arena, l->p, l->size);
#if !TANDEM_DEBUG
    if (heap_cache_push(&g_heap, l->p))
        g_fast_frees++;
    else
#endif
        heap_free(&g_heap, l->p, 2);
    twin_free(l);
    g_want.in_use -= l->bytes;
    g_want.live_blocks--;
    g_want.frees++;
    l->p = NULL;
}

// Resizes l's block, or places one through realloc(NULL) if l is empty.
static void
do_realloc(struct live *l, size_t size, uint8_t fill)
{
    size_t before = in_use();
    bool had = l->p != NULL;

    if (had)
        CHECK(all_bytes(l->p, l->size, l->fill));
    struct heap_stats s0;
    heap_stats(&g_heap, &s0);
    uint8_t *p = heap_realloc(&g_heap, l->p, size, 3);
    uint8_t **p2 = &g_slot2[l - g_slot];
    g_heap2.cache_span = 0; // a realloc that moves frees the old block
    uint8_t *q2 = heap_realloc(&g_heap2, *p2, size, 3);
    CHECK(offset_in(&g_arena, p) == offset_in(&g_arena2, q2));
    if (q2)
        *p2 = q2;
    if (!p) {
        g_want.failures++;
        if (had)
            CHECK(all_bytes(l->p, l->size, l->fill));
        return;
    }
    size_t after = in_use();
    size_t bytes = after - before + (had ? l->bytes : 0);
    if (!had) {
        g_want.allocs++;
        g_want.live_blocks++;
    } else {
        size_t kept = size < l->size ? size : l->size;
        CHECK(all_bytes(p, kept, l->fill));
        if (p != l->p) {
            // Both blocks live while the bytes moved.
            g_peak_ceiling = s0.in_use + s0.cached_bytes + bytes;
            if (g_peak_ceiling < g_want.peak_in_use)
                g_peak_ceiling = g_want.peak_in_use;
            g_want.allocs++;
            g_want.frees++;
        }
        shadow_release(&g_arena, l->p, l->size);
    }
    g_want.in_use = after;
    place(l, p, size, 1, bytes, fill);
}

// Frees l's block and asks for its size again at once: a block the free
// left at the head of its cache class comes straight back.
static void
do_recycle(struct live *l)
{
    uint8_t *old = l->p, fill = l->fill;
    size_t size = l->size, bytes = l->bytes;

    do_free(l);
    check_stats();
    bool back = cache_head(&g_heap, bytes) == old && cache_serves(size, bytes);
    do_alloc(l, 0, size, 1, fill);
    if (back)
        CHECK(l->p == old);
}

// Empties both caches: the counters but the cache's own stay.
static void
do_flush(void)
{
    struct heap_stats s0, s1;

    heap_stats(&g_heap, &s0);
    heap_flush_cache(&g_heap);
    heap_flush_cache(&g_heap2);
    heap_stats(&g_heap, &s1);
    CHECK(s1.cached_blocks == 0 && s1.cached_bytes == 0);
    CHECK(s1.in_use == s0.in_use && s1.live_blocks == s0.live_blocks);
    CHECK(s1.allocs == s0.allocs && s1.frees == s0.frees && s1.heap_size <= s0.heap_size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    if (!g_arena.mem) {
        arena_init(&g_arena, ARENA_CAP, 4096, ARENA_CONTIGUOUS);
        arena_init(&g_arena2, ARENA_CAP, 4096, ARENA_CONTIGUOUS);
    }
    struct arena *arenas[] = { &g_arena, &g_arena2 };
    struct heap *heaps[] = { &g_heap, &g_heap2 };
    for (int k = 0; k < 2; k++) {
        struct arena *a = arenas[k];
        a->used = 0;
        a->calls = 0;
        a->mode = data[0] & 1 ? ARENA_DISJOINT : ARENA_CONTIGUOUS;
        a->step = data[0] & 2 ? 64 : 4096;
        memset(a->shadow, 0, ARENA_CAP / 8 + 1);
        heap_init(heaps[k], arena_grow, on_corrupt, a);
        if (data[0] & 4) // give memory back at the top, keeping 0 or 2 pages
            heap_set_shrink(heaps[k], arena_shrink, 4096, data[0] & 8 ? 8192 : 0);
        ASAN_UNPOISON_MEMORY_REGION(a->mem, ARENA_CAP);
    }
    memset(g_slot, 0, sizeof(g_slot));
    memset(g_slot2, 0, sizeof(g_slot2));
    memset(&g_want, 0, sizeof(g_want));
    g_peak_ceiling = 0;

    for (size_t i = 1; i + 4 <= len; i += 4) {
        const uint8_t *b = data + i;
        struct live *l = &g_slot[b[1] % NSLOT];
        unsigned op = b[0] & 7;
        size_t size = b[2];
        size_t align = (size_t)1 << (b[3] % 14);

        if (b[0] & 0x80)
            size |= (size_t)b[3] << 8; // up to 64 KiB
        if ((b[0] & 0x78) == 0x78)
            size = SIZE_MAX - b[2]; // huge: must fail cleanly
        uint8_t fill = (uint8_t)(b[1] ^ b[2] ^ 0x5A);
        if ((b[0] & 0x78) == 0x70) {
            do_flush();
            check_stats();
        }
        if (!l->p) {
            if (op < 6)
                do_alloc(l, op & 3, size, align, fill);
            else
                do_realloc(l, size, fill);
        } else if (op < 3) {
            do_free(l);
        } else if (op == 3) {
            do_recycle(l);
        } else {
            do_realloc(l, size, fill);
        }
        check_stats();
    }

    for (size_t i = 0; i < NSLOT; i++)
        if (g_slot[i].p)
            do_free(&g_slot[i]);
    check_stats();
    CHECK(in_use() == 0);
    // Everything freed merges back: a single region is one free block.
    struct heap_stats s;
    heap_stats(&g_heap, &s);
    if (g_heap.nregions == 1 && s.heap_size > 2 * SLACK_MAX) {
        void *all = heap_alloc(&g_heap, s.heap_size - SLACK_MAX, 4);
        CHECK(all != NULL);
        heap_free(&g_heap, all, 4);
    }
    return 0;
}
