/* Host tests of the persistent heap (kernel/mm/heap.c) under ASan/UBSan:
 * a long seeded random trace against a model, then the edge cases and,
 * in debug builds, each misuse the heap must report.
 * HEAP_SEED=n fixes the trace's seed; HEAP_OPS=n its length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap_model.h"
#include "mm/heap.h"

#define SLACK_MAX 192 // block bytes beyond the request, at most (header, red zones, rounding)
#define CALLER_A  ((uintptr_t)0xA11Cu)
#define CALLER_B  ((uintptr_t)0xB0B0u)
#define CALLER_C  ((uintptr_t)0xC0DEu)

static jmp_buf g_jump;
static bool g_armed;
static struct heap_report g_report;

// The corrupt callback: hands the report back to the EXPECT_CORRUPT that armed it.
static NORETURN void
on_corrupt(void *ctx, const struct heap_report *r)
{
    (void)ctx;
    g_report = *r;
    if (!g_armed) {
        fprintf(stderr, "unexpected heap report %d ptr %p size %zu caller %#" PRIxPTR "\n",
                (int)r->what, r->ptr, r->size, r->caller);
        abort();
    }
    longjmp(g_jump, 1);
}

// Runs stmt, which must end in a corrupt report (left in g_report).
#define EXPECT_CORRUPT(stmt)                              \
    do {                                                  \
        g_armed = true;                                   \
        if (setjmp(g_jump) == 0) {                        \
            stmt;                                         \
            g_armed = false;                              \
            fail_msg("no corrupt report from %s", #stmt); \
        }                                                 \
        g_armed = false;                                  \
    } while (0)

static void
check_clean(struct heap *h)
{
    assert_int_equal(heap_check(h, NULL, NULL), 0);
}

static bool g_any_bad_cache;
static size_t g_found;
static struct heap_report g_found_report;

// A heap_check reporter that keeps the last problem.
static void
on_check(void *arg, const struct heap_report *r)
{
    (void)arg;
    g_found++;
    g_found_report = *r;
}

// A heap_check reporter that notes whether any problem was a cache one.
static void
on_check_any(void *arg, const struct heap_report *r)
{
    (void)arg;
    if (r->what == HEAP_BAD_CACHE)
        g_any_bad_cache = true;
}

static struct heap_stats
stats_of(const struct heap *h)
{
    struct heap_stats s;

    heap_stats(h, &s);
    return s;
}

static void
assert_stats_equal(const struct heap_stats *x, const struct heap_stats *y)
{
    assert_int_equal(x->in_use, y->in_use);
    assert_int_equal(x->peak_in_use, y->peak_in_use);
    assert_int_equal(x->live_blocks, y->live_blocks);
    assert_int_equal(x->allocs, y->allocs);
    assert_int_equal(x->frees, y->frees);
    assert_int_equal(x->failures, y->failures);
    assert_int_equal(x->heap_size, y->heap_size);
    assert_int_equal(x->cached_blocks, y->cached_blocks);
    assert_int_equal(x->cached_bytes, y->cached_bytes);
}

/* ---- the random trace ---- */

#define NSLOT 2048

struct live {
    uint8_t *p; // NULL: slot empty
    size_t size;
    size_t bytes; // block bytes, learnt from in_use when it was placed
    uint32_t id;
};

struct model {
    struct heap h;
    struct arena a;
    struct live slot[NSLOT];
    struct heap_stats want;
    size_t peak_ceiling; // nonzero: the last operation may have peaked inside, up to this
    uint64_t recycled;   // frees whose block the next allocation of its size got back
    uint64_t rng;
    uint32_t next_id;
    size_t max_align;
};

static size_t
pick_size(uint64_t *rng)
{
    size_t r = rng_below(rng, 1000);

    if (r < 5)
        return 0;
    if (r < 600)
        return 1 + rng_below(rng, 64);
    if (r < 850)
        return 65 + rng_below(rng, 448);
    if (r < 985)
        return 513 + rng_below(rng, 7680);
    return 8193 + rng_below(rng, 57344);
}

static size_t
pick_align(struct model *m)
{
    size_t a = (size_t)1 << rng_below(&m->rng, 13); // 1 .. 4096

    if (rng_below(&m->rng, 64) == 0)
        a = 65536;
    return a > m->max_align ? m->max_align : a;
}

// Checks the heap's counters against the model's after every operation.
// The cache's own counters are the heap's word (heap_check proves them
// against the blocks); the peak counts cached blocks, as the free lists
// do, so it follows in_use + cached_bytes.
static void
model_check_stats(struct model *m)
{
    struct heap_stats s = stats_of(&m->h);

    m->want.heap_size = s.heap_size;
    m->want.cached_blocks = s.cached_blocks;
    m->want.cached_bytes = s.cached_bytes;
    if (s.in_use + s.cached_bytes > m->want.peak_in_use)
        m->want.peak_in_use = s.in_use + s.cached_bytes;
    if (m->peak_ceiling) {
        assert_in_range(s.peak_in_use, m->want.peak_in_use,
                        m->peak_ceiling > m->want.peak_in_use ? m->peak_ceiling
                                                              : m->want.peak_in_use);
        m->want.peak_in_use = s.peak_in_use;
        m->peak_ceiling = 0;
    }
    assert_stats_equal(&s, &m->want);
    assert_true(s.cached_blocks <= HEAP_CACHE_BLOCKS);
    assert_true(s.heap_size <= m->a.used);
    if (m->a.mode == ARENA_CONTIGUOUS)
        assert_int_equal(s.heap_size, m->a.used);
}

// Records a block the heap just placed in slot l; checks where it lies.
static void
model_place(struct model *m, struct live *l, uint8_t *p, size_t size, size_t align, size_t bytes)
{
    assert_true(((uintptr_t)p & (HEAP_ALIGN - 1)) == 0);
    assert_true(((uintptr_t)p & (align - 1)) == 0);
    assert_true(bytes > size && bytes <= size + SLACK_MAX);
    assert_true(shadow_claim(&m->a, p, size));
#if TANDEM_DEBUG
    assert_int_equal(heap_usable_size(&m->h, p, CALLER_A), size);
#else
    assert_true(heap_usable_size(&m->h, p, CALLER_A) >= size);
#endif
    l->p = p;
    l->size = size;
    l->bytes = bytes;
    l->id = m->next_id++;
    memset(p, pattern_of(l->id), size);
}

static void
model_count_alloc(struct model *m, size_t bytes)
{
    m->want.in_use += bytes;
    m->want.live_blocks++;
    m->want.allocs++;
}

static void
op_alloc(struct model *m, struct live *l)
{
    size_t size = pick_size(&m->rng), align = HEAP_ALIGN, before = m->want.in_use;
    unsigned kind = (unsigned)rng_below(&m->rng, 10);
    bool zeroed = false;
    uint8_t *p;

    if (rng_below(&m->rng, 2000) == 0)
        size = SIZE_MAX - rng_below(&m->rng, 64); // must fail without wrapping
    switch (kind) {
    case 0:
    case 1:
    case 2:
    case 3: p = heap_alloc(&m->h, size, CALLER_A); break;
    case 4:
        p = heap_zalloc(&m->h, size, CALLER_A);
        zeroed = true;
        break;
    case 5: {
        size_t n = 1 + rng_below(&m->rng, 16);
        size = size / n;
        p = heap_calloc(&m->h, n, size, CALLER_A);
        size *= n;
        zeroed = true;
        break;
    }
    case 6:
    case 7:
        align = pick_align(m);
        p = heap_alloc_aligned(&m->h, size, align, CALLER_A);
        break;
    default: p = heap_realloc(&m->h, NULL, size, CALLER_A); break;
    }
    if (!p) {
        m->want.failures++;
        model_check_stats(m);
        return;
    }
    if (zeroed)
        assert_true(all_bytes(p, size, 0));
#if TANDEM_DEBUG
    else
        assert_true(all_bytes(p, size, HEAP_FILL_NEW));
#endif
    size_t bytes = stats_of(&m->h).in_use - before;
    model_count_alloc(m, bytes);
    model_place(m, l, p, size, align, bytes);
    model_check_stats(m);
}

static void
op_free(struct model *m, struct live *l)
{
    assert_true(all_bytes(l->p, l->size, pattern_of(l->id)));
    shadow_release(&m->a, l->p, l->size);
    heap_free(&m->h, l->p, CALLER_B);
    m->want.in_use -= l->bytes;
    m->want.live_blocks--;
    m->want.frees++;
    l->p = NULL;
    model_check_stats(m);
}

// Frees l's block and at once asks for its size again: a block the free
// left at the head of its cache class must come straight back.
static void
op_recycle(struct model *m, struct live *l)
{
    uint8_t *old = l->p;
    size_t size = l->size, bytes = l->bytes;

    op_free(m, l);
    bool back = cache_head(&m->h, bytes) == old && cache_serves(size, bytes);
    size_t before = m->want.in_use;
    uint8_t *p = heap_alloc(&m->h, size, CALLER_A);
    if (back) {
        assert_ptr_equal(p, old);
        m->recycled++;
    }
    if (!p) {
        m->want.failures++;
        model_check_stats(m);
        return;
    }
#if TANDEM_DEBUG
    assert_true(all_bytes(p, size, HEAP_FILL_NEW));
#endif
    bytes = stats_of(&m->h).in_use - before;
    model_count_alloc(m, bytes);
    model_place(m, l, p, size, HEAP_ALIGN, bytes);
    model_check_stats(m);
}

