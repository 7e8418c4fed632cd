// kmalloc, kfree and panic for Tandem's sources compiled on the host.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "kmalloc.h"
#include "panic.h"
#include "tandem_host.h"

#define REGION_BYTES ((size_t)1 << 30) // reserved at once; pages are touched as the heap grows
#define GROW_STEP    ((size_t)1 << 20) // smallest piece handed to the heap

static unsigned char *s_region;
static size_t s_used;
static struct heap s_heap;
static bool s_ready;

// Hands out the region front to back, so every piece joins the last.
static void *
grow(void *ctx, size_t min_bytes, size_t *got)
{
	size_t n = min_bytes > GROW_STEP ? min_bytes : GROW_STEP;

	(void)ctx;
	if (n > REGION_BYTES - s_used)
		return NULL;
	void *p = s_region + s_used;
	s_used += n;
	*got = n;
	return p;
}

static NORETURN void
corrupt(void *ctx, const struct heap_report *r)
{
	(void)ctx;
	fprintf(stderr, "bench: Tandem heap reports fault %d at %p (size %zu)\n", (int)r->what,
	        r->ptr, r->size);
	abort();
}

struct heap *
bench_tandem_heap(void)
{
	if (!s_ready) {
		s_region = malloc(REGION_BYTES);
		if (!s_region) {
			fprintf(stderr, "bench: cannot reserve %zu bytes for the Tandem heap\n",
			        REGION_BYTES);
			exit(2);
		}
		heap_init(&s_heap, grow, corrupt, NULL);
		s_ready = true;
	}
	return &s_heap;
}

void *
kmalloc(size_t size)
{
	return heap_alloc(bench_tandem_heap(), size, CALLER_ADDR);
}

void
kfree(void *ptr)
{
	heap_free(bench_tandem_heap(), ptr, CALLER_ADDR);
}

void
panic(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "PANIC: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}
