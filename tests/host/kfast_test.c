/* Host tests of the scratch arena (kernel/mm/kfast.c) under ASan/UBSan.
 *
 * The "block" is an aligned_alloc(KSTACK_SIZE, KSTACK_SIZE) buffer and the
 * stack pointer is simulated by g_kfast_host_sp, set inside it.  Objects go
 * into the block only inside pages the arena claims (whole pages that end
 * KFAST_RESERVE below esp); claim_limit() and free_span() below state that
 * rule once.  An unguarded arena (the boot thread's) claims nothing.  kmalloc and
 * kfree are malloc and free with counters, so a leaked spill chunk shows;
 * panic longjmps back to the EXPECT_PANIC that armed it.
 * KFAST_SEED=n fixes the model trace's seed; KFAST_OPS=n its length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmalloc.h"
#include "mm/kfast_arena.h"

// include/panic.h brings include/lib/setjmp.h, whose jmp_buf is not the host's
// (cmocka's): the one declaration this file needs, as kfast.c sees it.
NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);

extern uintptr_t g_kfast_host_sp, g_kfast_host_guard;

#define REC     (TANDEM_DEBUG ? sizeof(struct kfast_record) : 0) // per-allocation record
#define COST(n) ((uintptr_t)ALIGN_UP((size_t)(n) + REC, (size_t)KFAST_ALIGN))
#define DEPTH   512   // default simulated stack depth below the block's end
#define PAGE    4096u // the unit the guarded arena claims
// Whether a block can hold objects at all at the default depth: a 4 KiB one
// has no page to spare (tests about placement skip themselves there).
#define ROOMY   (KSTACK_SIZE >= PAGE + KFAST_RESERVE + DEPTH)
#define NEEDS_ROOM() \
    do {             \
        if (!ROOMY)  \
            skip();  \
    } while (0)

/* ---- kmalloc, kfree and panic for kfast.c ---- */

static struct {
    unsigned live, allocs, frees;
    bool fail; // the next kmalloc calls return NULL
} s_heap;

void *
kmalloc(size_t size)
{
    if (s_heap.fail)
        return NULL;
    void *p = malloc(size);
    assert_non_null(p);
    memset(p, 0xCD, size); // as the kernel heap's debug fill: zalloc must not rely on it
    s_heap.live++;
    s_heap.allocs++;
    return p;
}

void
kfree(void *p)
{
    if (!p)
        return;
    assert_true(s_heap.live > 0);
    s_heap.live--;
    s_heap.frees++;
    free(p);
}

static jmp_buf s_panic_jump;
static bool s_panic_armed;
static char s_panic_msg[512];

void
panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s_panic_msg, sizeof(s_panic_msg), fmt, ap);
    va_end(ap);
    if (!s_panic_armed) {
        fprintf(stderr, "unexpected panic: %s\n", s_panic_msg);
        abort();
    }
    s_panic_armed = false;
    longjmp(s_panic_jump, 1);
}

// Runs stmt, which must panic; the message is left in s_panic_msg.
#define EXPECT_PANIC(stmt)                       \
    do {                                         \
        s_panic_msg[0] = '\0';                   \
        s_panic_armed = true;                    \
        if (setjmp(s_panic_jump) == 0) {         \
            stmt;                                \
            s_panic_armed = false;               \
            fail_msg("no panic from %s", #stmt); \
        }                                        \
    } while (0)

/* ---- the simulated block ---- */

static uint8_t *s_block;
static struct kfast_arena s_arena;

static uintptr_t
base(void)
{
    return (uintptr_t)s_block;
}

static uintptr_t
end(void)
{
    return base() + KSTACK_SIZE;
}

static uintptr_t
top(void)
{
    return g_kfast.top;
}

// Puts the simulated esp depth bytes below the block's end.
static void
set_depth(uint32_t depth)
{
    g_kfast_host_sp = end() - depth;
}

// Where objects may end (the canary after them still inside): the claimed
// pages, or the whole pages that end reserve below esp (seen from the arena).
static uintptr_t
claim_limit(void)
{
    const struct kfast_arena *a = g_kfast.arena;
    uintptr_t sp = g_kfast_host_sp + a->sp_offset, limit = g_kfast.guard;
    if (a->guarded && sp >= a->base + KFAST_RESERVE) {
        uintptr_t can = a->base + ALIGN_DOWN(sp - KFAST_RESERVE - a->base, (uintptr_t)PAGE);
        if (can > limit)
            limit = can;
    }
    return limit;
}

// Bytes the next allocation may take from the block, its record included.
static uintptr_t
free_span(void)
{
    uintptr_t limit = claim_limit();
    return limit >= top() + 8 ? limit - 8 - top() : 0;
}

// Takes what is left of the block, so that what follows spills.
static void
fill_block(void)
{
    if (free_span() + 1 > REC)
        kfastmalloc(free_span() - REC);
    assert_int_equal(free_span(), 0);
}

static bool
in_block(const void *p)
{
    return (uintptr_t)p >= base() && (uintptr_t)p < end();
}

// The canary is at top, and the exit path's one-compare test is right:
// empty_top is the base while no chunk exists, 0 (never equal to top) after.
static void
assert_canary(void)
{
    const struct kfast_arena *a = g_kfast.arena;
    assert_true(top() >= a->base && top() + 4 <= a->end);
    assert_int_equal(*(const uint32_t *)top(), KFAST_CANARY);
    assert_int_equal(g_kfast.empty_top, a->empty_top);
    assert_int_equal(g_kfast.empty_top, a->spill ? 0 : a->base);
    // The claimed pages: whole pages from the base, never past the block.
    assert_true(g_kfast.guard >= a->base && g_kfast.guard <= a->end);
    assert_int_equal((g_kfast.guard - a->base) % PAGE, 0);
    if (!a->guarded)
        assert_int_equal(g_kfast.guard, a->base);
    if (a == &s_arena)
        assert_int_equal(g_kfast_host_guard, g_kfast.guard);
}

// The running arena's spill chunks (the spill area or heap chunks), those
// of them from the heap, and what the newest holds.
static unsigned
chunks(void)
{
    unsigned n = 0;
    for (const struct kfast_chunk *c = g_kfast.arena->spill; c; c = c->older)
        n++;
    return n;
}

static UNUSED unsigned
heap_chunks(void)
{
    unsigned n = 0;
    for (const struct kfast_chunk *c = g_kfast.arena->spill; c; c = c->older)
        n += c != kfast_spill_area();
    return n;
}

static uint32_t
newest_used(void)
{
    const struct kfast_arena *a = g_kfast.arena;
    return a->spill ? (uint32_t)(a->chunk_top - (uintptr_t)a->spill->data) : 0;
}

static uint32_t
spill_bytes(void)
{
    return kfast_spill_in_use(g_kfast.arena);
}

// The guard a reset leaves: the claimed pages up to the arena's keep.
static uintptr_t
kept(uintptr_t guard)
{
    return guard < g_kfast.arena->keep ? guard : g_kfast.arena->keep;
}

static struct kfast_stats
stats(void)
{
    struct kfast_stats s;
    kfast_arena_stats(&s_arena, &s);
    return s;
}

static void
arena_new_mode(bool strict, bool guarded)
{
    kfast_arena_init(&s_arena, s_block, 0, guarded, end(), strict);
    kfast_arena_activate(&s_arena);
    g_kfast_host_guard = base();
    set_depth(DEPTH);
}

// Most tests use a guarded arena, as every kernel thread with a page to
// spare has.
static void
arena_new(bool strict)
{
    arena_new_mode(strict, true);
}

static int
setup(void **state)
{
    (void)state;
    s_block = aligned_alloc(KSTACK_SIZE, KSTACK_SIZE);
    if (!s_block)
        return -1;
    memset(&s_heap, 0, sizeof(s_heap));
    arena_new(false);
    return 0;
}

// Every test ends with the arena reset and no chunk left on the heap.
static int
teardown(void **state)
{
    (void)state;
    kfast_reset();
    assert_null(s_arena.spill);
    assert_int_equal(s_heap.live, 0);
    assert_false(kfast_spill_area_lent());
    free(s_block);
    s_block = NULL;
    return 0;
}

// A byte pattern that differs per allocation and per offset.
static uint8_t
pattern(uint32_t id, size_t i)
{
    return (uint8_t)(id * 131u + i * 7u + 1u);
}

static void
fill(void *p, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)p)[i] = pattern(id, i);
}