static void
op_realloc(struct model *m, struct live *l)
{
    size_t size = pick_size(&m->rng), before = m->want.in_use;
    struct heap_stats s0 = stats_of(&m->h);
    size_t held_before = s0.in_use + s0.cached_bytes;

    if (rng_below(&m->rng, 4) == 0) // near the old size: in-place paths
        size = l->size + rng_below(&m->rng, 33) - (l->size < 16 ? l->size : 16);
    if (rng_below(&m->rng, 2000) == 0)
        size = SIZE_MAX - rng_below(&m->rng, 64);
    assert_true(all_bytes(l->p, l->size, pattern_of(l->id)));
    uint8_t *p = heap_realloc(&m->h, l->p, size, CALLER_C);
    if (!p) {
        m->want.failures++;
        model_check_stats(m);
        assert_true(all_bytes(l->p, l->size, pattern_of(l->id)));
        return;
    }
    size_t kept = size < l->size ? size : l->size;
    assert_true(all_bytes(p, kept, pattern_of(l->id)));
#if TANDEM_DEBUG
    assert_true(all_bytes(p + kept, size - kept, HEAP_FILL_NEW));
#endif
    size_t after = stats_of(&m->h).in_use;
    size_t bytes = after - before + l->bytes;
    if (p != l->p) {
        // Both blocks were live while the bytes moved.
        m->peak_ceiling = held_before + bytes;
        m->want.allocs++;
        m->want.frees++;
    }
    m->want.in_use = after;
    shadow_release(&m->a, l->p, l->size);
    model_place(m, l, p, size, HEAP_ALIGN, bytes);
    model_check_stats(m);
}

static void
model_init(struct model *m, uint64_t seed, size_t cap, enum arena_mode mode)
{
    memset(m, 0, sizeof(*m));
    m->rng = seed;
    m->max_align = 65536;
    arena_init(&m->a, cap, 4096, mode);
    heap_init(&m->h, arena_grow, on_corrupt, &m->a);
}

static void
model_free_all(struct model *m)
{
    for (size_t i = 0; i < NSLOT; i++)
        if (m->slot[i].p)
            op_free(m, &m->slot[i]);
    assert_int_equal(stats_of(&m->h).in_use, 0);
    check_clean(&m->h);
}

// Runs n random operations; heap_check every `every` steps.
static void
model_run(struct model *m, size_t n, size_t every)
{
    for (size_t i = 0; i < n; i++) {
        struct live *l = &m->slot[rng_below(&m->rng, NSLOT)];
        size_t r = rng_below(&m->rng, 8);
        if (!l->p)
            op_alloc(m, l);
        else if (r < 3)
            op_free(m, l);
        else if (r < 4)
            op_recycle(m, l);
        else
            op_realloc(m, l);
        if (every && i % every == every - 1)
            check_clean(&m->h);
    }
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);

    return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
test_random_trace(void **state)
{
    (void)state;
    static struct model m;
    uint64_t seed = env_u64("HEAP_SEED", (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20));
    size_t n = (size_t)env_u64("HEAP_OPS", 1000000);

    printf("# heap trace: seed %" PRIu64 " (HEAP_SEED=%" PRIu64 " repeats it), %zu ops\n", seed,
           seed, n);
    fflush(stdout);
    model_init(&m, seed, 4u << 20, ARENA_CONTIGUOUS);
    double t0 = now_seconds();
    model_run(&m, n, 4096);
    double t = now_seconds() - t0;
    struct heap_stats s = stats_of(&m.h);
    printf("# heap trace: %.0f ops/s, peak in use %zu, heap %zu bytes, %" PRIu64 " allocs, %" PRIu64
           " failures, "
           "%" PRIu64 " blocks back from the cache at once\n",
           (double)n / t, s.peak_in_use, s.heap_size, s.allocs, s.failures, m.recycled);
    assert_true(m.recycled > 0);
    model_free_all(&m);
    arena_fini(&m.a);
}

// The same trace over memory that never joins up, with the region table
// filling up: still correct, only poorer.
static void
test_random_trace_disjoint(void **state)
{
    (void)state;
    static struct model m;
    uint64_t seed = env_u64("HEAP_SEED", 12345);

    model_init(&m, seed, 4u << 20, ARENA_DISJOINT);
    m.a.step = 64 << 10;
    model_run(&m, 100000, 1000);
    assert_true(m.h.nregions <= HEAP_MAX_REGIONS);
    model_free_all(&m);
    arena_fini(&m.a);
}

/* ---- edge cases ---- */

struct fixture {
    struct heap h;
    struct arena a;
};

static struct fixture *
fixture_new(size_t cap, size_t step, enum arena_mode mode)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    arena_init(&f->a, cap, step, mode);
    heap_init(&f->h, arena_grow, on_corrupt, &f->a);
    return f;
}

static void
fixture_free(struct fixture *f)
{
    check_clean(&f->h);
    arena_fini(&f->a);
    free(f);
}

static void
test_free_null(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    struct heap_stats s0 = stats_of(&f->h);

    heap_free(&f->h, NULL, CALLER_A);
    struct heap_stats s1 = stats_of(&f->h);
    assert_stats_equal(&s0, &s1);
    assert_int_equal(f->a.calls, 0);
    fixture_free(f);
}

static void
test_zero_size(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    void *p[8];

    p[0] = heap_alloc(&f->h, 0, CALLER_A);
    p[1] = heap_alloc(&f->h, 0, CALLER_A);
    p[2] = heap_zalloc(&f->h, 0, CALLER_A);
    p[3] = heap_calloc(&f->h, 0, 100, CALLER_A);
    p[4] = heap_calloc(&f->h, 100, 0, CALLER_A);
    p[5] = heap_alloc_aligned(&f->h, 0, 256, CALLER_A);
    p[6] = heap_realloc(&f->h, NULL, 0, CALLER_A);
    p[7] = heap_alloc(&f->h, 24, CALLER_A);
    p[7] = heap_realloc(&f->h, p[7], 0, CALLER_A); // shrinks, does not free
    for (int i = 0; i < 8; i++) {
        assert_non_null(p[i]);
        assert_true(((uintptr_t)p[i] & (HEAP_ALIGN - 1)) == 0);
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(p[i], p[j]);
    }
    assert_true(((uintptr_t)p[5] & 255) == 0);
    assert_int_equal(stats_of(&f->h).live_blocks, 8);
#if TANDEM_DEBUG
    assert_int_equal(heap_usable_size(&f->h, p[0], CALLER_A), 0);
#endif
    check_clean(&f->h);
    for (int i = 0; i < 8; i++)
        heap_free(&f->h, p[i], CALLER_B);
    assert_int_equal(stats_of(&f->h).live_blocks, 0);
    fixture_free(f);
}

static void
test_huge_sizes(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 20, 4096, ARENA_CONTIGUOUS);
    const size_t huge[] = {
        SIZE_MAX,
        SIZE_MAX - 1,
        SIZE_MAX - 7,
        SIZE_MAX - 8,
        SIZE_MAX - HEAP_ALIGN,
        SIZE_MAX - 4095,
        SIZE_MAX / 2,
        SIZE_MAX / 2 + 1,
        HEAP_MAX_ALLOC + 1,
        (size_t)UINT32_MAX,
        (size_t)UINT32_MAX - 31,
    };
    uint8_t *keep = heap_alloc(&f->h, 100, CALLER_A);

    memset(keep, 0x5A, 100);
    struct heap_stats s0 = stats_of(&f->h);
    unsigned calls = f->a.calls;
    uint64_t fails = 0;
    for (size_t i = 0; i < ARRAY_SIZE(huge); i++) {
        assert_null(heap_alloc(&f->h, huge[i], CALLER_A));
        assert_null(heap_zalloc(&f->h, huge[i], CALLER_A));
        assert_null(heap_alloc_aligned(&f->h, huge[i], 4096, CALLER_A));
        assert_null(heap_alloc_aligned(&f->h, 16, huge[i], CALLER_A));
        assert_null(heap_realloc(&f->h, keep, huge[i], CALLER_A));
        assert_null(heap_realloc(&f->h, NULL, huge[i], CALLER_A));
        assert_null(heap_calloc(&f->h, huge[i], 1, CALLER_A));
        fails += 7;
    }
    // Overflowing products.
    assert_null(heap_calloc(&f->h, SIZE_MAX, 2, CALLER_A));
    assert_null(heap_calloc(&f->h, 2, SIZE_MAX / 2 + 1, CALLER_A));
    assert_null(heap_calloc(&f->h, SIZE_MAX / 16 + 1, 16, CALLER_A));
    assert_null(heap_calloc(&f->h, (size_t)1 << (sizeof(size_t) * 4),
                            (size_t)1 << (sizeof(size_t) * 4), CALLER_A));
    fails += 4;
    // Alignments that are not powers of two.
    assert_null(heap_alloc_aligned(&f->h, 16, 0, CALLER_A));
    assert_null(heap_alloc_aligned(&f->h, 16, 3, CALLER_A));
    assert_null(heap_alloc_aligned(&f->h, 16, 48, CALLER_A));
    assert_null(heap_alloc_aligned(&f->h, 16, SIZE_MAX, CALLER_A));
    fails += 4;

    struct heap_stats s1 = stats_of(&f->h);
    s0.failures += fails;
    assert_stats_equal(&s0, &s1);
    assert_int_equal(f->a.calls, calls);
    assert_true(all_bytes(keep, 100, 0x5A));
    heap_free(&f->h, keep, CALLER_B);
    fixture_free(f);
}

