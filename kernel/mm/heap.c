/* The persistent kernel heap: two-level segregated fits (TLSF-style).
 *
 * Free blocks are filed in lists by size class.  The first level is the
 * power of two below the size; the second splits that range into
 * HEAP_SL_COUNT equal steps.  Below SMALL_BLOCK every class is exactly one
 * size.  Two bitmaps say which lists are non-empty, so finding a fitting
 * list is one mask and one find-first-set per level.  A request is rounded
 * up to the next class boundary before the search, so the head of any list
 * found fits without looking at a second block ("good fit": waste within a
 * class is at most 1/16 of the size, plus the header).
 *
 * Every block starts with a header holding its size and its physical
 * predecessor; a free block keeps its list links in its payload.  Every
 * region that grow hands over ends with a zero-size end marker, so walking
 * to a neighbour never leaves the region.  A freed block merges at once with
 * free neighbours: no two free blocks are ever adjacent, so memory free in
 * total is one block as soon as everything between it is freed.
 *
 * Giving memory back (heap_set_shrink): a free whose merged block ends at
 * the end marker of the last region - the top of the heap - cuts that block
 * down to shrink_keep bytes (rounded to whole units) and hands the units
 * above to the shrink callback.  Only the top is ever cut, so regions stay
 * whole and the check is one comparison with the block's neighbour.
 *
 * The cache (include/mm/heap_fast.h has its fast paths): blocks of a
 * size that requests of 1..HEAP_CACHE_MAX bytes get are, when freed, kept
 * whole in a LIFO list per size (a class) instead of being merged, and the
 * next request of that size takes the newest.  Both are a handful of
 * instructions; the free lists do not see them.  A cached block keeps its
 * header (flag HEAP_BLOCK_CACHED) and is in use as far as merging goes, but
 * free to every caller and counter (heap_stats takes the cache out).
 *   Bound: class j (blocks of j grains) holds at most class_depth(j)
 *   blocks: HEAP_CACHE_CLASS_BYTES of them, between 1 and HEAP_CACHE_DEPTH
 *   (on i686 release: 8 of 16..64 bytes down to 1 of 264..520), and all
 *   of them together at most HEAP_CACHE_BLOCKS (32: 16.3 KiB at most).  A
 *   free into a class at its bound first flushes the class: every block
 *   in it goes to the free lists, merging.  A full cache takes a block
 *   only into a class holding none, for one block another class gives up
 *   (round robin): so a size freed often still gets in, and no free pays
 *   for more than one block.
 *   Memory: a request the free lists cannot serve flushes every class
 *   before it asks grow for more, so the cache never makes the heap grow.
 *   Merging: a block with a free block below it (just below, or below
 *   cached blocks only) is not cached but merges, as without a cache.  The
 *   fast free reads that from its own header: HEAP_BLOCK_FREE_BELOW, which
 *   every free through the lists sets on the cached blocks just above it
 *   and the block after them; set when it no longer holds, it only sends a
 *   free the slow way, which clears it.
 *   Giving back (heaps with a shrink callback): only the top can go back,
 *   so no cached block may keep free memory from reaching it.  The top run
 *   is the last region's blocks above its last one in use (each free or
 *   cached); in it no free block lies below a cached one.  Cached blocks
 *   there sit just below the top free block and hold back their own bytes,
 *   no more, and only until the heap next gives memory back: then they are
 *   flushed first and go back too.  The merging rule keeps a free from
 *   caching a block above a free one; a free through the lists that leaves
 *   a free block below cached ones of the top run (unpin_top) flushes
 *   their classes.
 *   Red zones (debug builds): a block is checked when freed, as any, then
 *   filled with HEAP_FILL_FREED past the cache's link and marked
 *   MAGIC_CACHED, keeping its owner and size for a report; its bytes and
 *   front red zone are checked again when it leaves the cache (a request,
 *   a flush) and by heap_check, and a request paints its red zones and
 *   owner anew.  Debug builds never take the fast paths.

 * Worst-case cost, independent of how many blocks exist:
 *   alloc   O(1) bitmap search + one look at the head of its own class
 *           + at most two grow calls (the second only if grow broke
 *           contiguity) + one split.  Grow's own cost is the caller's.
 *   free    pointer checks over at most HEAP_MAX_REGIONS regions
 *           + at most two merges, each one list removal, + one insertion
 *           + one give-back check, and when it gives, one list removal and
 *           insertion and one shrink call.  Shrink's own cost is the
 *           caller's (the kernel's: one unmap per page given, each page one
 *           that an earlier grow mapped, so it is paid for once per grow).
 *   aligned as alloc, plus one more split in front of the block.
 *   realloc as free + alloc, plus copying the bytes when it cannot stay in
 *           place: proportional to the size, never to the block count;
 *           shrinking in place may give back like free.
 *   cache   a hit or a free into a class with room: O(1), no loop.  A free
 *           into a class at its bound: one class flush, at most
 *           HEAP_CACHE_DEPTH frees; into a full cache: a look at every
 *           class and at most one free.  The bound of every operation: an
 *           alloc that finds no free block, or a free that gives back or
 *           reaches cached blocks at the top, flushes at most every cached
 *           block: HEAP_CACHE_BLOCKS (32) frees through the lists, each
 *           O(1) as above, plus the operation's own cost, plus walks of the
 *           top run (at most 2 * 32 + 1 blocks each), one more than the
 *           classes it flushes there.  Measured (make bench-guest, release):
 *           a flush of a full class 3.0k instructions, an allocation that
 *           empties the full cache 11.8k, against 452 for a free that merges
 *           both ways.
 * Debug builds add fills and red-zone checks proportional to the block's
 * size (the red zone's slack is bounded by MIN_BLOCK); a cached block's
 * bytes are checked when it leaves the cache.  heap_check walks everything
 * and is the one linear operation.
 */
#include "mm/heap_fast.h"

// Kept in the payload of a free block, where the user bytes were.
struct free_links {
    struct heap_block *next;
    struct heap_block *prev;
};

#define GRAIN        HEAP_ALIGN
#define BLOCK_FREE   HEAP_BLOCK_FREE
#define BLOCK_CACHED HEAP_BLOCK_CACHED
#define FREE_BELOW   HEAP_BLOCK_FREE_BELOW
#define NOT_IN_USE   (BLOCK_FREE | BLOCK_CACHED)
#define SIZE_MASK    (~(size_t)(GRAIN - 1))
#define SMALL_BLOCK  ((size_t)1 << HEAP_FL_SHIFT)
#define RZ_MIN       HEAP_RZ_MIN
#define HDR          HEAP_HDR