// True if bytes [from, n) of p still hold allocation id's pattern.
static bool
intact_from(const void *p, size_t from, size_t n, uint32_t id)
{
    for (size_t i = from; i < n; i++)
        if (((const uint8_t *)p)[i] != pattern(id, i))
            return false;
    return true;
}

static bool
intact(const void *p, size_t n, uint32_t id)
{
    return intact_from(p, 0, n, id);
}

// kfastmalloc with the checks every allocation must pass: aligned, and if
// in the block then exactly at the old top and inside the claimed pages.
static void *
alloc_checked(size_t size)
{
    uintptr_t old_top = top();
    void *p = kfastmalloc(size);
    if (p) {
        assert_int_equal((uintptr_t)p % KFAST_ALIGN, 0);
        if (in_block(p)) {
            assert_int_equal((uintptr_t)p, old_top + REC);
            assert_int_equal(top(), old_top + COST(size));
            // Only inside claimed pages (which the stack cannot enter), the
            // canary after it too; a zero-byte request takes top as it is.
            assert_true(top() + 4 <= g_kfast.guard || top() == old_top);
        } else {
            assert_int_equal(top(), old_top);
        }
#if TANDEM_DEBUG
        const struct kfast_record *r = (const struct kfast_record *)p - 1;
        assert_int_equal(r->size, size);
#endif
    } else {
        assert_int_equal(top(), old_top);
    }
    assert_canary();
    return p;
}

/* ---- set-up ---- */

static void
test_init_paints_and_places_canary(void **state)
{
    (void)state;
    assert_int_equal(top(), base());
    assert_ptr_equal(g_kfast.arena, &s_arena);
    assert_int_equal(s_arena.end, end());
    assert_canary();
    for (size_t i = 4; i < KSTACK_SIZE; i++)
        assert_int_equal(s_block[i], KFAST_PAINT);
    struct kfast_stats s = stats();
    assert_int_equal(s.block_size, KSTACK_SIZE);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.peak, 0);
    assert_int_equal(s.allocations, 0);
    assert_int_equal(s.spills + s.refusals + s.resets + s.collisions, 0);
    assert_int_equal(s.stack_low_water, KSTACK_SIZE - 4);

    // The boot thread's block is painted only below its live frames.
    memset(s_block, 0x11, KSTACK_SIZE);
    kfast_arena_init(&s_arena, s_block, 0, false, base() + 1000, true);
    assert_true(s_arena.strict);
    assert_canary();
    assert_int_equal(s_block[999], KFAST_PAINT);
    assert_int_equal(s_block[1000], 0x11);
    assert_int_equal(stats().stack_low_water, 1000 - 4);
}

static void
test_default_strict(void **state)
{
    (void)state;
    bool old = kfast_default_strict();
    assert_int_equal(old, KFAST_STRICT);
    kfast_set_default_strict(true);
    assert_true(kfast_default_strict());
    kfast_set_default_strict(false);
    assert_false(kfast_default_strict());
    kfast_set_default_strict(old);
}

/* ---- sizes ---- */

static void
test_every_pointer_is_aligned(void **state)
{
    (void)state;
    NEEDS_ROOM();
    unsigned in = 0, out = 0;
    uintptr_t prev_end = 0;
    for (size_t size = 0; size < 300; size++) {
        uint8_t *p = alloc_checked(size);
        assert_non_null(p);
        memset(p, 0x77, size); // ASan: every byte is ours
        if (in_block(p)) {
            assert_true((uintptr_t)p >= prev_end); // no overlap with the one before
            prev_end = (uintptr_t)p + size;
            in++;
        } else {
            out++;
        }
    }
    assert_true(in > 10);
    assert_true(out > 10); // spilled pointers are aligned too
}

static void
test_size_zero(void **state)
{
    (void)state;
    NEEDS_ROOM();
    uintptr_t t0 = top();
    void *p = alloc_checked(0);
    assert_non_null(p);
    assert_int_equal(top(), t0 + REC);
    assert_int_equal(stats().allocations, 1);
    assert_int_equal(stats().refusals, 0);
    // At the very edge a zero-byte request still fits (debug: its record must).
    assert_true(free_span() + 1 > REC + COST(0));
    alloc_checked(free_span() - REC - COST(0));
    assert_int_equal(free_span(), COST(0));
    p = alloc_checked(0);
    assert_true(in_block(p));
    assert_int_equal(free_span(), 0);
    // Past it, a zero-byte request takes nothing in a release build, and
    // its record spills in a debug one.
    p = alloc_checked(0);
    assert_non_null(p);
    assert_int_equal(in_block(p), REC == 0);
}

// At depth d and with some of the block already in use: the largest size
// that fits is placed in the block ending exactly at esp - reserve; one byte
// more spills (or, strict, is refused) and leaves top alone.
static void
span_edges_at(uint32_t depth, size_t used, bool strict)
{
    arena_new(strict);
    set_depth(depth);
    if (used && claim_limit() > base())
        assert_true(in_block(alloc_checked(used)));
    uintptr_t span = free_span(), limit = claim_limit();
    assert_int_equal(span % KFAST_ALIGN, 0);
    if (span < REC + KFAST_ALIGN) {
        // esp - reserve is under the first page's end: nothing can be claimed.
        assert_true(g_kfast_host_sp - KFAST_RESERVE < base() + PAGE);
        void *q = alloc_checked(8);
        assert_int_equal(q == NULL, strict);
        assert_false(in_block(q));
        kfast_reset();
        return;
    }
    assert_true(limit + KFAST_RESERVE <= g_kfast_host_sp);

    kfast_mark_t m = kfast_mark();
    uint8_t *p = alloc_checked(span - REC);
    assert_true(in_block(p));
    assert_int_equal(top(), limit - 8);
    assert_int_equal(g_kfast.guard, limit);
    assert_int_equal(free_span(), 0);
    memset(p, 0x55, span - REC);
    kfast_release(m);
    assert_int_equal(g_kfast.guard, m.guard);
    assert_int_equal(free_span(), span);

    unsigned spills = stats().spills, refusals = stats().refusals, allocs = s_heap.allocs;
    p = alloc_checked(span - REC + 1);
    if (strict) {
        assert_null(p);
        assert_int_equal(stats().refusals, refusals + 1);
        assert_int_equal(s_heap.allocs, allocs);
    } else {
        assert_non_null(p);
        assert_false(in_block(p));
        memset(p, 0x55, span - REC + 1);
        assert_int_equal(stats().spills, spills + 1);
    }
    assert_int_equal(free_span(), span);
    kfast_reset();
}