static void
test_calloc_zeroes(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 20, 4096, ARENA_CONTIGUOUS);
    uint8_t *p = heap_alloc(&f->h, 4000, CALLER_A);

    memset(p, 0xEE, 4000);
    heap_free(&f->h, p, CALLER_B); // dirty memory, handed out again below
    uint32_t *q = heap_calloc(&f->h, 1000, sizeof(uint32_t), CALLER_A);
    assert_non_null(q);
    assert_true(all_bytes(q, 4000, 0));
    uint8_t *z = heap_zalloc(&f->h, 333, CALLER_A);
    assert_true(all_bytes(z, 333, 0));
    heap_free(&f->h, q, CALLER_B);
    heap_free(&f->h, z, CALLER_B);
    fixture_free(f);
}

static void
test_realloc_resizes(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 20, 4096, ARENA_CONTIGUOUS);
    uint8_t *a = heap_alloc(&f->h, 100, CALLER_A);
    uint8_t *b = heap_alloc(&f->h, 1000, CALLER_A);
    uint8_t *c = heap_alloc(&f->h, 1000, CALLER_A);

    for (int i = 0; i < 100; i++)
        a[i] = (uint8_t)i;
    // The successor b is live: growing must move, keeping the bytes.
    uint8_t *a2 = heap_realloc(&f->h, a, 300, CALLER_C);
    assert_non_null(a2);
    assert_ptr_not_equal(a2, a);
    for (int i = 0; i < 100; i++)
        assert_int_equal(a2[i], i);
    // Shrinking gives the tail back; growing again takes it.
    memset(b, 0x42, 1000);
    uint8_t *b2 = heap_realloc(&f->h, b, 400, CALLER_C); // shrink: in place
    assert_ptr_equal(b2, b);
    assert_true(all_bytes(b2, 400, 0x42));
    b2 = heap_realloc(&f->h, b2, 900, CALLER_C); // grow into what it gave back
    assert_ptr_equal(b2, b);
    assert_true(all_bytes(b2, 400, 0x42));
#if TANDEM_DEBUG
    assert_true(all_bytes(b2 + 400, 500, HEAP_FILL_NEW));
#endif
    memset(b2, 0x43, 900);
    // Freeing c makes room after b: growth stays in place.
    heap_free(&f->h, c, CALLER_B);
    uint8_t *b3 = heap_realloc(&f->h, b2, 1200, CALLER_C);
    assert_ptr_equal(b3, b);
    assert_true(all_bytes(b3, 900, 0x43));
    // Growth past what is free moves (and grows the heap); the bytes follow.
    uint8_t *b4 = heap_realloc(&f->h, b3, 200000, CALLER_C);
    assert_non_null(b4);
    assert_true(all_bytes(b4, 900, 0x43));
    // A failing realloc leaves the block as it was.
    struct heap_stats s0 = stats_of(&f->h);
    assert_null(heap_realloc(&f->h, b4, 4u << 20, CALLER_C));
    struct heap_stats s1 = stats_of(&f->h);
    s0.failures++;
    assert_stats_equal(&s0, &s1);
    assert_true(all_bytes(b4, 900, 0x43));
    check_clean(&f->h);
    heap_free(&f->h, a2, CALLER_B);
    heap_free(&f->h, b4, CALLER_B);
    fixture_free(f);
}

static void
test_aligned(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(8u << 20, 4096, ARENA_CONTIGUOUS);
    void *p[64];
    size_t n = 0;

    for (size_t align = 1; align <= 65536; align <<= 1) {
        for (size_t size = 0; size <= 5000; size += 1250) {
            uint8_t *q = heap_alloc_aligned(&f->h, size, align, CALLER_A);
            assert_non_null(q);
            assert_true(((uintptr_t)q & (align - 1)) == 0);
            assert_true(((uintptr_t)q & (HEAP_ALIGN - 1)) == 0);
            memset(q, (int)align, size);
            if (size % 2500 == 0) {
                assert_true(n < ARRAY_SIZE(p));
                p[n++] = q;
            } else {
                heap_free(&f->h, q, CALLER_B);
            }
            void *small = heap_alloc(&f->h, 24, CALLER_A); // something in the gaps
            heap_free(&f->h, small, CALLER_B);
        }
    }
    check_clean(&f->h);
    for (size_t i = 0; i < n; i++)
        heap_free(&f->h, p[i], CALLER_B);
    // Page-aligned pages, as page tables would be.
    for (int i = 0; i < 32; i++) {
        p[i] = heap_alloc_aligned(&f->h, 4096, 4096, CALLER_A);
        assert_true(((uintptr_t)p[i] & 4095) == 0);
        memset(p[i], i, 4096);
    }
    for (int i = 0; i < 32; i++) {
        assert_true(all_bytes(p[i], 4096, (uint8_t)i));
        heap_free(&f->h, p[i], CALLER_B);
    }
    fixture_free(f);
}

// Fills the heap to NULL with blocks of `size`; returns how many.
static size_t
fill(struct fixture *f, void **p, size_t max, size_t size)
{
    size_t n = 0;

    while (n < max && (p[n] = heap_alloc(&f->h, size, CALLER_A)))
        memset(p[n++], 0x77, size);
    return n;
}

static void
test_exhaustion_recovery(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 20, 4096, ARENA_CONTIGUOUS);
    static void *p[4096];
    size_t n = fill(f, p, ARRAY_SIZE(p), 1000);

    assert_true(n > 500 && n < ARRAY_SIZE(p));
    assert_int_equal(f->a.used, f->a.cap);
    struct heap_stats s0 = stats_of(&f->h);
    unsigned calls = f->a.calls;
    for (size_t size = 4096; size >= 1000; size /= 2) {
        assert_null(heap_alloc(&f->h, size, CALLER_A));
        assert_null(heap_alloc_aligned(&f->h, size, 4096, CALLER_A));
    }
    struct heap_stats s1 = stats_of(&f->h);
    s0.failures += 6;
    assert_stats_equal(&s0, &s1);
    assert_true(f->a.calls > calls); // it did ask
    check_clean(&f->h);

    for (size_t i = 0; i < n; i++)
        heap_free(&f->h, p[i], CALLER_B);
    s1 = stats_of(&f->h);
    assert_int_equal(s1.in_use, 0);
    assert_int_equal(s1.live_blocks, 0);
    // Everything merged back: one block holds all that was filled, and
    // almost the whole heap, without growing.
    calls = f->a.calls;
    uint8_t *all = heap_alloc(&f->h, n * 1000, CALLER_A);
    assert_non_null(all);
    memset(all, 1, n * 1000);
    heap_free(&f->h, all, CALLER_B);
    all = heap_alloc(&f->h, s1.heap_size - SLACK_MAX, CALLER_A);
    assert_non_null(all);
    assert_int_equal(f->a.calls, calls);
    heap_free(&f->h, all, CALLER_B);
    // And the heap fills up to the same count again.
    assert_int_equal(fill(f, p, ARRAY_SIZE(p), 1000), n);
    for (size_t i = 0; i < n; i++)
        heap_free(&f->h, p[i], CALLER_B);
    fixture_free(f);
}

static void
test_fragmentation(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(256 << 10, 4096, ARENA_CONTIGUOUS);
    static void *p[8192], *big[8192];
    size_t n = fill(f, p, ARRAY_SIZE(p), 64);

    // Every other block free: half the memory is free, none of it in
    // pieces that hold twice as much.  The last block stays, so the
    // heap's free tail does not join a hole.
    size_t last = n - 1;
    for (size_t i = 0; i < last; i += 2) {
        heap_free(&f->h, p[i], CALLER_B);
        p[i] = NULL;
    }
    assert_null(heap_alloc(&f->h, 128, CALLER_A));
    check_clean(&f->h);
    // Freeing a neighbour joins three blocks: room for a double-size one.
    size_t nbig = 0;
    for (size_t i = 1; i < last; i += 2) {
        heap_free(&f->h, p[i], CALLER_B);
        p[i] = NULL;
        big[nbig] = heap_alloc(&f->h, 128, CALLER_A);
        assert_non_null(big[nbig]);
        memset(big[nbig++], 0x33, 128);
    }
    check_clean(&f->h);
    for (size_t i = 0; i < nbig; i++) {
        assert_true(all_bytes(big[i], 128, 0x33));
        heap_free(&f->h, big[i], CALLER_B);
    }
    heap_free(&f->h, p[last], CALLER_B);
    // All of it is one block again.
    void *all = heap_alloc(&f->h, stats_of(&f->h).heap_size - SLACK_MAX, CALLER_A);
    assert_non_null(all);
    heap_free(&f->h, all, CALLER_B);
    fixture_free(f);
}

