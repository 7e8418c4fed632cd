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
 * Debug builds add fills and red-zone checks proportional to the block's
 * size (the red zone's slack is bounded by MIN_BLOCK).  heap_check walks
 * everything and is the one linear operation.
 */
#include "mm/heap.h"

struct heap_block {
	struct heap_block *prev_phys;   // physical predecessor; NULL for a region's first block
	size_t size;                    // bytes of the whole block, header included | BLOCK_FREE
#if TANDEM_DEBUG
	uint32_t magic;                 // MAGIC_LIVE, MAGIC_FREE or MAGIC_END
	size_t req;                     // bytes the caller asked for
	uintptr_t owner;                // who asked for them
#endif
};

// Kept in the payload of a free block, where the user bytes were.
struct free_links {
	struct heap_block *next;
	struct heap_block *prev;
};

#define GRAIN           HEAP_ALIGN
#define BLOCK_FREE      ((size_t)1)
#define SIZE_MASK       (~(size_t)(GRAIN - 1))
#define SMALL_BLOCK     ((size_t)1 << HEAP_FL_SHIFT)

#if TANDEM_DEBUG
#define RZ_MIN          8u                      // red zone on each side, at least
#define MAGIC_LIVE      0xA110CA7Eu
#define MAGIC_FREE      0xF4EEF4EEu
#define MAGIC_END       0xE4DE4DE4u
#else
#define RZ_MIN          0u
#endif

// The header, rounded so the user bytes after it stay aligned; in debug
// builds the rounding leaves at least RZ_MIN bytes of front red zone.
#define HDR             ALIGN_UP(sizeof(struct heap_block) + RZ_MIN, GRAIN)
#define MIN_PAYLOAD     ALIGN_UP(sizeof(struct free_links) > RZ_MIN ? \
                                 sizeof(struct free_links) : RZ_MIN, GRAIN)
#define MIN_BLOCK       (HDR + MIN_PAYLOAD)

_Static_assert((GRAIN & (GRAIN - 1)) == 0, "alignment must be a power of two");
_Static_assert(GRAIN >= 8, "the kernel relies on 8-byte alignment");
_Static_assert(HEAP_FL_COUNT < 32, "first-level bitmap is 32 bits");
_Static_assert(HEAP_SL_COUNT <= 32, "second-level bitmap is 32 bits");
_Static_assert(((size_t)HEAP_MAX_ALLOC * 2 + 4 * MIN_BLOCK) >> 31 <= 1,
	"an aligned request must round up without leaving the 32-bit classes");

static inline size_t
bsize(const struct heap_block *b)
{
	return b->size & SIZE_MASK;
}