#if TANDEM_DEBUG
#define MAGIC_LIVE   0xA110CA7Eu
#define MAGIC_FREE   0xF4EEF4EEu
#define MAGIC_CACHED 0xCAC4EDB1u
#define MAGIC_END    0xE4DE4DE4u
#endif

#define MIN_PAYLOAD \
    ALIGN_UP(sizeof(struct free_links) > RZ_MIN ? sizeof(struct free_links) : RZ_MIN, GRAIN)
#define MIN_BLOCK (HDR + MIN_PAYLOAD)

// Cache classes are indexed by block size in grains.
#define CACHE_LOW   (MIN_BLOCK / GRAIN)
#define CACHE_TOP   HEAP_CACHE_TOP
#define CACHE_REACH (CACHE_TOP * GRAIN) // the largest cached block

_Static_assert((GRAIN & (GRAIN - 1)) == 0, "alignment must be a power of two");
_Static_assert(GRAIN >= 8, "the kernel relies on 8-byte alignment");
_Static_assert(HEAP_FL_COUNT < 32, "first-level bitmap is 32 bits");
_Static_assert(HEAP_SL_COUNT <= 32, "second-level bitmap is 32 bits");
_Static_assert(((size_t)HEAP_MAX_ALLOC * 2 + 4 * MIN_BLOCK) >> 31 <= 1,
               "an aligned request must round up without leaving the 32-bit classes");
_Static_assert(GRAIN == (size_t)1 << HEAP_GRAIN_SHIFT, "heap_fast.h's grain");
_Static_assert(CACHE_TOP < HEAP_CACHE_SLOTS, "every class needs a slot");
_Static_assert(MIN_PAYLOAD == GRAIN && MIN_PAYLOAD >= sizeof(void *),
               "a request of 1 byte has a class of its own, with room for the cache's link");
_Static_assert(offsetof(struct heap_block, prev_phys) == 0,
               "the fast free compares it at a block's start");
_Static_assert(sizeof(struct heap_cache_class) == 2 * sizeof(void *),
               "class slots are indexed by shifting");

static inline size_t
bsize(const struct heap_block *b)
{
    return b->size & SIZE_MASK;
}

// Sets b's size, keeping its flags.
static inline void
set_bsize(struct heap_block *b, size_t size)
{
    b->size = size | (b->size & ~SIZE_MASK);
}

static inline bool
is_free(const struct heap_block *b)
{
    return b->size & BLOCK_FREE;
}

static inline bool
is_cached(const struct heap_block *b)
{
    return b->size & BLOCK_CACHED;
}

// In use by a caller: neither in a free list nor in the cache.
static inline bool
in_use(const struct heap_block *b)
{
    return !(b->size & NOT_IN_USE);
}

static inline struct heap_block *
next_phys(const struct heap_block *b)
{
    return (struct heap_block *)((uintptr_t)b + bsize(b));
}

static inline void *
user_of(const struct heap_block *b)
{
    return (void *)((uintptr_t)b + HDR);
}

static inline struct heap_block *
block_of(uintptr_t user)
{
    return (struct heap_block *)(user - HDR);
}

static inline struct free_links *
links(const struct heap_block *b)
{
    return user_of(b);
}

// Sets HEAP_BLOCK_FREE_BELOW above free block b: on the cached blocks
// just after it and on the first block after them.
static void
mark_above(struct heap_block *b)
{
    struct heap_block *x = b;

    do {
        x = next_phys(x);
        x->size |= FREE_BELOW;
    } while (is_cached(x));
}

// Whether a free block lies at or below b with nothing but cached blocks
// between: what HEAP_BLOCK_FREE_BELOW of b's successor says, exactly.
static bool
free_at_or_below(const struct heap_block *b)
{
    while (b && is_cached(b))
        b = b->prev_phys;
    return b && is_free(b);
}

static inline unsigned
fls32(uint32_t x)
{
    return 31u - (unsigned)__builtin_clz(x);
}

static inline unsigned
ffs32(uint32_t x)
{
    return (unsigned)__builtin_ctz(x);
}

// Block bytes for a request of req <= HEAP_MAX_ALLOC bytes.
static inline size_t
block_size_for(size_t req)
{
    size_t bs = HDR + ALIGN_UP(req + RZ_MIN, GRAIN);

    return bs < MIN_BLOCK ? MIN_BLOCK : bs;
}

// How many blocks class j may hold (0 for slots no block size maps to).
static inline int32_t
class_depth(size_t j)
{
    if (j < CACHE_LOW || j > CACHE_TOP)
        return 0;
    size_t n = HEAP_CACHE_CLASS_BYTES / (j * GRAIN);
    return n < 1 ? 1 : n > HEAP_CACHE_DEPTH ? HEAP_CACHE_DEPTH : (int32_t)n;
}

// How many blocks class j holds.
static inline size_t
cached_in(const struct heap *h, size_t j)
{
    return (size_t)(class_depth(j) - h->cache[j].room);
}

// The list a block of size bytes is filed in.
static void
mapping(size_t size, unsigned *fl, unsigned *sl)
{
    if (size < SMALL_BLOCK) {
        *fl = 0;
        *sl = (unsigned)(size / GRAIN);
        return;
    }
#if SIZE_MAX > 0xFFFFFFFFu
    if (size > 0xFFFFFFFFu) { // only on a 64-bit host: the top list takes them
        *fl = HEAP_FL_COUNT - 1;
        *sl = HEAP_SL_COUNT - 1;
        return;
    }
#endif
    unsigned f = fls32((uint32_t)size);
    *sl = (unsigned)(size >> (f - HEAP_SL_LOG2)) & (HEAP_SL_COUNT - 1);
    *fl = f - HEAP_FL_SHIFT + 1;
}

// Size rounded up to the next class boundary, so every block filed at or
// above its class fits.  size is below 2^31 + 2^28, so this cannot wrap.
static inline size_t
search_size(size_t size)
{
    if (size >= SMALL_BLOCK)
        size += ((size_t)1 << (fls32((uint32_t)size) - HEAP_SL_LOG2)) - 1;
    return size;
}

// Files free block b in the list of its class.
static void
freelist_insert(struct heap *h, struct heap_block *b)
{
    unsigned fl, sl;

    mapping(bsize(b), &fl, &sl);
    links(b)->prev = NULL;
    links(b)->next = h->free[fl][sl];
    if (links(b)->next)
        links(links(b)->next)->prev = b;
    h->free[fl][sl] = b;
    h->sl_map[fl] |= 1u << sl;
    h->fl_map |= 1u << fl;
}