static void
test_grow_refused(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_REFUSE);

    assert_null(heap_alloc(&f->h, 1, CALLER_A));
    assert_null(heap_alloc_aligned(&f->h, 1, 64, CALLER_A));
    struct heap_stats s = stats_of(&f->h);
    assert_int_equal(s.failures, 2);
    assert_int_equal(s.heap_size, 0);
    assert_int_equal(s.allocs, 0);
    fixture_free(f);
}

// Grow results that do not join the last one each start a region; once the
// table is full, such memory is counted but unused and the request fails.
static void
test_grow_disjoint(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(4 << 20, 4096, ARENA_DISJOINT);
    void *p[HEAP_MAX_REGIONS + 2];

    for (size_t i = 0; i < HEAP_MAX_REGIONS; i++) {
        p[i] = heap_alloc(&f->h, 3000, CALLER_A);
        assert_non_null(p[i]);
        assert_int_equal(f->h.nregions, i + 1);
    }
    struct heap_stats s0 = stats_of(&f->h);
    assert_null(heap_alloc(&f->h, 3000, CALLER_A));
    struct heap_stats s1 = stats_of(&f->h);
    assert_int_equal(s1.failures, s0.failures + 1);
    assert_int_equal(s1.in_use, s0.in_use);
    assert_true(s1.heap_size > s0.heap_size); // grow's memory is counted
    // Small requests still fit in the regions' tails.
    void *q = heap_alloc(&f->h, 500, CALLER_A);
    assert_non_null(q);
    heap_free(&f->h, q, CALLER_B);
    // A pointer in the gap between regions is not the heap's.
    EXPECT_CORRUPT(heap_free(&f->h, f->a.mem + 4096 + ARENA_GAP / 2, CALLER_B));
    assert_int_equal(g_report.what, HEAP_BAD_POINTER);
    for (size_t i = 0; i < HEAP_MAX_REGIONS; i++)
        heap_free(&f->h, p[i], CALLER_B);
    fixture_free(f);
}

// A grow that breaks contiguity with too little memory gets a second,
// whole-region request.
static void
test_grow_second_call(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 20, 4096, ARENA_CONTIGUOUS);
    void *a = heap_alloc(&f->h, 100, CALLER_A);

    f->a.mode = ARENA_DISJOINT;
    unsigned calls = f->a.calls;
    void *b = heap_alloc(&f->h, 6000, CALLER_A);
    assert_non_null(b);
    assert_int_equal(f->a.calls, calls + 2);
    assert_int_equal(f->h.nregions, 3);
    memset(b, 1, 6000);
    heap_free(&f->h, a, CALLER_B);
    heap_free(&f->h, b, CALLER_B);
    fixture_free(f);
}

/* ---- giving memory back ---- */

#define UNIT 4096u

static struct fixture *
fixture_shrinking(enum arena_mode mode, size_t keep)
{
    struct fixture *f = fixture_new(1 << 20, UNIT, mode);

    heap_set_shrink(&f->h, arena_shrink, UNIT, keep);
    return f;
}

// Freeing the top block gives back every whole unit but the first (a
// region keeps one block), and the memory grows back where it was.
static void
test_give_back_top(void **state)
{
    (void)state;
    struct fixture *f = fixture_shrinking(ARENA_CONTIGUOUS, 0);
    void *p = heap_alloc(&f->h, 100000, CALLER_A);

    assert_non_null(p);
    assert_true(stats_of(&f->h).heap_size >= 100000);
    heap_free(&f->h, p, CALLER_B);
    assert_int_equal(stats_of(&f->h).heap_size, UNIT);
    assert_int_equal(f->a.used, UNIT);
    assert_int_equal(f->a.shrinks, 1);
    check_clean(&f->h);
    p = heap_alloc(&f->h, 100000, CALLER_A);
    assert_non_null(p);
    assert_int_equal(f->h.nregions, 1);
    memset(p, 1, 100000);
    heap_free(&f->h, p, CALLER_B);
    assert_int_equal(stats_of(&f->h).heap_size, UNIT);
    fixture_free(f);
}

// A live block on top holds everything below it; its free gives it all.
static void
test_give_back_only_the_top(void **state)
{
    (void)state;
    struct fixture *f = fixture_shrinking(ARENA_CONTIGUOUS, 0);
    void *a = heap_alloc(&f->h, 50000, CALLER_A);
    void *b = heap_alloc(&f->h, 100, CALLER_A);
    size_t size = stats_of(&f->h).heap_size;

    heap_free(&f->h, a, CALLER_B);
    assert_int_equal(stats_of(&f->h).heap_size, size);
    assert_int_equal(f->a.shrinks, 0);
    heap_free(&f->h, b, CALLER_B);
    assert_int_equal(stats_of(&f->h).heap_size, UNIT);
    assert_int_equal(f->a.shrinks, 1);
    fixture_free(f);
}

// keep bytes stay free at the top, so small frees and allocations there
// do not shrink and grow over and over.
static void
test_give_back_keeps_some(void **state)
{
    (void)state;
    struct fixture *f = fixture_shrinking(ARENA_CONTIGUOUS, 4 * UNIT);
    void *p = heap_alloc(&f->h, 100000, CALLER_A);

    heap_free(&f->h, p, CALLER_B);
    size_t size = stats_of(&f->h).heap_size;
    assert_true(size >= 4 * UNIT && size <= 6 * UNIT);
    assert_int_equal(f->a.shrinks, 1);
    for (int i = 0; i < 100; i++) {
        void *q = heap_alloc(&f->h, 3 * UNIT, CALLER_A);
        assert_non_null(q);
        heap_free(&f->h, q, CALLER_B);
    }
    assert_int_equal(f->a.shrinks, 1);
    assert_int_equal(stats_of(&f->h).heap_size, size);
    fixture_free(f);
}

// A realloc that shrinks the top block in place gives back too.
static void
test_give_back_on_realloc(void **state)
{
    (void)state;
    struct fixture *f = fixture_shrinking(ARENA_CONTIGUOUS, 0);
    void *a = heap_alloc(&f->h, 100, CALLER_A);
    void *p = heap_alloc(&f->h, 200000, CALLER_A);

    memset(p, 7, 200000);
    void *q = heap_realloc(&f->h, p, 100, CALLER_A);
    assert_ptr_equal(q, p);
    assert_true(all_bytes(q, 100, 7));
    assert_true(stats_of(&f->h).heap_size <= 2 * UNIT);
    check_clean(&f->h);
    heap_free(&f->h, q, CALLER_B);
    heap_free(&f->h, a, CALLER_B);
    assert_int_equal(stats_of(&f->h).heap_size, UNIT);
    fixture_free(f);
}

// Only the last region shrinks, and never to nothing.
static void
test_give_back_disjoint(void **state)
{
    (void)state;
    struct fixture *f = fixture_shrinking(ARENA_DISJOINT, 0);
    void *a = heap_alloc(&f->h, 3000, CALLER_A);
    void *b = heap_alloc(&f->h, 100000, CALLER_A);

    assert_int_equal(f->h.nregions, 2);
    heap_free(&f->h, b, CALLER_B);
    assert_int_equal(f->h.nregions, 2);
    assert_int_equal(f->a.shrinks, 1);
    size_t size = stats_of(&f->h).heap_size;
    heap_free(&f->h, a, CALLER_B);
    assert_int_equal(stats_of(&f->h).heap_size, size); // not the last region
    check_clean(&f->h);
    fixture_free(f);
}

// A second free of memory partly given back is still reported, with no
// touch of what went back (ASan would stop it: it is poisoned).
static void
test_give_back_then_double_free(void **state)
{
    (void)state;
    struct fixture *f = fixture_shrinking(ARENA_CONTIGUOUS, 0);
    void *p = heap_alloc(&f->h, 100000, CALLER_A);

    heap_free(&f->h, p, CALLER_B);
    EXPECT_CORRUPT(heap_free(&f->h, p, CALLER_B));
    assert_true(g_report.what == HEAP_DOUBLE_FREE || g_report.what == HEAP_BAD_POINTER);
    void *q = (char *)p + 50000; // in memory given back
    EXPECT_CORRUPT(heap_free(&f->h, q, CALLER_B));
    assert_int_equal(g_report.what, HEAP_BAD_POINTER);
    fixture_free(f);
}

// The random trace with give-back on: the model's checks hold, nothing
// touches given-back memory, and all freed leaves one unit.
static void
test_random_trace_give_back(void **state)
{
    (void)state;
    static struct model m;
    uint64_t seed = env_u64("HEAP_SEED", 777);

    model_init(&m, seed, 4u << 20, ARENA_CONTIGUOUS);
    heap_set_shrink(&m.h, arena_shrink, UNIT, 0);
    model_run(&m, 200000, 1000);
    assert_true(m.a.shrinks > 0);
    model_free_all(&m);
    // Cached blocks hold back their own bytes at most; a flush returns them.
    struct heap_stats s = stats_of(&m.h);
    assert_true(s.heap_size <= UNIT + ALIGN_UP(s.cached_bytes, UNIT));
    heap_flush_cache(&m.h);
    assert_int_equal(stats_of(&m.h).heap_size, UNIT);
    assert_int_equal(stats_of(&m.h).cached_blocks, 0);
    arena_fini(&m.a);
}