static void
test_sizes_at_and_over_the_free_span(void **state)
{
    (void)state;
    const uint32_t depths[] = { 64, DEPTH, 1000, KSTACK_SIZE / 2 };
    const size_t used[] = { 0, 1, 8, 100, 777 };
    for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++)
        for (size_t u = 0; u < sizeof(used) / sizeof(used[0]); u++) {
            if (depths[d] + KFAST_RESERVE + used[u] + 64 > KSTACK_SIZE)
                continue;
            span_edges_at(depths[d], used[u], false);
            span_edges_at(depths[d], used[u], true);
        }
}

// Sizes near SIZE_MAX (or 4 GiB on this 64-bit host) must not wrap into a
// small allocation: they are refused and counted, and nothing else moves.
static void
test_wrapping_sizes_are_refused(void **state)
{
    (void)state;
    NEEDS_ROOM();
    const size_t sizes[] = {
        SIZE_MAX,
        SIZE_MAX - 7,
        SIZE_MAX - REC,
        SIZE_MAX - REC - KFAST_ALIGN + 1,
        (size_t)KFAST_MAX_ALLOC + 1,
        0xFFFFFFFFu,
        0xFFFFFFF8u,
        0xFFFFFFFFu - REC + 1,
        (size_t)1 << 32,
        ((size_t)1 << 32) + 8,
    };
    alloc_checked(40);
    struct kfast_stats before = stats();
    uintptr_t t0 = top();
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_null(alloc_checked(sizes[i]));
        assert_null(kfastzalloc(sizes[i]));
        assert_int_equal(stats().refusals, before.refusals + 2 * (i + 1));
    }
    struct kfast_stats after = stats();
    assert_int_equal(top(), t0);
    assert_int_equal(after.allocations, before.allocations);
    assert_int_equal(after.spills, before.spills);
    assert_int_equal(after.in_use, before.in_use);
    assert_int_equal(s_heap.allocs, 0);

    // The largest size admitted at all goes to a chunk of its own.
    uint8_t *p = alloc_checked(KFAST_MAX_ALLOC);
    assert_non_null(p);
    assert_false(in_block(p));
    p[0] = 1;
    p[KFAST_MAX_ALLOC - 1] = 2;
    assert_int_equal(s_heap.live, 1);
    assert_int_equal(stats().spills, before.spills + 1);
    assert_int_equal(stats().in_use, before.in_use + COST(KFAST_MAX_ALLOC));
}

static void
test_zalloc_zeroes(void **state)
{
    (void)state;
    NEEDS_ROOM();
    // Dirty the block, give it back, then zalloc over the same bytes.
    kfast_mark_t m = kfast_mark();
    uint8_t *dirty = alloc_checked(1000);
    memset(dirty, 0xEE, 1000);
    kfast_release(m);
    uint8_t *z = kfastzalloc(1000);
    assert_ptr_equal(z, dirty);
    assert_canary();
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(z[i], 0);
    // A spilled zalloc is zeroed too (the chunk arrives filled with 0xCD).
    fill_block();
    uint8_t *s = kfastzalloc(333);
    assert_non_null(s);
    assert_false(in_block(s));
    for (size_t i = 0; i < 333; i++)
        assert_int_equal(s[i], 0);
    assert_int_equal(stats().spills, 1);
    assert_int_equal(stats().allocations, 4);
}

/* ---- spills ---- */

#define NOBJ 400

struct obj {
    uint8_t *p;
    size_t size;
};

static size_t
size_of(unsigned i)
{
    static const size_t sizes[] = { 1, 24, 7, 200, 64, 0, 513, 3000, 12, 4096, 40, 5000 };
    return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void
test_spill_keeps_data_and_reset_frees_every_chunk(void **state)
{
    (void)state;
    NEEDS_ROOM();
    static struct obj objs[NOBJ];
    unsigned spilled = 0, placed = 0;
    uint32_t spill_bytes = 0;
    for (unsigned i = 0; i < NOBJ; i++) {
        objs[i].size = size_of(i);
        objs[i].p = alloc_checked(objs[i].size);
        assert_non_null(objs[i].p);
        fill(objs[i].p, objs[i].size, i);
        if (in_block(objs[i].p)) {
            placed++;
        } else {
            spilled++;
            spill_bytes += (uint32_t)COST(objs[i].size);
        }
    }
    assert_true(placed > 5);
    assert_true(spilled > NOBJ / 2);
    for (unsigned i = 0; i < NOBJ; i++)
        assert_true(intact(objs[i].p, objs[i].size, i));

    struct kfast_stats s = stats();
    assert_int_equal(s.spills, spilled);
    assert_int_equal(s.allocations, NOBJ);
    assert_int_equal(s.in_use, (top() - base()) + spill_bytes);
    // The spill area first (the oldest chunk), then heap chunks; a request
    // above KFAST_SPILL_CHUNK gets a chunk of its own size.
    assert_true(s_heap.live > 1);
    const struct kfast_chunk *oldest = NULL;
    for (const struct kfast_chunk *c = s_arena.spill; c; c = c->older) {
        assert_true(c == s_arena.spill ? newest_used() <= c->size : c->used <= c->size);
        assert_true(c->size >= KFAST_SPILL_CHUNK);
        oldest = c;
    }
    assert_ptr_equal(oldest, kfast_spill_area());
    assert_int_equal(oldest->size, KFAST_SPILL_AREA);
    assert_int_equal(heap_chunks(), s_heap.live);
    assert_int_equal(chunks(), s_heap.live + 1);

    kfast_reset();
    assert_int_equal(top(), base());
    assert_canary();
    assert_null(s_arena.spill);
    assert_int_equal(s_heap.live, 0);
    assert_int_equal(s_heap.frees, s_heap.allocs);
    assert_false(kfast_spill_area_lent());
    s = stats();
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.resets, 0);         // the exit path's resets are counted per thread
    assert_int_equal(s.allocations, NOBJ); // a count of calls, not of live objects
}

// Strict mode returns NULL exactly where the spilling arena spills, and
// nowhere else: the same trace on both, compared call by call.
static void
test_strict_refuses_where_a_spill_would_happen(void **state)
{
    (void)state;
    NEEDS_ROOM();
    static bool spilled[NOBJ];
    unsigned nspilled = 0;
    for (unsigned i = 0; i < NOBJ; i++) {
        if (i % 50 == 0)
            set_depth(DEPTH + (i / 50) * 200); // the stack moves: a later small one may fit again
        void *p = alloc_checked(size_of(i));
        assert_non_null(p);
        spilled[i] = !in_block(p);
        nspilled += spilled[i];
    }
    assert_true(nspilled > 0 && nspilled < NOBJ);
    kfast_reset();
    unsigned allocs = s_heap.allocs;

    arena_new(true);
    for (unsigned i = 0; i < NOBJ; i++) {
        if (i % 50 == 0)
            set_depth(DEPTH + (i / 50) * 200);
        void *p = alloc_checked(size_of(i));
        if (spilled[i])
            assert_null(p);
        else
            assert_true(in_block(p));
    }
    struct kfast_stats s = stats();
    assert_int_equal(s.refusals, nspilled);
    assert_int_equal(s.spills, 0);
    assert_int_equal(s.allocations, NOBJ - nspilled);
    assert_int_equal(s_heap.allocs, allocs); // strict never touched the heap
}