// Takes free block b out of its list.
static void
freelist_remove(struct heap *h, struct heap_block *b)
{
    unsigned fl, sl;
    struct free_links *l = links(b);

    mapping(bsize(b), &fl, &sl);
    if (l->prev)
        links(l->prev)->next = l->next;
    else
        h->free[fl][sl] = l->next;
    if (l->next)
        links(l->next)->prev = l->prev;
    if (!h->free[fl][sl]) {
        h->sl_map[fl] &= ~(1u << sl);
        if (!h->sl_map[fl])
            h->fl_map &= ~(1u << fl);
    }
}

// The end marker of the last region.
static struct heap_block *
top_marker(const struct heap *h)
{
    return (struct heap_block *)(h->regions[h->nregions - 1].end - HDR);
}

// Marks b (in use, not cached) free, merges it with free physical
// neighbours and files the result, which it returns.
static struct heap_block *
release(struct heap *h, struct heap_block *b)
{
    struct heap_block *prev = b->prev_phys;
    struct heap_block *next = next_phys(b);

    b->size |= BLOCK_FREE;
#if TANDEM_DEBUG
    b->magic = MAGIC_FREE; // stays in place when b is absorbed: a second free is named
#endif
    if (prev && is_free(prev)) {
        freelist_remove(h, prev);
        prev->size += bsize(b);
        b = prev;
    }
    if (is_free(next)) {
        freelist_remove(h, next);
        b->size += bsize(next);
    }
    next_phys(b)->prev_phys = b;
    mark_above(b);
    freelist_insert(h, b);
    return b;
}

// Cuts the in-use block b down to bs bytes and frees the rest, when the
// rest can form a block of its own.
static void
trim(struct heap *h, struct heap_block *b, size_t bs)
{
    size_t total = bsize(b);

    if (total - bs < MIN_BLOCK)
        return;
    struct heap_block *rest = (struct heap_block *)((uintptr_t)b + bs);
    rest->prev_phys = b;
    rest->size = total - bs; // its predecessor, b, is in use
    next_phys(rest)->prev_phys = rest;
    set_bsize(b, bs);
    release(h, rest);
}

// Writes the end marker of a region at m.
static void
put_end_marker(struct heap_block *m, struct heap_block *prev)
{
    m->prev_phys = prev;
    m->size = free_at_or_below(prev) ? FREE_BELOW : 0;
#if TANDEM_DEBUG
    m->magic = MAGIC_END;
    m->req = 0;
    m->owner = 0;
#endif
}

// The fast free's window follows the first region (see struct heap).
static void
set_window(struct heap *h)
{
    const struct heap_region *r = &h->regions[0];
    uintptr_t lo = r->start + HDR;
    // A user pointer below hi has room for a block of any class before the
    // end marker, so the fast free may read its successor's header; and
    // the block just below the marker is never in the window.
    uintptr_t hi = r->end - CACHE_REACH;

    h->cache_lo = lo;
    h->cache_span = h->nregions && hi > lo ? (hi - lo) / GRAIN : 0;
}

// Hands grow's memory [base, base + got) to the free lists: joined to the
// last region when it starts where that one ended, else as a new region.
// Returns the free block holding it, or NULL if it could not be used.
static struct heap_block *
add_memory(struct heap *h, uintptr_t base, size_t got)
{
    uintptr_t raw_end = base + got;
    uintptr_t end = ALIGN_DOWN(raw_end, GRAIN);
    struct heap_region *last = h->nregions ? &h->regions[h->nregions - 1] : NULL;
    struct heap_block *b;

    h->stats.heap_size += got;
    h->grow_end = raw_end;
    if (unlikely(raw_end < base))
        return NULL;
    if (last && base == last->raw_end) {
        if (end - last->end < MIN_BLOCK)
            return NULL;
        b = (struct heap_block *)(last->end - HDR); // the old end marker becomes a block
        set_bsize(b, end - last->end);              // (its FREE_BELOW stays right)
        last->end = end;
        last->raw_end = raw_end;
    } else {
        uintptr_t start = ALIGN_UP(base, GRAIN);
        if (h->nregions == HEAP_MAX_REGIONS || end < start || end - start < MIN_BLOCK + HDR)
            return NULL;
        h->regions[h->nregions++] = (struct heap_region){ start, end, raw_end };
        b = (struct heap_block *)start;
        b->prev_phys = NULL;
        b->size = end - HDR - start;
    }
    put_end_marker((struct heap_block *)(end - HDR), b);
    set_window(h);
    return release(h, b);
}

// The free block just before the last region's end marker, if any: new
// contiguous memory will merge with it.
static struct heap_block *
tail_free(const struct heap *h)
{
    if (!h->nregions)
        return NULL;
    const struct heap_block *m = (const struct heap_block *)(h->regions[h->nregions - 1].end - HDR);
    return m->prev_phys && is_free(m->prev_phys) ? m->prev_phys : NULL;
}

// If free block b is the top of the heap (the last block of the last
// region) and holds more than shrink_keep bytes plus a whole unit, cuts it
// so the region ends on a unit boundary at least shrink_keep bytes into it
// and gives the units above to the shrink callback.  A region's first block
// keeps at least MIN_BLOCK bytes, so no region ever empties.
static void
give_back(struct heap *h, struct heap_block *b)
{
    if (!h->shrink || !h->nregions)
        return;
    struct heap_region *r = &h->regions[h->nregions - 1];
    struct heap_block *m = next_phys(b);
    // Only the end of what grow last handed out can go back: a piece
    // add_memory could not use lies above the last region, and stays.
    if ((uintptr_t)m != r->end - HDR || r->raw_end != h->grow_end)
        return;
    size_t unit = h->shrink_unit;
    uintptr_t keep_to = (uintptr_t)b + (b->prev_phys ? 0 : MIN_BLOCK) + h->shrink_keep;
    uintptr_t cut = ALIGN_UP(keep_to + HDR, unit); // the new raw end; the marker ends there
    uintptr_t rest = cut - HDR - (uintptr_t)b;     // what is left of b
    if (rest != 0 && rest < MIN_BLOCK) {
        cut += unit;
        rest += unit;
    }
    if (cut < keep_to || cut >= r->raw_end || r->raw_end - cut < unit)
        return;
    size_t given = r->raw_end - cut;
    freelist_remove(h, b);
    struct heap_block *last = b;
    if (rest == 0)
        last = b->prev_phys; // b goes; the marker takes its place
    else
        set_bsize(b, rest);
    put_end_marker((struct heap_block *)(cut - HDR), last);
    if (rest != 0)
        freelist_insert(h, b);
    r->end = cut;
    r->raw_end = cut;
    h->grow_end = cut;
    h->stats.heap_size -= given;
    set_window(h);
    h->shrink(h->ctx, (void *)cut, given);
}

