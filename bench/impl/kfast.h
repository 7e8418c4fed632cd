/* Tandem's scratch arena (kernel/mm/kfast.c, release build: no records, no
 * poisoning) in the kernel's geometry: one KSTACK_SIZE block, the stack
 * BENCH_STACK_IN_USE bytes deep at its top; what the block cannot take
 * spills to the spill area (KFAST_SPILL_AREA bytes, lent to the arena until
 * its reset), then to chunks from kmalloc (the Tandem heap).  An entry's
 * objects are dropped by kfast_reset(), the exit path's inline reset, which
 * keeps the claimed page for the next entry.
 *
 * "kfast (inline)": this file is compiled without HOST_TEST, so
 * kfastmalloc is the kernel's own release fast path from include/kfast.h,
 * inlined here exactly as kernel code gets it (kernel/mm/kfast.c itself is
 * still built with HOST_TEST, for the simulated stack pointer).
 * "kfast (call)": compiled with HOST_TEST, where kfastmalloc calls
 * kfast_alloc_slow out of line every time, as debug kernels do. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mm/kfast_arena.h"
#include "tandem_host.h"

#if BENCH_KFAST_INLINE
#define IMPL_NAME "kfast (inline)"
#else
#define IMPL_NAME "kfast (call)"
#endif
#define IMPL_TRANSIENT 1

extern uintptr_t g_kfast_host_sp;

static struct kfast_arena s_arena;

// Pages the first allocation of an entry claims, from the configured block
// size as the kernel's admission rule has it: the first page's end must lie
// KFAST_RESERVE below the stack (BENCH_STACK_IN_USE deep).  A 4 KiB block
// has none to spare (the kernel does not even guard it): everything spills.
#define BENCH_GUARDED (KSTACK_SIZE > PAGE_SIZE)
#define BENCH_FIRST_CLAIM \
	(BENCH_GUARDED && PAGE_SIZE + KFAST_RESERVE + BENCH_STACK_IN_USE <= KSTACK_SIZE)

// The block lies below 2 GiB (MAP_32BIT), at a KSTACK_SIZE boundary like
// the kernel's: kfast.c rounds addresses with ALIGN_UP(x, PAGE_SIZE), whose
// 32-bit mask would cut the top half off a 64-bit address.
static void
impl_init(void)
{
	uint8_t *map = mmap(NULL, 2 * KSTACK_SIZE, PROT_READ | PROT_WRITE,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (map == MAP_FAILED) {
		perror("bench: mmap of the arena block below 2 GiB");
		exit(2);
	}
	void *block = (void *)ALIGN_UP((uintptr_t)map, (uintptr_t)KSTACK_SIZE);
	// One view on the host (sp_offset 0); guarded, as a kernel thread's arena
	// is when its block has a page to spare, so that it claims pages (the
	// page-table work is a no-op here).
	kfast_arena_init(&s_arena, block, 0, BENCH_GUARDED, (uintptr_t)block + KSTACK_SIZE, false);
	kfast_arena_activate(&s_arena);
	g_kfast_host_sp = (uintptr_t)block + KSTACK_SIZE - BENCH_STACK_IN_USE;
}

#if BENCH_KFAST_INLINE && (TANDEM_DEBUG || defined(HOST_TEST))
#error "kfast (inline) needs the release fast path: build without HOST_TEST, with TANDEM_DEBUG=0"
#endif

static inline void *
impl_entry_alloc(size_t size)
{
	return kfastmalloc(size);
}

static inline void
impl_entry_end(void **objs, size_t k)
{
	(void)objs;
	(void)k;
	kfast_reset();
}

// The arena's own figures after the smoke run's entries.
static void
impl_smoke(struct tap *t)
{
	struct heap_stats hs;
	struct kfast_stats ks;

	kfast_arena_stats(&s_arena, &ks);
	tap_result(t, g_kfast.top == s_arena.base && kfast_canary_intact(&s_arena),
	           "arena empty after the last reset, canary intact");
	tap_result(t, ks.spills > 0 && ks.refusals == 0,
	           "large entries spilled to the heap (%u spills, %u refusals)", ks.spills,
	           ks.refusals);
	heap_stats(bench_tandem_heap(), &hs);
	tap_result(t,
	           hs.live_blocks == 0 && heap_check(bench_tandem_heap(), NULL, NULL) == 0 &&
	                   !kfast_spill_area_lent(),
	           "every spill chunk and the spill area given back (%zu live blocks)",
	           hs.live_blocks);
	// What one 24-byte object does depends on KSTACK_SIZE (BENCH_FIRST_CLAIM):
	// it lands at the block's base in a claimed page, or spills.
	void *a = impl_entry_alloc(24);
	uintptr_t claimed = g_kfast.guard;
	kfast_reset();
	void *b = impl_entry_alloc(24);
	kfast_reset();
	heap_stats(bench_tandem_heap(), &hs);
	if (BENCH_FIRST_CLAIM)
		tap_result(t, a == b && a == (void *)s_arena.base,
		           "a reset makes the block's memory reusable (%u-byte block)",
		           KSTACK_SIZE);
	else
		tap_result(
		        t,
		        a && b && (uintptr_t)a - s_arena.base >= KSTACK_SIZE &&
		                (uintptr_t)b - s_arena.base >= KSTACK_SIZE && hs.live_blocks == 0,
		        "a %u-byte block has no page to spare: objects spill, a reset frees the chunk "
		        "(%zu live blocks)",
		        KSTACK_SIZE, hs.live_blocks);
	uintptr_t kept = claimed < s_arena.keep ? claimed : s_arena.keep;
	tap_result(
	        t, claimed == s_arena.base + BENCH_FIRST_CLAIM * PAGE_SIZE && g_kfast.guard == kept,
	        "the first allocation claims %u page(s) of the %u-byte block, the reset keeps those "
	        "up to KFAST_KEEP_DEPTH below its end (guard %+ld, then %+ld)",
	        BENCH_FIRST_CLAIM, KSTACK_SIZE, (long)(claimed - s_arena.base),
	        (long)(g_kfast.guard - s_arena.base));
	tap_result(t, impl_entry_alloc(KFAST_MAX_ALLOC + 1) == NULL,
	           "a request over KFAST_MAX_ALLOC is refused");
	kfast_reset();
}