static void
test_spill_without_memory_is_refused(void **state)
{
    (void)state;
    set_depth((uint32_t)(end() - top()) - KFAST_RESERVE);
    // The spill area needs no heap: take all of it first.
    uint8_t *area = alloc_checked(KFAST_SPILL_AREA - REC);
    assert_ptr_equal(area - REC, kfast_spill_area()->data);
    assert_int_equal(s_heap.allocs, 0);
    s_heap.fail = true;
    assert_null(alloc_checked(16));
    assert_int_equal(stats().refusals, 1);
    assert_int_equal(stats().spills, 1);
    s_heap.fail = false;
    assert_non_null(alloc_checked(16));
    assert_int_equal(stats().spills, 2);
    assert_int_equal(s_heap.allocs, 1);
    // Room left in the chunk serves the next spill without the heap.
    s_heap.fail = true;
    uint8_t *p = alloc_checked(16);
    assert_non_null(p);
    assert_false(in_block(p));
    assert_int_equal(s_heap.allocs, 1);
    s_heap.fail = false;
}

/* ---- scopes ---- */

// Everything a release must restore exactly.
struct state {
    uintptr_t top;
    struct kfast_chunk *spill;
    uint32_t spill_used, spill_bytes;
    unsigned chunks;
};

static struct state
state_now(void)
{
    return (struct state){ top(), s_arena.spill, newest_used(), spill_bytes(), chunks() };
}

static void
assert_state(struct state want)
{
    struct state now = state_now();
    assert_int_equal(now.top, want.top);
    assert_ptr_equal(now.spill, want.spill);
    assert_int_equal(now.spill_used, want.spill_used);
    assert_int_equal(now.spill_bytes, want.spill_bytes);
    assert_int_equal(now.chunks, want.chunks);
    assert_canary();
}

// Allocates n objects (some spill when the depth is low) with patterns id0...
static void
scope_fill(struct obj *o, unsigned n, uint32_t id0)
{
    for (unsigned i = 0; i < n; i++) {
        o[i].size = size_of(id0 + i);
        o[i].p = alloc_checked(o[i].size);
        assert_non_null(o[i].p);
        fill(o[i].p, o[i].size, id0 + i);
    }
}

static void
scope_check(const struct obj *o, unsigned n, uint32_t id0)
{
    for (unsigned i = 0; i < n; i++)
        assert_true(intact(o[i].p, o[i].size, id0 + i));
}

static void
test_nested_scopes_restore_top_and_spill(void **state)
{
    (void)state;
    NEEDS_ROOM();
    struct obj o0[6], o1[6], o2[6], o3[6];
    scope_fill(o0, 6, 0);
    struct state s0 = state_now();
    kfast_mark_t m0 = kfast_mark();
    scope_fill(o1, 6, 100);
    struct state s1 = state_now();
    kfast_mark_t m1 = kfast_mark();
    scope_fill(o2, 6, 200);
    struct state s2 = state_now();
    kfast_mark_t m2 = kfast_mark();
    scope_fill(o3, 6, 300);
    assert_true(spill_bytes() > s0.spill_bytes); // the scopes spilled

    // In order: 2, 1, 0; what is older stays intact.
    kfast_release(m2);
    assert_state(s2);
    scope_check(o0, 6, 0);
    scope_check(o1, 6, 100);
    scope_check(o2, 6, 200);
    kfast_release(m1);
    assert_state(s1);
    scope_check(o1, 6, 100);
    // A released scope may be reopened and refilled, then released again.
    m1 = kfast_mark();
    scope_fill(o2, 6, 400);
    kfast_release(m1);
    assert_state(s1);
    // Releasing the same mark twice is harmless.
    kfast_release(m1);
    assert_state(s1);
    kfast_release(m0);
    assert_state(s0);
    scope_check(o0, 6, 0);

    // Skipping levels: releasing the outermost mark from the innermost scope.
    m0 = kfast_mark();
    scope_fill(o1, 6, 500);
    kfast_mark();
    scope_fill(o2, 6, 600);
    kfast_mark();
    scope_fill(o3, 6, 700);
    kfast_release(m0);
    assert_state(s0);
    scope_check(o0, 6, 0);

    // An empty scope changes nothing.
    m0 = kfast_mark();
    kfast_release(m0);
    assert_state(s0);
}

static void
test_scope_over_spill_only(void **state)
{
    (void)state;
    // With no room left in the block every allocation of the scope spills,
    // so top never moves and only the chain says what to give back.
    set_depth((uint32_t)(end() - top()) - KFAST_RESERVE);
    uint8_t *a = alloc_checked(100);
    fill(a, 100, 1);
    struct state s = state_now();
    kfast_mark_t m = kfast_mark();
    assert_ptr_equal(m.spill, s_arena.spill);
    assert_int_equal(m.spill_used, newest_used());
    for (unsigned i = 0; i < 50; i++)
        assert_false(in_block(alloc_checked(300)));
    assert_true(spill_bytes() >= 50 * 300);
    kfast_release(m);
    assert_state(s);
    assert_true(intact(a, 100, 1));
    // The next spill continues right after a in the kept chunk.
    uint8_t *b = alloc_checked(8);
    assert_ptr_equal(b, a + COST(100));
}

static void
test_release_of_a_mark_above_top_panics(void **state)
{
    (void)state;
    NEEDS_ROOM();
    alloc_checked(16);
    kfast_mark_t low = kfast_mark();
    alloc_checked(16);
    kfast_mark_t high = kfast_mark();
    alloc_checked(16);
    kfast_release(low);
    uintptr_t t = top();
    EXPECT_PANIC(kfast_release(high));
    assert_non_null(strstr(s_panic_msg, "kfast_release"));
    char hex[32];
    snprintf(hex, sizeof(hex), "%#lx", (unsigned long)high.top);
    assert_non_null(strstr(s_panic_msg, hex)); // the panic names the mark
    assert_int_equal(top(), t);

    kfast_mark_t below = { .top = base() - 8, .guard = base() };
    EXPECT_PANIC(kfast_release(below));
    assert_int_equal(top(), t);
    assert_canary();
}

// A release looks at the canary before it moves top down over it: a broken
// one (an overrun of the newest object) is reported, not repaired.
static void
test_release_checks_the_canary(void **state)
{
    (void)state;
    NEEDS_ROOM();
    kfast_mark_t m = kfast_mark();
    uint8_t *p = alloc_checked(16);
    assert_true(in_block(p));
    memset(p, 0x77, 16 + 4); // four bytes too many
    EXPECT_PANIC(kfast_release(m));
    assert_non_null(strstr(s_panic_msg, "canary"));
    *(uint32_t *)top() = KFAST_CANARY; // repaired by hand, for teardown
}