// Grows the heap until a free block of at least need bytes exists and
// returns it, or NULL.  Asks first for only what the free tail lacks,
// expecting contiguous memory; if grow breaks contiguity and that was too
// little, asks once more for a whole region.
static struct heap_block *
grow_for(struct heap *h, size_t need)
{
    struct heap_block *tail = tail_free(h);
    size_t have = tail ? bsize(tail) : 0;
    struct heap_block *b;
    size_t got, ask;
    void *mem;

    if (have >= need)
        return tail;
    if (h->nregions) {
        ask = need - have;
        ask = (ask < MIN_BLOCK ? MIN_BLOCK : ask) + GRAIN; // GRAIN: the old end may be unaligned
        got = 0;
        mem = h->grow(h->ctx, ask, &got);
        if (!mem)
            return NULL;
        b = add_memory(h, (uintptr_t)mem, got);
        if (b && bsize(b) >= need)
            return b;
        if (!b && h->nregions == HEAP_MAX_REGIONS)
            return NULL; // a fresh region would have no slot either
    }
    ask = need + HDR + 2 * GRAIN; // a new region: its end marker, and unaligned ends
    got = 0;
    mem = h->grow(h->ctx, ask, &got);
    if (!mem)
        return NULL;
    b = add_memory(h, (uintptr_t)mem, got);
    return b && bsize(b) >= need ? b : NULL;
}

// A filed free block of at least need bytes, or NULL.
static struct heap_block *
find_fit(struct heap *h, size_t need)
{
    unsigned fl, sl;
    uint32_t map;

    mapping(search_size(need), &fl, &sl);
    map = h->sl_map[fl] & (~0u << sl);
    if (!map) {
        uint32_t rows = h->fl_map & (~0u << (fl + 1));
        if (rows) {
            fl = ffs32(rows);
            map = h->sl_map[fl];
        }
    }
    if (map)
        return h->free[fl][ffs32(map)];
    // Rounding skips need's own class; its head may still fit.
    mapping(need, &fl, &sl);
    struct heap_block *b = h->free[fl][sl];
    return b && bsize(b) >= need ? b : NULL;
}

static bool flush_all(struct heap *h);

// Takes a free block of at least need bytes out of the lists, or the
// free top if the lists' classes skip it; else empties the cache into the
// lists and looks again before it grows the heap.  Returns it in use, or
// NULL.
static struct heap_block *
take(struct heap *h, size_t need)
{
    struct heap_block *b = find_fit(h, need);

    if (!b) {
        struct heap_block *tail = tail_free(h);
        if (tail && bsize(tail) >= need)
            b = tail;
    }
    if (!b && flush_all(h))
        b = find_fit(h, need);
    if (!b)
        b = grow_for(h, need);
    if (!b)
        return NULL;
    freelist_remove(h, b);
    b->size &= ~BLOCK_FREE; // FREE_BELOW above it may stay: harmless
    return b;
}

static void *
fail(struct heap *h)
{
    h->stats.failures++;
    return NULL;
}

static void
count_alloc(struct heap *h, size_t bs)
{
    h->stats.in_use += bs;
    if (h->stats.in_use > h->stats.peak_in_use)
        h->stats.peak_in_use = h->stats.in_use;
    h->stats.live_blocks++;
    h->stats.allocs++;
}

// b leaves the in-use count of the free lists' view (it is freed or flushed).
static void
count_free(struct heap *h, const struct heap_block *b)
{
    h->stats.in_use -= bsize(b);
    h->stats.live_blocks--;
    h->stats.frees++;
}

#if TANDEM_DEBUG
// Records who owns b and paints its red zones around req user bytes.
static void
paint(struct heap_block *b, size_t req, uintptr_t caller)
{
    uintptr_t front = (uintptr_t)b + sizeof(struct heap_block);

    b->magic = MAGIC_LIVE;
    b->req = req;
    b->owner = caller;
    __builtin_memset((void *)front, HEAP_FILL_REDZONE, HDR - sizeof(struct heap_block));
    __builtin_memset((char *)user_of(b) + req, HEAP_FILL_REDZONE, bsize(b) - HDR - req);
}

// Returns the first byte in [from, to) that is not v, or 0.
static uintptr_t
fill_damage(uintptr_t from, uintptr_t to, uint8_t v)
{
    for (; from < to; from++)
        if (*(const uint8_t *)from != v)
            return from;
    return 0;
}

// Returns the first byte in [from, to) that is not the red-zone pattern, or 0.
static uintptr_t
redzone_damage(uintptr_t from, uintptr_t to)
{
    return fill_damage(from, to, HEAP_FILL_REDZONE);
}

// Whether cached block b is as its free left it: its magic, its front red
// zone, and the freed fill of every payload byte past the cache's link.
static bool
cached_intact(const struct heap_block *b)
{
    uintptr_t p = (uintptr_t)user_of(b);

    return b->magic == MAGIC_CACHED &&
           !redzone_damage((uintptr_t)b + sizeof(struct heap_block), p) &&
           !fill_damage(p + sizeof(void *), (uintptr_t)b + bsize(b), HEAP_FILL_FREED);
}
#endif

// Places a block for req bytes (no fill) at an alignment of align, which is
// GRAIN or a larger power of two.  Returns it in use, or NULL.
static struct heap_block *
place(struct heap *h, size_t req, size_t align, uintptr_t caller)
{
    size_t bs = block_size_for(req);
    struct heap_block *b;

    if (align <= GRAIN) {
        b = take(h, bs);
        if (!b)
            return NULL;
    } else {
        // A leading piece cut off to reach the alignment must be a block.
        b = take(h, bs + align + MIN_BLOCK);
        if (!b)
            return NULL;
        uintptr_t user = (uintptr_t)user_of(b);
        size_t gap = ALIGN_UP(user, align) - user;
        if (gap) {
            if (gap < MIN_BLOCK)
                gap += ALIGN_UP(MIN_BLOCK - gap, align);
            struct heap_block *front = b;
            b = (struct heap_block *)((uintptr_t)front + gap);
            b->prev_phys = front;
            b->size = bsize(front) - gap; // release below tells it front is free
            next_phys(b)->prev_phys = b;
            set_bsize(front, gap);
            release(h, front);
        }
    }
    trim(h, b, bs);
    count_alloc(h, bsize(b));
#if TANDEM_DEBUG
    paint(b, req, caller);
#else
    (void)caller;
#endif
    return b;
}

