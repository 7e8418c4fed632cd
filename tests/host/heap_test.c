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

#define SLACK_MAX       192             // block bytes beyond the request, at most (header, red zones, rounding)
#define CALLER_A        ((uintptr_t)0xA11Cu)
#define CALLER_B        ((uintptr_t)0xB0B0u)
#define CALLER_C        ((uintptr_t)0xC0DEu)

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
#define EXPECT_CORRUPT(stmt) do {                                       \
		g_armed = true;                                         \
		if (setjmp(g_jump) == 0) {                              \
			stmt;                                           \
			g_armed = false;                                \
			fail_msg("no corrupt report from %s", #stmt);   \
		}                                                       \
		g_armed = false;                                        \
	} while (0)

static void
check_clean(struct heap *h)
{
	assert_int_equal(heap_check(h, NULL, NULL), 0);
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
}

/* ---- the random trace ---- */

#define NSLOT 2048

struct live {
	uint8_t *p;             // NULL: slot empty
	size_t size;
	size_t bytes;           // block bytes, learnt from in_use when it was placed
	uint32_t id;
};

struct model {
	struct heap h;
	struct arena a;
	struct live slot[NSLOT];
	struct heap_stats want;
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
	size_t a = (size_t)1 << rng_below(&m->rng, 13);        // 1 .. 4096

	if (rng_below(&m->rng, 64) == 0)
		a = 65536;
	return a > m->max_align ? m->max_align : a;
}

// Checks the heap's counters against the model's after every operation.
static void
model_check_stats(struct model *m)
{
	struct heap_stats s = stats_of(&m->h);

	m->want.heap_size = s.heap_size;
	assert_stats_equal(&s, &m->want);
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
	if (m->want.in_use > m->want.peak_in_use)
		m->want.peak_in_use = m->want.in_use;
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
		size = SIZE_MAX - rng_below(&m->rng, 64);      // must fail without wrapping
	switch (kind) {
	case 0: case 1: case 2: case 3:
		p = heap_alloc(&m->h, size, CALLER_A);
		break;
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
	case 6: case 7:
		align = pick_align(m);
		p = heap_alloc_aligned(&m->h, size, align, CALLER_A);
		break;
	default:
		p = heap_realloc(&m->h, NULL, size, CALLER_A);
		break;
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

static void
op_realloc(struct model *m, struct live *l)
{
	size_t size = pick_size(&m->rng), before = m->want.in_use;

	if (rng_below(&m->rng, 4) == 0)         // near the old size: in-place paths
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
		m->want.in_use = before + bytes;
		if (m->want.in_use > m->want.peak_in_use)
			m->want.peak_in_use = m->want.in_use;
		m->want.allocs++;
		m->want.frees++;
	}
	m->want.in_use = after;
	if (after > m->want.peak_in_use)
		m->want.peak_in_use = after;
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
		if (!l->p)
			op_alloc(m, l);
		else if (rng_below(&m->rng, 2) == 0)
			op_free(m, l);
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

	printf("# heap trace: seed %" PRIu64 " (HEAP_SEED=%" PRIu64 " repeats it), %zu ops\n", seed, seed, n);
	fflush(stdout);
	model_init(&m, seed, 4u << 20, ARENA_CONTIGUOUS);
	double t0 = now_seconds();
	model_run(&m, n, 4096);
	double t = now_seconds() - t0;
	struct heap_stats s = stats_of(&m.h);
	printf("# heap trace: %.0f ops/s, peak in use %zu, heap %zu bytes, %" PRIu64 " allocs, %" PRIu64 " failures\n",
	       (double)n / t, s.peak_in_use, s.heap_size, s.allocs, s.failures);
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
	p[7] = heap_realloc(&f->h, p[7], 0, CALLER_A);  // shrinks, does not free
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
		SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 7, SIZE_MAX - 8, SIZE_MAX - HEAP_ALIGN,
		SIZE_MAX - 4095, SIZE_MAX / 2, SIZE_MAX / 2 + 1, HEAP_MAX_ALLOC + 1,
		(size_t)UINT32_MAX, (size_t)UINT32_MAX - 31,
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
	assert_null(heap_calloc(&f->h, (size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4), CALLER_A));
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
	heap_free(&f->h, p, CALLER_B);          // dirty memory, handed out again below
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
	uint8_t *b2 = heap_realloc(&f->h, b, 400, CALLER_C);   // shrink: in place
	assert_ptr_equal(b2, b);
	assert_true(all_bytes(b2, 400, 0x42));
	b2 = heap_realloc(&f->h, b2, 900, CALLER_C);           // grow into what it gave back
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
			void *small = heap_alloc(&f->h, 24, CALLER_A);  // something in the gaps
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
	assert_true(f->a.calls > calls);        // it did ask
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
	assert_true(s1.heap_size > s0.heap_size);       // grow's memory is counted
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

#define UNIT    4096u

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
	assert_int_equal(stats_of(&f->h).heap_size, size);      // not the last region
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
	void *q = (char *)p + 50000;                            // in memory given back
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
	assert_int_equal(stats_of(&m.h).heap_size, UNIT);
	arena_fini(&m.a);
}

/* ---- misuse ---- */

static void
test_double_free(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(1 << 16, 4096, ARENA_CONTIGUOUS);
	void *a = heap_alloc(&f->h, 40, CALLER_A);
	void *b = heap_alloc(&f->h, 50, CALLER_A);
	void *c = heap_alloc(&f->h, 60, CALLER_A);

	heap_free(&f->h, b, CALLER_B);
	struct heap_stats s0 = stats_of(&f->h);
	EXPECT_CORRUPT(heap_free(&f->h, b, CALLER_C));
	assert_int_equal(g_report.what, HEAP_DOUBLE_FREE);
	assert_ptr_equal(g_report.ptr, b);
	assert_int_equal(g_report.caller, CALLER_C);
#if TANDEM_DEBUG
	assert_int_equal(g_report.size, 50);
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
	EXPECT_CORRUPT(heap_free(&f->h, a + 1, CALLER_C));     // misaligned
	assert_int_equal(g_report.what, HEAP_BAD_POINTER);
	assert_ptr_equal(g_report.ptr, a + 1);
	EXPECT_CORRUPT(heap_free(&f->h, f->a.mem + f->a.used - 8, CALLER_C));  // past the last block
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
static size_t g_found;
static struct heap_report g_found_report;

static void
on_check(void *arg, const struct heap_report *r)
{
	(void)arg;
	g_found++;
	g_found_report = *r;
}

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

		p[-1] ^= 1;                     // the byte just before
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

		p[len[i]] ^= 1;                 // the byte just after
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
	memset(a + 64, 0x41, 64);               // runs through b's header
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
		cmocka_unit_test(test_double_free),
		cmocka_unit_test(test_wild_free),
#if TANDEM_DEBUG
		cmocka_unit_test(test_redzones),
		cmocka_unit_test(test_fill_patterns),
		cmocka_unit_test(test_smashed_header),
#endif
	};

	return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