// A mark whose spill chunk is no longer in the chain (its scope was already
// released, or it belongs to another thread) panics instead of walking off.
static void
test_release_of_a_foreign_spill_mark_panics(void **state)
{
    (void)state;
    set_depth((uint32_t)(end() - top()) - KFAST_RESERVE);
    alloc_checked(100); // spills: one chunk in the chain
    struct kfast_chunk *foreign = malloc(sizeof(*foreign) + 64);
    assert_non_null(foreign);
    foreign->older = NULL;
    foreign->size = 64;
    foreign->used = 8;
    kfast_mark_t m = { .top = top(), .guard = g_kfast.guard, .spill = foreign, .spill_used = 8 };
    EXPECT_PANIC(kfast_release(m));
    assert_non_null(strstr(s_panic_msg, "not in the chain"));
    free(foreign);
}

// A stale mark whose chunk is still the newest but whose fill level lies
// above the chunk's own must not "release" upwards and hand the same bytes
// out again.
static void
test_release_of_a_mark_above_the_spill_level_panics(void **state)
{
    (void)state;
    set_depth((uint32_t)(end() - top()) - KFAST_RESERVE);
    uint8_t *a = alloc_checked(64);
    kfast_mark_t low = kfast_mark();
    alloc_checked(64);
    kfast_mark_t high = kfast_mark();
    uint8_t *c = alloc_checked(64);
    fill(c, 64, 3);
    kfast_release(low);
    assert_int_equal(newest_used(), (uint32_t)COST(64));
    EXPECT_PANIC(kfast_release(high));
    assert_int_equal(newest_used(), (uint32_t)COST(64));
    assert_int_equal(spill_bytes(), (uint32_t)COST(64));
    assert_ptr_equal(alloc_checked(8), a + COST(64));
}

/* ---- reset ---- */

// The reset's work does not depend on how many objects there are: top goes
// to the base at once and only whole chunks (not objects) are freed.
static void
reset_after(unsigned n)
{
    arena_new(false);
    memset(&s_heap, 0, sizeof(s_heap));
    for (unsigned i = 0; i < n; i++)
        assert_non_null(alloc_checked(8));
    unsigned chunks = heap_chunks(); // past the spill area
    assert_int_equal(chunks, s_heap.allocs);
    unsigned frees = s_heap.frees;
    kfast_reset_quiescent();
    assert_int_equal(top(), base());
    assert_canary();
    assert_null(s_arena.spill);
    assert_int_equal(spill_bytes(), 0);
    assert_int_equal(s_heap.live, 0);
    assert_false(kfast_spill_area_lent());
    assert_int_equal(s_heap.frees - frees, chunks);
    assert_true(chunks <= n * COST(8) / KFAST_SPILL_CHUNK + 1);
    struct kfast_stats s = stats();
    assert_int_equal(s.resets, 1);
    assert_int_equal(s.in_use, 0);
    assert_int_equal(s.allocations, n);
    if (n > 1000)
        assert_true(chunks < n / 100);
}

static void
test_reset_is_o1_in_objects(void **state)
{
    (void)state;
    reset_after(1);
    reset_after(10000);
    reset_after(0);
}

// The exit path's reset is one compare of top with empty_top; with every
// allocation spilled top never left the base, and the chunks must still go.
static void
test_reset_frees_chunks_when_top_is_at_base(void **state)
{
    (void)state;
    set_depth(KSTACK_SIZE - KFAST_RESERVE);
    assert_int_equal(free_span(), 0);
    for (unsigned i = 0; i < 3; i++)
        assert_false(in_block(alloc_checked(3000)));
    assert_int_equal(top(), base());
    assert_int_equal(spill_bytes(), 3 * COST(3000));
    assert_true(kfast_spill_area_lent());
    kfast_reset();
    assert_int_equal(chunks(), 0);
    assert_false(kfast_spill_area_lent());
    assert_canary();
    // A scope that spilled from the base, released: nothing left either.
    kfast_mark_t m = kfast_mark();
    alloc_checked(100);
    assert_int_equal(chunks(), 1);
    kfast_release(m);
    assert_int_equal(chunks(), 0);
    assert_false(kfast_spill_area_lent());
    assert_int_equal(s_heap.live, 0);
    assert_canary();
}

static void
test_reset_quiescent_and_switch(void **state)
{
    (void)state;
    NEEDS_ROOM();
    // Two arenas: switching parks one's registers and loads the other's.
    uint8_t *other_block = aligned_alloc(KSTACK_SIZE, KSTACK_SIZE);
    assert_non_null(other_block);
    struct kfast_arena other;
    kfast_arena_init(&other, other_block, 0, true, (uintptr_t)other_block + KSTACK_SIZE, false);
    uint8_t *a = alloc_checked(32);
    fill(a, 32, 9);
    uintptr_t ta = top();
    kfast_arena_switch(&s_arena, &other);
    assert_ptr_equal(g_kfast.arena, &other);
    assert_int_equal(top(), (uintptr_t)other_block);
    assert_int_equal(kfast_arena_top(&s_arena), ta);
    assert_true(kfast_canary_intact(&s_arena));
    g_kfast_host_sp = (uintptr_t)other_block + KSTACK_SIZE - DEPTH;
    uint8_t *b = kfastmalloc(32);
    assert_ptr_equal(b, other_block + REC);
    kfast_reset_quiescent();
    assert_int_equal(top(), (uintptr_t)other_block);
    kfast_arena_switch(&other, &s_arena);
    set_depth(DEPTH);
    assert_int_equal(top(), ta);
    assert_int_equal(stats().allocations, 1);
    assert_true(intact(a, 32, 9));
    assert_int_equal(kfast_in_block(&s_arena), ta - base());
    kfast_reset_quiescent();
    assert_int_equal(top(), base());
    assert_int_equal(stats().resets, 1);
    free(other_block);
}

/* ---- debug poisoning, the canary, the low-water mark ---- */

static void
test_release_and_reset_poison(void **state)
{
    (void)state;
    NEEDS_ROOM();
    uint8_t *keep = alloc_checked(24);
    fill(keep, 24, 1);
    kfast_mark_t m = kfast_mark();
    uint8_t *gone = alloc_checked(500);
    fill(gone, 500, 2);
    uintptr_t old_top = top();
    assert_int_equal(old_top, m.top + COST(500));
    kfast_release(m);
    assert_int_equal(top(), m.top);
    assert_canary();
    assert_true(intact(keep, 24, 1));
    // Poisoning stops at the old top: past its canary the block is untouched.
    assert_int_equal(*(const uint32_t *)old_top, KFAST_CANARY);
    assert_int_equal(*(const uint8_t *)(old_top + 4), KFAST_PAINT);
#if TANDEM_DEBUG
    // [mark, old top) is poisoned, except the new canary at the mark.
    for (uintptr_t p = m.top + 4; p < old_top; p++)
        assert_int_equal(*(uint8_t *)p, KFAST_POISON);
#else
    assert_true(intact_from(gone, 4, 500, 2)); // release builds leave it (but the canary)
#endif
    uintptr_t keep_top = top();
    assert_int_equal(keep_top, base() + COST(24));
    kfast_reset();
    assert_canary();
#if TANDEM_DEBUG
    for (uintptr_t p = base() + 4; p < keep_top; p++)
        assert_int_equal(*(uint8_t *)p, KFAST_POISON);
#else
    assert_true(intact_from(keep, 4, 24, 1));
#endif
}