static NORETURN NOINLINE void
report(struct heap *h, enum heap_fault what, const void *ptr, size_t size, uintptr_t caller,
       uintptr_t owner)
{
    struct heap_report r = { what, ptr, size, caller, owner };

    h->corrupt(h->ctx, &r);
}

static inline size_t
req_of(const struct heap_block *b)
{
#if TANDEM_DEBUG
    return b->req;
#else
    return bsize(b) - HDR;
#endif
}

static inline uintptr_t
owner_of(const struct heap_block *b)
{
#if TANDEM_DEBUG
    return b->owner;
#else
    (void)b;
    return 0;
#endif
}

// The region holding user pointer p, or NULL.
static const struct heap_region *
region_of(const struct heap *h, uintptr_t p)
{
    for (unsigned i = 0; i < h->nregions; i++) {
        const struct heap_region *r = &h->regions[i];
        if (p >= r->start + HDR && p < r->end - HDR)
            return r;
    }
    return NULL;
}

// Checks that b's size fits region r and agrees with both physical
// neighbours; reports HEAP_BAD_HEADER (naming ptr) if not.
static void
check_links(struct heap *h, const struct heap_region *r, const struct heap_block *b,
            const void *ptr, uintptr_t caller)
{
    size_t bs = bsize(b);

    if (unlikely(bs < MIN_BLOCK || bs > r->end - HDR - (uintptr_t)b))
        report(h, HEAP_BAD_HEADER, ptr, 0, caller, 0);
    struct heap_block *prev = b->prev_phys;
    if (unlikely(next_phys(b)->prev_phys != b))
        report(h, HEAP_BAD_HEADER, ptr, 0, caller, 0);
    if (prev == NULL) {
        if (unlikely((uintptr_t)b != r->start))
            report(h, HEAP_BAD_HEADER, ptr, 0, caller, 0);
    } else if (unlikely((uintptr_t)prev < r->start || prev >= b ||
                        !IS_ALIGNED((uintptr_t)prev, GRAIN) || next_phys(prev) != b)) {
        report(h, HEAP_BAD_HEADER, ptr, 0, caller, 0);
    }
}

// Returns the in-use block of a pointer this heap handed out; anything
// else goes to the corrupt callback before a byte is changed.
static struct heap_block *
checked_block(struct heap *h, const void *ptr, uintptr_t caller)
{
    uintptr_t p = (uintptr_t)ptr;
    const struct heap_region *r = region_of(h, p);

    if (unlikely(!r || !IS_ALIGNED(p, GRAIN)))
        report(h, HEAP_BAD_POINTER, ptr, 0, caller, 0);
    struct heap_block *b = block_of(p);
#if TANDEM_DEBUG
    if (unlikely(b->magic == MAGIC_FREE || b->magic == MAGIC_CACHED))
        report(h, HEAP_DOUBLE_FREE, ptr, b->req, caller, b->owner);
    if (unlikely(b->magic != MAGIC_LIVE))
        report(h, HEAP_BAD_POINTER, ptr, 0, caller, 0);
#endif
    if (unlikely(!in_use(b)))
        report(h, HEAP_DOUBLE_FREE, ptr, req_of(b), caller, owner_of(b));
#if TANDEM_DEBUG
    // Before the neighbour links: an overrun that reached the next header
    // is named after the block that overran.
    size_t bs = bsize(b);
    if (unlikely(bs < MIN_BLOCK || bs > r->end - HDR - (uintptr_t)b || b->req > bs - HDR))
        report(h, HEAP_BAD_HEADER, ptr, 0, caller, 0);
    if (unlikely(redzone_damage((uintptr_t)b + sizeof(struct heap_block), p)))
        report(h, HEAP_REDZONE_BEFORE, ptr, b->req, caller, b->owner);
    if (unlikely(redzone_damage(p + b->req, (uintptr_t)b + bs)))
        report(h, HEAP_REDZONE_AFTER, ptr, b->req, caller, b->owner);
#endif
    check_links(h, r, b, ptr, caller);
    return b;
}

// Gives free memory at the top back, after any operation that freed a
// block through the lists: first flushes the classes of cached blocks that
// keep free memory from joining the top (see the top of this file), then
// gives back the top block.  freed: the free block a free just made, whose
// run alone can be newly pinned, or NULL to look at the whole top run.  A
// heap that never gives memory back has nothing to settle.
static void settle(struct heap *h, struct heap_block *freed);

// Takes back an in-use block that has passed checked_block, through the
// free lists.
static void
free_block(struct heap *h, struct heap_block *b)
{
    count_free(h, b);
#if TANDEM_DEBUG
    __builtin_memset(user_of(b), HEAP_FILL_FREED, bsize(b) - HDR);
#endif
    settle(h, release(h, b));
}

// Moves the newest n blocks of class j (all, if it holds fewer) to the
// free lists.  Each is checked first, all of them before any is released,
// so that a report leaves the heap as it was: its links in release builds,
// also its bytes in debug builds.
static void
flush_blocks(struct heap *h, size_t j, int32_t n, uintptr_t caller)
{
    struct heap_cache_class *c = &h->cache[j];
    int32_t listed = (int32_t)cached_in(h, j), k = 0;

    for (void *p = c->head; p && k < n; p = *(void **)p, k++) {
        struct heap_block *b = block_of((uintptr_t)p);
        const struct heap_region *r = region_of(h, (uintptr_t)p);
        if (unlikely(k >= listed || !r || !IS_ALIGNED((uintptr_t)p, GRAIN) || !is_cached(b) ||
                     bsize(b) != j * GRAIN))
            report(h, HEAP_BAD_CACHE, p, 0, caller, 0);
#if TANDEM_DEBUG
        if (unlikely(!cached_intact(b)))
            report(h, HEAP_WRITE_AFTER_FREE, p, b->req, caller, b->owner);
#endif
        check_links(h, r, b, p, caller);
    }
    for (; k > 0; k--) {
        struct heap_block *b = block_of((uintptr_t)c->head);
        c->head = *(void **)c->head;
        c->room++;
        h->cache_room++;
        b->size &= ~BLOCK_CACHED;
        count_free(h, b);
#if TANDEM_DEBUG
        __builtin_memset(user_of(b), HEAP_FILL_FREED, sizeof(void *));
#endif
        release(h, b);
    }
}