/* ---- the cache ---- */

#define HDR_OF(p) ((struct heap_block *)(((uint8_t *)(p)) - HEAP_HDR))

// Block bytes of a request of size bytes that the cache serves.
static size_t
class_bytes(size_t size)
{
    return HEAP_CACHE_CLASS(size) * HEAP_ALIGN;
}

// The smallest request of size's class.
static size_t
class_low(size_t size)
{
    while (size > 1 && HEAP_CACHE_CLASS(size - 1) == HEAP_CACHE_CLASS(size))
        size--;
    return size;
}

// How many blocks of that size one class holds (heap.c's class_depth).
static size_t
class_depth_of(size_t size)
{
    size_t n = HEAP_CACHE_CLASS_BYTES / class_bytes(size);

    return n < 1 ? 1 : n > HEAP_CACHE_DEPTH ? HEAP_CACHE_DEPTH : n;
}

// A freed small block is the next one its size gets; meanwhile it is free
// to every counter.
static void
test_cache_reuse(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    uint8_t *keep = heap_alloc(&f->h, 8, CALLER_A);
    uint8_t *p = heap_alloc(&f->h, 40, CALLER_A);
    uint8_t *guard = heap_alloc(&f->h, 8, CALLER_A); // p is not just below the top
    struct heap_stats s0 = stats_of(&f->h);

    heap_free(&f->h, p, CALLER_B);
    struct heap_stats s1 = stats_of(&f->h);
    assert_int_equal(s1.live_blocks, s0.live_blocks - 1);
    assert_int_equal(s1.in_use, s0.in_use - class_bytes(40));
    assert_int_equal(s1.frees, s0.frees + 1);
    assert_int_equal(s1.cached_blocks, 1);
    assert_int_equal(s1.cached_bytes, class_bytes(40));
    assert_int_equal(s1.peak_in_use, s0.peak_in_use);
    check_clean(&f->h);
    // Another size does not get it; any size of its class does.
    uint8_t *q = heap_alloc(&f->h, 64, CALLER_A);
    assert_ptr_not_equal(q, p);
    assert_ptr_equal(heap_alloc(&f->h, class_low(40), CALLER_A), p);
    struct heap_stats s2 = stats_of(&f->h);
    assert_int_equal(s2.cached_blocks, 0);
    assert_int_equal(s2.live_blocks, s0.live_blocks + 1);
    assert_int_equal(s2.allocs, s0.allocs + 2);
#if TANDEM_DEBUG
    assert_int_equal(heap_usable_size(&f->h, p, CALLER_A), class_low(40));
    assert_true(all_bytes(p, class_low(40), HEAP_FILL_NEW));
#endif
    // zalloc and calloc from the cache zero what the last owner wrote.
    memset(p, 0xEE, class_low(40));
    heap_free(&f->h, p, CALLER_B);
    assert_ptr_equal(heap_zalloc(&f->h, 40, CALLER_A), p);
    assert_true(all_bytes(p, 40, 0));
    memset(p, 0xEE, 40);
    heap_free(&f->h, p, CALLER_B);
    assert_ptr_equal(heap_calloc(&f->h, 5, 8, CALLER_A), p);
    assert_true(all_bytes(p, 40, 0));
    // A request of 0 bytes takes a block of its own, not a cached one.
    heap_free(&f->h, keep, CALLER_B);
    void *z = heap_alloc(&f->h, 0, CALLER_A);
    assert_ptr_not_equal(z, keep);
    assert_ptr_equal(heap_alloc(&f->h, 8, CALLER_A), keep);
    check_clean(&f->h);
    heap_free(&f->h, z, CALLER_B);
    heap_free(&f->h, p, CALLER_B);
    heap_free(&f->h, q, CALLER_B);
    heap_free(&f->h, keep, CALLER_B);
    heap_free(&f->h, guard, CALLER_B);
    fixture_free(f);
}

// A class holds its bound; the free past it flushes the class into the
// free lists, where its blocks merge.
static void
test_cache_bound_flushes(void **state)
{
    (void)state;
    const size_t sizes[] = { 1, 24, 100, 300, HEAP_CACHE_MAX };

    for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
        struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS); // blocks of exact size
        size_t size = sizes[k], depth = class_depth_of(size);
        void *p[HEAP_CACHE_DEPTH + 1], *guard[HEAP_CACHE_DEPTH + 1];
        heap_free(&f->h, heap_alloc(&f->h, 60000, CALLER_A), CALLER_B); // no grow below
        // Each block between two live guards: none merges before the flush.
        for (size_t i = 0; i <= depth; i++) {
            p[i] = heap_alloc(&f->h, size, CALLER_A);
            guard[i] = heap_alloc(&f->h, 2 * HEAP_CACHE_MAX, CALLER_A); // not cached
        }
        struct heap_stats s0 = stats_of(&f->h);
        for (size_t i = 0; i < depth; i++)
            heap_free(&f->h, p[i], CALLER_B);
        assert_int_equal(stats_of(&f->h).cached_blocks, depth);
        assert_ptr_equal(cache_head(&f->h, class_bytes(size)), p[depth - 1]);
        heap_free(&f->h, p[depth], CALLER_B);
        struct heap_stats s1 = stats_of(&f->h);
        assert_int_equal(s1.cached_blocks, 1);
        assert_ptr_equal(cache_head(&f->h, class_bytes(size)), p[depth]);
        assert_int_equal(s1.live_blocks, s0.live_blocks - depth - 1);
        assert_int_equal(s1.frees, s0.frees + depth + 1);
        check_clean(&f->h);
        // The flushed blocks merge with their guards once those go; the
        // cached one stays (this heap gives nothing back, so it pins
        // nothing), and the request that needs it too empties the cache.
        for (size_t i = 0; i <= depth; i++)
            heap_free(&f->h, guard[i], CALLER_B);
        assert_int_equal(stats_of(&f->h).cached_blocks, 1);
        void *all = heap_alloc(&f->h, depth * (2 * HEAP_CACHE_MAX + class_bytes(size)), CALLER_A);
        assert_non_null(all);
        heap_free(&f->h, all, CALLER_B);
        heap_flush_cache(&f->h);
        assert_int_equal(stats_of(&f->h).cached_blocks, 0);
        fixture_free(f);
    }
}

// The cache as a whole holds HEAP_CACHE_BLOCKS.  Full, it takes a block
// of a size it holds none of, for one block of another class (round
// robin); a block of a size it holds goes to the free lists.
static void
test_cache_total_bound(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 20, 4096, ARENA_CONTIGUOUS);
    enum { N = HEAP_CACHE_BLOCKS + 3 };
    void *p[N], *guard[N];
    size_t n = 0, last = 0;

    // A full class of the smallest size, then up to 4 of each larger one;
    // then one more of the second size (its class has room) and two of a
    // size after all these: each between live guards.
    assert_int_equal(class_depth_of(1), HEAP_CACHE_DEPTH);
    heap_free(&f->h, heap_alloc(&f->h, 100000, CALLER_A), CALLER_B); // no grow below
    for (size_t size = 1; n < HEAP_CACHE_BLOCKS; size += HEAP_ALIGN) {
        size_t take = size == 1                  ? HEAP_CACHE_DEPTH
                      : class_depth_of(size) < 4 ? class_depth_of(size)
                                                 : 4;
        for (size_t k = 0; k < take && n < HEAP_CACHE_BLOCKS; k++, n++) {
            p[n] = heap_alloc(&f->h, size, CALLER_A);
            guard[n] = heap_alloc(&f->h, 2 * HEAP_CACHE_MAX, CALLER_A);
        }
        last = size;
    }
    const size_t extra[] = { 1 + HEAP_ALIGN, last + HEAP_ALIGN, last + HEAP_ALIGN };
    assert_true(class_depth_of(1 + HEAP_ALIGN) > 4);
    for (size_t k = 0; k < 3; k++, n++) {
        p[n] = heap_alloc(&f->h, extra[k], CALLER_A);
        guard[n] = heap_alloc(&f->h, 2 * HEAP_CACHE_MAX, CALLER_A);
    }
    for (size_t i = 0; i < HEAP_CACHE_BLOCKS; i++)
        heap_free(&f->h, p[i], CALLER_B);
    assert_int_equal(stats_of(&f->h).cached_blocks, HEAP_CACHE_BLOCKS);
    // A size it holds: not cached.
    heap_free(&f->h, p[N - 3], CALLER_B);
    assert_int_equal(stats_of(&f->h).cached_blocks, HEAP_CACHE_BLOCKS);
    assert_ptr_not_equal(cache_head(&f->h, class_bytes(1 + HEAP_ALIGN)), p[N - 3]);
    // A new size: cached, for one block of the first class that holds any.
    heap_free(&f->h, p[N - 2], CALLER_B);
    assert_int_equal(stats_of(&f->h).cached_blocks, HEAP_CACHE_BLOCKS);
    assert_ptr_equal(cache_head(&f->h, class_bytes(last + HEAP_ALIGN)), p[N - 2]);
    assert_ptr_equal(cache_head(&f->h, class_bytes(1)), p[HEAP_CACHE_DEPTH - 2]);
    // Its class now holds one: the next of its size is not cached.
    heap_free(&f->h, p[N - 1], CALLER_B);
    assert_int_equal(stats_of(&f->h).cached_blocks, HEAP_CACHE_BLOCKS);
    assert_ptr_equal(cache_head(&f->h, class_bytes(last + HEAP_ALIGN)), p[N - 2]);
    check_clean(&f->h);
    for (size_t i = 0; i < N; i++)
        heap_free(&f->h, guard[i], CALLER_B);
    fixture_free(f);
}

