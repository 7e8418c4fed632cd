/* malloc and free, linked the ordinary way: glibc's by default; mimalloc's
 * or jemalloc's when the binary is linked with -lmimalloc or -ljemalloc,
 * whose libraries replace malloc (BENCH_MIMALLOC / BENCH_JEMALLOC name the
 * binary and check at start that malloc really is theirs).  Transient
 * entries free each object. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#if BENCH_MIMALLOC
#include <mimalloc.h>
#define IMPL_NAME "mimalloc"
#elif BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#define IMPL_NAME "jemalloc"
#else
#include <malloc.h>
#define IMPL_NAME "glibc malloc"
#endif
#define IMPL_TRANSIENT  1
#define IMPL_PERSISTENT 1

// True if malloc is the allocator this binary is named after.
static bool
malloc_is_ours(void)
{
#if BENCH_MIMALLOC
	char *p = malloc(40);
	if (!p)
		return false;
	p[0] = 1;
	bool ours = mi_is_in_heap_region(p);
	free(p);
	return ours;
#elif BENCH_JEMALLOC
	uint64_t before = 0, after = 0;
	size_t len = sizeof(before);
	if (mallctl("thread.allocated", &before, &len, NULL, 0))
		return false;
	void *volatile p = malloc(4000);
	len = sizeof(after);
	mallctl("thread.allocated", &after, &len, NULL, 0);
	free(p);
	return after >= before + 4000;
#else
	struct mallinfo2 before = mallinfo2();
	void *volatile p = malloc(4000);
	struct mallinfo2 after = mallinfo2();
	free(p);
	return after.uordblks >= before.uordblks + 4000;
#endif
}

static void
impl_init(void)
{
	if (!malloc_is_ours()) {
		fprintf(stderr, "bench: malloc in this binary is not %s's\n", IMPL_NAME);
		exit(2);
	}
}

static inline void *
impl_alloc(size_t n)
{
	return malloc(n);
}

static inline void
impl_free(void *p, size_t n)
{
	(void)n;
	free(p);
}

static inline void *
impl_entry_alloc(size_t n)
{
	return malloc(n);
}

static inline void
impl_entry_end(void **objs, size_t k)
{
	for (size_t i = 0; i < k; i++)
		free(objs[i]);
}

static void
impl_smoke(struct tap *t)
{
	tap_result(t, malloc_is_ours(), "malloc is %s's", IMPL_NAME);
}