// Empties class j into the free lists.
static void
flush_class(struct heap *h, size_t j, uintptr_t caller)
{
    flush_blocks(h, j, HEAP_CACHE_DEPTH, caller);
}

// Empties every class; returns whether there was anything to empty.
static bool
flush_all(struct heap *h)
{
    bool any = false;

    for (size_t j = CACHE_LOW; j <= CACHE_TOP; j++) {
        if (h->cache[j].head) {
            flush_class(h, j, 0);
            any = true;
        }
    }
    return any;
}

// Whether a free block of the top run lies below a cached one of it.
static bool
top_pinned(const struct heap *h)
{
    bool cached_above = false;

    for (struct heap_block *b = top_marker(h)->prev_phys; b && !in_use(b); b = b->prev_phys) {
        if (is_cached(b))
            cached_above = true;
        else if (cached_above)
            return true;
    }
    return false;
}

// Flushes the classes of the top run's cached blocks that lie above a free
// block of it (see the top of this file), so that the free block can join
// the top.  One walk down the run finds them all; a flush may free blocks
// of those classes lower down, which may pin again, so it walks again
// until nothing is pinned.  Each walk but the last empties a class, so
// this ends within one flush of every class.
static void
unpin_top(struct heap *h)
{
    enum { WORDS = (HEAP_CACHE_SLOTS + 31) / 32 };

    for (;;) {
        uint32_t seen[WORDS] = { 0 }, pin[WORDS] = { 0 };
        bool any = false;
        for (struct heap_block *b = top_marker(h)->prev_phys; b && !in_use(b); b = b->prev_phys) {
            size_t j = bsize(b) / GRAIN;
            if (is_cached(b)) {
                seen[j / 32] |= 1u << (j % 32);
            } else {
                for (unsigned w = 0; w < WORDS; w++) {
                    pin[w] |= seen[w];
                    any |= seen[w] != 0;
                }
            }
        }
        if (!any)
            return;
        for (unsigned w = 0; w < WORDS; w++)
            for (uint32_t m = pin[w]; m; m &= m - 1)
                flush_class(h, w * 32 + ffs32(m), 0);
    }
}

// Flushes the classes of the cached blocks just below the top free block,
// until the block below it is in use: they go back with it.
static void
flush_below_top(struct heap *h)
{
    for (;;) {
        struct heap_block *top = top_marker(h)->prev_phys;
        if (!is_free(top) || !top->prev_phys || !is_cached(top->prev_phys))
            return;
        flush_class(h, bsize(top->prev_phys) / GRAIN, 0);
    }
}

// Whether free block b is in the top run (the blocks above it up to the
// end marker are all free or cached): only then can a free that made it
// have pinned anything, above it or, joining the run below it to the top,
// below it.
static bool
in_top_run(const struct heap *h, const struct heap_block *b)
{
    const struct heap_block *x = next_phys(b);

    while (bsize(x) != 0 && !in_use(x))
        x = next_phys(x);
    return x == top_marker(h);
}

static void
settle(struct heap *h, struct heap_block *freed)
{
    if (!h->shrink || !h->nregions)
        return;
    if (!freed || in_top_run(h, freed))
        unpin_top(h);
    struct heap_block *top = top_marker(h)->prev_phys;
    if (!is_free(top) || bsize(top) < h->shrink_keep + h->shrink_unit)
        return;
    // About to give back: the cached blocks just below go too (and any
    // their classes leave pinned lower down).
    flush_below_top(h);
    unpin_top(h);
    give_back(h, top_marker(h)->prev_phys);
}

// The cache is full: gives up one block of the next class after the last
// one this chose that holds any (there is one), round robin.
static void
give_up_one(struct heap *h, uintptr_t caller)
{
    size_t k = h->cache_victim;

    do
        k = k >= CACHE_TOP || k < CACHE_LOW ? CACHE_LOW : k + 1;
    while (!h->cache[k].head);
    h->cache_victim = (uint32_t)k;
    flush_blocks(h, k, 1, caller);
}

// Whether in-use block b goes into the cache, by the rules of the fast
// free (heap_cache_push), which takes a subset of these: a cached size,
// and no free block below it with only cached ones between (it merges
// instead).  HEAP_BLOCK_FREE_BELOW clear says so at once; set, it may be
// stale, so the blocks below are looked at and the flag brought up to date.
static bool
cacheable(struct heap_block *b)
{
    if (bsize(b) / GRAIN > CACHE_TOP)
        return false;
    if (!(b->size & FREE_BELOW))
        return true;
    if (free_at_or_below(b->prev_phys))
        return false;
    b->size &= ~FREE_BELOW;
    return true;
}

// Takes back an in-use block that has passed checked_block: into its cache
// class if cacheable, else through the free lists.  A class at its bound
// is flushed first.  A full cache takes it only into a class holding none,
// for a block another class gives up.
static void
put_back(struct heap *h, struct heap_block *b, uintptr_t caller)
{
    size_t j = bsize(b) / GRAIN;

    if (!cacheable(b) || (h->cache_room <= 0 && h->cache[j].head && h->cache[j].room > 0)) {
        free_block(h, b);
        return;
    }
    if (h->cache[j].room <= 0 || h->cache_room <= 0) {
        if (h->cache[j].room <= 0)
            flush_class(h, j, caller);
        else
            give_up_one(h, caller);
        settle(h, NULL);
        if (!cacheable(b)) { // a flush freed a neighbour
            free_block(h, b);
            return;
        }
    }
#if TANDEM_DEBUG
    b->magic = MAGIC_CACHED; // req and owner stay: a second free names them
    __builtin_memset(user_of(b), HEAP_FILL_FREED, bsize(b) - HDR);
#endif
    heap_cache_link(h, user_of(b), j);
}

// A block from the cache for a request of size bytes, painted for the
// caller in debug builds, or NULL.
static struct heap_block *
cache_take(struct heap *h, size_t size, uintptr_t caller)
{
#if TANDEM_DEBUG
    if (size - 1 >= HEAP_CACHE_MAX)
        return NULL;
    size_t j = HEAP_CACHE_CLASS(size);
    void *p = h->cache[j].head;
    if (!p)
        return NULL;
    struct heap_block *b = block_of((uintptr_t)p);
    const struct heap_region *r = region_of(h, (uintptr_t)p);
    if (unlikely(!r || !IS_ALIGNED((uintptr_t)p, GRAIN) || !is_cached(b) || bsize(b) != j * GRAIN))
        report(h, HEAP_BAD_CACHE, p, 0, caller, 0);
    check_links(h, r, b, p, caller);
    if (unlikely(!cached_intact(b)))
        report(h, HEAP_WRITE_AFTER_FREE, p, b->req, caller, b->owner);
    heap_cache_unlink(h, j);
    paint(b, size, caller);
    return b;
#else
    (void)caller;
    void *p = heap_cache_pop(h, size);
    return p ? block_of((uintptr_t)p) : NULL;
#endif
}