// The free fast path (heap_cache_push, kfree's inline part in release
// builds) takes a block only when the slow path would cache it too: two
// heaps run the same trace in lockstep, one whose fast window is shut
// before every free, and must stay alike (the same offsets handed out, the
// same counters, the same cache).  In debug builds every free is slow.
static void
test_cache_fast_free_agrees(void **state)
{
    (void)state;
    static struct fixture *f[2];
    static uint8_t *slot[2][256];
    uint64_t rng = env_u64("HEAP_SEED", 99);
    uint64_t fast = 0;

    for (int k = 0; k < 2; k++) {
        f[k] = fixture_shrinking(ARENA_CONTIGUOUS, 2 * UNIT);
        memset(slot[k], 0, sizeof(slot[k]));
    }
    for (int i = 0; i < 200000; i++) {
        size_t n = rng_below(&rng, 256),
               size = 1 + rng_below(&rng, rng_below(&rng, 8) ? 300 : 3000);
        for (int k = 0; k < 2; k++) {
            if (!slot[k][n]) {
                slot[k][n] = heap_alloc(&f[k]->h, size, CALLER_A);
                continue;
            }
            if (k == 1)
                f[k]->h.cache_span = 0;
#if !TANDEM_DEBUG
            else if (heap_cache_push(&f[k]->h, slot[k][n]))
                fast++, slot[k][n] = NULL;
#endif
            if (slot[k][n])
                heap_free(&f[k]->h, slot[k][n], CALLER_B);
            slot[k][n] = NULL;
        }
        uintptr_t off0 = slot[0][n] ? (uintptr_t)(slot[0][n] - f[0]->a.mem) : 0;
        uintptr_t off1 = slot[1][n] ? (uintptr_t)(slot[1][n] - f[1]->a.mem) : 0;
        assert_int_equal(off0, off1);
        struct heap_stats s0 = stats_of(&f[0]->h), s1 = stats_of(&f[1]->h);
        assert_stats_equal(&s0, &s1);
    }
    printf("# lockstep: %" PRIu64 " frees took the fast path\n", fast);
#if !TANDEM_DEBUG
    assert_true(fast > 10000);
#endif
    check_clean(&f[0]->h);
    check_clean(&f[1]->h);
    for (int k = 0; k < 2; k++) {
        for (size_t n = 0; n < 256; n++)
            heap_free(&f[k]->h, slot[k][n], CALLER_B);
        fixture_free(f[k]);
    }
}

// A cached block is free: a second free, a realloc or a size query of it
// is misuse, reported with the owner, and changes nothing.
static void
test_cache_double_free(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    void *a = heap_alloc(&f->h, 40, CALLER_A);
    void *b = heap_alloc(&f->h, 50, CALLER_A);
    void *guard = heap_alloc(&f->h, 8, CALLER_A);

    heap_free(&f->h, b, CALLER_B);
    struct heap_stats s0 = stats_of(&f->h);
    assert_int_equal(s0.cached_blocks, 1);
    EXPECT_CORRUPT(heap_free(&f->h, b, CALLER_C));
    assert_int_equal(g_report.what, HEAP_DOUBLE_FREE);
    assert_ptr_equal(g_report.ptr, b);
    assert_int_equal(g_report.caller, CALLER_C);
#if TANDEM_DEBUG
    assert_int_equal(g_report.size, 50);
    assert_int_equal(g_report.owner, CALLER_A);
#endif
    EXPECT_CORRUPT(heap_realloc(&f->h, b, 10, CALLER_C));
    assert_int_equal(g_report.what, HEAP_DOUBLE_FREE);
    EXPECT_CORRUPT(heap_usable_size(&f->h, b, CALLER_C));
    assert_int_equal(g_report.what, HEAP_DOUBLE_FREE);
    struct heap_stats s1 = stats_of(&f->h);
    assert_stats_equal(&s0, &s1);
    check_clean(&f->h);
    // Still cached, still the next of its size.
    assert_ptr_equal(heap_alloc(&f->h, 50, CALLER_A), b);
    heap_free(&f->h, a, CALLER_B);
    heap_free(&f->h, b, CALLER_B);
    heap_free(&f->h, guard, CALLER_B);
    fixture_free(f);
}

// Only the top goes back, and a cached block must not keep free memory
// below it from reaching the top: a free through the lists that leaves
// cached blocks above a free one flushes them; and when the heap gives
// memory back, the cached blocks just below the top go with it.
static void
test_cache_unpins_top(void **state)
{
    (void)state;
    struct fixture *f = fixture_shrinking(ARENA_CONTIGUOUS, 0);
    void *x = heap_alloc(&f->h, 100, CALLER_A);
    void *y = heap_alloc(&f->h, 50000, CALLER_A);
    void *z = heap_alloc(&f->h, 100, CALLER_A);

    heap_free(&f->h, z, CALLER_B); // on top of live y: cached
    assert_int_equal(stats_of(&f->h).cached_blocks, 1);
    heap_free(&f->h, y, CALLER_B); // y below cached z: z must go
    assert_int_equal(stats_of(&f->h).cached_blocks, 0);
    assert_int_equal(stats_of(&f->h).heap_size, UNIT);
    check_clean(&f->h);
    // The same reached from above: a free that joins the top to a run of a
    // free block with a cached one above it.
    y = heap_alloc(&f->h, 50000, CALLER_A);
    z = heap_alloc(&f->h, 100, CALLER_A);
    void *w = heap_alloc(&f->h, 100, CALLER_A);
    heap_free(&f->h, z, CALLER_B); // between live y and w: cached
    heap_free(&f->h, y, CALLER_B); // free below cached z, w live above
    assert_int_equal(stats_of(&f->h).cached_blocks, 1);
    heap_free(&f->h, w, CALLER_B); // the top reaches z and y: z must go
    assert_int_equal(stats_of(&f->h).cached_blocks, 0);
    assert_int_equal(stats_of(&f->h).heap_size, UNIT);
    check_clean(&f->h);
    // Cached blocks of several classes just below a top that goes back.
    void *q[6];
    for (size_t i = 0; i < 6; i++)
        q[i] = heap_alloc(&f->h, 100 + 50 * i, CALLER_A);
    void *big = heap_alloc(&f->h, 30000, CALLER_A);
    for (size_t i = 0; i < 6; i++)
        heap_free(&f->h, q[i], CALLER_B);
    assert_int_equal(stats_of(&f->h).cached_blocks, 6);
    heap_free(&f->h, big, CALLER_B);
    assert_int_equal(stats_of(&f->h).cached_blocks, 0);
    assert_int_equal(stats_of(&f->h).heap_size, UNIT);
    check_clean(&f->h);
    heap_free(&f->h, x, CALLER_B);
    fixture_free(f);
}

// The other order: a block with a free block below it (right below, or
// below cached blocks only) is not cached but merges, so the free block
// can reach the top.  The fast free reads that from HEAP_BLOCK_FREE_BELOW
// in its own header; a stale one costs a slow free, which clears it.
static void
test_cache_skips_block_after_free(void **state)
{
    (void)state;
    struct fixture *f = fixture_shrinking(ARENA_CONTIGUOUS, 0);
    void *x = heap_alloc(&f->h, 100, CALLER_A);
    void *y = heap_alloc(&f->h, 50000, CALLER_A);
    void *z = heap_alloc(&f->h, 100, CALLER_A);

    heap_free(&f->h, y, CALLER_B);
    assert_int_equal(f->a.shrinks, 0);
    assert_true(HDR_OF(z)->size & HEAP_BLOCK_FREE_BELOW);
    heap_free(&f->h, z, CALLER_B); // free y below: merges
    assert_int_equal(stats_of(&f->h).cached_blocks, 0);
    assert_int_equal(stats_of(&f->h).heap_size, UNIT);
    check_clean(&f->h);
    // Below cached blocks only: the same.
    void *p = heap_alloc(&f->h, 2000, CALLER_A);
    void *q = heap_alloc(&f->h, 100, CALLER_A);
    void *r = heap_alloc(&f->h, 100, CALLER_A);
    void *s = heap_alloc(&f->h, 8000, CALLER_A);
    heap_free(&f->h, q, CALLER_B);
    assert_int_equal(stats_of(&f->h).cached_blocks, 1);
    heap_free(&f->h, p, CALLER_B); // below cached q: r learns of it
    assert_true(HDR_OF(r)->size & HEAP_BLOCK_FREE_BELOW);
    heap_free(&f->h, r, CALLER_B);
    assert_int_equal(stats_of(&f->h).cached_blocks, 1);
    check_clean(&f->h);
    // Once q is in use again, r's mark is stale: the free caches r all the same.
    assert_ptr_equal(heap_alloc(&f->h, 100, CALLER_A), q);
    assert_ptr_equal(heap_alloc(&f->h, 100, CALLER_A), r);
    assert_true(HDR_OF(r)->size & HEAP_BLOCK_FREE_BELOW);
    heap_free(&f->h, r, CALLER_B);
    assert_int_equal(stats_of(&f->h).cached_blocks, 1);
    assert_ptr_equal(cache_head(&f->h, class_bytes(100)), r);
    assert_false(HDR_OF(r)->size & HEAP_BLOCK_FREE_BELOW);
    check_clean(&f->h);
    heap_free(&f->h, s, CALLER_B);
    heap_free(&f->h, q, CALLER_B);
    heap_free(&f->h, x, CALLER_B);
    fixture_free(f);
}