static void
test_low_water_on_a_painted_block(void **state)
{
    (void)state;
    NEEDS_ROOM();
    assert_int_equal(kfast_low_water(&s_arena), KSTACK_SIZE - 4);
    // The stack has written its deepest byte at end - 1500.
    memset(s_block + KSTACK_SIZE - 1500, 0, 1500);
    assert_int_equal(kfast_low_water(&s_arena), KSTACK_SIZE - 1500 - 4);
    uint8_t *p = alloc_checked(1000);
    memset(p, 0xA5, 1000); // arena bytes that look painted do not count
    uint32_t used = (uint32_t)COST(1000);
    assert_int_equal(kfast_low_water(&s_arena), KSTACK_SIZE - 1500 - used - 4);
    // After a release the peak still marks the arena's furthest reach.
    kfast_reset();
    assert_int_equal(kfast_low_water(&s_arena), KSTACK_SIZE - 1500 - used - 4);
    assert_int_equal(stats().stack_low_water, KSTACK_SIZE - 1500 - used - 4);
    assert_int_equal(stats().peak, used);
    // Deeper stack use lowers it further.
    s_block[KSTACK_SIZE - 2000] = 0;
    assert_int_equal(kfast_low_water(&s_arena), KSTACK_SIZE - 2000 - used - 4);
    // Stack and arena touching: nothing left.
    memset(s_block + used + 4, 0, 16);
    assert_int_equal(kfast_low_water(&s_arena), 0);
}

/* ---- the guarded arena: claimed pages ---- */

static void
test_guarded_arena_claims_whole_pages(void **state)
{
    (void)state;
    arena_new_mode(false, true);
    kfast_mark_t m0 = kfast_mark();
    assert_int_equal(m0.guard, base());
    uint8_t *a = alloc_checked(8);
    if (!ROOMY) {
        // No page ends reserve below esp (a 4 KiB block): it spills.
        assert_false(in_block(a));
        assert_int_equal(g_kfast.guard, base());
        return;
    }
    assert_true(in_block(a));
    assert_int_equal(g_kfast.guard, base() + PAGE); // the first page, whole
    assert_int_equal(g_kfast_host_guard, base() + PAGE);

    // Deeper now, esp - reserve lies below the guard; inside the claimed page
    // allocations still go (the stack cannot enter it), right up to its end.
    set_depth(KSTACK_SIZE - PAGE - 100);
    assert_true(g_kfast_host_sp - KFAST_RESERVE < g_kfast.guard);
    kfast_mark_t m1 = kfast_mark();
    size_t rest = base() + PAGE - top() - 8 - REC; // ends 8 bytes under the guard
    uint8_t *b = alloc_checked(rest);
    assert_true(in_block(b));
    assert_int_equal(top(), base() + PAGE - 8);
    // Not a byte past it: no page can be claimed, nor the canary admit it.
    uint8_t *c = alloc_checked(8);
    assert_false(in_block(c));
    assert_int_equal(g_kfast.guard, base() + PAGE);

    // Releases and resets give claimed pages back.
    kfast_release(m1);
    assert_int_equal(g_kfast.guard, base() + PAGE);
    kfast_release(m0);
    assert_int_equal(g_kfast.guard, base());
    assert_int_equal(g_kfast_host_guard, base());
    set_depth(DEPTH);
    // An object reaching into a page that cannot be claimed spills, and
    // nothing is claimed for it (not even the whole pages below it).
    uintptr_t g2 = ALIGN_UP(top() + COST(PAGE + 8) + 4, (uintptr_t)PAGE);
    bool can_claim = g2 + KFAST_RESERVE <= g_kfast_host_sp;
    assert_int_equal(in_block(alloc_checked(PAGE + 8)), can_claim);
    assert_int_equal(g_kfast.guard, can_claim ? g2 : base());
    // A reset keeps the claimed pages up to keep (KFAST_KEEP_DEPTH below
    // the block's end), still out of the stack view; the next allocation
    // lands in them with no claim.
    kfast_reset();
    uintptr_t g_kept = kept(can_claim ? g2 : base());
    assert_int_equal(g_kfast.guard, g_kept);
    alloc_checked(8);
    uintptr_t g_now = g_kept > base() ? g_kept : base() + PAGE;
    assert_int_equal(g_kfast.guard, g_now);
    kfast_reset();
    uintptr_t g_last = kept(g_now);
    assert_int_equal(g_kfast.guard, g_last);
    assert_int_equal(g_kfast_host_guard, g_last);
    // Past keep, pages go back at the reset: with keep at the base, as a
    // block too small to keep any has it.
    s_arena.keep = s_arena.reset_limit = base();
    alloc_checked(8);
    assert_int_equal(g_kfast.guard, g_last);
    kfast_reset();
    assert_int_equal(g_kfast.guard, base());
    assert_int_equal(g_kfast_host_guard, base());

    // The switch parks the guard with the arena and brings it back.
    alloc_checked(8);
    uintptr_t g = g_kfast.guard;
    struct kfast_arena other;
    uint8_t *other_block = aligned_alloc(KSTACK_SIZE, KSTACK_SIZE);
    assert_non_null(other_block);
    kfast_arena_init(&other, other_block, 0, true, (uintptr_t)other_block + KSTACK_SIZE, false);
    kfast_arena_switch(&s_arena, &other);
    assert_int_equal(g_kfast.guard, (uintptr_t)other_block);
    assert_int_equal(kfast_arena_guard(&s_arena), g);
    kfast_arena_switch(&other, &s_arena);
    assert_int_equal(g_kfast.guard, g);
    free(other_block);
}

// An unguarded arena (the boot thread's static block) claims nothing, so
// everything spills, whatever room esp leaves.
static void
test_unguarded_arena_spills_everything(void **state)
{
    (void)state;
    arena_new_mode(false, false);
    set_depth(64);
    uint8_t *p = alloc_checked(8);
    assert_false(in_block(p));
    assert_int_equal(top(), base());
    assert_int_equal(g_kfast.guard, base());
    assert_int_equal(stats().spills, 1);
    kfast_reset();
    arena_new_mode(true, false);
    assert_null(alloc_checked(8));
    assert_int_equal(stats().refusals, 1);
    p = alloc_checked(0); // zero bytes: top itself (release builds)
    assert_int_equal(p != NULL, REC == 0);
}

// A block seen through two views: esp in the stack view, objects in the
// arena view, sp_offset apart.  Admission is the same as with one view.
// A zero-byte request takes no bytes, so it must claim no page either: top
// stays at the base, and the exit path's one-compare reset (top against
// empty_top) would not give such a page back.
static void
test_guarded_zero_size_claims_nothing(void **state)
{
    (void)state;
    NEEDS_ROOM();
    arena_new_mode(false, true);
    assert_non_null(alloc_checked(0));
    assert_int_equal(top(), base() + REC);
    uintptr_t g = REC && KSTACK_SIZE - DEPTH >= PAGE + KFAST_RESERVE ? base() + PAGE : base();
    assert_int_equal(g_kfast.guard, g);
    kfast_reset();
    assert_int_equal(g_kfast.guard, kept(g));
}