void
heap_init(struct heap *h, heap_grow_fn grow, heap_corrupt_fn corrupt, void *ctx)
{
    __builtin_memset(h, 0, sizeof(*h));
    h->grow = grow;
    h->corrupt = corrupt;
    h->ctx = ctx;
    for (size_t j = 0; j < HEAP_CACHE_SLOTS; j++)
        h->cache[j].room = class_depth(j);
    h->cache_room = HEAP_CACHE_BLOCKS;
}

void
heap_set_shrink(struct heap *h, heap_shrink_fn shrink, size_t unit, size_t keep)
{
    h->shrink = shrink;
    h->shrink_unit = unit;
    h->shrink_keep = keep;
}

void *
heap_alloc(struct heap *h, size_t size, uintptr_t caller)
{
    struct heap_block *b = cache_take(h, size, caller);

    if (!b && (unlikely(size > HEAP_MAX_ALLOC) || !(b = place(h, size, GRAIN, caller))))
        return fail(h);
#if TANDEM_DEBUG
    __builtin_memset(user_of(b), HEAP_FILL_NEW, size);
#endif
    return user_of(b);
}

void *
heap_zalloc(struct heap *h, size_t size, uintptr_t caller)
{
    struct heap_block *b = cache_take(h, size, caller);

    if (!b && (unlikely(size > HEAP_MAX_ALLOC) || !(b = place(h, size, GRAIN, caller))))
        return fail(h);
    __builtin_memset(user_of(b), 0, size);
    return user_of(b);
}

void *
heap_calloc(struct heap *h, size_t n, size_t size, uintptr_t caller)
{
    size_t total;

    if (unlikely(__builtin_mul_overflow(n, size, &total)))
        return fail(h);
    return heap_zalloc(h, total, caller);
}

void *
heap_alloc_aligned(struct heap *h, size_t size, size_t align, uintptr_t caller)
{
    struct heap_block *b;

    if (unlikely(align == 0 || (align & (align - 1)) || align > HEAP_MAX_ALLOC ||
                 size > HEAP_MAX_ALLOC) ||
        !(b = place(h, size, align, caller)))
        return fail(h);
#if TANDEM_DEBUG
    __builtin_memset(user_of(b), HEAP_FILL_NEW, size);
#endif
    return user_of(b);
}

void *
heap_realloc(struct heap *h, void *ptr, size_t size, uintptr_t caller)
{
    if (!ptr)
        return heap_alloc(h, size, caller);

    struct heap_block *b = checked_block(h, ptr, caller);
    size_t old_req = req_of(b);
    size_t cur = bsize(b);

    if (unlikely(size > HEAP_MAX_ALLOC))
        return fail(h);
    size_t bs = block_size_for(size);
    struct heap_block *next = next_phys(b);
    if (bs > cur && is_free(next) && cur + bsize(next) >= bs) {
        freelist_remove(h, next);
        set_bsize(b, cur + bsize(next));
        next_phys(b)->prev_phys = b;
    }
    if (bs > bsize(b)) {
        struct heap_block *nb = place(h, size, GRAIN, caller);
        if (!nb)
            return fail(h);
        __builtin_memcpy(user_of(nb), ptr, old_req < size ? old_req : size);
#if TANDEM_DEBUG
        if (size > old_req)
            __builtin_memset((char *)user_of(nb) + old_req, HEAP_FILL_NEW, size - old_req);
#endif
        put_back(h, b, caller);
        return user_of(nb);
    }
    trim(h, b, bs);
    if (is_free(next_phys(b)))
        settle(h, next_phys(b));
    h->stats.in_use += bsize(b) - cur; // modular: right whether it grew or shrank
    if (h->stats.in_use > h->stats.peak_in_use)
        h->stats.peak_in_use = h->stats.in_use;
#if TANDEM_DEBUG
    if (size > old_req)
        __builtin_memset((char *)ptr + old_req, HEAP_FILL_NEW, size - old_req);
    paint(b, size, caller);
#endif
    return ptr;
}

void
heap_free(struct heap *h, void *ptr, uintptr_t caller)
{
    if (!ptr)
        return;
#if !TANDEM_DEBUG
    if (likely(heap_cache_push(h, ptr)))
        return;
#endif
    put_back(h, checked_block(h, ptr, caller), caller);
}

void
heap_flush_cache(struct heap *h)
{
    flush_all(h);
    settle(h, NULL);
}

size_t
heap_usable_size(struct heap *h, const void *ptr, uintptr_t caller)
{
    return req_of(checked_block(h, ptr, caller));
}

void
heap_stats(const struct heap *h, struct heap_stats *out)
{
    size_t blocks = 0, bytes = 0;

    for (size_t j = CACHE_LOW; j <= CACHE_TOP; j++) {
        blocks += cached_in(h, j);
        bytes += cached_in(h, j) * j * GRAIN;
    }
    *out = h->stats;
    out->in_use -= bytes;
    out->live_blocks -= blocks;
    out->allocs += h->cache_pops;
    out->frees += h->cache_pops + blocks; // every block cached was freed; popped ones reallocated
    out->cached_blocks = blocks;
    out->cached_bytes = bytes;
}

struct check {
    struct heap *h;
    heap_report_fn report;
    void *arg;
    size_t problems;
};

static void
problem(struct check *c, enum heap_fault what, const void *ptr, size_t size, uintptr_t owner)
{
    struct heap_report r = { what, ptr, size, 0, owner };

    c->problems++;
    if (c->report)
        c->report(c->arg, &r);
    else
        c->h->corrupt(c->h->ctx, &r);
}

struct walk_totals {
    size_t nfree, ncached, in_use, live, cached_bytes;
};