// Cached blocks never make the heap grow: a request nothing filed can
// serve empties the cache into the lists first.
static void
test_cache_flush_before_grow(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(64 << 10, 4096, ARENA_CONTIGUOUS);
    static void *p[8192];
    void *a = heap_alloc(&f->h, 20000, CALLER_A);
    size_t n = fill(f, p, ARRAY_SIZE(p), 40), k = class_depth_of(40);

    assert_true(n > k + 1);
    // Downwards, below a live block: all cached, all just after a.
    for (size_t i = k; i-- > 0;)
        heap_free(&f->h, p[i], CALLER_B);
    heap_free(&f->h, a, CALLER_B);
    struct heap_stats s = stats_of(&f->h);
    assert_int_equal(s.cached_blocks, k);
    // a's bytes and the cached blocks', as one: only if the cache empties.
    size_t want = (uintptr_t)p[k] - (uintptr_t)a - HEAP_HDR - HEAP_RZ_MIN;
    unsigned calls = f->a.calls;
    void *all = heap_alloc(&f->h, want, CALLER_A);
    assert_non_null(all);
    assert_ptr_equal(all, a);
    assert_int_equal(f->a.calls, calls);
    assert_int_equal(stats_of(&f->h).cached_blocks, 0);
    heap_free(&f->h, all, CALLER_B);
    // A request that fails all the same changes no counter but failures.
    for (size_t i = k; i-- > 0;)
        p[i] = heap_alloc(&f->h, 40, CALLER_A);
    for (size_t i = 0; i < k; i++)
        heap_free(&f->h, p[i], CALLER_B);
    struct heap_stats s0 = stats_of(&f->h);
    assert_true(s0.cached_blocks > 0);
    assert_null(heap_alloc(&f->h, 1 << 20, CALLER_A));
    struct heap_stats s1 = stats_of(&f->h);
    s0.failures++;
    s0.cached_blocks = s1.cached_blocks; // emptied into the lists
    s0.cached_bytes = s1.cached_bytes;
    assert_stats_equal(&s0, &s1);
    for (size_t i = k; i < n; i++)
        heap_free(&f->h, p[i], CALLER_B);
    fixture_free(f);
}

// heap_flush_cache gives everything back, the cached blocks' own bytes too.
static void
test_cache_flush_gives_back(void **state)
{
    (void)state;
    struct fixture *f = fixture_shrinking(ARENA_CONTIGUOUS, 0);
    void *p[64];

    for (size_t i = 0; i < 64; i++)
        p[i] = heap_alloc(&f->h, 1 + i * 8, CALLER_A);
    void *big = heap_alloc(&f->h, 20000, CALLER_A);
    for (size_t i = 64; i-- > 0;)
        heap_free(&f->h, p[i], CALLER_B);
    assert_true(stats_of(&f->h).cached_blocks > 0);
    heap_free(&f->h, big, CALLER_B);
    heap_flush_cache(&f->h);
    struct heap_stats s = stats_of(&f->h);
    assert_int_equal(s.cached_blocks, 0);
    assert_int_equal(s.heap_size, UNIT);
    assert_int_equal(s.in_use, 0);
    fixture_free(f);
}

// heap_check walks the cache: a listed block that lost its flag, a count
// that disagrees with its list.
static void
test_cache_check_finds_damage(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    void *a = heap_alloc(&f->h, 40, CALLER_A);
    void *b = heap_alloc(&f->h, 40, CALLER_A);
    size_t j = HEAP_CACHE_CLASS(40);

    heap_free(&f->h, a, CALLER_B);
    check_clean(&f->h);
    HDR_OF(a)->size &= ~HEAP_BLOCK_CACHED;
    assert_true(heap_check(&f->h, on_check_any, NULL) > 0);
    assert_true(g_any_bad_cache);
    HDR_OF(a)->size |= HEAP_BLOCK_CACHED;
    check_clean(&f->h);
    f->h.cache[j].room--;
    g_any_bad_cache = false;
    assert_true(heap_check(&f->h, on_check_any, NULL) > 0);
    assert_true(g_any_bad_cache);
    f->h.cache[j].room++;
    check_clean(&f->h);
    // A block above a free one that does not say so.
    void *big = heap_alloc(&f->h, 2 * HEAP_CACHE_MAX, CALLER_A);
    void *after = heap_alloc(&f->h, 8, CALLER_A);
    heap_free(&f->h, big, CALLER_B);
    HDR_OF(after)->size &= ~HEAP_BLOCK_FREE_BELOW;
    g_found = 0;
    assert_int_equal(heap_check(&f->h, on_check, NULL), 1);
    assert_int_equal(g_found_report.what, HEAP_BAD_HEADER);
    HDR_OF(after)->size |= HEAP_BLOCK_FREE_BELOW;
    check_clean(&f->h);
    heap_free(&f->h, after, CALLER_B);
    heap_free(&f->h, b, CALLER_B);
    fixture_free(f);
}

/* ---- misuse ---- */

static void
test_double_free(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    // Sizes the cache does not take: these blocks merge (test_cache_double_free has the rest).
    void *a = heap_alloc(&f->h, HEAP_CACHE_MAX + 40, CALLER_A);
    void *b = heap_alloc(&f->h, HEAP_CACHE_MAX + 50, CALLER_A);
    void *c = heap_alloc(&f->h, HEAP_CACHE_MAX + 60, CALLER_A);

    heap_free(&f->h, b, CALLER_B);
    struct heap_stats s0 = stats_of(&f->h);
    EXPECT_CORRUPT(heap_free(&f->h, b, CALLER_C));
    assert_int_equal(g_report.what, HEAP_DOUBLE_FREE);
    assert_ptr_equal(g_report.ptr, b);
    assert_int_equal(g_report.caller, CALLER_C);
#if TANDEM_DEBUG
    assert_int_equal(g_report.size, HEAP_CACHE_MAX + 50);
    assert_int_equal(g_report.owner, CALLER_A);
#endif
    struct heap_stats s1 = stats_of(&f->h);
    assert_stats_equal(&s0, &s1);
    check_clean(&f->h);
    // b's block has merged into a's: its stale header still names the misuse.
    heap_free(&f->h, a, CALLER_B);
    EXPECT_CORRUPT(heap_free(&f->h, b, CALLER_C));
    assert_int_equal(g_report.what, HEAP_DOUBLE_FREE);
    EXPECT_CORRUPT(heap_realloc(&f->h, a, 10, CALLER_C));
    assert_int_equal(g_report.what, HEAP_DOUBLE_FREE);
    assert_ptr_equal(g_report.ptr, a);
    heap_free(&f->h, c, CALLER_B);
    check_clean(&f->h);
    fixture_free(f);
}

static void
test_wild_free(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    uint8_t *a = heap_alloc(&f->h, 64, CALLER_A);
    static uint64_t not_heap[4];

    EXPECT_CORRUPT(heap_free(&f->h, not_heap, CALLER_C));
    assert_int_equal(g_report.what, HEAP_BAD_POINTER);
    assert_ptr_equal(g_report.ptr, not_heap);
    assert_int_equal(g_report.caller, CALLER_C);
    EXPECT_CORRUPT(heap_free(&f->h, a + 1, CALLER_C)); // misaligned
    assert_int_equal(g_report.what, HEAP_BAD_POINTER);
    assert_ptr_equal(g_report.ptr, a + 1);
    EXPECT_CORRUPT(heap_free(&f->h, f->a.mem + f->a.used - 8, CALLER_C)); // past the last block
    assert_int_equal(g_report.what, HEAP_BAD_POINTER);
    EXPECT_CORRUPT(heap_realloc(&f->h, not_heap, 10, CALLER_C));
    assert_int_equal(g_report.what, HEAP_BAD_POINTER);
#if TANDEM_DEBUG
    // Inside a block, aligned: no header there.
    EXPECT_CORRUPT(heap_free(&f->h, a + 2 * HEAP_ALIGN, CALLER_C));
    assert_int_equal(g_report.what, HEAP_BAD_POINTER);
    assert_ptr_equal(g_report.ptr, a + 2 * HEAP_ALIGN);
    assert_int_equal(g_report.caller, CALLER_C);
#endif
    check_clean(&f->h);
    heap_free(&f->h, a, CALLER_B);
    fixture_free(f);
}