static inline bool
is_free(const struct heap_block *b)
{
	return b->size & BLOCK_FREE;
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
	if (size > 0xFFFFFFFFu) {       // only on a 64-bit host: the top list takes them
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

// Marks b free, merges it with free physical neighbours and files the
// result, which it returns.
static struct heap_block *
release(struct heap *h, struct heap_block *b)
{
	struct heap_block *prev = b->prev_phys;
	struct heap_block *next = next_phys(b);

	b->size |= BLOCK_FREE;
#if TANDEM_DEBUG
	b->magic = MAGIC_FREE;          // stays in place when b is absorbed: a second free is named
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
	rest->size = total - bs;
	next_phys(rest)->prev_phys = rest;
	b->size = bs;
	release(h, rest);
}

static void give_back(struct heap *h, struct heap_block *b);

// trim, then give back what it freed if that is the top of the heap.  Not
// for trim's other callers: place trims blocks that take has just handed
// out, and giving back there could undo the grow take just made.
static void
trim_and_give_back(struct heap *h, struct heap_block *b, size_t bs)
{
	trim(h, b, bs);
	if (next_phys(b)->size & BLOCK_FREE)
		give_back(h, next_phys(b));
}

// Writes the end marker of a region at m.
static void
put_end_marker(struct heap_block *m, struct heap_block *prev)
{
	m->prev_phys = prev;
	m->size = 0;
#if TANDEM_DEBUG
	m->magic = MAGIC_END;
	m->req = 0;
	m->owner = 0;
#endif
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
		b = (struct heap_block *)(last->end - HDR);     // the old end marker becomes a block
		b->size = end - last->end;
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
	uintptr_t cut = ALIGN_UP(keep_to + HDR, unit);     // the new raw end; the marker ends there
	uintptr_t rest = cut - HDR - (uintptr_t)b;          // what is left of b
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
		last = b->prev_phys;                        // b goes; the marker takes its place
	else
		b->size = rest | BLOCK_FREE;
	put_end_marker((struct heap_block *)(cut - HDR), last);
	if (rest != 0)
		freelist_insert(h, b);
	r->end = cut;
	r->raw_end = cut;
	h->grow_end = cut;
	h->stats.heap_size -= given;
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
		ask = (ask < MIN_BLOCK ? MIN_BLOCK : ask) + GRAIN;      // GRAIN: the old end may be unaligned
		got = 0;
		mem = h->grow(h->ctx, ask, &got);
		if (!mem)
			return NULL;
		b = add_memory(h, (uintptr_t)mem, got);
		if (b && bsize(b) >= need)
			return b;
		if (!b && h->nregions == HEAP_MAX_REGIONS)
			return NULL;            // a fresh region would have no slot either
	}
	ask = need + HDR + 2 * GRAIN;   // a new region: its end marker, and unaligned ends
	got = 0;
	mem = h->grow(h->ctx, ask, &got);
	if (!mem)
		return NULL;
	b = add_memory(h, (uintptr_t)mem, got);
	return b && bsize(b) >= need ? b : NULL;
}

// Takes a free block of at least need bytes out of the lists, growing the
// heap if none is filed.  Returns it in use, or NULL.
static struct heap_block *
take(struct heap *h, size_t need)
{
	unsigned fl, sl;
	uint32_t map;
	struct heap_block *b = NULL;

	mapping(search_size(need), &fl, &sl);
	map = h->sl_map[fl] & (~0u << sl);
	if (!map) {
		uint32_t rows = h->fl_map & (~0u << (fl + 1));
		if (rows) {
			fl = ffs32(rows);
			map = h->sl_map[fl];
		}
	}
	if (map) {
		b = h->free[fl][ffs32(map)];
	} else {
		// Rounding skips need's own class; its head may still fit.
		mapping(need, &fl, &sl);
		b = h->free[fl][sl];
		if (!b || bsize(b) < need)
			b = grow_for(h, need);
		if (!b)
			return NULL;
	}
	freelist_remove(h, b);
	b->size &= ~BLOCK_FREE;
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

// Returns the first byte in [from, to) that is not the red-zone pattern, or 0.
static uintptr_t
redzone_damage(uintptr_t from, uintptr_t to)
{
	for (; from < to; from++)
		if (*(const uint8_t *)from != HEAP_FILL_REDZONE)
			return from;
	return 0;
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
			b->size = bsize(front) - gap;
			next_phys(b)->prev_phys = b;
			front->size = gap;
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
report(struct heap *h, enum heap_fault what, const void *ptr, size_t size,
       uintptr_t caller, uintptr_t owner)
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
	if (unlikely(b->magic == MAGIC_FREE))
		report(h, HEAP_DOUBLE_FREE, ptr, b->req, caller, b->owner);
	if (unlikely(b->magic != MAGIC_LIVE))
		report(h, HEAP_BAD_POINTER, ptr, 0, caller, 0);
#endif
	if (unlikely(is_free(b)))
		report(h, HEAP_DOUBLE_FREE, ptr, req_of(b), caller, owner_of(b));

	size_t bs = bsize(b);
	if (unlikely(bs < MIN_BLOCK || bs > r->end - HDR - (uintptr_t)b))
		report(h, HEAP_BAD_HEADER, ptr, 0, caller, 0);
#if TANDEM_DEBUG
	// Before the neighbour links: an overrun that reached the next header
	// is named after the block that overran.
	if (unlikely(b->req > bs - HDR))
		report(h, HEAP_BAD_HEADER, ptr, 0, caller, 0);
	if (unlikely(redzone_damage((uintptr_t)b + sizeof(struct heap_block), p)))
		report(h, HEAP_REDZONE_BEFORE, ptr, b->req, caller, b->owner);
	if (unlikely(redzone_damage(p + b->req, (uintptr_t)b + bs)))
		report(h, HEAP_REDZONE_AFTER, ptr, b->req, caller, b->owner);
#endif
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
	return b;
}

// Takes back an in-use block that has passed checked_block.
static void
free_block(struct heap *h, struct heap_block *b)
{
	h->stats.in_use -= bsize(b);
	h->stats.live_blocks--;
	h->stats.frees++;
#if TANDEM_DEBUG
	__builtin_memset(user_of(b), HEAP_FILL_FREED, bsize(b) - HDR);
#endif
	give_back(h, release(h, b));
}

void
heap_init(struct heap *h, heap_grow_fn grow, heap_corrupt_fn corrupt, void *ctx)
{
	__builtin_memset(h, 0, sizeof(*h));
	h->grow = grow;
	h->corrupt = corrupt;
	h->ctx = ctx;
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
	struct heap_block *b;

	if (unlikely(size > HEAP_MAX_ALLOC) || !(b = place(h, size, GRAIN, caller)))
		return fail(h);
#if TANDEM_DEBUG
	__builtin_memset(user_of(b), HEAP_FILL_NEW, size);
#endif
	return user_of(b);
}

void *
heap_zalloc(struct heap *h, size_t size, uintptr_t caller)
{
	struct heap_block *b;

	if (unlikely(size > HEAP_MAX_ALLOC) || !(b = place(h, size, GRAIN, caller)))
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
	             size > HEAP_MAX_ALLOC) || !(b = place(h, size, align, caller)))
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
		b->size = cur + bsize(next);
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
		free_block(h, b);
		return user_of(nb);
	}
	trim_and_give_back(h, b, bs);
	h->stats.in_use += bsize(b) - cur;      // modular: right whether it grew or shrank
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
	free_block(h, checked_block(h, ptr, caller));
}