// Walks one region's blocks; adds what it finds to the totals.
static void
check_region(struct check *c, const struct heap_region *r, struct walk_totals *t)
{
    struct heap_block *prev = NULL;
    uintptr_t marker = r->end - HDR;
    uintptr_t at = r->start;
    bool free_below = false; // a free block below, with only cached ones between

    while (at != marker) {
        struct heap_block *b = (struct heap_block *)at;
        size_t bs = bsize(b);
        if (bs < MIN_BLOCK || bs > marker - at || b->prev_phys != prev ||
            (b->size & NOT_IN_USE) == NOT_IN_USE) {
            problem(c, HEAP_BAD_HEADER, user_of(b), 0, 0);
            return; // the walk cannot go on past a broken size
        }
        if (free_below && !(b->size & FREE_BELOW))
            problem(c, HEAP_BAD_HEADER, user_of(b), 0, 0);
        if (is_free(b)) {
            if (prev && is_free(prev))
                problem(c, HEAP_BAD_FREE_LIST, user_of(b), bs - HDR, 0);
            t->nfree++;
#if TANDEM_DEBUG
            if (b->magic != MAGIC_FREE)
                problem(c, HEAP_BAD_HEADER, user_of(b), 0, 0);
#endif
        } else if (is_cached(b)) {
            t->ncached++;
            t->cached_bytes += bs;
            if (bs / GRAIN > CACHE_TOP)
                problem(c, HEAP_BAD_CACHE, user_of(b), 0, 0);
#if TANDEM_DEBUG
            if (!cached_intact(b))
                problem(c, HEAP_WRITE_AFTER_FREE, user_of(b), b->req, b->owner);
#endif
        } else {
            ++t->live;
            t->in_use += bs;
#if TANDEM_DEBUG
            uintptr_t p = (uintptr_t)user_of(b);
            if (b->magic != MAGIC_LIVE || b->req > bs - HDR)
                problem(c, HEAP_BAD_HEADER, user_of(b), 0, 0);
            else if (redzone_damage(at + sizeof(struct heap_block), p))
                problem(c, HEAP_REDZONE_BEFORE, user_of(b), b->req, b->owner);
            else if (redzone_damage(p + b->req, at + bs))
                problem(c, HEAP_REDZONE_AFTER, user_of(b), b->req, b->owner);
#endif
        }
        free_below = is_free(b) || (is_cached(b) && free_below);
        prev = b;
        at += bs;
    }
    const struct heap_block *m = (const struct heap_block *)marker;
    if (bsize(m) != 0 || m->prev_phys != prev || (m->size & NOT_IN_USE) ||
        (free_below && !(m->size & FREE_BELOW)))
        problem(c, HEAP_BAD_HEADER, user_of(m), 0, 0);
}

// Walks every free list: each entry must be a free block of the list's
// class with consistent links.  Returns how many entries there are, giving
// up on a list longer than limit (a cycle).
static size_t
check_lists(struct check *c, size_t limit)
{
    struct heap *h = c->h;
    size_t listed = 0;

    for (unsigned fl = 0; fl < HEAP_FL_COUNT; fl++) {
        if (!!(h->fl_map & (1u << fl)) != !!h->sl_map[fl])
            problem(c, HEAP_BAD_FREE_LIST, NULL, 0, 0);
        for (unsigned sl = 0; sl < HEAP_SL_COUNT; sl++) {
            struct heap_block *b = h->free[fl][sl], *prev = NULL;
            if (!!(h->sl_map[fl] & (1u << sl)) != !!b)
                problem(c, HEAP_BAD_FREE_LIST, NULL, 0, 0);
            for (; b; prev = b, b = links(b)->next) {
                unsigned f, s;
                if (listed++ > limit || !region_of(h, (uintptr_t)user_of(b))) {
                    problem(c, HEAP_BAD_FREE_LIST, b, 0, 0);
                    return listed;
                }
                mapping(bsize(b), &f, &s);
                if (!is_free(b) || f != fl || s != sl || links(b)->prev != prev)
                    problem(c, HEAP_BAD_FREE_LIST, user_of(b), bsize(b) - HDR, 0);
            }
        }
    }
    return listed;
}

// Walks every cache class: each entry must be a cached block of its size,
// each class within its bound.  Returns how many entries there are.
static size_t
check_cache(struct check *c)
{
    struct heap *h = c->h;
    size_t listed = 0;

    for (size_t j = 0; j < HEAP_CACHE_SLOTS; j++) {
        int32_t depth = class_depth(j), room = h->cache[j].room;
        size_t n = 0;
        if (room < 0 || room > depth)
            problem(c, HEAP_BAD_CACHE, h->cache[j].head, j * GRAIN, 0);
        for (void *p = h->cache[j].head; p; p = *(void **)p) {
            struct heap_block *b = block_of((uintptr_t)p);
            if (n++ >= (size_t)depth || !region_of(h, (uintptr_t)p) ||
                !IS_ALIGNED((uintptr_t)p, GRAIN)) {
                problem(c, HEAP_BAD_CACHE, p, j * GRAIN, 0);
                break;
            }
            if (!is_cached(b) || bsize(b) != j * GRAIN)
                problem(c, HEAP_BAD_CACHE, p, j * GRAIN, 0);
        }
        if (n != (size_t)(depth - room))
            problem(c, HEAP_BAD_CACHE, h->cache[j].head, j * GRAIN, 0);
        listed += n;
    }
    if (h->cache_room < 0 || listed != (size_t)(HEAP_CACHE_BLOCKS - h->cache_room))
        problem(c, HEAP_BAD_CACHE, NULL, listed, 0);
    return listed;
}

// With give-back on, no cached block of the top run lies above a free one
// of it.  Only when the walk found every header sound: the run is walked
// by prev_phys.
static void
check_top_run(struct check *c)
{
    if (c->problems == 0 && c->h->shrink && c->h->nregions && top_pinned(c->h))
        problem(c, HEAP_BAD_CACHE, NULL, 0, 0);
}

size_t
heap_check(struct heap *h, heap_report_fn report, void *arg)
{
    struct check c = { h, report, arg, 0 };
    struct walk_totals t = { 0 };

    for (unsigned i = 0; i < h->nregions; i++)
        check_region(&c, &h->regions[i], &t);
    if (check_lists(&c, t.nfree) != t.nfree)
        problem(&c, HEAP_BAD_FREE_LIST, NULL, t.nfree, 0);
    if (check_cache(&c) != t.ncached)
        problem(&c, HEAP_BAD_CACHE, NULL, t.ncached, 0);
    check_top_run(&c);
    // The counters see cached blocks as in use.
    if (t.in_use + t.cached_bytes != h->stats.in_use || t.live + t.ncached != h->stats.live_blocks)
        problem(&c, HEAP_BAD_STATS, NULL, t.in_use, 0);
    return c.problems;
}