#if TANDEM_DEBUG

static void
test_redzones(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    uint8_t *sizes[] = { NULL, NULL, NULL };
    const size_t len[] = { 13, 32, 100 };

    for (int i = 0; i < 3; i++)
        sizes[i] = heap_alloc(&f->h, len[i], CALLER_A);
    for (int i = 0; i < 3; i++) {
        uint8_t *p = sizes[i];
        struct heap_stats s0 = stats_of(&f->h);

        p[-1] ^= 1; // the byte just before
        EXPECT_CORRUPT(heap_free(&f->h, p, CALLER_C));
        assert_int_equal(g_report.what, HEAP_REDZONE_BEFORE);
        assert_ptr_equal(g_report.ptr, p);
        assert_int_equal(g_report.size, len[i]);
        assert_int_equal(g_report.caller, CALLER_C);
        assert_int_equal(g_report.owner, CALLER_A);
        g_found = 0;
        assert_int_equal(heap_check(&f->h, on_check, NULL), 1);
        assert_int_equal(g_found_report.what, HEAP_REDZONE_BEFORE);
        assert_ptr_equal(g_found_report.ptr, p);
        p[-1] ^= 1;

        p[len[i]] ^= 1; // the byte just after
        EXPECT_CORRUPT(heap_realloc(&f->h, p, len[i] + 1, CALLER_C));
        assert_int_equal(g_report.what, HEAP_REDZONE_AFTER);
        assert_ptr_equal(g_report.ptr, p);
        assert_int_equal(g_report.size, len[i]);
        assert_int_equal(g_report.owner, CALLER_A);
        EXPECT_CORRUPT(heap_free(&f->h, p, CALLER_B));
        assert_int_equal(g_report.what, HEAP_REDZONE_AFTER);
        assert_int_equal(g_report.caller, CALLER_B);
        p[len[i]] ^= 1;

        struct heap_stats s1 = stats_of(&f->h);
        assert_stats_equal(&s0, &s1);
    }
    check_clean(&f->h);
    for (int i = 0; i < 3; i++)
        heap_free(&f->h, sizes[i], CALLER_B);
    fixture_free(f);
}

static void
test_fill_patterns(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    uint8_t *a = heap_alloc(&f->h, 200, CALLER_A);
    uint8_t *guard = heap_alloc(&f->h, 8, CALLER_A);

    assert_true(all_bytes(a, 200, HEAP_FILL_NEW));
    assert_int_equal(a[200], HEAP_FILL_REDZONE);
    assert_int_equal(a[-1], HEAP_FILL_REDZONE);
    memset(a, 0, 200);
    heap_free(&f->h, a, CALLER_B);
    // The free block keeps its list links at the start; the rest is poisoned.
    assert_true(all_bytes(a + 2 * sizeof(void *), 200 - 2 * sizeof(void *), HEAP_FILL_FREED));
    heap_free(&f->h, guard, CALLER_B);
    fixture_free(f);
}

// A cached block must not be written: its bytes are checked when it
// leaves the cache (a request, a flush) and by heap_check, and a report
// leaves it where it was.
static void
test_cache_write_after_free(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    uint8_t *a = heap_alloc(&f->h, 40, CALLER_A);
    uint8_t *guard = heap_alloc(&f->h, 8, CALLER_A);

    heap_free(&f->h, a, CALLER_B);
    assert_true(all_bytes(a + sizeof(void *), class_bytes(40) - HEAP_HDR - sizeof(void *),
                          HEAP_FILL_FREED));
    const size_t at[] = { sizeof(void *), 39, class_bytes(40) - HEAP_HDR - 1 };
    for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
        struct heap_stats s0 = stats_of(&f->h);
        a[at[i]] ^= 1;
        EXPECT_CORRUPT(heap_alloc(&f->h, 40, CALLER_C));
        assert_int_equal(g_report.what, HEAP_WRITE_AFTER_FREE);
        assert_ptr_equal(g_report.ptr, a);
        assert_int_equal(g_report.size, 40);
        assert_int_equal(g_report.owner, CALLER_A);
        assert_int_equal(g_report.caller, CALLER_C);
        EXPECT_CORRUPT(heap_flush_cache(&f->h));
        assert_int_equal(g_report.what, HEAP_WRITE_AFTER_FREE);
        g_found = 0;
        assert_int_equal(heap_check(&f->h, on_check, NULL), 1);
        assert_int_equal(g_found_report.what, HEAP_WRITE_AFTER_FREE);
        struct heap_stats s1 = stats_of(&f->h);
        assert_stats_equal(&s0, &s1);
        a[at[i]] ^= 1;
    }
    a[-1] ^= 1; // the front red zone is watched too
    EXPECT_CORRUPT(heap_alloc(&f->h, 40, CALLER_C));
    assert_int_equal(g_report.what, HEAP_WRITE_AFTER_FREE);
    a[-1] ^= 1;
    check_clean(&f->h);
    assert_ptr_equal(heap_alloc(&f->h, 40, CALLER_A), a);
    heap_free(&f->h, a, CALLER_B);
    heap_free(&f->h, guard, CALLER_B);
    fixture_free(f);
}

// A block from the cache gets the red zones of its new request and its
// new owner's name.
static void
test_cache_redzones_on_reuse(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    uint8_t *a = heap_alloc(&f->h, 40, CALLER_A);
    size_t small = class_low(40); // the same class

    heap_free(&f->h, a, CALLER_B);
    uint8_t *b = heap_alloc(&f->h, small, CALLER_C);
    assert_ptr_equal(b, a);
    assert_int_equal(b[small], HEAP_FILL_REDZONE);
    assert_int_equal(b[-1], HEAP_FILL_REDZONE);
    b[small] ^= 1;
    EXPECT_CORRUPT(heap_free(&f->h, b, CALLER_B));
    assert_int_equal(g_report.what, HEAP_REDZONE_AFTER);
    assert_int_equal(g_report.size, small);
    assert_int_equal(g_report.owner, CALLER_C);
    b[small] ^= 1;
    heap_free(&f->h, b, CALLER_B);
    fixture_free(f);
}

// A header smashed past the red zone is caught by free and by heap_check.
static void
test_smashed_header(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
    uint8_t *a = heap_alloc(&f->h, 64, CALLER_A);
    uint8_t *b = heap_alloc(&f->h, 64, CALLER_A);
    uint8_t saved[64];

    memcpy(saved, b - 64, 64);
    memset(a + 64, 0x41, 64); // runs through b's header
    EXPECT_CORRUPT(heap_free(&f->h, b, CALLER_C));
    assert_true(g_report.what == HEAP_BAD_POINTER || g_report.what == HEAP_BAD_HEADER);
    assert_ptr_equal(g_report.ptr, b);
    EXPECT_CORRUPT(heap_free(&f->h, a, CALLER_C));
    assert_int_equal(g_report.what, HEAP_REDZONE_AFTER);
    g_found = 0;
    assert_true(heap_check(&f->h, on_check, NULL) > 0);
    memcpy(b - 64, saved, 64);
    check_clean(&f->h);
    heap_free(&f->h, a, CALLER_B);
    heap_free(&f->h, b, CALLER_B);
    fixture_free(f);
}
#endif

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_trace),
        cmocka_unit_test(test_random_trace_disjoint),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_zero_size),
        cmocka_unit_test(test_huge_sizes),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_realloc_resizes),
        cmocka_unit_test(test_aligned),
        cmocka_unit_test(test_exhaustion_recovery),
        cmocka_unit_test(test_fragmentation),
        cmocka_unit_test(test_grow_refused),
        cmocka_unit_test(test_grow_disjoint),
        cmocka_unit_test(test_grow_second_call),
        cmocka_unit_test(test_give_back_top),
        cmocka_unit_test(test_give_back_only_the_top),
        cmocka_unit_test(test_give_back_keeps_some),
        cmocka_unit_test(test_give_back_on_realloc),
        cmocka_unit_test(test_give_back_disjoint),
        cmocka_unit_test(test_give_back_then_double_free),
        cmocka_unit_test(test_random_trace_give_back),
        cmocka_unit_test(test_cache_reuse),
        cmocka_unit_test(test_cache_bound_flushes),
        cmocka_unit_test(test_cache_total_bound),
        cmocka_unit_test(test_cache_fast_free_agrees),
        cmocka_unit_test(test_cache_double_free),
        cmocka_unit_test(test_cache_unpins_top),
        cmocka_unit_test(test_cache_skips_block_after_free),
        cmocka_unit_test(test_cache_flush_before_grow),
        cmocka_unit_test(test_cache_flush_gives_back),
        cmocka_unit_test(test_cache_check_finds_damage),
        cmocka_unit_test(test_double_free),
        cmocka_unit_test(test_wild_free),
#if TANDEM_DEBUG
        cmocka_unit_test(test_cache_write_after_free),
        cmocka_unit_test(test_cache_redzones_on_reuse),
        cmocka_unit_test(test_redzones),
        cmocka_unit_test(test_fill_patterns),
        cmocka_unit_test(test_smashed_header),
#endif
    };

    return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