static void
test_sp_offset_converts_the_stack_view(void **state)
{
    (void)state;
    const uint32_t offset = KSTACK_SIZE;
    kfast_arena_init(&s_arena, s_block, offset, true, end(), false);
    kfast_arena_activate(&s_arena);
    g_kfast_host_sp = end() - DEPTH - offset; // a stack-view esp
    uintptr_t limit = base() + ALIGN_DOWN(KSTACK_SIZE - DEPTH - KFAST_RESERVE, PAGE);
    if (limit == base())
        return; // nothing to claim (4 KiB)
    uintptr_t span = limit - 8 - top();
    assert_int_equal(free_span(), span);
    kfast_mark_t m = kfast_mark();
    assert_true(in_block(alloc_checked(span - REC)));
    kfast_release(m);
    assert_false(in_block(alloc_checked(span - REC + 1)));
}

/* ---- pages kept across entries ---- */

// A reset keeps the claimed pages up to keep.  Where esp comes within
// reserve of them - at a mark, at an out-of-line allocation - those that
// hold no object go back to the stack view, if the arena may trim (a user
// thread's, whose kernel code nothing nests in); pages with objects stay,
// for the trap to guard.
static void
test_kept_pages_go_back_when_esp_comes_near(void **state)
{
    (void)state;
    NEEDS_ROOM();
    fill_block();
    uintptr_t claimed = g_kfast.guard;
    assert_true(claimed > base());
    kfast_reset();
    uintptr_t g = kept(claimed);
    assert_true(g > base());
    assert_int_equal(g_kfast.guard, g);
    assert_int_equal(g_kfast_host_guard, g);

    // esp reserve above the kept pages: nothing moves.
    g_kfast_host_sp = g + KFAST_RESERVE;
    kfast_mark_t m = kfast_mark();
    assert_int_equal(g_kfast.guard, g);
    kfast_release(m);
    // Nearer, in an arena that may not trim (a kernel thread's): nothing.
    g_kfast_host_sp = g + KFAST_RESERVE - 8;
    m = kfast_mark();
    assert_int_equal(g_kfast.guard, g);
    kfast_release(m);
    assert_int_equal(s_arena.trimmed, 0);

    // The mark gives back every empty page within reserve of esp, and its
    // release does not take them again.
    s_arena.may_trim = true;
    m = kfast_mark();
    uintptr_t want = ALIGN_DOWN(g_kfast_host_sp - KFAST_RESERVE, (uintptr_t)PAGE);
    assert_int_equal(g_kfast.guard, want);
    assert_int_equal(g_kfast_host_guard, want);
    assert_int_equal(m.guard, want);
    assert_int_equal(s_arena.trimmed, 1);
    kfast_release(m);
    assert_int_equal(g_kfast.guard, want);
    // Nothing kept is left near esp: the next allocation claims anew, or
    // spills, by the usual rule.
    void *p = alloc_checked(8);
    assert_int_equal(in_block(p), want > base());
    kfast_reset();
    assert_canary();

    // A scope opened before the trim, as the entry's own around a nested
    // one: its release does not take the pages back either.
    set_depth(DEPTH);
    fill_block();
    kfast_reset();
    assert_int_equal(g_kfast.guard, g);
    kfast_mark_t outer = kfast_mark();
    assert_int_equal(outer.guard, g);
    g_kfast_host_sp = g + KFAST_RESERVE - 8;
    m = kfast_mark();
    assert_int_equal(g_kfast.guard, want);
    kfast_release(m);
    set_depth(DEPTH);
    kfast_release(outer);
    assert_int_equal(g_kfast.guard, want);
    assert_int_equal(g_kfast_host_guard, want);
    assert_int_equal(s_arena.trimmed, 2);
}

static void
test_kept_pages_with_objects_stay_claimed(void **state)
{
    (void)state;
    NEEDS_ROOM();
    fill_block();
    kfast_reset();
    uintptr_t g = g_kfast.guard;
    assert_true(g > base());
    s_arena.may_trim = true;
    // Objects in the last kept page: it stays claimed however near esp is.
    uint8_t *o = alloc_checked(g - base() - PAGE + 64);
    fill(o, g - base() - PAGE + 64, 4);
    g_kfast_host_sp = g + 64;
    kfast_mark_t m = kfast_mark();
    assert_int_equal(g_kfast.guard, g);
    assert_int_equal(s_arena.trimmed, 0);
    kfast_release(m);
    // The out-of-line allocation is a check point too: with nothing in the
    // pages, it gives them back, then spills what it cannot place.
    kfast_reset();
    assert_int_equal(g_kfast.guard, g);
    uint8_t *p = alloc_checked(16);
    assert_false(in_block(p));
    uintptr_t want = g_kfast_host_sp >= base() + KFAST_RESERVE
                         ? ALIGN_DOWN(g_kfast_host_sp - KFAST_RESERVE, (uintptr_t)PAGE)
                         : base();
    assert_int_equal(g_kfast.guard, want < g ? want : g);
    assert_int_equal(s_arena.trimmed, 1);
}

/* ---- stats against a model, over a random trace ---- */

struct model {
    uintptr_t top, guard;
    uint32_t peak;       // most bytes of the block in use
    uint32_t peak_total; // most bytes in use, block and spill chunks
    uint32_t allocations, spills, refusals, resets, spill_bytes;
    uint32_t chunk_room; // bytes left in the newest spill chunk (0: no chunk)
    bool area;           // the spill area is in the chain
};

struct live_obj {
    uint8_t *p;
    size_t size;
    uint32_t id;
};

struct model_mark {
    kfast_mark_t mark;
    struct model m;
    unsigned nlive;
};

static uint64_t
rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint32_t
rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rng_next(s) % n);
}

