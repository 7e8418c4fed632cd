/* Tandem's persistent heap (kernel/mm/heap.c, release build) growing from
 * one large malloc'd region.  Transient entries free each object. */
#include <stdio.h>

#include "mm/heap.h"
#include "tandem_host.h"

#define IMPL_NAME       "Tandem heap"
#define IMPL_TRANSIENT  1
#define IMPL_PERSISTENT 1

static struct heap *s_heap;

static void
impl_init(void)
{
	s_heap = bench_tandem_heap();
}

static inline void *
impl_alloc(size_t n)
{
	return heap_alloc(s_heap, n, 0);
}

static inline void
impl_free(void *p, size_t n)
{
	(void)n;
	heap_free(s_heap, p, 0);
}

static inline void *
impl_entry_alloc(size_t n)
{
	return heap_alloc(s_heap, n, 0);
}

static inline void
impl_entry_end(void **objs, size_t k)
{
	for (size_t i = 0; i < k; i++)
		heap_free(s_heap, objs[i], 0);
}

static void
impl_smoke(struct tap *t)
{
	struct heap_stats hs;

	heap_stats(s_heap, &hs);
	tap_result(t, hs.live_blocks == 0 && hs.in_use == 0,
	           "every block given back (%zu live, %zu bytes in use)", hs.live_blocks,
	           hs.in_use);
	tap_result(t, heap_check(s_heap, NULL, NULL) == 0, "heap_check finds nothing wrong");
}
