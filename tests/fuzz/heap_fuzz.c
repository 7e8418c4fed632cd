/* libFuzzer target for the persistent heap: the input is a stream of
 * operations on a small heap with a bounded arena; a model of every live
 * block checks placement, contents and counters after each one, and any
 * disagreement aborts.
 *
 * Input: byte 0 picks the arena (bit 0: disjoint grow results, bit 1:
 * 64-byte grow steps instead of pages); then 4 bytes per operation:
 *   op  slot  size-low  size-high/align */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/heap_model.h"
#include "mm/heap.h"

#define NSLOT           64
#define ARENA_CAP       (256u << 10)
#define SLACK_MAX       192

#define CHECK(c) do {                                                   \
		if (!(c)) {                                             \
			fprintf(stderr, "heap_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
			abort();                                        \
		}                                                       \
	} while (0)

struct live {
	uint8_t *p;
	size_t size;
	size_t bytes;
	uint8_t fill;
};

static struct arena g_arena;
static struct heap g_heap;
static struct live g_slot[NSLOT];
static struct heap_stats g_want;

static NORETURN void
on_corrupt(void *ctx, const struct heap_report *r)
{
	(void)ctx;
	fprintf(stderr, "heap_fuzz: corrupt report %d ptr %p size %zu\n", (int)r->what, r->ptr, r->size);
	abort();
}

static void
check_stats(void)
{
	struct heap_stats s;

	heap_stats(&g_heap, &s);
	CHECK(s.in_use == g_want.in_use);
	CHECK(s.peak_in_use == g_want.peak_in_use);
	CHECK(s.live_blocks == g_want.live_blocks);
	CHECK(s.allocs == g_want.allocs);
	CHECK(s.frees == g_want.frees);
	CHECK(s.failures == g_want.failures);
	CHECK(s.heap_size <= g_arena.used);
	CHECK(heap_check(&g_heap, NULL, NULL) == 0);
}

static size_t
in_use(void)
{
	struct heap_stats s;

	heap_stats(&g_heap, &s);
	return s.in_use;
}

static void
note_peak(size_t v)
{
	if (v > g_want.peak_in_use)
		g_want.peak_in_use = v;
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
	uint8_t *p;

	switch (op) {
	case 0:
		p = heap_alloc(&g_heap, size, 1);
		align = 1;
		break;
	case 1:
		p = heap_zalloc(&g_heap, size, 1);
		align = 1;
		zeroed = true;
		break;
	case 2: {
		size_t n = 1 + (align & 7);
		size /= n;
		p = heap_calloc(&g_heap, n, size, 1);
		size *= n;
		align = 1;
		zeroed = true;
		break;
	}
	default:
		p = heap_alloc_aligned(&g_heap, size, align, 1);
		break;
	}
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
	note_peak(g_want.in_use);
	g_want.live_blocks++;
	g_want.allocs++;
	place(l, p, size, align, bytes, fill);
}

static void
do_free(struct live *l)
{
	CHECK(all_bytes(l->p, l->size, l->fill));
	shadow_release(&g_arena, l->p, l->size);
	heap_free(&g_heap, l->p, 2);
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
	uint8_t *p = heap_realloc(&g_heap, l->p, size, 3);
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
			note_peak(before + bytes);      // both blocks live while the bytes moved
			g_want.allocs++;
			g_want.frees++;
		}
		shadow_release(&g_arena, l->p, l->size);
	}
	g_want.in_use = after;
	note_peak(after);
	place(l, p, size, 1, bytes, fill);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	if (!g_arena.mem)
		arena_init(&g_arena, ARENA_CAP, 4096, ARENA_CONTIGUOUS);
	g_arena.used = 0;
	g_arena.calls = 0;
	g_arena.mode = data[0] & 1 ? ARENA_DISJOINT : ARENA_CONTIGUOUS;
	g_arena.step = data[0] & 2 ? 64 : 4096;
	memset(g_arena.shadow, 0, ARENA_CAP / 8 + 1);
	memset(g_slot, 0, sizeof(g_slot));
	memset(&g_want, 0, sizeof(g_want));
	heap_init(&g_heap, arena_grow, on_corrupt, &g_arena);
	if (data[0] & 4)        // give memory back at the top, keeping 0 or 2 pages
		heap_set_shrink(&g_heap, arena_shrink, 4096, data[0] & 8 ? 8192 : 0);
	ASAN_UNPOISON_MEMORY_REGION(g_arena.mem, ARENA_CAP);

	for (size_t i = 1; i + 4 <= len; i += 4) {
		const uint8_t *b = data + i;
		struct live *l = &g_slot[b[1] % NSLOT];
		unsigned op = b[0] & 7;
		size_t size = b[2];
		size_t align = (size_t)1 << (b[3] % 14);

		if (b[0] & 0x80)
			size |= (size_t)b[3] << 8;      // up to 64 KiB
		if ((b[0] & 0x78) == 0x78)
			size = SIZE_MAX - b[2];         // huge: must fail cleanly
		uint8_t fill = (uint8_t)(b[1] ^ b[2] ^ 0x5A);
		if (!l->p) {
			if (op < 6)
				do_alloc(l, op & 3, size, align, fill);
			else
				do_realloc(l, size, fill);
		} else if (op < 4) {
			do_free(l);
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