static unsigned
env_or(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    return v && *v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

static void
model_compare(const struct model *m)
{
    struct kfast_stats s = stats();
    assert_int_equal(top(), m->top);
    assert_int_equal(g_kfast.guard, m->guard);
    assert_int_equal(s.in_use, (m->top - base()) + m->spill_bytes);
    assert_int_equal(s.peak, m->peak_total);
    assert_int_equal(s.allocations, m->allocations);
    assert_int_equal(s.spills, m->spills);
    assert_int_equal(s.refusals, m->refusals);
    assert_int_equal(s.resets, m->resets);
    assert_int_equal(s.collisions, 0);
    assert_int_equal(s.stack_low_water, KSTACK_SIZE - m->peak - 4);
    assert_int_equal(spill_bytes(), m->spill_bytes);
    assert_canary();
}

// True if the model admits an allocation of c bytes into the block: inside
// the claimed pages; else not while the newest spill chunk has more than c
// bytes left (that is where it goes); else a zero-byte one takes top as it
// is, and others go in pages it may claim now.
static bool
model_admits(struct model *m, bool guarded, uintptr_t c)
{
    uintptr_t sp = g_kfast_host_sp, end = m->top + c;
    if (end < m->guard)
        return true;
    if (m->chunk_room > c)
        return false;
    if (c == 0)
        return true;
    uintptr_t g = ALIGN_UP(end + 4, (uintptr_t)PAGE);
    if (guarded && g <= sp && sp - g >= KFAST_RESERVE) {
        m->guard = g;
        return true;
    }
    return false;
}

// A spill of c bytes: in the newest chunk if it has room, else in a new
// one - the spill area if the chain does not hold it yet, else from the heap.
static void
model_spill(struct model *m, uint32_t c)
{
    if (m->area && m->chunk_room >= c) {
        m->chunk_room -= c;
        return;
    }
    uint32_t size;
    if (!m->area && c <= KFAST_SPILL_AREA) {
        m->area = true;
        size = KFAST_SPILL_AREA;
    } else {
        size = c > KFAST_SPILL_CHUNK ? c : KFAST_SPILL_CHUNK;
    }
    m->chunk_room = size - c;
}

static void
model_trace(bool strict, bool guarded)
{
    static struct live_obj live[4096];
    static struct model_mark marks[16];
    unsigned nlive = 0, nmarks = 0, nmarks_seen = 0, ops = env_or("KFAST_OPS", 20000);
    uint64_t rng = env_or("KFAST_SEED", 0x7A4D) * 2654435761u + 1;
    struct model m = { .top = base(), .guard = base() };
    arena_new_mode(strict, guarded);
    print_message("# seed %u, %u operations, %s, %s\n", env_or("KFAST_SEED", 0x7A4D), ops,
                  strict ? "strict" : "spilling", guarded ? "guarded" : "unguarded");

    for (unsigned op = 0; op < ops; op++) {
        uint32_t r = rng_below(&rng, 100);
        if (r < 60 && nlive < 4096) {
            size_t size = rng_below(&rng, 10) == 0 ? rng_below(&rng, 6000) : rng_below(&rng, 200);
            if (rng_below(&rng, 200) == 0)
                size = SIZE_MAX - rng_below(&rng, 16);
            bool zero = rng_below(&rng, 4) == 0;
            uintptr_t c = COST(size);
            bool fits = size <= KFAST_MAX_ALLOC && model_admits(&m, guarded, c);
            uint8_t *p = zero ? kfastzalloc(size) : alloc_checked(size);
            if (size > KFAST_MAX_ALLOC || (!fits && strict)) {
                assert_null(p);
                m.refusals++;
            } else {
                assert_non_null(p);
                assert_int_equal(in_block(p), fits);
                if (zero)
                    for (size_t i = 0; i < size; i++)
                        assert_int_equal(p[i], 0);
                if (fits) {
                    m.top += c;
                    if (m.top - base() > m.peak)
                        m.peak = (uint32_t)(m.top - base());
                } else {
                    m.spills++;
                    m.spill_bytes += (uint32_t)c;
                    model_spill(&m, (uint32_t)c);
                }
                m.allocations++;
                uint32_t total = (uint32_t)(m.top - base()) + m.spill_bytes;
                if (total > m.peak_total)
                    m.peak_total = total;
                fill(p, size, op);
                live[nlive++] = (struct live_obj){ p, size, op };
            }
        } else if (r < 72 && nmarks < 16) {
            marks[nmarks++] = (struct model_mark){ kfast_mark(), m, nlive };
            nmarks_seen++;
        } else if (r < 86 && nmarks > 0) {
            // Usually the innermost scope, sometimes an outer one (skipping).
            unsigned k = rng_below(&rng, 4) == 0 ? rng_below(&rng, nmarks) : nmarks - 1;
            kfast_release(marks[k].mark);
            uint32_t peak = m.peak, peak_total = m.peak_total, allocations = m.allocations;
            uint32_t spills = m.spills, refusals = m.refusals, resets = m.resets;
            m = marks[k].m;
            m.peak = peak;
            m.peak_total = peak_total;
            m.allocations = allocations;
            m.spills = spills;
            m.refusals = refusals;
            m.resets = resets;
            nlive = marks[k].nlive;
            nmarks = k;
        } else if (r < 88) {
            bool quiescent = rng_below(&rng, 2);
            if (quiescent)
                kfast_reset_quiescent(); // a kernel thread's: counted
            else
                kfast_reset(); // the exit path's: counted per thread by its caller
            m.top = base();
            m.guard = kept(m.guard);
            m.spill_bytes = 0;
            m.chunk_room = 0;
            m.area = false;
            m.resets += quiescent;
            nlive = 0;
            nmarks = 0;
            assert_int_equal(s_heap.live, 0);
        } else if (r < 98) {
            // The stack moves (not below what the model's arena already uses,
            // nor into claimed pages).
            uintptr_t floor = m.top + 4 > m.guard ? m.top + 4 : m.guard;
            uint32_t room = (uint32_t)(end() - floor);
            uint32_t depth = 64 + rng_below(&rng, room > 64 + 8 ? room - 64 : 8);
            set_depth(depth & ~7u);
        } else {
            for (unsigned i = 0; i < nlive; i++)
                assert_true(intact(live[i].p, live[i].size, live[i].id));
        }
        model_compare(&m);
    }
    for (unsigned i = 0; i < nlive; i++)
        assert_true(intact(live[i].p, live[i].size, live[i].id));
    if (strict)
        assert_int_equal(s_heap.allocs, 0);
    else
        assert_true(m.spills > 0);
    assert_true(m.refusals > 0 && m.resets > 0 && nmarks_seen > 0);
}

static void
test_stats_agree_with_a_model(void **state)
{
    (void)state;
    model_trace(false, false);
}

static void
test_stats_agree_with_a_model_strict(void **state)
{
    (void)state;
    model_trace(true, false);
}

static void
test_stats_agree_with_a_model_guarded(void **state)
{
    (void)state;
    model_trace(false, true);
}

static void
test_stats_agree_with_a_model_guarded_strict(void **state)
{
    (void)state;
    model_trace(true, true);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init_paints_and_places_canary),
        T(test_default_strict),
        T(test_every_pointer_is_aligned),
        T(test_size_zero),
        T(test_sizes_at_and_over_the_free_span),
        T(test_wrapping_sizes_are_refused),
        T(test_zalloc_zeroes),
        T(test_spill_keeps_data_and_reset_frees_every_chunk),
        T(test_strict_refuses_where_a_spill_would_happen),
        T(test_spill_without_memory_is_refused),
        T(test_nested_scopes_restore_top_and_spill),
        T(test_scope_over_spill_only),
        T(test_release_of_a_mark_above_top_panics),
        T(test_release_checks_the_canary),
        T(test_release_of_a_foreign_spill_mark_panics),
        T(test_release_of_a_mark_above_the_spill_level_panics),
        T(test_reset_is_o1_in_objects),
        T(test_reset_frees_chunks_when_top_is_at_base),
        T(test_reset_quiescent_and_switch),
        T(test_release_and_reset_poison),
        T(test_low_water_on_a_painted_block),
        T(test_guarded_arena_claims_whole_pages),
        T(test_guarded_zero_size_claims_nothing),
        T(test_unguarded_arena_spills_everything),
        T(test_sp_offset_converts_the_stack_view),
        T(test_kept_pages_go_back_when_esp_comes_near),
        T(test_kept_pages_with_objects_stay_claimed),
        T(test_stats_agree_with_a_model),
        T(test_stats_agree_with_a_model_strict),
        T(test_stats_agree_with_a_model_guarded),
        T(test_stats_agree_with_a_model_guarded_strict),
    };
    return cmocka_run_group_tests_name("kfast", tests, NULL, NULL);
}