size_t
heap_usable_size(struct heap *h, const void *ptr, uintptr_t caller)
{
	return req_of(checked_block(h, ptr, caller));
}

void
heap_stats(const struct heap *h, struct heap_stats *out)
{
	*out = h->stats;
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

// Walks one region's blocks; adds its free and in-use counts to the totals.
static void
check_region(struct check *c, const struct heap_region *r,
             size_t *nfree, size_t *in_use, size_t *live)
{
	struct heap_block *prev = NULL;
	uintptr_t marker = r->end - HDR;
	uintptr_t at = r->start;

	while (at != marker) {
		struct heap_block *b = (struct heap_block *)at;
		size_t bs = bsize(b);
		if (bs < MIN_BLOCK || bs > marker - at || b->prev_phys != prev) {
			problem(c, HEAP_BAD_HEADER, user_of(b), 0, 0);
			return;                 // the walk cannot go on past a broken size
		}
		if (is_free(b)) {
			if (prev && is_free(prev))
				problem(c, HEAP_BAD_FREE_LIST, user_of(b), bs - HDR, 0);
			++*nfree;
#if TANDEM_DEBUG
			if (b->magic != MAGIC_FREE)
				problem(c, HEAP_BAD_HEADER, user_of(b), 0, 0);
#endif
		} else {
			++*live;
			*in_use += bs;
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
		prev = b;
		at += bs;
	}
	const struct heap_block *m = (const struct heap_block *)marker;
	if (m->size != 0 || m->prev_phys != prev)
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

size_t
heap_check(struct heap *h, heap_report_fn report, void *arg)
{
	struct check c = { h, report, arg, 0 };
	size_t nfree = 0, in_use = 0, live = 0;

	for (unsigned i = 0; i < h->nregions; i++)
		check_region(&c, &h->regions[i], &nfree, &in_use, &live);
	if (check_lists(&c, nfree) != nfree)
		problem(&c, HEAP_BAD_FREE_LIST, NULL, nfree, 0);
	if (in_use != h->stats.in_use || live != h->stats.live_blocks)
		problem(&c, HEAP_BAD_STATS, NULL, in_use, 0);
	return c.problems;
}
